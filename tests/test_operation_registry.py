"""Every declared operation, run as each built-in role: allowed exactly when the role holds
the operation's permission, and a refused change leaves a "denied" audit event. The permission
lists of the roles are the single source of truth for the code and this test."""

import dataclasses
import io

import pytest

from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.errors import PermissionDenied
from app.services import (
    audit_log,
    backup,
    certificate_edits,
    certificate_groups,
    certificate_import,
    certificates,
    dashboard,
    integrity,
    key_change,
    lifecycle,
    policies,
    roles,
    signing,
    signing_requests,
    store_changes,
    user_groups,
    users,
)
from app.services.certificate_edits import GeneralChanges
from app.services.operations import OPERATIONS, allowed, operation_of, refusal
from app.services.policies import PolicySpec
from models import AuditEvent
from models.permissions import ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSION_WORDS

EC = KeySpec("ECDSA", curve="P-256")
SPEC = RequestSpec(common_name="Registry Test")
PASSWORD = "a good long password"


class World:
    """A store with something of every kind for each call to act on, made fresh by the
    administrator for each call so that one operation never eats another's target."""

    def __init__(self, admin, tmp_path, certs):
        self.admin, self.tmp_path, self.certs = admin, tmp_path, certs
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.count}"

    def user(self) -> str:
        name = self.name("user")
        users.add_user(self.admin, name, PASSWORD, "Signer")
        return name

    def certificate(self) -> str:
        alias = self.name("cert")
        cert, key = self.certs.make_cert(alias)
        path = self.certs.write(self.tmp_path, f"{alias}.p12", self.certs.p12(cert, key, None))
        certificate_import.import_files(self.admin, [path])
        return alias

    def grouped_certificate(self) -> tuple[list[str], list[str]]:
        alias, group = self.certificate(), self.name("group")
        # In two groups: leaving one of them never strands it in none.
        certificate_groups.add_to_groups(self.admin, [alias], [group, self.name("group")])
        return [alias], [group]

    def policy(self, enabled: bool = True) -> str:
        spec = PolicySpec(self.name("policy"), certificates=(self.certificate(),), users=("admin",))
        name = policies.add_policy(self.admin, spec).name
        if not enabled:
            policies.disable_policy(self.admin, name)
        return name

    def group(self) -> str:
        return certificate_groups.create_group(self.admin, self.name("group")).name

    def request(self) -> int:
        return signing_requests.create_request(self.admin, self.name("req"), EC, SPEC).id

    def cert_file(self):
        alias = self.name("file")
        cert, _ = self.certs.make_cert(alias)
        return self.certs.write(self.tmp_path, f"{alias}.pem", self.certs.pem(cert))

    def role(self) -> str:
        name = self.name("role")
        roles.add_role(self.admin, name, ["certificates.view"])
        return name

    def user_group(self) -> str:
        name = self.name("ug")
        user_groups.change_members(self.admin, name, [self.user()])
        return name

    def owned_certificate(self, owner: str) -> str:
        alias = self.certificate()
        certificate_edits.edit_certificate(self.admin, alias, GeneralChanges(owner=owner))
        return alias


# Each operation's call, given the world and the acting user's name. A new operation
# without an entry here fails `test_every_operation_is_exercised`.
CALLS = {
    "audit.list": lambda w, me: (audit_log.list_events,),
    "audit.verify": lambda w, me: (audit_log.verify_chain,),
    "audit.newest": lambda w, me: (audit_log.newest_events, audit_log.AuditFilter(), 10),
    "audit.facets": lambda w, me: (audit_log.facets,),
    "audit.count": lambda w, me: (audit_log.count_events,),
    "audit.export": lambda w, me: (audit_log.export_csv, w.tmp_path / f"{w.name('a')}.csv"),
    "store.backup": lambda w, me: (backup.backup_store, w.tmp_path / f"{w.name('b')}.zip"),
    "store.check": lambda w, me: (integrity.check_store,),
    "certificate.edit": lambda w, me: (
        certificate_edits.edit_certificate,
        w.certificate(),
        GeneralChanges(description="edited"),
    ),
    "group.list": lambda w, me: (certificate_groups.list_groups,),
    "group.create": lambda w, me: (certificate_groups.create_group, w.name("group")),
    "group.of_certificates": lambda w, me: (certificate_groups.groups_of, [1, 2]),
    "group.members": lambda w, me: (certificate_groups.list_members, w.group()),
    "group.edit": lambda w, me: (
        certificate_groups.edit_group,
        w.group(),
        w.name("group"),
        "described",
    ),
    "group.delete": lambda w, me: (certificate_groups.delete_group, w.group()),
    "group.add_certificates": lambda w, me: (
        certificate_groups.add_to_groups,
        [w.certificate()],
        [w.group()],
    ),
    "group.remove_certificates": lambda w, me: (
        certificate_groups.remove_from_groups,
        *w.grouped_certificate(),
    ),
    "certificate.import": lambda w, me: (certificate_import.import_files, [w.cert_file()]),
    "certificate.import_data": lambda w, me: (
        certificate_import.import_bytes,
        "data.pem",
        w.cert_file().read_bytes(),
    ),
    "certificate.list": lambda w, me: (certificates.list_certificates,),
    "certificate.stream": lambda w, me: (
        certificates.stream_certificates,
        "name",
        lambda rows, in_order: None,
    ),
    "certificate.rows": lambda w, me: (certificates.certificate_rows, [1]),
    "certificate.show": lambda w, me: (certificates.get_certificate, w.certificate()),
    "certificate.export": lambda w, me: (
        certificates.export_certificate,
        w.certificate(),
        w.tmp_path / f"{w.name('export')}.cer",
    ),
    "certificate.enable": lambda w, me: (lifecycle.enable_certificates, [w.certificate()]),
    "certificate.disable": lambda w, me: (lifecycle.disable_certificates, [w.certificate()]),
    "certificate.delete": lambda w, me: (lifecycle.delete_certificates, [w.certificate()]),
    "policy.add": lambda w, me: (
        policies.add_policy,
        PolicySpec(w.name("policy"), certificates=(w.certificate(),), users=(me,)),
    ),
    "policy.list": lambda w, me: (policies.list_policies,),
    "certificate.needs_pin": lambda w, me: (signing.needs_pin, w.certificate()),
    "certificate.signable": lambda w, me: (signing.signable_certificates,),
    "certificate.signing_choice": lambda w, me: (signing.signing_choice, w.certificate()),
    "certificate.signing_purpose": lambda w, me: (signing.signing_purpose, w.certificate()),
    "certificate.sign": lambda w, me: (
        signing.sign_data,
        w.owned_certificate(me),
        io.BytesIO(b"release artefact"),
    ),
    "request.create": lambda w, me: (
        signing_requests.create_request,
        w.name("req"),
        EC,
        SPEC,
    ),
    "request.list": lambda w, me: (signing_requests.list_requests,),
    "request.show": lambda w, me: (signing_requests.get_request, w.request()),
    "request.cancel": lambda w, me: (signing_requests.cancel_request, w.request()),
    "request.renewal_prefill": lambda w, me: (signing_requests.renewal_prefill, w.certificate()),
    "request.renew": lambda w, me: (signing_requests.renew, w.certificate()),
    "request.complete": lambda w, me: (signing_requests.import_issued, w.cert_file()),
    "user.add": lambda w, me: (users.add_user, w.name("user"), PASSWORD, "Signer"),
    "user.list": lambda w, me: (users.list_users,),
    "user.enable": lambda w, me: (users.enable_user, w.user()),
    "user.disable": lambda w, me: (users.disable_user, w.user()),
    "user.role": lambda w, me: (users.set_user_role, w.user(), "Auditor"),
    "policy.enable": lambda w, me: (policies.enable_policy, w.policy(enabled=False)),
    "policy.disable": lambda w, me: (policies.disable_policy, w.policy()),
    "policy.delete": lambda w, me: (policies.delete_policy, w.policy()),
    "policy.show": lambda w, me: (policies.show_policy, w.policy()),
    "policy.edit": lambda w, me: (
        policies.edit_policy,
        (name := w.policy()),
        dataclasses.replace(policies.show_policy(w.admin, name).spec(), priority=7),
    ),
    "policy.names": lambda w, me: (policies.nameable, "certificates", "cert"),
    "certificate.who_can_sign": lambda w, me: (policies.who_can_sign, w.certificate()),
    "user_group.members": lambda w, me: (user_groups.change_members, w.name("ug"), [w.user()]),
    "user.delete": lambda w, me: (users.delete_users, [w.user()]),
    "user.reset_password": lambda w, me: (users.reset_password, w.user(), "a new long password"),
    "user.password": lambda w, me: (users.change_password, PASSWORD, "another long password"),
    "user.names": lambda w, me: (users.user_names,),
    "store.watch": lambda w, me: (store_changes.watch,),
    "store.finish_key_change": lambda w, me: (key_change.finish_waiting,),
    "role.list": lambda w, me: (roles.list_roles,),
    "store.dashboard": lambda w, me: (dashboard.dashboard,),
    "certificate.expiring": lambda w, me: (dashboard.expiring, 30),
    "certificate.expiry_dates": lambda w, me: (dashboard.expiry_dates, 30),
    "certificate.expiry_calendar": lambda w, me: (
        dashboard.export_calendar,
        w.tmp_path / f"{w.name('cal')}.ics",
    ),
    "role.add": lambda w, me: (roles.add_role, w.name("role"), ["sign"]),
    "role.edit": lambda w, me: (roles.edit_role, w.role(), ["sign", "audit.view"]),
    "role.delete": lambda w, me: (roles.delete_role, w.role()),
    "user.signable": lambda w, me: (signing.signable_by, w.user()),
    "user_group.list": lambda w, me: (user_groups.list_user_groups,),
    "user_group.create": lambda w, me: (user_groups.create_user_group, w.name("ug")),
    "user_group.edit": lambda w, me: (user_groups.edit_user_group, w.user_group(), w.name("ug")),
    "user_group.delete": lambda w, me: (user_groups.delete_user_group, w.user_group()),
    "user_group.list_members": lambda w, me: (user_groups.list_members, w.user_group()),
    "store.changes": lambda w, me: (store_changes.changes_since, 0),
}

# What an allowed call may still refuse for reasons of its own, beyond the permission:
# the certificate file given to `request import` matches no pending request.
EXPECTED_AFTER_ALLOWED = {
    "request.complete": "matches no pending request",
    "user.delete": "has the store open",  # the world's Administrator, in another session
    "user.reset_password": "has the store open",
}


def test_every_operation_is_exercised():
    assert set(CALLS) == set(OPERATIONS)


def test_every_permission_says_what_it_allows_in_words_not_its_id():
    assert set(PERMISSION_WORDS) == set(ALL_PERMISSIONS)
    for permission, words in PERMISSION_WORDS.items():
        assert words and words == words.strip() and words[0].islower(), permission
        assert words != permission and "." not in words and "_" not in words, permission
    assert len(set(PERMISSION_WORDS.values())) == len(ALL_PERMISSIONS)


@pytest.fixture
def world(session, tmp_path, certs):
    return World(session, tmp_path, certs)


def sign_in_as(session, store_dir, role: str):
    name = f"as-{role.lower().replace(' ', '-')}"
    users.add_user(session, name, PASSWORD, role)
    return users.sign_in(store_dir, name, PASSWORD)[0]


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_each_role_may_run_exactly_the_operations_its_permissions_name(
    role, session, store_dir, world
):
    actor = sign_in_as(session, store_dir, role)
    granted = {*BUILTIN_ROLES[role][1], None}  # None: an operation on what is one's own
    try:
        for name, call in CALLS.items():
            op = OPERATIONS[name]
            function, *args = call(world, actor.user_name)
            assert operation_of(function) is op
            assert allowed(actor, function) == (op.permission in granted)
            before = AuditEvent.select().count()
            if op.permission in granted:
                assert refusal(actor, function) is None
                try:
                    function(actor, *args)
                except PermissionDenied as exc:
                    pytest.fail(f"{role} was refused {name}: {exc}")
                except Exception as exc:
                    assert EXPECTED_AFTER_ALLOWED.get(name, "\0") in str(exc), (name, exc)
            else:
                words = PERMISSION_WORDS[op.permission]
                assert refusal(actor, function) == f"Your role ({role}) may not {words}."
                with pytest.raises(PermissionDenied, match=op.permission):
                    function(actor, *args)
                if op.audit_action is None:  # a read: refused, not recorded
                    assert AuditEvent.select().count() == before, name
                    continue
                denied = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
                assert AuditEvent.select().count() == before + 1, name
                assert (denied.user, denied.action, denied.outcome) == (
                    actor.user_name,
                    op.audit_action,
                    "denied",
                )
    finally:
        actor.close()
