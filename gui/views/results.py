"""After training: the confusion matrix and a gallery of the most confidently wrong test digits.

ResultsView.show_results(images, labels, probs) does all the NumPy work (via core.metrics)
and builds every thumbnail up front; painting only draws what is ready.
Clicking a gallery thumbnail emits digitChosen(image) so the host can put it on the canvas.
"""
import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.metrics import confusion_matrix, most_confident_mistakes, per_class_accuracy
from core.mnist_format import IMAGE_SHAPE, NUM_CLASSES

THUMB_SIZE = 56
ACCURACY_COLUMN = NUM_CLASSES  # the column after the 10 predicted-digit columns
CORRECT_RGB = (46, 160, 67)  # green for the diagonal
WRONG_RGB = (214, 48, 49)  # red for confusions
FAINT_TEXT = QColor("#a0a0a0")
EMPTY_MESSAGE = ("No results yet. Train the network (F5): its confusion matrix and worst mistakes "
                 "on the test digits appear here.")
CELL_LIMIT = 200  # most digits listed for one confusion-matrix cell
MISTAKES_TITLE = "Worst mistakes"
MISTAKES_HINT = "True → read, how sure. Click one to put it on the pad."


def digit_pixmap(image28, size=THUMB_SIZE):
    """A (28, 28) image, ink high 0..255 like MNIST, as dark ink on white, size x size pixels."""
    ink = np.clip(np.rint(np.asarray(image28, dtype=np.float64)), 0, 255).astype(np.uint8)  # (28, 28)
    paper = np.ascontiguousarray(255 - ink)  # (28, 28) dark strokes on a white background
    height, width = paper.shape
    image = QImage(paper.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                          Qt.TransformationMode.FastTransformation))


def cell_colour(count, row_total, on_diagonal):
    """Background of one matrix cell: white blended towards green (diagonal) or red by row share.

    The square root of the share makes a 1% confusion visible next to a 99% diagonal.
    """
    share = count / row_total if row_total else 0.0
    strength = 0.85 * share ** 0.5
    target = CORRECT_RGB if on_diagonal else WRONG_RGB
    return QColor(*(round(255 + (channel - 255) * strength) for channel in target))


class ResultsView(QWidget):
    """Confusion matrix (rows = true digit, columns = predicted) and the worst mistakes."""

    digitChosen = Signal(object)  # np.ndarray (28, 28): a copy of the chosen test image

    def __init__(self, parent=None, gallery_size=24):
        super().__init__(parent)
        self.gallery_size = gallery_size
        self._matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)  # (10, 10)
        self._gallery_images = []  # (28, 28) arrays, in gallery order
        self._gallery_indices = np.zeros(0, np.int64)  # (k,) positions in the shown test set
        self._mistakes = np.zeros(0, np.int64)  # (k,) positions of the most confident mistakes

        self.summary = QLabel(EMPTY_MESSAGE)
        self.summary.setWordWrap(True)
        self.table = self._build_table()
        self.gallery = self._build_gallery()
        self.gallery.itemClicked.connect(self._emit_chosen)
        self._shown = None  # (images, labels, predicted, confidence) of the last show_results
        self._own = None  # (images, labels, read) of the user's own samples
        self._cell = None  # (true, said) whose digits the gallery lists, or None for the mistakes
        self.table.cellClicked.connect(self.show_cell)
        self.mistakes_button = QPushButton("Back to the mistakes")
        self.mistakes_button.setToolTip("List the most confident mistakes again")
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.mistakes_button.setVisible(False)

        matrix_box = QGroupBox("Confusion matrix")
        matrix_layout = QVBoxLayout(matrix_box)
        matrix_layout.addWidget(_wrapped("Rows: the true digit. Columns: what the model read. "
                                         "✓: the share of that digit read correctly. Click a cell for its digits."))
        matrix_layout.addWidget(self.table)
        gallery_box = self.gallery_box = QGroupBox(MISTAKES_TITLE)
        gallery_layout = QVBoxLayout(gallery_box)
        self.gallery_hint = _wrapped(MISTAKES_HINT)
        gallery_layout.addWidget(self.gallery_hint)
        gallery_layout.addWidget(self.gallery)
        gallery_layout.addWidget(self.mistakes_button)
        self._panes = QWidget()   # hidden until there are results: no grid of empty cells
        panes = QHBoxLayout(self._panes)
        panes.setContentsMargins(0, 0, 0, 0)
        panes.setSpacing(4)
        panes.addWidget(matrix_box, 3)
        panes.addWidget(gallery_box, 2)
        keep_room = self._panes.sizePolicy()
        keep_room.setRetainSizeWhenHidden(True)   # the page is as wide hidden as shown
        self._panes.setSizePolicy(keep_room)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self._panes, 1)
        self._panes.hide()

    # ---- public API -------------------------------------------------------------------------
    def show_results(self, images, labels, probs):
        """Show how a model did: images (N, 28, 28) 0..255, labels (N,) 0..9, probs (N, 10)."""
        images, labels, probs = _checked(images, labels, probs)
        predicted = probs.argmax(axis=1)  # (N,)
        self._matrix = confusion_matrix(labels, predicted, NUM_CLASSES)  # (10, 10)
        accuracy = per_class_accuracy(self._matrix)  # (10,) NaN for absent digits
        self._mistakes = most_confident_mistakes(probs, labels, self.gallery_size)  # (k,)
        self._fill_table(self._matrix, accuracy)
        self._shown = (images, labels, predicted, probs.max(axis=1))
        self.show_mistakes()
        self._fill_summary(self._matrix)
        self._panes.show()

    def clear(self):
        """Back to the empty state shown before any results."""
        self._matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
        self._gallery_images = []
        self._gallery_indices = np.zeros(0, np.int64)
        self._mistakes = np.zeros(0, np.int64)
        self.table.clearContents()
        self.gallery.clear()
        self.summary.setText(EMPTY_MESSAGE)
        self._panes.hide()
        self._shown, self._cell = None, None
        self.gallery_box.setTitle(MISTAKES_TITLE)
        self.gallery_hint.setText(MISTAKES_HINT)
        self.mistakes_button.setVisible(False)

    def set_own_samples(self, images, labels, read):
        """The user's own samples (N, 28, 28), their labels (N,) and `read(images) -> (N,) digits`, what
        the model says: a confusion-matrix cell lists them too, read when a cell is opened, by the
        model of that moment (not after every epoch of a run)."""
        self._own = (np.asarray(images), np.asarray(labels, np.int64), read)

    def show_cell(self, true, said):
        """List the test digits (and own samples) that are `true` and were read as `said`."""
        if self._shown is None or not (0 <= said < NUM_CLASSES and 0 <= true < NUM_CLASSES):
            return
        images, labels, predicted, confidence = self._shown
        in_cell = np.flatnonzero((labels == true) & (predicted == said))
        in_cell = in_cell[np.argsort(-confidence[in_cell], kind="stable")][:CELL_LIMIT]  # most confident first
        self._cell = (true, said)
        self._gallery_indices = in_cell
        self.gallery.clear()
        self._gallery_images = []
        if self._own is not None and len(self._own[0]):
            own_images, own_labels, read = self._own
            own_predicted = np.asarray(read(own_images), np.int64)     # (N,)
            for i in np.flatnonzero((own_labels == true) & (own_predicted == said)):
                self._add_thumbnail(own_images[i], f"yours\n#{i + 1}",
                                    f"Your sample #{i + 1}: a {true}, read as {said}. Click to put it on the canvas.")
        for index in in_cell:
            self._add_thumbnail(images[index], f"#{index}\n{confidence[index]:.0%}",
                                f"Test digit #{index}: a {true}, read as {said} with {confidence[index]:.1%} "
                                "confidence. Click to put it on the canvas.")
        total = int(self._matrix[true, said])
        more = f", the {CELL_LIMIT} most confident shown" if total > CELL_LIMIT else ""
        self.gallery_box.setTitle(f"True {true}, read as {said}: {total}")
        self.gallery_hint.setText(f"The test digits in that cell{more}, most confident first (your own "
                                  "samples of that kind before them). Click one to put it on the pad.")
        self.mistakes_button.setVisible(True)
        if not self._gallery_images:
            placeholder = QListWidgetItem("No digits in this cell.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.gallery.addItem(placeholder)

    def show_mistakes(self):
        """The gallery lists the most confident mistakes (as after show_results)."""
        if self._shown is None:
            return
        images, labels, predicted, confidence = self._shown
        self._cell = None
        self._gallery_indices = self._mistakes
        self.gallery_box.setTitle(MISTAKES_TITLE)
        self.gallery_hint.setText(MISTAKES_HINT)
        self.mistakes_button.setVisible(False)
        self._fill_gallery(images, labels, predicted, confidence)

    def shown_cell(self):
        """(true, said) whose digits the gallery lists, or None when it lists the mistakes."""
        return self._cell

    def gallery_images(self):
        """Copies of the (28, 28) images the gallery lists, in order."""
        return [image.copy() for image in self._gallery_images]

    def _add_thumbnail(self, image, text, tip):
        item = QListWidgetItem(QIcon(digit_pixmap(image)), text)
        item.setToolTip(tip)
        self.gallery.addItem(item)
        self._gallery_images.append(np.array(image, copy=True))

    def matrix(self):
        """The confusion matrix currently shown: int64 (10, 10), rows true, columns predicted."""
        return self._matrix.copy()

    def mistake_indices(self):
        """Positions (in the last show_results arrays) of the most confident mistakes, in gallery order."""
        return self._mistakes.copy()

    # ---- building -----------------------------------------------------------------------------
    def _build_table(self):
        table = QTableWidget(NUM_CLASSES, NUM_CLASSES + 1)
        # Short headers, so eleven columns fit beside the gallery; the label above says what they mean.
        table.setHorizontalHeaderLabels([str(d) for d in range(NUM_CLASSES)] + ["✓"])
        table.setVerticalHeaderLabels([str(d) for d in range(NUM_CLASSES)])
        for column in range(NUM_CLASSES):
            table.horizontalHeaderItem(column).setToolTip(f"Read as {column}")
        table.horizontalHeaderItem(ACCURACY_COLUMN).setToolTip("Share of the true digit read correctly")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        columns = table.horizontalHeader()
        columns.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        columns.setMinimumSectionSize(24)
        # wide enough for "100.0%"; the digit columns share the rest
        columns.setSectionResizeMode(ACCURACY_COLUMN, QHeaderView.ResizeMode.Fixed)
        table.setColumnWidth(ACCURACY_COLUMN, table.fontMetrics().horizontalAdvance("100.0%") + 8)
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows.setMinimumSectionSize(18)
        table.setMinimumSize(self.minimum_table_size(table))
        return table

    @staticmethod
    def minimum_table_size(table):
        """Every cell readable: a count of four digits per column, a text line per row."""
        metrics = table.fontMetrics()
        width = (table.verticalHeader().sizeHint().width() + NUM_CLASSES * (metrics.horizontalAdvance("0000") + 2)
                 + table.columnWidth(ACCURACY_COLUMN) + 2 * table.frameWidth())
        height = table.horizontalHeader().sizeHint().height() + NUM_CLASSES * 18 + 2 * table.frameWidth()
        return QSize(width, height)

    def _build_gallery(self):
        gallery = QListWidget()
        gallery.setViewMode(QListView.ViewMode.IconMode)
        gallery.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        gallery.setResizeMode(QListView.ResizeMode.Adjust)
        gallery.setMovement(QListView.Movement.Static)
        gallery.setGridSize(QSize(THUMB_SIZE + 34, THUMB_SIZE + 40))
        gallery.setWordWrap(True)
        return gallery

    def _fill_table(self, matrix, accuracy):
        totals = matrix.sum(axis=1)  # (10,)
        for true in range(NUM_CLASSES):
            for said in range(NUM_CLASSES):
                count = int(matrix[true, said])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(cell_colour(count, totals[true], true == said)))
                item.setForeground(QBrush(QColor("black") if count else FAINT_TEXT))
                share = count / totals[true] if totals[true] else 0.0
                item.setToolTip(f"{count} of the {totals[true]} test digits that are {true} "
                                f"were read as {said} ({share:.1%})")
                self.table.setItem(true, said, item)
            text = "–" if np.isnan(accuracy[true]) else f"{accuracy[true]:.1%}"
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"Share of the test digits that are {true} that the model got right")
            self.table.setItem(true, ACCURACY_COLUMN, item)

    def _fill_gallery(self, images, labels, predicted, confidence):
        self.gallery.clear()
        self._gallery_images = [images[i].copy() for i in self._gallery_indices]
        for index in self._gallery_indices:
            true, said = int(labels[index]), int(predicted[index])
            item = QListWidgetItem(QIcon(digit_pixmap(images[index])),
                                   f"{true} → {said}\n{confidence[index]:.0%}")
            item.setToolTip(f"Test digit #{index}: it is a {true}, the model said {said} "
                            f"with {confidence[index]:.1%} confidence. Click to put it on the canvas.")
            self.gallery.addItem(item)
        if not self._gallery_images:
            placeholder = QListWidgetItem("No mistakes: every test digit was read correctly.")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.gallery.addItem(placeholder)

    def _fill_summary(self, matrix):
        total = int(matrix.sum())
        correct = int(np.trace(matrix))
        share = correct / total if total else 0.0
        self.summary.setText(f"Test accuracy: {correct:,} of {total:,} digits read correctly ({share:.2%}).")

    def _emit_chosen(self, item):
        row = self.gallery.row(item)
        if 0 <= row < len(self._gallery_images):
            self.digitChosen.emit(self._gallery_images[row].copy())


def _wrapped(text):
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _checked(images, labels, probs):
    """The three arrays, with their shapes checked against each other."""
    images, labels, probs = np.asarray(images), np.asarray(labels), np.asarray(probs)
    n = len(labels)
    if images.shape != (n, *IMAGE_SHAPE) or labels.ndim != 1 or probs.shape != (n, NUM_CLASSES):
        raise ValueError("show_results needs images (N, 28, 28), labels (N,) and probs (N, 10); "
                         f"got {images.shape}, {labels.shape} and {probs.shape}")
    return images, labels.astype(np.int64), probs
