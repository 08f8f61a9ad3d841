"""digitpad's desktop app (PySide6 + pyqtgraph).

Widgets only display arrays and emit signals; the numbers come from ``core``.
"""
