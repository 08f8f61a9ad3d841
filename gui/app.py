"""Start the app: `digitpad` (installed script) or `python -m gui`."""
import gc
import sys
import traceback

import pyqtgraph as pg
from threadpoolctl import threadpool_limits
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
    one_blas_thread()
    return app


def one_blas_thread() -> None:
    """Hold BLAS to one thread in the GUI's process, for good.

    Its matrix products are small (a drawing, 25 snapshots of the network, a 1,000-digit slice),
    and a second BLAS thread costs more than it gives; when the other core is busy (training,
    another program) it costs 10-40x: 25 snapshots replayed on a drawing took 12-30 ms instead of
    0.4-0.6 ms (measured while a test suite ran beside it). The training child limits its own."""
    threadpool_limits(limits=1, user_api="blas")


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


def freeze_startup_objects() -> None:
    """Exempt everything alive after start-up (modules, classes, widgets: ~78,000 objects) from
    the garbage collector's full passes, which otherwise walk them all: 45-90 ms in one
    event-loop turn, a few times a minute while training (bench/gui_latency.py). They live as
    long as the app; what is made later is still collected as before."""
    gc.collect()
    gc.freeze()


def main(argv=None) -> int:
    safe_output_streams()          # a folder name that is not UTF-8 prints escaped, never fails
    app = make_app(argv)
    report_unexpected_errors()
    from gui.main_window import MainWindow   # after the QApplication exists

    window = MainWindow()
    window.show()
    freeze_startup_objects()
    return app.exec()
