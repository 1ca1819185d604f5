"""Every JSON document of the CLI contract, made from what the services return. The keys
are the contract that docs/CLI.md lists and scripts read: a key is added here, never
renamed or dropped. Times are UTC, `YYYY-MM-DDTHH:MM:SSZ`."""

from datetime import datetime

from app.crypto.purpose import SigningVerdict
from app.services.audit_log import AuditEntry
from app.services.certificates import CertificateDetail, CertificateRow
from app.services.policies import PolicyRow
from app.services.signing_requests import RequestInfo
from app.services.users import UserRow


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_json(row: CertificateRow) -> dict:
    """One certificate of `list --json`."""
    return {
        "alias": row.alias,
        "enabled": row.enabled,
        "owner": row.owner,
        "has_pin": row.has_pin,
        "ask_reason": row.ask_reason,
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
        "has_private_key": row.has_private_key,
        "key_algorithm": row.key_algorithm,
    }


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
        "role": row.role,
        "enabled": row.enabled,
        "user_groups": list(row.user_groups),
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
    }


def audit_event_json(event: AuditEntry) -> dict:
    """One event of `audit --json`."""
    return {
        "time": iso(event.time),
        "user": event.user,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "details": event.details,
    }
