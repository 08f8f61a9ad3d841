"""Start the app: `digitpad` (installed script) or `python -m gui`."""
import sys
import traceback

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QMessageBox

from core.cli import safe_output_streams
from gui.settings import APPLICATION, ORGANIZATION


def make_app(argv=None) -> QApplication:
    """The QApplication, created once, with the names QSettings and the desktop use."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("digitpad")
    pg.setConfigOptions(antialias=True, foreground="#30343b")
    return app


def report_unexpected_errors() -> None:
    """A bug in a slot shows a dialog (and the traceback on stderr) instead of passing unnoticed.

    Qt keeps running after an exception in a slot; the user is told, and can save their model.
    """

    def hook(kind, error, tb):
        traceback.print_exception(kind, error, tb)
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        QMessageBox.critical(
            None, "digitpad: unexpected error",
            f"Something went wrong inside digitpad ({kind.__name__}: {error}).\n\n"
            "The app keeps running; saving your model now is a good idea. "
            "The details were written to the terminal.",
        )

    sys.excepthook = hook


def main(argv=None) -> int:
    safe_output_streams()          # a folder name that is not UTF-8 prints escaped, never fails
    app = make_app(argv)
    report_unexpected_errors()
    from gui.main_window import MainWindow   # after the QApplication exists

    window = MainWindow()
    window.show()
    return app.exec()
