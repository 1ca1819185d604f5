"""What changed in the store, said once so that every page showing it can refresh.

A task that writes names the kinds of things it changed (ui.tasks `Task.changes`); the
pages listen here instead of being wired to each other, so a new page or window that
shows certificates only has to connect to `certificates_changed`. Every page re-reads what
that names, except what a page has just been told in full (`certificates_enabled`).

The signals are emitted on the GUI thread only (the task relay does it), so slots run
directly, in connection order.
"""

from PySide6.QtCore import QObject, Signal

ALL = None  # certificates_changed(ALL): any certificate may have changed; reload them


class StoreEvents(QObject):
    certificates_changed = Signal(object)  # a tuple of certificate ids, or ALL
    # (ids, enabled): all that changed of these certificates is that they are now enabled
    # or disabled; emitted just before certificates_changed of the same ids, so that a page
    # showing them may set the flag in place and leave them out of its re-read.
    certificates_enabled = Signal(object, bool)
    groups_changed = Signal()  # groups created, renamed, deleted or their members
    requests_changed = Signal()  # signing requests created, cancelled or completed
    # Who may do or sign what: users, user groups, roles or policies added, changed or
    # removed.
    access_changed = Signal()
    # The journal grew (ui.store_watch looks every few seconds): by anything, a refusal
    # too, by this window or another.
    audit_changed = Signal()

    def announce(
        self,
        certificates=(),
        groups: bool = False,
        requests: bool = False,
        enabled: bool | None = None,
        access: bool = False,
    ) -> None:
        """Emit what changed; an empty tuple of ids (the default) says nothing. `enabled`
        says the certificates' change was only their enabled flag, now this value."""
        if certificates is ALL:
            self.certificates_changed.emit(ALL)
        elif certificates:
            ids = tuple(certificates)
            if enabled is not None:
                self.certificates_enabled.emit(ids, enabled)
            self.certificates_changed.emit(ids)
        if groups:
            self.groups_changed.emit()
        if requests:
            self.requests_changed.emit()
        if access:
            self.access_changed.emit()

    def forget(self, receiver: QObject) -> None:
        """Stop telling `receiver` anything: a page whose session is closing must not
        read with it. (A destroyed receiver is forgotten by Qt itself.)"""
        QObject.disconnect(self, None, receiver, None)


# One store is open in a process (the GUI opens one session), so one object serves. Made
# at import, on the GUI thread that imports the ui package; it needs no QApplication.
events = StoreEvents()
