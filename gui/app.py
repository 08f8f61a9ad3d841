"""Start the app: `digitpad` (installed script) or `python -m gui`."""
import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from gui.settings import APPLICATION, ORGANIZATION


def make_app(argv=None) -> QApplication:
    """The QApplication, created once, with the names QSettings and the desktop use."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("digitpad")
    pg.setConfigOptions(antialias=True, foreground="#30343b")
    return app


def main(argv=None) -> int:
    app = make_app(argv)
    from gui.main_window import MainWindow   # after the QApplication exists

    window = MainWindow()
    window.show()
    return app.exec()
