"""Tab pages that combine views and controls: training, teaching."""
