"""A list of names to check, searched in the store as it is typed: a policy's
certificates among a million, its users, its groups. The store is asked for at most
SHOWN names that hold the text (`policies.nameable`), off the GUI thread; what is
checked is kept whatever the search shows, and listed first while the search is empty."""

from collections.abc import Iterable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.services import policies
from app.services.session import Session
from ui.icons import icon
from ui.list_page import SEARCH_DELAY_MS
from ui.tasks import Task
from ui.wording import plural

SHOWN = 500


class NamePicker(QWidget):
    changed = Signal()  # what is checked

    def __init__(
        self, session: Session, kind: str, noun: tuple[str, str], icon_name: str, parent=None
    ):
        super().__init__(parent)
        self._session, self._kind, self._noun, self._icon = session, kind, noun, icon_name
        self.chosen: list[str] = []  # in the order checked
        self._generation = 0
        self._shown = 0  # names listed
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(f"Find {noun[1]}")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.itemChanged.connect(self._toggled)
        self.count = QLabel(self)
        self.count.setStyleSheet("color: palette(placeholder-text);")
        self.count.setWordWrap(True)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count)
        self._show_count()

    def set_chosen(self, names: Iterable[str]) -> None:
        self.chosen = list(dict.fromkeys(names))
        self.refresh()

    def refresh(self) -> Task:
        self._timer.stop()
        self._generation += 1
        generation, text = self._generation, self.search.text()
        return (
            Task(self, policies.nameable, self._session, self._kind, text, SHOWN)
            .on_done(
                lambda names: self._show(names, text) if generation == self._generation else None
            )
            .start()
        )

    def _show(self, names: list[str], text: str) -> None:
        # While nothing is searched, what is checked comes first, found or not.
        if not text.strip():
            names = self.chosen + [n for n in names if n not in self.chosen]
        self.list.blockSignals(True)
        self.list.clear()
        for name in names:
            item = QListWidgetItem(icon(self._icon), name, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in self.chosen else Qt.CheckState.Unchecked
            )
        self.list.blockSignals(False)
        self._shown = len(names)
        self._show_count()

    def _toggled(self, item: QListWidgetItem) -> None:
        name = item.text()
        checked = item.checkState() == Qt.CheckState.Checked
        if checked and name not in self.chosen:
            self.chosen.append(name)
        elif not checked and name in self.chosen:
            self.chosen.remove(name)
        self._show_count()
        self.changed.emit()

    def set_checked(self, name: str, checked: bool = True) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _show_count(self) -> None:
        text = f"{plural(len(self.chosen), self._noun[0], self._noun[1])} checked"
        if self._shown >= SHOWN:
            text += f"; the first {SHOWN} found are listed: type to find others"
        self.count.setText(text)
