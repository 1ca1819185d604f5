"""The application's SVG icons, loaded once."""

from functools import cache
from importlib import resources

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon


@cache
def icon(name: str) -> QIcon:
    """The icon, drawn the same on a selected row: Qt's own selected look blends it into
    the highlight, and a red "expired" or a key then fades into the blue."""
    path = str(resources.files("resources") / "icons" / f"{name}.svg")
    result = QIcon(path)
    result.addFile(path, QSize(), QIcon.Mode.Selected)
    return result
