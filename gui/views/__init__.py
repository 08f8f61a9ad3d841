"""Widgets that draw arrays: the canvas, the network's views, plots and results."""
