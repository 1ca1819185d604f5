"""Fonts shared by the windows."""

from PySide6.QtGui import QFont, QFontDatabase


def monospace() -> QFont:
    """The system's fixed-width font: PEM, hex and aligned summaries."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
