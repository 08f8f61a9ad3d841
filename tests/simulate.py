"""Drawing with synthetic mouse events, for tests, the screenshot tool and the latency benchmark.

The events go through Qt's normal input path (QTest), so the canvas sees exactly what a mouse gives.
"""
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

# A handwritten-looking "3" in unit coordinates: two bows, drawn as one stroke.
DIGIT_THREE = [(0.30, 0.24), (0.40, 0.17), (0.53, 0.15), (0.65, 0.20), (0.69, 0.30), (0.62, 0.41),
               (0.49, 0.47), (0.62, 0.52), (0.70, 0.63), (0.67, 0.75), (0.55, 0.83), (0.41, 0.84),
               (0.29, 0.77)]
# More digits drawn as a person would (unit coordinates), each a list of strokes; every one is read
# unambiguously by a good model at any pen width (the shipped model gives each >0.99).
DIGIT_ONE = [[(0.56, 0.14), (0.53, 0.40), (0.50, 0.65), (0.47, 0.86)]]
DIGIT_ZERO = [[(0.50, 0.15), (0.36, 0.22), (0.29, 0.42), (0.31, 0.66), (0.42, 0.82), (0.56, 0.83), (0.68, 0.68),
               (0.71, 0.45), (0.66, 0.25), (0.55, 0.15), (0.47, 0.16)]]
DIGIT_SEVEN = [[(0.28, 0.20), (0.50, 0.19), (0.72, 0.18), (0.64, 0.36), (0.55, 0.55), (0.49, 0.85)]]
DIGIT_FOUR = [[(0.55, 0.15), (0.30, 0.58), (0.72, 0.58)], [(0.60, 0.35), (0.60, 0.86)]]


def widget_point(canvas, x: float, y: float) -> QPoint:
    """Unit-square point (0..1 across the paper) -> canvas widget pixel."""
    paper = canvas.paper_rect()
    return QPoint(round(paper.x() + x * paper.width()), round(paper.y() + y * paper.height()))


def interpolate(points, steps_per_segment: int):
    """A smooth path through the points (Catmull-Rom), `steps_per_segment` per segment, as a hand
    moving a mouse would report it."""
    padded = [points[0], *points, points[-1]]
    path = [tuple(points[0])]
    for p0, p1, p2, p3 in zip(padded, padded[1:], padded[2:], padded[3:]):
        for step in range(1, steps_per_segment + 1):
            t = step / steps_per_segment
            path.append(tuple(
                0.5 * (2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t ** 2 + (3 * b - a - 3 * c + d) * t ** 3)
                for a, b, c, d in zip(p0, p1, p2, p3)))
    return path


def press(canvas, x: float, y: float) -> None:
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     widget_point(canvas, x, y))


def move(canvas, x: float, y: float) -> None:
    QTest.mouseMove(canvas, widget_point(canvas, x, y))


def release(canvas, x: float, y: float) -> None:
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       widget_point(canvas, x, y))


def drag_stroke(canvas, points, steps_per_segment: int = 4) -> None:
    """Press at the first point, move through the others, release at the last."""
    path = interpolate(points, steps_per_segment)
    press(canvas, *path[0])
    for x, y in path[1:]:
        move(canvas, x, y)
    release(canvas, *path[-1])
