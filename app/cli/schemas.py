"""Every JSON document of the CLI contract, made from what the services return. The keys
are the contract that docs/CLI.md lists and scripts read: a key is added here, never
renamed or dropped. Times are UTC, `YYYY-MM-DDTHH:MM:SSZ`."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from json.encoder import encode_basestring

from app.crypto.purpose import SigningVerdict
from app.services.audit_log import AuditEntry
from app.services.certificates import CertificateDetail, CertificateRow
from app.services.policies import PolicyRow, Signer
from app.services.roles import RoleRow
from app.services.signing import SigningChoice
from app.services.signing_requests import RequestInfo
from app.services.user_groups import UserGroupRow
from app.services.users import UserRow


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_json(row: CertificateRow) -> dict:
    """One certificate of `list --json`."""
    return {
        "alias": row.alias,
        "enabled": bool(row.enabled),
        "owner": row.owner,
        "has_pin": bool(row.has_pin),
        "ask_reason": bool(row.ask_reason),
        "usage_count": row.usage_count,
        "last_used": iso(row.last_used),
        "groups": list(row.groups),
        "policies": list(row.policies),
        "valid_from": iso(row.valid_from),
        "valid_to": iso(row.valid_to),
        "subject": row.subject,
        "issuer": row.issuer,
        "serial": row.serial,
        "sha1": row.sha1,
        "sha256": row.sha256,
        "has_private_key": bool(row.has_private_key),
        "key_algorithm": row.key_algorithm,
    }


_EPOCH = datetime(1970, 1, 1)
_TRUTH = ("false", "true")


def _iso_us(micros: int | None) -> str:
    """`iso` of a stored time: isoformat costs a tenth of strftime. (strftime writes a
    year before 1000 without its leading zeros, so those take the slow way.)"""
    if micros is None:
        return "null"
    value = _EPOCH + timedelta(microseconds=micros)
    if value.year < 1000:
        return f'"{iso(value)}"'
    return f'"{value.isoformat(timespec="seconds")}Z"'


class _NamesText(dict):
    """A names tuple as the indented encoder writes it, once per tuple (rows share them)."""

    def __missing__(self, names: tuple[str, ...]) -> str:
        text = "[]"
        if names:
            text = "[\n      " + ",\n      ".join(map(encode_basestring, names)) + "\n    ]"
        self[names] = text
        return text


def certificates_json_text(rows: Sequence[CertificateRow], part: int = 5000) -> Iterator[str]:
    """`list --json` in pieces: exactly the text of `json.dumps([certificate_json(r) for r
    in rows], indent=2, ensure_ascii=False)`, written here because json's indenting
    encoder is pure Python and took two thirds of the command at 100,000 rows."""
    if not rows:
        yield "[]"
        return
    text, names = encode_basestring, _NamesText()
    yield "[\n"
    for start in range(0, len(rows), part):
        if start:
            yield ",\n"
        yield ",\n".join(
            [
                f'  {{\n    "alias": {text(r.alias)},\n'
                f'    "enabled": {_TRUTH[bool(r.enabled)]},\n'
                f'    "owner": {"null" if r.owner is None else text(r.owner)},\n'
                f'    "has_pin": {_TRUTH[bool(r.has_pin)]},\n'
                f'    "ask_reason": {_TRUTH[bool(r.ask_reason)]},\n'
                f'    "usage_count": {int.__repr__(r.usage_count)},\n'
                f'    "last_used": {_iso_us(r.last_used_us)},\n'
                f'    "groups": {names[r.groups]},\n'
                f'    "policies": {names[r.policies]},\n'
                f'    "valid_from": {_iso_us(r.valid_from_us)},\n'
                f'    "valid_to": {_iso_us(r.valid_to_us)},\n'
                f'    "subject": {text(r.subject)},\n'
                f'    "issuer": {text(r.issuer)},\n'
                f'    "serial": {text(r.serial)},\n'
                f'    "sha1": {text(r.sha1)},\n'
                f'    "sha256": {text(r.sha256)},\n'
                f'    "has_private_key": {_TRUTH[bool(r.has_private_key)]},\n'
                f'    "key_algorithm": {text(r.key_algorithm)}\n  }}'
                for r in rows[start : start + part]
            ]
        )
    yield "\n]"


def certificate_detail_json(detail: CertificateDetail, purpose: SigningVerdict) -> dict:
    """`show --json`: every key of `list --json`, and the details."""
    return certificate_json(detail.row) | {
        "description": detail.description,
        "associated_users": list(detail.associated_users),
        "associated_user_groups": list(detail.associated_user_groups),
        "extensions": [
            {"oid": e.oid, "name": e.name, "critical": e.critical, "value": e.value}
            for e in detail.extensions
        ],
        "signing": {"allowed": purpose.allowed, "why": purpose.why},
    }


def request_json(info: RequestInfo) -> dict:
    """One request of `request list --json`."""
    return {
        "id": info.id,
        "alias": info.alias,
        "subject": info.subject,
        "key_algorithm": info.key_algorithm,
        "created": iso(info.created_at),
        "renews": info.renews,
        "status": info.status,
        "groups": list(info.groups),
        "owner": info.owner,
        "certificate": info.certificate,
    }


def user_json(row: UserRow) -> dict:
    """One user of `user list --json`."""
    return {
        "name": row.name,
        "display_name": row.display_name,
        "role": row.role,
        "enabled": row.enabled,
        "user_groups": list(row.user_groups),
        "owned_certificates": row.owned,
        "created": iso(row.created_at),
    }


def role_json(row: RoleRow) -> dict:
    """One role of `role list --json`."""
    return {
        "name": row.name,
        "description": row.description,
        "builtin": row.builtin,
        "permissions": sorted(row.permissions),
        "users": row.users,
    }


def user_group_json(row: UserGroupRow) -> dict:
    """One user group of `user-group list --json`."""
    return {
        "name": row.name,
        "description": row.description,
        "members": list(row.members),
        "policies": list(row.policies),
    }


def signing_choice_json(choice: SigningChoice) -> dict:
    """A certificate a user may sign with (`user show --json`'s `may_sign`)."""
    return {
        "alias": choice.alias,
        "allowed_by": "owner" if choice.policy == "" else "policy",
        "policy": choice.policy or None,
        "asks_pin": choice.needs_pin,
        "asks_reason": choice.asks_reason,
        "blocked": choice.blocked or None,
    }


def policy_json(row: PolicyRow) -> dict:
    """One policy of `policy list --json`."""
    return {
        "name": row.name,
        "effect": row.effect,
        "priority": row.priority,
        "enabled": row.enabled,
        "certificates": list(row.certificates),
        "certificate_groups": list(row.certificate_groups),
        "users": list(row.users),
        "user_groups": list(row.user_groups),
        "days": row.weekdays,
        "hours": row.hours,
        "from": row.date_from.isoformat() if row.date_from else None,
        "until": row.date_until.isoformat() if row.date_until else None,
        "description": row.description,
    }


def who_json(signer: Signer) -> dict:
    """One user of `who-can-sign --json`."""
    return {
        "user": signer.user,
        "display_name": signer.display_name,
        "allowed": signer.allowed,
        "decided_by": "policy" if signer.policy else "owner",
        "policy": signer.policy or None,
        "why": signer.why,
    }


def audit_event_json(event: AuditEntry) -> dict:
    """One event of `audit --json`."""
    return {
        "id": event.id,
        "time": iso(event.time),
        "user": event.user,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "details": event.details,
    }
