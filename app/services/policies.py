"""Policies: which users and user groups may sign with which certificates, and when.

A policy names what (certificates, certificate groups) and who (users, user groups),
Allow or Deny, a priority (0 is the highest) and an optional schedule. Deciding, for an
enabled user: a matching Deny in its schedule stops even the owner (a freeze must hold);
otherwise the owner may use the certificate; otherwise the matching enabled policy with
the highest priority decides (Deny before Allow at equal priority); no match is a no.
"""

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from app.errors import NotFoundError, ValidationError
from app.services import attestations, journal, key_grants
from app.services.certificates import find
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import Session, write_transaction
from models import (
    Certificate,
    CertificateGroup,
    CertificateGroupMember,
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    PolicyUser,
    PolicyUserGroup,
    User,
    UserGroup,
    UserGroupMember,
)
from models.base import utcnow
from models.permissions import CERTIFICATES_VIEW, POLICIES_MANAGE

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_PRIORITY = 1_000_000
MAX_POLICY_NAME = 100
MAX_DESCRIPTION = 1000
TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class PolicySpec:
    name: str
    certificates: tuple[str, ...] = ()
    certificate_groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    deny: bool = False
    priority: int = 100
    days: str = ""  # "mon-fri" or "mon,wed,fri"
    hours: str = ""  # "08:00-18:00", UTC; "22:00-06:00" spans midnight
    date_from: dt.date | None = None
    date_until: dt.date | None = None
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class PolicyRow:
    name: str
    effect: str
    priority: int
    enabled: bool
    certificates: tuple[str, ...]
    certificate_groups: tuple[str, ...]
    users: tuple[str, ...]
    user_groups: tuple[str, ...]
    weekdays: str
    hours: str
    date_from: dt.date | None
    date_until: dt.date | None
    description: str = ""

    @property
    def deny(self) -> bool:
        return self.effect == Policy.EFFECT_DENY

    def spec(self) -> PolicySpec:
        """The policy as `add_policy` and `edit_policy` take it."""
        return PolicySpec(
            name=self.name,
            description=self.description,
            enabled=self.enabled,
            certificates=self.certificates,
            certificate_groups=self.certificate_groups,
            users=self.users,
            user_groups=self.user_groups,
            deny=self.deny,
            priority=self.priority,
            days=self.weekdays,
            hours=self.hours,
            date_from=self.date_from,
            date_until=self.date_until,
        )


@dataclass(frozen=True)
class Signer:
    """A user `who_can_sign` found a decision for: allowed, or denied by a policy."""

    user: str
    display_name: str
    allowed: bool
    policy: str  # the policy that decides; "" for the owner rule
    why: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str  # for the refusal and the audit event
    policy: str = ""  # the policy that decided; "" when the owner rule or no match did


def parse_days(text: str) -> str:
    """ "mon-fri" or "mon,wed" → "mon,tue,wed,thu,fri" / "mon,wed"."""
    text = text.strip().lower()
    if not text:
        return ""
    chosen: list[str] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValidationError("days", f"{part.strip()!r}: use mon..sun, e.g. mon-fri")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if end < start:
            raise ValidationError("days", f"{part.strip()!r} runs backwards")
        chosen += [d for d in WEEKDAYS[start : end + 1] if d not in chosen]
    return ",".join(d for d in WEEKDAYS if d in chosen)


def parse_hours(text: str) -> tuple[str, str]:
    text = text.strip()
    if not text:
        return "", ""
    start, sep, end = text.partition("-")
    if not sep or not TIME.fullmatch(start.strip()) or not TIME.fullmatch(end.strip()):
        raise ValidationError("hours", f"{text!r}: use HH:MM-HH:MM (UTC), e.g. 08:00-18:00")
    if start.strip() == end.strip():
        raise ValidationError("hours", f"{text!r}: the start and the end are the same time")
    # A start after the end spans midnight: 22:00-06:00 runs from 22:00 to 06:00 the next
    # morning (its weekdays are the days it starts on).
    return start.strip(), end.strip()


@dataclass(frozen=True)
class _Fields:
    """A PolicySpec checked, with the ids of what and whom it names."""

    name: str
    columns: dict
    links: dict[str, list[int]]  # "pc", "pcg", "pu", "pug": the ids each names


def _checked(spec: PolicySpec) -> tuple[str, dict]:
    """The name and the Policy columns of `spec`, refused field by field."""
    name = check_name("policy name", spec.name, MAX_POLICY_NAME)
    description = (
        check_name("description", spec.description, MAX_DESCRIPTION)
        if spec.description.strip()
        else ""
    )
    weekdays = parse_days(spec.days)
    time_from, time_until = parse_hours(spec.hours)
    if spec.date_from and spec.date_until and spec.date_from > spec.date_until:
        raise ValidationError("until", "comes before the start date (from)")
    if not 0 <= spec.priority <= MAX_PRIORITY:
        raise ValidationError("priority", f"0 (the highest) to {MAX_PRIORITY:,}")
    if not spec.certificates and not spec.certificate_groups:
        raise ValidationError("certificates", "name at least one certificate or certificate group")
    if not spec.users and not spec.user_groups:
        raise ValidationError("users", "name at least one user or user group")
    return name, {
        "name": name,
        "description": description,
        "effect": Policy.EFFECT_DENY if spec.deny else Policy.EFFECT_ALLOW,
        "priority": spec.priority,
        "enabled": spec.enabled,
        "weekdays": weekdays,
        "time_from": time_from,
        "time_until": time_until,
        "date_from": spec.date_from,
        "date_until": spec.date_until,
    }


def _fields(spec: PolicySpec) -> _Fields:
    """In the transaction: `spec` checked, and what it names found (a name of none is
    refused in its field)."""
    name, columns = _checked(spec)
    return _Fields(
        name,
        columns,
        {
            "pc": _ids(Certificate, Certificate.alias, spec.certificates, "certificate"),
            "pcg": _ids(
                CertificateGroup,
                CertificateGroup.name,
                spec.certificate_groups,
                "certificate group",
            ),
            "pu": _ids(User, User.name, spec.users, "user", ~User.deleted),
            "pug": _ids(UserGroup, UserGroup.name, spec.user_groups, "user group"),
        },
    )


# Each kind of link: its model, and the column naming what it links the policy to.
LINKS = {
    "pc": (PolicyCertificate, "certificate"),
    "pcg": (PolicyCertificateGroup, "group"),
    "pu": (PolicyUser, "user"),
    "pug": (PolicyUserGroup, "user_group"),
}


@operation("policy.add", POLICIES_MANAGE, target=lambda a: a["spec"].name)
def add_policy(session: Session, spec: PolicySpec) -> PolicyRow:
    _checked(spec)  # refused before the write lock is taken
    with write_transaction(session):
        fields = _fields(spec)
        if Policy.select().where(Policy.name == fields.name).exists():
            raise ValidationError("policy name", f"a policy named {fields.name!r} exists")
        policy = Policy.create(**fields.columns)
        attestations.attest_rows(session, "policies", [policy.id])
        _link(session, policy, fields.links)
        key_grants.sync(
            session, key_grants.reached(session, fields.links["pc"], fields.links["pcg"])
        )
        journal.record(session.user_name, "policy.add", fields.name, effect=policy.effect)
    return show_policy(session, fields.name)


@operation("policy.edit", POLICIES_MANAGE, target="name")
def edit_policy(session: Session, name: str, spec: PolicySpec) -> PolicyRow:
    """The policy `name` made as `spec` says, renamed too if `spec.name` differs. Every
    row that changes is revoked as it read before (a row put back then hands nothing
    on) and attested as it reads after; the wraps follow, for what it named before and
    names now, in the same transaction."""
    _checked(spec)
    with write_transaction(session):
        policy = _policy(name)
        before = _reached(session, policy)
        fields = _fields(spec)
        if (
            fields.name != policy.name
            and Policy.select().where(Policy.name == fields.name).exists()
        ):
            raise ValidationError("policy name", f"a policy named {fields.name!r} exists")
        changed = [k for k, v in fields.columns.items() if getattr(policy, k) != v]
        attestations.revoke_rows(session, "policies", [policy.id])  # as it reads now
        Policy.update(**fields.columns).where(Policy.id == policy.id).execute()
        attestations.attest_rows(session, "policies", [policy.id])
        for what, (link, column) in LINKS.items():
            held = {
                getattr(row, f"{column}_id"): row.id
                for row in link.select().where(link.policy == policy.id)
            }
            wanted = fields.links[what]
            keep = set(wanted)
            gone = [row_id for target, row_id in held.items() if target not in keep]
            attestations.revoke_rows(session, what, gone)
            link.delete().where(link.id.in_(gone)).execute()
            new = [target for target in wanted if target not in held]
            _link(session, policy, {what: new})
            changed += [what] if gone or new else []
        key_grants.sync(session, before)
        key_grants.sync(
            session, key_grants.reached(session, fields.links["pc"], fields.links["pcg"])
        )
        parts = dict.fromkeys(_CHANGE_WORDS.get(c, c) for c in changed if c != "name")
        words = {"changed": ",".join(parts)}
        if fields.name != name:
            words["renamed"] = fields.name
        journal.record(session.user_name, "policy.edit", name, **words)
    return show_policy(session, fields.name)


_CHANGE_WORDS = {
    "pc": "certificates",
    "pcg": "certificate_groups",
    "pu": "users",
    "pug": "user_groups",
    "weekdays": "days",
    "time_from": "hours",
    "time_until": "hours",
}


def _link(session: Session, policy: Policy, links: dict[str, list[int]]) -> None:
    """The links of `policy` to these ids made, and attested by the signed-in user."""
    for what, ids in links.items():
        link, column = LINKS[what]
        rows = [link.create(policy=policy, **{column: target}) for target in ids]
        attestations.attest_rows(session, what, [row.id for row in rows])


@operation("policy.show", CERTIFICATES_VIEW, reads=True)
def show_policy(session: Session, name: str) -> PolicyRow:
    return _row(_policy(name))


@operation("policy.enable", POLICIES_MANAGE, target="name")
def enable_policy(session: Session, name: str) -> bool:
    """Let the policy `name` decide again; its Allow hands its keys on again (which needs
    a key custodian). Returns whether it changed."""
    return _set_enabled(session, name, True)


@operation("policy.disable", POLICIES_MANAGE, target="name")
def disable_policy(session: Session, name: str) -> bool:
    """Stop the policy `name` deciding; the wraps only its Allow gave go. Returns whether
    it changed."""
    return _set_enabled(session, name, False)


def _set_enabled(session: Session, name: str, enabled: bool) -> bool:
    with write_transaction(session):
        policy = _policy(name)
        if policy.enabled == enabled:
            return False
        attestations.revoke_rows(session, "policies", [policy.id])  # as it reads now
        Policy.update(enabled=enabled).where(Policy.id == policy.id).execute()
        attestations.attest_rows(session, "policies", [policy.id])
        key_grants.sync(session, _reached(session, policy))
        journal.record(session.user_name, "policy.enable" if enabled else "policy.disable", name)
    return True


@operation("policy.delete", POLICIES_MANAGE, target="name")
def delete_policy(session: Session, name: str) -> None:
    """Delete the policy `name` and what it names; the wraps only it gave go. Its rows
    are revoked first, so that none put back in the database hands a key on."""
    with write_transaction(session):
        policy = _policy(name)
        scope = _reached(session, policy)
        attestations.revoke_rows(session, "policies", [policy.id])
        for what, link in (
            ("pc", PolicyCertificate),
            ("pcg", PolicyCertificateGroup),
            ("pu", PolicyUser),
            ("pug", PolicyUserGroup),
        ):
            ids = [row.id for row in link.select(link.id).where(link.policy == policy.id)]
            attestations.revoke_rows(session, what, ids)
        policy.delete_instance(recursive=True)
        key_grants.sync(session, scope)
        journal.record(session.user_name, "policy.delete", name, effect=policy.effect)


def _policy(name: str) -> Policy:
    policy = Policy.get_or_none(Policy.name == name)
    if policy is None:
        raise NotFoundError(f"No policy {name!r} in this store.")
    return policy


def _reached(session: Session, policy: Policy):
    """The keys whose grantees `policy` may decide: those of what it names."""
    certificates = [
        row.certificate_id
        for row in PolicyCertificate.select().where(PolicyCertificate.policy == policy.id)
    ]
    groups = [
        row.group_id
        for row in PolicyCertificateGroup.select().where(PolicyCertificateGroup.policy == policy.id)
    ]
    return key_grants.reached(session, certificates, groups)


def _ids(model, column, names: Sequence[str], noun: str, live=True) -> list[int]:
    """The ids of the named rows that are `live`; a name of none is refused in the field
    of `noun`s."""
    ids = []
    for wanted in dict.fromkeys(names):
        row = model.get_or_none((column == wanted) & live)
        if row is None:
            raise ValidationError(f"{noun}s", f"no {noun} named {wanted!r}")
        ids.append(row.id)
    return ids


@operation("policy.list", CERTIFICATES_VIEW, reads=True)
def list_policies(session: Session) -> list[PolicyRow]:
    return [_row(p) for p in Policy.select().order_by(Policy.priority, Policy.name)]


def _row(p: Policy) -> PolicyRow:
    return PolicyRow(
        name=p.name,
        effect=p.effect,
        priority=p.priority,
        enabled=p.enabled,
        certificates=_names(PolicyCertificate, Certificate, Certificate.alias, p),
        certificate_groups=_names(
            PolicyCertificateGroup, CertificateGroup, CertificateGroup.name, p
        ),
        users=_names(PolicyUser, User, User.name, p),
        user_groups=_names(PolicyUserGroup, UserGroup, UserGroup.name, p),
        weekdays=p.weekdays,
        hours=f"{p.time_from}-{p.time_until}" if p.time_from else "",
        date_from=p.date_from,
        date_until=p.date_until,
        description=p.description,
    )


# What a policy names, by kind: the table and its name column (users: the live ones).
NAMED = {
    "certificates": (Certificate, Certificate.alias),
    "certificate_groups": (CertificateGroup, CertificateGroup.name),
    "users": (User, User.name),
    "user_groups": (UserGroup, UserGroup.name),
}


@operation("policy.names", CERTIFICATES_VIEW, reads=True)
def nameable(session: Session, kind: str, text: str = "", limit: int = 500) -> list[str]:
    """The names a policy may name of `kind` (NAMED) that hold `text` (any case), in
    order, at most `limit`: what the policy editor offers, from a store of a million
    certificates as from one of ten."""
    model, column = NAMED[kind]
    query = model.select(column)
    if model is User:
        query = query.where(~User.deleted)
    if text.strip():
        query = query.where(peewee.fn.instr(peewee.fn.lower(column), text.strip().lower()) > 0)
    rows = query.order_by(column.collate("NOCASE")).limit(limit).tuples()
    return [name for (name,) in rows]


@operation("certificate.who_can_sign", CERTIFICATES_VIEW, reads=True)
def who_can_sign(session: Session, ref: int | str, now: dt.datetime | None = None) -> list[Signer]:
    """Each user the owner rule or a policy decides for on the certificate `ref` now: who
    may sign with it and by what, and who a Deny stops; users no policy names are left
    out. (What stops everyone, a disabled certificate or none of its key, is the
    certificate's own: `signing.signing_choice` says it.)"""
    now = now or utcnow()
    cert = find(ref)
    signers = []
    for user in User.select().where(~User.deleted & User.enabled):
        decision = decide(user, cert, now)
        if decision.allowed or decision.policy:
            signers.append(
                Signer(
                    user.name, user.display_name, decision.allowed, decision.policy, decision.why
                )
            )
    return sorted(signers, key=lambda s: (not s.allowed, s.user.casefold()))


def _names(link, target, column, policy: Policy) -> tuple[str, ...]:
    query = target.select(column).join(link).where(link.policy == policy.id).tuples()
    return tuple(sorted((name for (name,) in query), key=str.casefold))


def decide(user: User, cert: Certificate, now: dt.datetime) -> Decision:
    """May `user` sign with `cert` at `now` (UTC)? See the module's docstring."""
    if not user.enabled:
        return Decision(False, "the user is disabled")
    cert_groups = CertificateGroupMember.select(CertificateGroupMember.group).where(
        CertificateGroupMember.certificate == cert.id
    )
    by_what = PolicyCertificate.select(PolicyCertificate.policy).where(
        PolicyCertificate.certificate == cert.id
    ) | PolicyCertificateGroup.select(PolicyCertificateGroup.policy).where(
        PolicyCertificateGroup.group.in_(cert_groups)
    )
    candidates = Policy.select().where(
        Policy.enabled == True,  # noqa: E712 (peewee builds SQL from ==)
        Policy.id.in_(by_what),
        Policy.id.in_(_naming(user)),
    )
    deny_first = {Policy.EFFECT_DENY: 0, Policy.EFFECT_ALLOW: 1}
    matching = sorted(
        (p for p in candidates if _in_schedule(p, now)),
        key=lambda p: (p.priority, deny_first[p.effect], p.name),
    )
    if cert.owner_id == user.id:
        denial = next((p for p in matching if p.effect == Policy.EFFECT_DENY), None)
        if denial is None:
            return Decision(True, "owner")
        why = f"the policy {denial.name!r} denies it, even to the owner"
        return Decision(False, why, denial.name)
    if matching:
        allowed = matching[0].effect == Policy.EFFECT_ALLOW
        verb = "allows" if allowed else "denies"
        return Decision(allowed, f"the policy {matching[0].name!r} {verb} it", matching[0].name)
    return Decision(False, "no policy allows it at this time")


def _naming(user: User):
    """The ids of the policies that name `user`, or a user group of theirs, as who."""
    user_groups = UserGroupMember.select(UserGroupMember.user_group).where(
        UserGroupMember.user == user.id
    )
    return PolicyUser.select(PolicyUser.policy).where(PolicyUser.user == user.id) | (
        PolicyUserGroup.select(PolicyUserGroup.policy).where(
            PolicyUserGroup.user_group.in_(user_groups)
        )
    )


def certificates_for(user: User):
    """The ids of the certificates `decide` may let `user` sign with: those they own and
    those an enabled Allow policy naming them names (itself or by a certificate group).
    A superset: `decide` still says which, at which time."""
    allowing = Policy.select(Policy.id).where(
        Policy.enabled == True,  # noqa: E712
        Policy.effect == Policy.EFFECT_ALLOW,
        Policy.id.in_(_naming(user)),
    )
    groups = PolicyCertificateGroup.select(PolicyCertificateGroup.group).where(
        PolicyCertificateGroup.policy.in_(allowing)
    )
    return (
        Certificate.select(Certificate.id).where(Certificate.owner == user.id)
        | PolicyCertificate.select(PolicyCertificate.certificate).where(
            PolicyCertificate.policy.in_(allowing)
        )
        | CertificateGroupMember.select(CertificateGroupMember.certificate).where(
            CertificateGroupMember.group.in_(groups)
        )
    )


def _in_schedule(policy: Policy, now: dt.datetime) -> bool:
    """Whether `now` (UTC) is in the policy's schedule. A window of hours that spans
    midnight (22:00-06:00) belongs to the day it starts on: its weekdays and dates are
    those of its start, so Friday's 22:00-06:00 reaches into Saturday morning."""
    day = now
    if policy.time_from:
        clock = f"{now:%H:%M}"
        if policy.time_from < policy.time_until:
            if not policy.time_from <= clock < policy.time_until:
                return False
        elif clock < policy.time_until:
            day = now - dt.timedelta(days=1)  # the early hours of a window begun yesterday
        elif clock < policy.time_from:
            return False
    if policy.weekdays and WEEKDAYS[day.weekday()] not in policy.weekdays.split(","):
        return False
    if policy.date_from and day.date() < policy.date_from:
        return False
    return not (policy.date_until and day.date() > policy.date_until)
