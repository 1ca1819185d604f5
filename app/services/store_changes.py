"""What others changed in the store since a window last looked: another process (a
`certdesk` command, a second window) or another session.

Every change appends audit events to the journal, so the events after the last one seen
say what changed and to which certificate, group or request. The events a session wrote
itself are skipped (the journal notes them once `watch` is called): its window announced
those changes already.
"""

import json
from dataclasses import dataclass

from app.services import journal
from app.services.operations import operation
from app.services.session import Session
from models import statements
from models.permissions import CERTIFICATES_VIEW

# What each kind of event changes. An action named nowhere here (a later one) is taken
# to change everything: a reload too many rather than a stale table.
_CERTIFICATE_ROWS = frozenset(
    {
        "certificate.enable",
        "certificate.disable",
        "certificate.edit",
        "certificate.key_linked",
        "certificate.sign",
        "certificate.superseded",
    }
)
_MEMBERSHIPS = frozenset({"group.add_certificates", "group.remove_certificates"})
# Rows come or go, or a column of unknown rows changes (a group's name, a policy).
_ALL_CERTIFICATES = frozenset(
    {
        "certificate.import",
        "certificate.renewed",
        "certificate.delete",
        "group.edit",
        "group.delete",
        "policy.add",
        "policy.edit",
        "user.delete",  # their certificates lose their owner
        "user.records_restored",  # as user.delete, for a user deleted again
        "policy.enable",
        "policy.disable",
        "policy.delete",
    }
)
# A group's member count changes too with an import that completes a request.
_GROUPS = frozenset(
    {"group.create", "group.edit", "group.delete", "certificate.delete", "certificate.import"}
)
_REQUESTS = frozenset({"request.create", "request.cancel", "request.complete"})
# Who may do or sign what (the Users and User Groups pages, and the Signing page).
_ACCESS_PREFIXES = ("user.", "user_group.", "role.", "policy.")
_NOTHING_SHOWN = frozenset(
    {
        "store.create",
        "store.backup",
        "user.add",
        "user.keys",
        "user.password",
        "user.reset_password",
        "user.enable",
        "user.disable",
        "user.role",
        "user_group.create",
        "user_group.members",
        "user_group.edit",
        "user_group.delete",
        "role.add",
        "role.edit",
        "role.delete",
        "user.certify",
        "custodian.create",
        "custodian.trust",
        "custodian.wrap",
        "key.move",
        "key.grant",
        "key.revoke",
        "rows.revoke",
        "store.rekey",
        "store.older",
        "certificate.export",
    }
)
KNOWN_ACTIONS = (
    _CERTIFICATE_ROWS | _MEMBERSHIPS | _ALL_CERTIFICATES | _GROUPS | _REQUESTS | _NOTHING_SHOWN
)


@dataclass(frozen=True)
class Changes:
    last_event: int  # ask after this one next time
    # The ids of the certificates changed; None: any may have (rows came or went).
    certificates: tuple[int, ...] | None = ()
    groups: bool = False
    requests: bool = False
    access: bool = False


@operation("store.watch", CERTIFICATES_VIEW, reads=True)
def watch(session: Session) -> int:
    """Start watching: the id of the last event now. From here on the journal notes the
    events this session writes, so that `changes_since` leaves them out."""
    journal.watch_own_events(session.store.db)
    return statements.last_audit_event_id(session.store.db)


@operation("store.changes", CERTIFICATES_VIEW, reads=True)
def changes_since(session: Session, after: int) -> Changes:
    """What the events after `after` that this session did not write changed."""
    db = session.store.db
    # One snapshot: every own run in it was noted before it began (a run is noted before
    # its commit), so the runs taken after its first read cover all of them.
    with db.atomic():
        last = statements.last_audit_event_id(db)
        if last == after:
            return Changes(after)
        changed = _Changed()
        for event in _others(db, after, last):
            changed.add(*event[1:5])
        certificates = None if changed.every else ()
        if certificates is not None and changed.aliases:
            found = dict(statements.id_and_alias_by_column(db, "alias", sorted(changed.aliases)))
            # An alias that reads back no more was renamed or deleted since: reload them all.
            certificates = None if len(found) < len(changed.aliases) else tuple(sorted(found))
    return Changes(last, certificates, changed.groups, changed.requests, changed.access)


def _others(db, after: int, last: int) -> list[tuple]:
    """The events after `after`, up to `last`, not in a run this session wrote. The own
    runs in the log are skipped by their ids, unread: a bulk operation's 10,000 events
    would be read only to be left out. The runs up to `last` are then forgotten: found,
    or rolled back (a run not committed yet comes after `last`)."""
    runs = journal.own_runs(db)
    ended = [r for r in runs if r.first_id <= last]
    wanted = [r for r in ended if r.first_id > after]
    hashes = statements.audit_hashes(db, [i for r in wanted for i in (r.first_id, r.last_id)])
    written = sorted(
        r
        for r in wanted
        if (hashes.get(r.first_id), hashes.get(r.last_id)) == (r.first_hash, r.last_hash)
    )
    events, start = [], after
    for run in written:
        events += statements.audit_events_after(db, start, run.first_id)
        start = run.last_id
    events += statements.audit_events_after(db, start)
    journal.forget_own_runs(db, ended)
    return events


class _Changed:
    """What a series of events changed, added up."""

    def __init__(self) -> None:
        self.aliases: set[str] = set()
        self.every = self.groups = self.requests = self.access = False

    def add(self, action: str, target: str, outcome: str, details: str) -> None:
        if outcome != "allowed":
            return  # a refusal or a failure changed nothing
        self.access |= action.startswith(_ACCESS_PREFIXES) or action not in KNOWN_ACTIONS
        if action in _NOTHING_SHOWN:
            return
        known = action in KNOWN_ACTIONS
        if action in _CERTIFICATE_ROWS or action in _MEMBERSHIPS:
            self.aliases.add(_alias_now(action, target, details))
        self.every |= action in _ALL_CERTIFICATES or not known
        self.groups |= action in _GROUPS or action in _MEMBERSHIPS or not known
        self.requests |= action in _REQUESTS or not known


def _alias_now(action: str, target: str, details: str) -> str:
    """The alias the event's certificate had after it: a rename names the new one."""
    if action == "certificate.edit":
        renamed = json.loads(details).get("alias")
        if isinstance(renamed, str):
            return renamed
    return target
