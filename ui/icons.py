"""The application's SVG icons, loaded once."""

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

# On a selected row the icons keep their colours (Qt's own selected look blends them
# into the highlight, and a red "expired" or a key then fades into the blue), except
# the blue, grey and violet, which would vanish into a blue highlight: those are drawn
# in the highlighted text's white.
ON_HIGHLIGHT = {"#3b7fc4": "#ffffff", "#8c8c8c": "#ffffff", "#8466cc": "#ffffff"}
# The sizes drawn for a selected row: 16-pixel icons at scale 1 to 4.
SELECTED_SIZES = (16, 24, 32, 48, 64)


@cache
def icon(name: str) -> QIcon:
    """The icon, with its look on a selected row (QIcon.Mode.Selected)."""
    path = resources.files("resources") / "icons" / f"{name}.svg"
    result = QIcon(str(path))
    svg = path.read_text()
    selected = svg
    for color, replacement in ON_HIGHLIGHT.items():
        selected = selected.replace(color, replacement)
    if selected == svg:
        result.addFile(str(path), QSize(), QIcon.Mode.Selected)
        return result
    renderer = QSvgRenderer(QByteArray(selected.encode()))
    for size in SELECTED_SIZES:
        result.addPixmap(_drawn(renderer, size), QIcon.Mode.Selected)
    return result


def _drawn(renderer: QSvgRenderer, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap
