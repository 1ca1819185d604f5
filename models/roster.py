"""The roster's text (models.custody `Custodian.roster`): one line a user, with their
role, their state and the version of their record, which grows with each change of it,
so that an older record is known as such whatever the roster's serial.

A custom role has a line too, under `role_line(name)` (a name no user can have: names
hold no control character), whose role field is its permissions, comma-separated: so a
role's permissions are the custodian's, versioned as the users' records are, and a role
put back as it was before an edit is known as older."""

from dataclasses import dataclass

SEP = "\x1f"
DELETED = "deleted"  # a line's state, for a user (or a custom role) deleted
ROLE = "\x1e"  # what a custom role's line name begins with


def role_line(name: str) -> str:
    return ROLE + name


def is_role_line(name: str) -> bool:
    return name.startswith(ROLE)


def permissions_text(permissions) -> str:
    return ",".join(sorted(permissions))


def permissions_of(record: "RosterRecord") -> frozenset[str]:
    return frozenset(p for p in record.role.split(",") if p)


@dataclass(frozen=True)
class RosterRecord:
    role: str
    enabled: bool
    deleted: bool = False
    version: int = 0  # 0: a line written before records had versions

    def line(self, name: str) -> str:
        state = DELETED if self.deleted else str(int(self.enabled))
        return f"{name}{SEP}{self.role}{SEP}{state}{SEP}{self.version}"

    def same_state(self, other: "RosterRecord") -> bool:
        return (self.role, self.enabled, self.deleted) == (other.role, other.enabled, other.deleted)


def parse(records: str) -> dict[str, RosterRecord]:
    """A roster's records by user name."""
    lines = {}
    for line in records.split("\n"):
        name, role, state, version = [*line.split(SEP), "", "", ""][:4]
        if name:
            number = int(version) if version.isdecimal() else 0
            lines[name] = RosterRecord(role, state == "1", state == DELETED, number)
    return lines


def text(lines: dict[str, RosterRecord]) -> str:
    return "\n".join(sorted(record.line(name) for name, record in lines.items()))


def newer_in(kept: str, now: str, kept_is_newer: bool) -> dict[str, RosterRecord]:
    """The users whose record in the roster `kept` is newer than in `now` and says
    otherwise: of a later version, or of the same one where `kept` is the newer roster
    (lines before versions). By name, the record `kept` says."""
    present = parse(now)
    found = {}
    for name, record in parse(kept).items():
        other = present.get(name)
        if other is None or record.same_state(other):
            continue
        if record.version > other.version or (record.version == other.version and kept_is_newer):
            found[name] = record
    return found
