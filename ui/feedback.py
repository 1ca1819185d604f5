"""Messages in the windows: a red line under the field it concerns, a grey hint where a
list is empty."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.errors import CertdeskError, ValidationError
from ui.wording import curly_quotes


def error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet("color: #d23c3c;")  # reads on light and dark palettes
    label.hide()
    return label


def hint_label(text: str, parent: QWidget) -> QLabel:
    """What an empty page shows instead of an empty list: what it is for, what to do."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
    return label


def show_error(label: QLabel, error: BaseException) -> None:
    if isinstance(error, ValidationError):
        text = error.reason[:1].upper() + error.reason[1:] + "."
    elif isinstance(error, CertdeskError):
        text = str(error)
    else:
        text = f"Unexpected error: {error}"
    label.setText(curly_quotes(text))
    label.show()
