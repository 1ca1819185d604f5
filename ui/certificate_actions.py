"""The operations on certificates behind the quick-action menu, the selection toolbar and
the keys. Each runs its service off the GUI thread, then refreshes only the rows it
changed; permissions are asked of the session, which the service checks again."""

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from app.errors import CertdeskError
from app.services import certificate_groups, certificates, lifecycle, signing_requests
from app.services.certificates import CertificateRow
from app.services.operations import refusal
from app.services.session import Session
from app.services.targets import BulkResult
from ui.certificates_model import CertificatesModel
from ui.group_dialog import GroupDialog
from ui.icons import icon
from ui.save_dialog import save_new_file
from ui.tasks import run_task

SAVE_FILTERS = {
    "DER certificate (*.cer)": "der",
    "PEM certificate (*.pem *.crt)": "pem",
}
MAX_LISTED_FAILURES = 12
MAX_LISTED_NAMES = 8


def _plural(count: int, noun: str = "certificate") -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def file_name_for(alias: str) -> str:
    """`<alias>.cer` with the characters file systems refuse replaced."""
    return (re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", alias).strip(" .") or "certificate") + ".cer"


class CertificateActions(QObject):
    message = Signal(str)  # for the status bar
    groupsChanged = Signal()
    openRequested = Signal(int)  # a certificate id: show its window
    renewRequested = Signal(int)  # a certificate id: open the CSR wizard in renew mode

    def __init__(self, session: Session, model: CertificatesModel, owner: QWidget):
        super().__init__(owner)
        self._session = session
        self._model = model
        self._owner = owner
        self.busy = False
        self.menu: QMenu | None = None

        self.enable_checked = self._action("enabled", "Enable Certificates", self._enable_checked)
        self.disable_checked = self._action(
            "disabled", "Disable Certificates", self._disable_checked
        )
        self.add_groups_checked = self._action(
            "group-add", "Add Groups…", lambda: self.add_groups(self._model.checked_ids())
        )
        self.remove_groups_checked = self._action(
            "group-remove", "Remove Groups…", lambda: self.remove_groups(self._model.checked_ids())
        )
        self.delete_checked = self._action(
            "delete", "Delete Certificates…", lambda: self.delete(self._model.checked_ids())
        )
        for action, operation in (
            (self.enable_checked, lifecycle.enable_certificates),
            (self.disable_checked, lifecycle.disable_certificates),
            (self.add_groups_checked, certificate_groups.add_to_groups),
            (self.remove_groups_checked, certificate_groups.remove_from_groups),
            (self.delete_checked, lifecycle.delete_certificates),
        ):
            self._gate(action, operation)

    def _action(self, icon_name: str, text: str, slot: Callable[[], None]) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.triggered.connect(slot)
        return action

    def _gate(self, action: QAction, operation: Callable) -> None:
        reason = refusal(self._session, operation)
        if reason:
            action.setEnabled(False)
            action.setToolTip(reason)

    def _enable_checked(self) -> None:
        self.set_enabled(self._model.checked_ids(), True)

    def _disable_checked(self) -> None:
        self.set_enabled(self._model.checked_ids(), False)

    # -- the quick-action menu ----------------------------------------------------

    def build_menu(self, row: CertificateRow) -> QMenu:
        menu = QMenu(self._owner)
        menu.setToolTipsVisible(True)
        properties = menu.addAction(icon("certificate"), "Properties…")
        properties.triggered.connect(lambda: self.openRequested.emit(row.id))
        menu.setDefaultAction(properties)
        menu.addSeparator()
        toggle = menu.addAction(
            icon("disabled" if row.enabled else "enabled"), "Disable" if row.enabled else "Enable"
        )
        toggle.triggered.connect(lambda: self.set_enabled([row.id], not row.enabled))
        self._gate(
            toggle, lifecycle.disable_certificates if row.enabled else lifecycle.enable_certificates
        )
        download = menu.addAction(icon("download"), "Download (.cer)…")
        download.triggered.connect(lambda: self.download(row))
        self._gate(download, certificates.export_certificate)
        renew = menu.addAction(icon("renew"), "CSR / Renew…")
        renew.triggered.connect(lambda: self.renewRequested.emit(row.id))
        self._gate(renew, signing_requests.renew)
        menu.addSeparator()
        add = menu.addAction(icon("group-add"), "Add to Groups…")
        add.triggered.connect(lambda: self.add_groups([row.id]))
        self._gate(add, certificate_groups.add_to_groups)
        remove = menu.addAction(icon("group-remove"), "Remove from Groups…")
        remove.triggered.connect(lambda: self.remove_groups([row.id]))
        self._gate(remove, certificate_groups.remove_from_groups)
        if not row.groups and remove.isEnabled():
            remove.setEnabled(False)
            remove.setToolTip("This certificate is in no group.")
        menu.addSeparator()
        delete = menu.addAction(icon("delete"), "Delete…")
        delete.triggered.connect(lambda: self.delete([row.id]))
        self._gate(delete, lifecycle.delete_certificates)
        return menu

    def popup_menu(self, visible_row: int, position: QPoint) -> None:
        """Shown with popup(), not exec(): nothing waits on it, and tests can drive it."""
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = self.build_menu(self._model.row_at(visible_row))
        self.menu.popup(position)

    # -- operations ---------------------------------------------------------------

    def set_enabled(self, ids: Sequence[int], enabled: bool) -> None:
        if ids:
            verb = "Enabled" if enabled else "Disabled"
            operation = lifecycle.enable_certificates if enabled else lifecycle.disable_certificates
            self._run(operation, list(ids), done=verb + " {n}")

    def download(self, row: CertificateRow) -> None:
        def export(path: Path, chosen: str) -> tuple[Path, str]:
            fmt = SAVE_FILTERS.get(chosen, "der")
            return certificates.export_certificate(self._session, row.id, path, fmt), fmt

        try:
            saved = save_new_file(
                self._owner,
                f"Download {row.alias}",
                file_name_for(row.alias),
                ";;".join(SAVE_FILTERS),
                export,
            )
        except CertdeskError as exc:
            self._warn(str(exc))
            return
        if saved is not None:
            out, fmt = saved
            self.message.emit(f"Saved {row.alias} to {out} ({fmt.upper()}).")

    def delete(self, ids: Sequence[int]) -> None:
        rows = [r for r in (self._model.row_by_id(i) for i in ids) if r is not None]
        if not rows or not self.delete_checked.isEnabled() or not self._confirm_delete(rows):
            return
        self._run(
            lifecycle.delete_certificates, [r.id for r in rows], done="Deleted {n}", removes=True
        )

    def _confirm_delete(self, rows: list[CertificateRow]) -> bool:
        keys = sum(1 for r in rows if r.has_private_key)
        if len(rows) == 1:
            text = f"Delete the certificate “{rows[0].alias}”?"
            detail = (
                "Its private key is destroyed with it: nothing can sign with it again."
                if keys
                else "It has no private key in the store."
            )
        else:
            text = f"Delete {_plural(len(rows))}?"
            names = "\n".join(f"• {r.alias}" for r in rows[:MAX_LISTED_NAMES])
            if len(rows) > MAX_LISTED_NAMES:
                names += f"\n…and {len(rows) - MAX_LISTED_NAMES:,} more"
            detail = (
                names
                + "\n\n"
                + (
                    f"The private keys of {_plural(keys)} are destroyed with them: nothing can "
                    "sign with them again."
                    if keys
                    else "None of them has a private key in the store."
                )
            )
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete certificates", text, parent=self._owner)
        box.setInformativeText(
            detail + "\nGroups and policies stop naming them. This cannot be undone."
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is delete

    def add_groups(self, ids: Sequence[int]) -> None:
        if not ids or not self.add_groups_checked.isEnabled():
            return
        existing = certificate_groups.list_groups(self._session)
        create_refusal = refusal(self._session, certificate_groups.create_group)
        dialog = GroupDialog(
            self._owner,
            "Add to groups",
            f"Put {_plural(len(ids))} in the groups checked below.",
            [(g.name, f"({_plural(g.members)})") for g in existing],
            ok_text="Add",
            can_create=create_refusal is None,
            create_refusal=create_refusal,
        )
        if dialog.exec() and dialog.chosen():
            names = ", ".join(dialog.chosen())
            self._run(
                certificate_groups.add_to_groups,
                list(ids),
                dialog.chosen(),
                done=f"Added {{n}} to {names}",
                touches_groups=True,
            )

    def remove_groups(self, ids: Sequence[int]) -> None:
        if not ids or not self.remove_groups_checked.isEnabled():
            return
        rows = [r for r in (self._model.row_by_id(i) for i in ids) if r is not None]
        counts: dict[str, int] = {}
        for row in rows:
            for name in row.groups:
                counts[name] = counts.get(name, 0) + 1
        dialog = GroupDialog(
            self._owner,
            "Remove from groups",
            f"Take {_plural(len(rows))} out of the groups checked below."
            if counts
            else f"The {_plural(len(rows))} chosen are in no group.",
            [(name, f"({counts[name]:,} of these)") for name in sorted(counts, key=str.casefold)],
            ok_text="Remove",
        )
        if dialog.exec() and dialog.chosen():
            names = ", ".join(dialog.chosen())
            self._run(
                certificate_groups.remove_from_groups,
                [r.id for r in rows],
                dialog.chosen(),
                done=f"Removed {{n}} from {names}",
                touches_groups=True,
            )

    # -- running ------------------------------------------------------------------

    def _run(
        self, operation, *args, done: str, removes: bool = False, touches_groups: bool = False
    ) -> None:
        """`done` is the status-bar message, with {n} for how many certificates."""
        if self.busy:
            return
        self.busy = True
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        session = self._session

        def work():
            result: BulkResult = operation(session, *args)
            if removes:
                return result, []
            return result, certificates.certificate_rows(session, result.changed_ids)

        run_task(
            work,
            owner=self._owner,
            on_result=lambda outcome: self._finished(outcome, done, removes, touches_groups),
            on_error=self._failed,
        )

    def _finished(self, outcome, done: str, removes: bool, touches_groups: bool) -> None:
        self._settle()
        result, rows = outcome
        if removes:
            self._model.remove_ids(result.changed_ids)
        else:
            self._model.update_rows(rows)
        text = done.format(n=_plural(result.succeeded))
        if result.failures:
            text += f"; {_plural(len(result.failures), 'problem')}"
            self._warn(_failure_text(result))
        self.message.emit(text + ".")
        if touches_groups or removes:
            self.groupsChanged.emit()

    def _failed(self, error: BaseException) -> None:
        self._settle()
        self._warn(str(error) if isinstance(error, CertdeskError) else f"Unexpected error: {error}")

    def _settle(self) -> None:
        self.busy = False
        QGuiApplication.restoreOverrideCursor()

    def _warn(self, text: str) -> None:
        QMessageBox.warning(self._owner, "Certdesk", text)


def _failure_text(result: BulkResult) -> str:
    lines = [f"{o.target}: {o.message}" for o in result.failures[:MAX_LISTED_FAILURES]]
    more = len(result.failures) - MAX_LISTED_FAILURES
    if more > 0:
        lines.append(f"…and {more:,} more.")
    return "\n".join(lines)
