"""digitpad's engine: a small convolutional network in pure NumPy.

Nothing in this package imports Qt; the GUI in ``gui/`` builds on it.
"""
