"""Labels the tabs share."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ui.fonts import monospace


def selectable(text: str, parent: QWidget) -> QLabel:
    """A value the user may want to copy: selectable, wrapped."""
    label = QLabel(text, parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def mono(text: str, parent: QWidget) -> QLabel:
    """Hex (serials, thumbprints) in a fixed-width font, so that its columns line up."""
    label = selectable(text, parent)
    label.setFont(monospace())
    return label
