"""A row of ten small buttons, one per digit, that say which digit was picked."""
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton

from core.mnist_format import NUM_CLASSES


def digit_button_row(parent, tooltip) -> tuple[QButtonGroup, QHBoxLayout]:
    """(group whose idClicked(int) gives the digit, layout holding the buttons and a stretch).

    tooltip(digit) -> the text shown over that digit's button."""
    group = QButtonGroup(parent)
    row = QHBoxLayout()
    row.setSpacing(3)
    for digit in range(NUM_CLASSES):
        button = QToolButton()
        button.setText(str(digit))
        button.setToolTip(tooltip(digit))
        group.addButton(button, digit)
        row.addWidget(button)
    row.addStretch(1)
    return group, row
