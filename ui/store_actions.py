"""The Store menu: Backup… (a consistent, still encrypted copy, taken while the store is
open), Restore… (a backup unpacked into a new folder, then offered to open) and Check
Store (the `check` service, its report in words). Each runs off the GUI thread with a
busy cursor; what they say goes in a box over the window."""

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.files import check_new_file
from app.services import backup, integrity
from app.services.operations import refusal
from app.services.session import Session
from ui.dialogs import show_message
from ui.file_dialogs import open_file_names, remember_folder, start_folder
from ui.icons import icon
from ui.save_dialog import save_new_file
from ui.tasks import Task, say_in_status_bar
from ui.wording import plural

SAVE_BACKUP = "save-backup"
OPEN_BACKUP = "open-backup"
RESTORE_INTO = "restore-into"
INTACT = "The store is intact: database, key slots, sealed keys and audit chain."


class StoreActions(QObject):
    # A restored store's folder, which the user chose to open (the console signs in there).
    openRequested = Signal(object)

    def __init__(self, session: Session, window: QWidget):
        super().__init__(window)
        self._session = session
        self._window = window
        self.box: QMessageBox | None = None  # the last one shown
        self.backup_action = self._action("download", "&Backup…", self.backup, backup.backup_store)
        self.restore_action = self._action("import", "&Restore…", self.restore, None)
        self.check_action = self._action(
            "verify", "&Check Store", self.check, integrity.check_store
        )

    def _action(self, icon_name: str, text: str, slot, operation) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.triggered.connect(slot)
        why_not = None if operation is None else refusal(self._session, operation)
        action.setEnabled(why_not is None)
        action.setToolTip(why_not or text.replace("&", "").rstrip("…"))
        return action

    def menu_actions(self) -> list[QAction]:
        return [self.backup_action, self.restore_action, self.check_action]

    # -- backup ---------------------------------------------------------------------

    def backup(self) -> Path | None:
        if not self.backup_action.isEnabled():
            return None
        path = save_new_file(
            self._window,
            "Back up the store",
            f"{self._session.folder.name or 'store'}.certdesk-backup",
            "Certdesk backup (*.certdesk-backup *.zip)",
            lambda path, _chosen: check_new_file(path),
            SAVE_BACKUP,
        )
        if path is not None:
            self.backup_to(path)
        return path

    def backup_to(self, path: Path) -> Task:
        return (
            Task(self._window, backup.backup_store, self._session, path)
            .busy(self._window, "Backing up the store…", delay_ms=0)
            .on_done(
                lambda written: self._say(
                    f"Backed up the store to {written}. The backup is still encrypted: it opens "
                    "with a user's password, as the store does. Keep it apart from the store."
                )
            )
            .start()
        )

    # -- restore --------------------------------------------------------------------

    def restore(self) -> None:
        archives = open_file_names(
            self._window,
            OPEN_BACKUP,
            "Restore a backup",
            "Certdesk backup (*.certdesk-backup *.zip);;All files (*)",
        )
        if not archives:
            return
        folder = QFileDialog.getExistingDirectory(
            self._window, "Restore into a new, empty folder", str(start_folder(RESTORE_INTO))
        )
        if folder:
            remember_folder(RESTORE_INTO, folder)  # next time, beside the one made now
            self.restore_into(Path(archives[0]), Path(folder))

    def restore_into(self, archive: Path, folder: Path) -> Task:
        return (
            Task(self._window, backup.restore_store, folder, archive)
            .busy(self._window, "Restoring the backup…", delay_ms=0)
            .on_done(lambda _store_id: self._offer_to_open(folder))
            .start()
        )

    def _offer_to_open(self, folder: Path) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Backup restored",
            f"The backup is restored into {folder}.",
            QMessageBox.StandardButton.NoButton,
            self._window,
        )
        box.setInformativeText(
            "Open the restored store now? This window signs out of the present one first."
        )
        open_button = box.addButton("Open Restored Store", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _r: (
                self.openRequested.emit(folder) if box.clickedButton() is open_button else None
            )
        )
        box.open()
        self.box = box
        return box

    # -- check ----------------------------------------------------------------------

    def check(self) -> Task | None:
        if not self.check_action.isEnabled():
            return None
        return (
            Task(self._window, integrity.check_store, self._session)
            .busy(self._window, "Checking the store…", delay_ms=0)
            .on_done(self._checked)
            .start()
        )

    def _checked(self, problems: list[str]) -> None:
        if not problems:
            self._say(INTACT, QMessageBox.Icon.Information)
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Check Store",
            f"The check found {plural(len(problems), 'problem')}.",
            QMessageBox.StandardButton.Ok,
            self._window,
        )
        box.setInformativeText(
            "\n".join(f"• {p}" for p in problems[:8])
            + ("\n…" if len(problems) > 8 else "")
            + "\n\nRestore a backup from before the damage, or ask the store's Administrator."
        )
        box.setDetailedText("\n".join(problems))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.box = box

    def _say(self, text: str, kind=QMessageBox.Icon.Information) -> None:
        say_in_status_bar(self._window, text.split(". ")[0] + ".")
        box = show_message(self._window, text)
        box.setIcon(kind)
        self.box = box
