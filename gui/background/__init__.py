"""Work off the GUI thread other than training (downloads)."""
