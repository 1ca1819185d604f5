"""The application's SVG icons, loaded once."""

from functools import cache
from importlib import resources

from PySide6.QtGui import QIcon


@cache
def icon(name: str) -> QIcon:
    path = resources.files("resources") / "icons" / f"{name}.svg"
    return QIcon(str(path))
