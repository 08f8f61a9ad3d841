"""Reading pixels back from the QImages widgets draw, so tests can check colours."""
import numpy as np
from PySide6.QtGui import QImage


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """An RGB888 QImage back as uint8 (H, W, 3)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return rows[:, :3 * width].reshape(height, width, 3).copy()
