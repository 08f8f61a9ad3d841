"""What the network looks at: its 28x28 input, its 3x3 filters and their 26x26 feature maps."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QVBoxLayout

from gui.views.colormap import diverging_rgb, gradient_stops, paper_rgb, symmetric_limit
from gui.views.tiles import ColorBar, TileGrid


def _signed(value: float) -> str:
    return f"{value:+.3f}"


class DivergingTiles(QGroupBox):
    """A row of tiles on one shared blue-white-red scale centred on zero, with its colour bar."""

    def __init__(self, title: str, min_tile: int, tooltip: str, parent=None, columns: int = 8):
        super().__init__(title, parent)
        self.grid = TileGrid(columns=columns, min_tile=min_tile)
        self.legend = ColorBar(gradient_stops())
        keep_room = self.legend.sizePolicy()
        keep_room.setRetainSizeWhenHidden(True)   # hiding the scale (nothing to show) moves nothing
        self.legend.setSizePolicy(keep_room)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setToolTip(tooltip)
        self.limit = 1.0

    def _show(self, arrays: np.ndarray) -> None:
        """arrays (F, H, W): one tile each, all on the scale -limit..+limit."""
        self.limit = symmetric_limit(arrays)
        self.grid.set_tiles([diverging_rgb(a, self.limit) for a in arrays], tooltip=self._describe)
        self.legend.set_limit(self.limit)

    def _describe(self, tile: int, row: int, col: int) -> str:
        raise NotImplementedError


class FilterView(DivergingTiles):
    """The learned 3x3 filters on one shared symmetric colour scale; hover shows the weights."""

    def __init__(self, parent=None):
        super().__init__("Filters (3x3)", 30, "The network's 8 learned 3x3 filters. Blue weights are negative, "
                         "red positive; all share one scale so they can be compared.", parent)
        self._filters = np.zeros((0, 3, 3))

    def set_filters(self, filters: np.ndarray) -> None:
        """filters (F, 3, 3)."""
        self._filters = np.array(filters, dtype=np.float64)           # own copy, (F, 3, 3)
        self._show(self._filters)

    def filters(self) -> np.ndarray:
        return self._filters.copy()

    def _describe(self, tile: int, row: int, col: int) -> str:
        weights = self._filters[tile]                                  # (3, 3)
        matrix = "\n".join("  ".join(_signed(w) for w in line) for line in weights)
        return f"Filter {tile + 1}, row {row + 1}, column {col + 1}: {_signed(weights[row, col])}\n\n{matrix}"


class FeatureMapView(DivergingTiles):
    """The filters' outputs (26x26 each) for the current drawing, on one shared scale."""

    def __init__(self, parent=None, columns: int = 8):
        super().__init__("Feature maps (26x26)", 34, "What each filter responds to in your drawing "
                         "(the convolution output, before pooling).", parent, columns)
        self._maps = None
        self.set_feature_maps(None)

    def set_feature_maps(self, maps: np.ndarray | None) -> None:
        """maps (26, 26, F), or None for a blank canvas."""
        if maps is None:
            self._maps = None
            self.grid.set_placeholder("Draw a digit to see what each filter picks out")
            self.legend.hide()                     # no maps, no scale to read them by
            return
        self._maps = np.moveaxis(np.asarray(maps, dtype=np.float64), -1, 0)   # (F, 26, 26)
        self._show(self._maps)
        self.grid.set_placeholder("")
        self.legend.show()

    def feature_maps(self) -> np.ndarray | None:
        return None if self._maps is None else np.moveaxis(self._maps, 0, -1).copy()

    def _describe(self, tile: int, row: int, col: int) -> str:
        return f"Feature map {tile + 1} at ({row + 1}, {col + 1}): {_signed(self._maps[tile, row, col])}"


class InputView(QGroupBox):
    """The 28x28 image the network actually sees after preprocessing."""

    def __init__(self, parent=None):
        super().__init__("Network input", parent)   # short: the window's narrowest width depends on it
        self.grid = TileGrid(columns=1, min_tile=84, captions=False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        self.setToolTip("The 28x28 image the network reads: your drawing cropped, scaled and centred "
                        "like the MNIST digits the network learned from.")
        self._image = None
        self.set_image(None)

    def set_image(self, image: np.ndarray | None) -> None:
        """image (28, 28) 0..255 ink-high, or None for a blank canvas."""
        if image is None:
            self._image = None
            self.grid.set_placeholder("—")
            return
        self._image = np.asarray(image, dtype=np.float32)              # (28, 28)
        self.grid.set_tiles([paper_rgb(self._image)], tooltip=self._describe)
        self.grid.set_placeholder("")

    def _describe(self, tile: int, row: int, col: int) -> str:
        return f"Pixel ({row + 1}, {col + 1}): ink {self._image[row, col]:.0f} of 255"
