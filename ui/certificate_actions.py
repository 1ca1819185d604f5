"""The operations on certificates behind the quick-action menu, the selection toolbar and
the keys. Each runs its service on the writer thread and names the certificates it
changed (ui.store_events), so the table refreshes only those rows; each action is
offered as the operation registry says (operations.refusal), and the service checks
again."""

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from app.errors import CertdeskError
from app.memory import collections_paused
from app.services import certificate_groups, certificates, lifecycle, signing, signing_requests
from app.services.certificates import CertificateRow
from app.services.operations import refusal
from app.services.session import Session
from app.services.targets import BulkResult
from ui.certificates_model import CertificatesModel
from ui.dialogs import confirm_destructive, show_message
from ui.file_dialogs import SAVE_CERTIFICATE
from ui.group_dialog import GroupPicker, groups_to_add, groups_to_remove
from ui.icons import icon
from ui.save_dialog import save_new_file
from ui.tasks import Task
from ui.wording import (
    ADD_TO_GROUPS,
    NO_KEY,
    REMOVE_FROM_GROUPS,
    capped,
    failures_text,
    plural,
)

SAVE_FILTERS = {
    "DER certificate (*.cer)": "der",
    "PEM certificate (*.pem *.crt)": "pem",
}
MAX_LISTED_NAMES = 6  # of the key holders, then of the others, in a delete confirmation
NO_GROUP_CHECKED = "None of the checked certificates is in a group."


def file_name_for(alias: str) -> str:
    """`<alias>.cer` with the characters file systems refuse replaced."""
    return (re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", alias).strip(" .") or "certificate") + ".cer"


class CertificateActions(QObject):
    message = Signal(str)  # for the status bar
    openRequested = Signal(int)  # a certificate id: show its window
    renewRequested = Signal(int)  # a certificate id: open the CSR wizard in renew mode
    signRequested = Signal(int)  # a certificate id: Sign File… with it

    def __init__(self, session: Session, model: CertificatesModel, owner: QWidget):
        super().__init__(owner)
        self._session = session
        self._model = model
        self._owner = owner
        self.busy = False
        self.menu: QMenu | None = None
        # The last boxes opened, for whoever drives them (tests, screenshots).
        self.confirmation: QMessageBox | None = None
        self.picker: GroupPicker | None = None

        self.enable_checked = self._action("enabled", "Enable Certificates", self._enable_checked)
        self.disable_checked = self._action(
            "disabled", "Disable Certificates", self._disable_checked
        )
        self.add_groups_checked = self._action(
            "group-add", ADD_TO_GROUPS, lambda: self.add_groups(self._model.checked_ids())
        )
        self.remove_groups_checked = self._action(
            "group-remove",
            REMOVE_FROM_GROUPS,
            lambda: self.remove_groups(self._model.checked_ids()),
        )
        self.delete_checked = self._action(
            "delete", "Delete Certificates…", lambda: self.delete(self._model.checked_ids())
        )
        for action, operation in (
            (self.enable_checked, lifecycle.enable_certificates),
            (self.disable_checked, lifecycle.disable_certificates),
            (self.add_groups_checked, certificate_groups.add_to_groups),
            (self.delete_checked, lifecycle.delete_certificates),
        ):
            self._gate(action, operation)
        self._remove_refusal = refusal(session, certificate_groups.remove_from_groups)
        self._checked_count = 0
        # A refresh of scattered rows emits dataChanged once per run of them: the checked
        # rows' groups are looked at once after the last, not once per run (quadratic).
        self._groups_recheck = QTimer(self, singleShot=True, interval=0)
        self._groups_recheck.timeout.connect(self._update_remove_groups)
        model.checkedChanged.connect(self._checked_changed)
        model.dataChanged.connect(self._rows_changed)  # rows re-read after a change
        self._update_remove_groups()

    def _action(self, icon_name: str, text: str, slot: Callable[[], None]) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.triggered.connect(slot)
        return action

    def _gate(self, action: QAction, operation: Callable) -> None:
        reason = refusal(self._session, operation)
        if reason:
            action.setEnabled(False)
            action.setToolTip(reason)

    def _checked_changed(self, count: int) -> None:
        self._checked_count = count
        self._update_remove_groups()

    def _rows_changed(self, _first, _last, roles=()) -> None:
        if list(roles) != [Qt.ItemDataRole.CheckStateRole]:  # checks say checkedChanged
            self._groups_recheck.start()

    def _update_remove_groups(self) -> None:
        """Remove from Groups is offered when the role may and a checked row is in a group."""
        if self._remove_refusal:
            why = self._remove_refusal
        elif self._checked_count and any(row.groups for row in self._model.checked_rows()):
            why = None
        else:
            why = NO_GROUP_CHECKED
        self.remove_groups_checked.setEnabled(why is None)
        self.remove_groups_checked.setToolTip(why or "Take the checked certificates out of groups")

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
        toggling = lifecycle.disable_certificates if row.enabled else lifecycle.enable_certificates
        self._gate(toggle, toggling)
        download = menu.addAction(icon("download"), "Download (.cer)…")
        download.triggered.connect(lambda: self.download(row))
        self._gate(download, certificates.export_certificate)
        sign = menu.addAction(icon("signature"), "Sign File…")
        sign.triggered.connect(lambda: self.signRequested.emit(row.id))
        self._gate(sign, signing.sign_data)
        if not row.has_private_key and sign.isEnabled():
            sign.setEnabled(False)
            sign.setToolTip(NO_KEY)
        renew = menu.addAction(icon("renew"), "CSR / Renew…")
        renew.triggered.connect(lambda: self.renewRequested.emit(row.id))
        self._gate(renew, signing_requests.renew)
        menu.addSeparator()
        add = menu.addAction(icon("group-add"), ADD_TO_GROUPS)
        add.triggered.connect(lambda: self.add_groups([row.id]))
        self._gate(add, certificate_groups.add_to_groups)
        remove = menu.addAction(icon("group-remove"), REMOVE_FROM_GROUPS)
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
            busy = "Enabling…" if enabled else "Disabling…"
            operation = lifecycle.enable_certificates if enabled else lifecycle.disable_certificates
            # The write changes nothing else: the table sets the flag instead of reading
            # the rows again (ui.store_events.certificates_enabled).
            self._run(busy, operation, list(ids), done=verb + " {n}", enabled=enabled)

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
                SAVE_CERTIFICATE,
            )
        except CertdeskError as exc:
            self._warn(str(exc))
            return
        if saved is not None:
            out, fmt = saved
            self.message.emit(f"Saved “{row.alias}” to {out} ({fmt.upper()}).")

    def delete(self, ids: Sequence[int]) -> QMessageBox | None:
        """Ask, then delete; the confirmation box is returned (it is opened, not run)."""
        rows = [r for r in (self._model.row_by_id(i) for i in ids) if r is not None]
        if not rows or not self.delete_checked.isEnabled():
            return None
        self.confirmation = self._confirm_delete(
            rows,
            # The groups the deleted certificates were in lose members: their counts change.
            lambda: self._run(
                "Deleting…",
                lifecycle.delete_certificates,
                [r.id for r in rows],
                done="Deleted {n}",
                touches_groups=True,
            ),
        )
        return self.confirmation

    def _confirm_delete(self, rows: list[CertificateRow], then: Callable[[], None]) -> QMessageBox:
        keyed = [r for r in rows if r.has_private_key]
        if len(rows) == 1:
            text = f"Delete the certificate “{rows[0].alias}”?"
            detail = (
                "Its private key is destroyed with it: nothing can sign with it again."
                if keyed
                else "It has no private key in the store."
            )
            closing = "Groups and policies stop naming it."
        else:
            text = f"Delete {plural(len(rows), 'certificate')}?"
            detail = _delete_detail(rows, keyed)
            closing = "Groups and policies stop naming them."
            if len(keyed) > MAX_LISTED_NAMES or len(rows) - len(keyed) > MAX_LISTED_NAMES:
                closing = "Show Details lists every one. " + closing
        box = confirm_destructive(
            self._owner,
            "Delete certificates",
            text,
            f"{detail}\n{closing} This cannot be undone.",
            "Delete",
            then,
        )
        if len(rows) > 1:  # the text names a few; Show Details… names every one
            box.setDetailedText(_every_name(rows, keyed))
        return box

    def add_groups(self, ids: Sequence[int]) -> GroupPicker | None:
        """The group picker, opened (not run) and returned; OK adds to the groups."""
        if not ids or not self.add_groups_checked.isEnabled():
            return None
        ids = list(ids)
        dialog = groups_to_add(
            self._owner,
            self._session,
            f"Put {plural(len(ids), 'certificate')} in the groups checked below.",
        )

        def add() -> None:
            chosen = dialog.chosen()
            self._run(
                "Adding to groups…",
                certificate_groups.add_to_groups,
                ids,
                chosen,
                done=f"Added {{n}} to {', '.join(chosen)}",
                touches_groups=True,
            )

        return self._open_picker(dialog, add)

    def remove_groups(self, ids: Sequence[int]) -> GroupPicker | None:
        """The groups the certificates are in, as the store says, to take them out of."""
        if not ids or self._remove_refusal:
            return None
        ids = list(ids)
        dialog = groups_to_remove(
            self._owner,
            self._session,
            ids,
            f"Take {plural(len(ids), 'certificate')} out of the groups checked below.",
        )

        def remove() -> None:
            chosen = dialog.chosen()
            self._run(
                "Removing from groups…",
                certificate_groups.remove_from_groups,
                ids,
                chosen,
                done=f"Removed {{n}} from {', '.join(chosen)}",
                touches_groups=True,
            )

        return self._open_picker(dialog, remove)

    def _open_picker(self, dialog: GroupPicker, then: Callable[[], None]) -> GroupPicker:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: then() if dialog.chosen() else None)
        dialog.open()
        self.picker = dialog
        return dialog

    # -- running ------------------------------------------------------------------

    def _run(
        self,
        busy_text: str,
        operation,
        *args,
        done: str,
        touches_groups: bool = False,
        enabled: bool | None = None,
    ) -> None:
        """`done` is the status-bar message, with {n} for how many certificates. The
        changed rows are re-read by whoever shows them (ui.store_events), or only take
        the new `enabled` when that is all the operation changed."""
        if self.busy:
            return
        self.busy = True
        (
            Task(self._owner, _collections_paused(operation), self._session, *args)
            .writes()
            .changes(
                certificates=lambda result: result.changed_ids,
                groups=touches_groups,
                enabled=enabled,
            )
            .busy(self._owner, busy_text)
            .on_done(lambda result: self._finished(result, done))
            .always(self._settle)
            .start()
        )

    def _finished(self, result: BulkResult, done: str) -> None:
        text = done.format(n=plural(result.succeeded, "certificate"))
        if result.failures:
            text += f"; {plural(len(result.failures), 'problem')}"
            self._warn(failures_text(result))
        self.message.emit(text + ".")

    def _settle(self) -> None:
        self.busy = False

    def _warn(self, text: str) -> None:
        show_message(self._owner, text)


def _collections_paused(operation: Callable) -> Callable:
    """`operation` with no garbage collection while it runs: a bulk operation makes a few
    tuples per certificate (none in a cycle), and 10,000 certificates set off some 70
    collections, the first after a sort or a search walking all that it left (30 ms)."""

    @functools.wraps(operation)
    def run(*args, **kwargs):
        with collections_paused():
            return operation(*args, **kwargs)

    return run


def _listed(rows: Sequence[CertificateRow]) -> str:
    return "\n".join(capped([f"• {r.alias}" for r in rows], MAX_LISTED_NAMES))


def _every_name(rows: Sequence[CertificateRow], keyed: Sequence[CertificateRow]) -> str:
    """Every certificate to be deleted, the key holders first and marked."""
    others = [r for r in rows if not r.has_private_key]
    return "\n".join(
        [f"{r.alias} (and its private key)" for r in keyed] + [r.alias for r in others]
    )


def _delete_detail(rows: Sequence[CertificateRow], keyed: Sequence[CertificateRow]) -> str:
    """The certificates whose private keys are destroyed, named first; then the others."""
    others = [r for r in rows if not r.has_private_key]
    if not keyed:
        return _listed(others) + "\n\nNone of them has a private key in the store.\n"
    if len(keyed) == 1:
        head = "The private key of this one is destroyed: nothing can sign with it again."
    else:
        head = (
            f"The private keys of these {len(keyed):,} are destroyed: nothing can sign "
            "with them again."
        )
    parts = [f"{head}\n{_listed(keyed)}"]
    if others:
        whose = "The other one has" if len(others) == 1 else f"The other {len(others):,} have"
        parts.append(f"{whose} no private key in the store:\n{_listed(others)}")
    return "\n\n".join(parts) + "\n"
