"""The banner over the pages at sign-in: how many certificates expire within the
warning period, with Show Them (the Certificates page filtered to them) and Dismiss."""

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from ui.icons import icon
from ui.wording import plural


class ExpiryBanner(QFrame):
    showRequested = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("expiryBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self.setAutoFillBackground(True)
        self.icon = QLabel(self)
        self.icon.setPixmap(icon("expiring").pixmap(16, 16))
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self.show_button = QToolButton(self)
        self.show_button.setText("Show Them")
        self.show_button.clicked.connect(self.showRequested)
        self.show_button.clicked.connect(self.hide)
        dismiss = QToolButton(self)
        dismiss.setText("Dismiss")
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.icon)
        row.addWidget(self.text, 1)
        row.addWidget(self.show_button)
        row.addWidget(dismiss)
        self.hide()

    def show_count(self, count: int, days: int) -> None:
        if not count:
            self.hide()
            return
        verb = "expires" if count == 1 else "expire"
        self.text.setText(f"{plural(count, 'certificate')} {verb} within {days} days.")
        self.show()
