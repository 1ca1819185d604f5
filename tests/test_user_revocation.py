"""Revoking users. `user delete`: the slot and wraps go, the rows naming them are
revoked, and the store's master key changes, so that a copy of the old slot opens
nothing of it. `user reset-password`: new keys, to which everything carries over, and
the same change of key. A demoted Administrator's rows keep handing keys on."""

import io
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from app import keyslots
from app.crypto.sealing import derive_subkey
from app.crypto.user_keys import PublicKeys
from app.errors import (
    AuthenticationError,
    NotFoundError,
    StoreDamagedError,
    TamperedError,
    ValidationError,
)
from app.services import (
    audit_log,
    certificate_edits,
    certificate_groups,
    integrity,
    policies,
    signing,
    user_groups,
    users,
)
from app.services.policies import PolicySpec
from models.permissions import ADMINISTRATOR, SIGNER
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD
from tests.test_key_custody import (
    PIN,
    _grants,
    _put_back_roster,
    _raw_rows,
    _raw_write,
    _roster_of,
)

ROOT = Path(__file__).resolve().parents[1]


def _opens(folder: Path, slot_file: Path, name: str, password: str) -> bool:
    """Whether `name`'s slot in `slot_file` opens the database of `folder` (sqlcipher3
    alone, as anyone holding that slot and password can try)."""
    slots = keyslots.KeySlots.load(slot_file.parent, slot_file.name)
    master = slots.open(name, slots.kek_for(name, password)).master_key
    key = derive_subkey(master, "sqlcipher").hex()
    db = sqlcipher.connect(str(folder / "certdesk.db"))
    try:
        db.execute("PRAGMA cipher_log_level = NONE")
        db.execute(f"PRAGMA key = \"x'{key}'\"")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError:
        return False
    finally:
        db.close()


def test_a_deleted_users_old_slot_opens_the_database_no_longer(granted, store_dir, tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(store_dir / "keyslots.json", kept / "keyslots.json")
    assert _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)
    users.delete_users(granted, ["bob"])
    assert ("K1", "bob") not in _grants(granted)
    granted.close()
    assert not _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)
    assert not _opens(store_dir, kept / "keyslots.json", "carol", SIGNER_PASSWORD)
    for name in ("keyslots.json", "keyslots.json.bak"):
        assert "bob" not in keyslots.KeySlots.load(store_dir, name).slots
    assert _opens(store_dir, store_dir / "keyslots.json", "carol", SIGNER_PASSWORD)
    with pytest.raises(AuthenticationError, match="No user 'bob'"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)


def test_after_a_delete_the_others_sign_in_and_sign_as_before(granted, store_dir, tmp_path, certs):
    users.delete_users(granted, ["bob"])
    assert [row.name for row in users.list_users(granted)] == ["admin", "carol"]
    policy = {p.name: p for p in policies.list_policies(granted)}["bob signs K1"]
    assert policy.users == ()
    granted.close()
    carol, _ = users.sign_in(store_dir, "carol", password=SIGNER_PASSWORD)
    try:
        payload = tmp_path / "payload.bin"
        payload.write_bytes(b"release build 9")
        signature = signing.sign_data(carol, "K2", io.BytesIO(payload.read_bytes()))
    finally:
        carol.close()
    (tmp_path / "payload.p7s").write_bytes(signature)
    assert certs.verify_detached(tmp_path / "payload.p7s", payload)
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert integrity.check_store(admin) == []
        assert audit_log.verify_chain(admin) == []
        actions = [e.action for e in audit_log.list_events(admin)]
    finally:
        admin.close()
    assert {"user.delete", "store.rekey", "key.revoke", "rows.revoke"} <= set(actions)


def test_a_deleted_owner_and_member_hands_nothing_on_and_their_name_stays_taken(granted):
    certificate_edits.edit_certificate(
        granted, "K3", certificate_edits.GeneralChanges(owner="carol")
    )
    users.delete_users(granted, ["carol"])
    assert _grants(granted) == {("K1", "bob")}
    with pytest.raises(ValidationError, match="'carol' was a user, deleted"):
        users.add_user(granted, "carol", SIGNER_PASSWORD, SIGNER)
    with pytest.raises(ValidationError, match="no user named 'carol'"):
        certificate_edits.edit_certificate(
            granted, "K3", certificate_edits.GeneralChanges(owner="carol")
        )
    users.add_user(granted, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
    assert ("K2", "dave") in _grants(granted)


def _policy_by_administrator_alice(granted, store_dir):
    """Alice, another Administrator, writes a policy letting carol sign K3; back is the
    first Administrator's session."""
    users.add_user(granted, "alice", SIGNER_PASSWORD, ADMINISTRATOR)
    granted.close()
    alice, _ = users.sign_in(store_dir, "alice", password=SIGNER_PASSWORD)
    try:
        spec = PolicySpec("carol signs K3", certificates=("K3",), users=("carol",))
        policies.add_policy(alice, spec)
    finally:
        alice.close()
    return users.sign_in(store_dir, "admin", password=PASSWORD)[0]


def test_a_deleted_administrators_policies_still_grant(granted, store_dir):
    admin = _policy_by_administrator_alice(granted, store_dir)
    try:
        users.delete_users(admin, ["alice"])
        users.add_user(admin, "dave", SIGNER_PASSWORD, SIGNER)  # a change that syncs wraps
        assert ("K3", "carol") in _grants(admin)
        assert integrity.check_store(admin) == []
    finally:
        admin.close()


def test_delete_is_refused_for_oneself_and_for_a_user_the_store_lacks(granted):
    with pytest.raises(ValidationError, match="'admin' cannot delete themselves"):
        users.delete_users(granted, ["admin"])
    with pytest.raises(NotFoundError, match="No user 'nobody'"):
        users.delete_users(granted, ["bob", "nobody"])
    assert [r.name for r in users.list_users(granted)] == ["admin", "bob", "carol"]


def test_a_delete_while_another_session_has_the_store_open_changes_its_key_later(
    granted, store_dir, tmp_path
):
    """Bob (or anyone) holding the store open cannot keep his delete from happening: his
    slot and wraps go at once, and the store's key changes at the first sign-in that
    finds the store alone; until then each sign-in and `check` says that it waits."""
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(store_dir / "keyslots.json", kept / "keyslots.json")
    carol, _ = users.sign_in(store_dir, "carol", password=SIGNER_PASSWORD)
    try:
        waits = users.delete_users(granted, ["bob"])
        assert waits is not None and "another Certdesk" in waits
        assert [r.name for r in users.list_users(carol)] == ["admin", "carol"]
        assert ("K1", "bob") not in _grants(granted)
        assert "bob" not in keyslots.KeySlots.load(store_dir).slots
        (problem,) = integrity.check_store(granted)
        assert problem.startswith("store key: the change of the store's key is not finished")
        granted.close()
        assert _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)
        again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
        try:
            (notice,) = again.notices
            assert "is not finished" in notice and "another Certdesk" in notice
        finally:
            again.close()
    finally:
        carol.close()
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert admin.notices == []
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    assert not _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)
    assert _opens(store_dir, store_dir / "keyslots.json", "carol", SIGNER_PASSWORD)


DELETE = """
import os
import sys
from pathlib import Path
from app import keyslots
keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024)
from app import store
from app.services import users
if sys.argv[3] == "after-rekey":  # dies as a kill between the rekey and the slot file
    store._keep_rotated = lambda _: os._exit(9)
if sys.argv[3] == "before-commit":  # dies as a kill between the slot file and the commit
    save = keyslots.KeySlots.save
    def dying_save(slots, folder):
        save(slots, folder)
        if slots.rotation is not None:
            os._exit(9)
    keyslots.KeySlots.save = dying_save
session, _ = users.sign_in(Path(sys.argv[1]), "admin", password=sys.argv[2])
print("signed in", flush=True)
users.delete_users(session, ["bob"])
session.close()
"""


FILLER_ROWS = 10000


def _store_with_pages(store_dir: Path) -> None:
    """A table of filler pages (20 MB) beside the store's own: the rekey takes long
    enough that a kill lands in the middle of it."""
    session, _ = users.initialise_store(store_dir, "admin", PASSWORD)
    try:
        users.add_user(session, "bob", SIGNER_PASSWORD, SIGNER)
        users.add_user(session, "carol", SIGNER_PASSWORD, SIGNER)
        db = session.store.db
        db.execute_sql('CREATE TABLE "filler" ("x" BLOB)')
        db.execute_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            'INSERT INTO "filler" SELECT randomblob(2000) FROM n',
            (FILLER_ROWS,),
        )
    finally:
        session.close()


@pytest.mark.parametrize("delay", [0.0, 0.3, "before-commit", "after-rekey"])
def test_a_delete_killed_at_any_point_leaves_a_store_every_user_opens(store_dir, tmp_path, delay):
    """kill -9 while the slot file and the database change key: the store opens with
    one key or the other for each user who stays, and the rows are all there."""
    _store_with_pages(store_dir)
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(store_dir / "keyslots.json", kept / "keyslots.json")
    run = subprocess.Popen(
        [sys.executable, "-c", DELETE, str(store_dir), PASSWORD, str(delay)],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert run.stdout.readline() == "signed in\n"
    if delay in ("before-commit", "after-rekey"):
        assert run.wait(timeout=60) == 9
        assert keyslots.KeySlots.load(store_dir).slots["admin"].next is not None
    else:
        time.sleep(delay)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    for name, password in (("admin", PASSWORD), ("carol", SIGNER_PASSWORD)):
        session, _ = users.sign_in(store_dir, name, password=password)
        try:
            (count,) = session.store.db.execute_sql('SELECT count(*) FROM "filler"').fetchone()
            assert count == FILLER_ROWS
        finally:
            session.close()
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert integrity.check_store(admin) == []
        names = [r.name for r in users.list_users(admin)]
        if "bob" in names:  # killed before the commit: nothing changed, and it can be done
            users.delete_users(admin, ["bob"])
    finally:
        admin.close()
    slots = keyslots.KeySlots.load(store_dir)
    assert sorted(slots.slots) == ["admin", "carol"]
    assert all(slot.next is None for slot in slots.slots.values())
    assert not _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)


def test_the_command_line_deletes_only_when_confirmed(cli, closed_store):
    added = cli("user", "add", "bob", env_extra={"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD})
    assert added.returncode == 0, added.stderr
    unconfirmed = cli("user", "delete", "bob")
    assert unconfirmed.returncode == 2
    assert "add --yes to confirm" in unconfirmed.stderr
    assert "bob" in cli("user", "list").stdout
    deleted = cli("user", "delete", "bob", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith(
        "Deleted 'bob', with every key wrapped to them; the store's key changed"
    )
    assert "bob" not in cli("user", "list").stdout
    again = cli("user", "delete", "bob", "--yes")
    assert again.returncode == 1
    assert again.stderr.strip() == "certdesk: No user 'bob' in this store."


NEW_PASSWORD = "a new and long password"


def test_a_reset_password_gives_new_keys_and_the_old_slot_opens_nothing(
    granted, store_dir, tmp_path, certs
):
    """Bob's audit signatures and his wraps (K1's sealed to its PIN too) carry over to
    his new keys; his old slot, with his old password, opens nothing of the store."""
    certificate_edits.edit_certificate(granted, "K1", certificate_edits.GeneralChanges(pin=PIN))
    granted.close()
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    try:
        signing.sign_data(bob, "K1", io.BytesIO(b"before"), pin=PIN)  # an event he signs
    finally:
        bob.close()
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy(store_dir / "keyslots.json", kept / "keyslots.json")
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        with pytest.raises(ValidationError, match="change your own with passwd"):
            users.reset_password(admin, "admin", NEW_PASSWORD)
        users.reset_password(admin, "bob", NEW_PASSWORD)
        assert ("K1", "bob") in _grants(admin)
        assert audit_log.verify_chain(admin) == []
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    assert not _opens(store_dir, kept / "keyslots.json", "bob", SIGNER_PASSWORD)
    with pytest.raises(AuthenticationError, match="Wrong password"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    bob, _ = users.sign_in(store_dir, "bob", password=NEW_PASSWORD)
    try:
        payload = tmp_path / "payload.bin"
        payload.write_bytes(b"release build 10")
        with pytest.raises(ValidationError, match="wrong PIN"):
            signing.sign_data(bob, "K1", io.BytesIO(b"x"), pin="000000")
        signature = signing.sign_data(bob, "K1", io.BytesIO(payload.read_bytes()), pin=PIN)
    finally:
        bob.close()
    (tmp_path / "payload.p7s").write_bytes(signature)
    assert certs.verify_detached(tmp_path / "payload.p7s", payload)


def test_the_rows_an_administrator_attested_still_hand_keys_on_after_their_reset(
    granted, store_dir
):
    admin = _policy_by_administrator_alice(granted, store_dir)
    try:
        users.reset_password(admin, "alice", NEW_PASSWORD)
        users.add_user(admin, "dave", SIGNER_PASSWORD, SIGNER)
        assert ("K3", "carol") in _grants(admin)
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    alice, _ = users.sign_in(store_dir, "alice", password=NEW_PASSWORD)
    try:
        assert alice.custodian is not None  # her new keys hold the custodian's wrap
    finally:
        alice.close()


def test_the_command_line_resets_a_password(cli, closed_store):
    env = {"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD}
    assert cli("user", "add", "bob", env_extra=env).returncode == 0
    reset = cli("user", "reset-password", "bob", env_extra={"CERTDESK_NEW_PASSWORD": NEW_PASSWORD})
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith("Set a new password for 'bob', with new keys")
    as_bob = {"CERTDESK_USER": "bob", "CERTDESK_PASSWORD": NEW_PASSWORD}
    assert cli("list", env_extra=as_bob).returncode == 0
    short = cli("user", "reset-password", "bob", env_extra={"CERTDESK_NEW_PASSWORD": "short"})
    assert short.returncode != 0 and "at least 12 characters" in short.stderr


def test_the_rows_a_demoted_administrator_wrote_still_hand_keys_on(granted, store_dir):
    admin = _policy_by_administrator_alice(granted, store_dir)
    try:
        users.set_user_role(admin, "alice", SIGNER)
        users.add_user(admin, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        certificate_edits.edit_certificate(
            admin, "K3", certificate_edits.GeneralChanges(owner="dave")
        )
        assert {("K3", "carol"), ("K3", "dave")} <= _grants(admin)
        assert integrity.check_store(admin) == []
    finally:
        admin.close()


def test_a_disabled_user_holds_no_wrap_and_gets_none_by_enabling_their_row(granted, store_dir):
    """Disabled, bob's wraps (and a disabled Administrator's custodian wrap) go; set
    enabled again in the database by bob, no change gives them back; enabled by an
    Administrator, he has them again."""
    users.add_user(granted, "alice", SIGNER_PASSWORD, ADMINISTRATOR)
    users.disable_user(granted, "bob")
    users.disable_user(granted, "alice")
    assert ("K1", "bob") not in _grants(granted)
    master = granted.store.master_key()
    wrapped = 'SELECT count(*) FROM "custodian_wrap" w JOIN "user" u ON u."id" = w."user_id" '
    assert _raw_rows(store_dir, master, wrapped + "WHERE u.\"name\" = 'alice'") == [(0,)]
    granted.close()
    _raw_write(store_dir, master, 'UPDATE "user" SET "enabled" = 1 WHERE "name" = ?', ("bob",))
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        certificate_groups.add_to_groups(admin, ["K1"], ["night"])  # a change about K1
        assert ("K1", "bob") not in _grants(admin)
        assert "user 'bob': their role or state is not one an Administrator set" in (
            integrity.check_store(admin)
        )
        _raw_write(store_dir, master, 'UPDATE "user" SET "enabled" = 0 WHERE "name" = ?', ("bob",))
        users.enable_user(admin, "bob")
        users.enable_user(admin, "alice")
        assert ("K1", "bob") in _grants(admin)
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    assert _raw_rows(store_dir, master, wrapped + "WHERE u.\"name\" = 'alice'") == [(1,)]


def test_a_policy_and_a_user_group_grant_and_take_back_exactly_their_wraps(granted):
    assert _grants(granted) == {("K1", "bob"), ("K2", "carol")}
    users.add_user(granted, "dave", SIGNER_PASSWORD, SIGNER)
    assert user_groups.change_members(granted, "ops", add=["dave"]) == (1, 0)
    assert _grants(granted) == {("K1", "bob"), ("K2", "carol"), ("K2", "dave")}
    assert user_groups.change_members(granted, "ops", remove=["carol"]) == (0, 1)
    assert _grants(granted) == {("K1", "bob"), ("K2", "dave")}
    assert policies.disable_policy(granted, "ops release")
    assert _grants(granted) == {("K1", "bob")}
    assert not policies.disable_policy(granted, "ops release")
    assert policies.enable_policy(granted, "ops release")
    assert _grants(granted) == {("K1", "bob"), ("K2", "dave")}
    policies.delete_policy(granted, "bob signs K1")
    assert _grants(granted) == {("K2", "dave")}
    assert integrity.check_store(granted) == []


def test_a_deleted_policy_and_a_removed_membership_put_back_hand_nothing_on(granted, store_dir):
    master = granted.store.master_key()
    policy_rows = {
        table: _raw_rows(store_dir, master, f'SELECT * FROM "{table}"')
        for table in ("policy", "policy_certificate", "policy_user")
    }
    membership = _raw_rows(store_dir, master, 'SELECT * FROM "user_group_member"')
    policies.delete_policy(granted, "bob signs K1")
    user_groups.change_members(granted, "ops", remove=["carol"])
    assert _grants(granted) == set()
    granted.close()
    for table, rows in [*policy_rows.items(), ("user_group_member", membership)]:
        for row in rows:
            marks = ", ".join("?" * len(row))
            _raw_write(store_dir, master, f'INSERT OR IGNORE INTO "{table}" VALUES ({marks})', row)
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        certificate_groups.add_to_groups(admin, ["K1", "K2"], ["night"])  # about K1 and K2
        users.add_user(admin, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        assert _grants(admin) == {("K2", "dave")}
    finally:
        admin.close()


def test_the_command_line_disables_and_deletes_policies_and_changes_members(cli, closed_store):
    env = {"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD}
    assert cli("user", "add", "bob", env_extra=env).returncode == 0
    members = cli("user-group", "members", "ops", "--add", "bob")
    assert (members.returncode, members.stdout) == (0, "User group 'ops': 1 put in, 0 taken out.\n")
    missing = cli("user-group", "members", "nobody-group", "--remove", "bob")
    assert missing.returncode == 1
    assert missing.stderr == "certdesk: No user group 'nobody-group' in this store.\n"
    session, _ = users.sign_in(closed_store, "admin", password=PASSWORD)
    try:
        certificate_groups.create_group(session, "release")
    finally:
        session.close()
    added = cli("policy", "add", "ops", "--cert-group", "release", "--user-group", "ops")
    assert added.returncode == 0, added.stderr
    assert cli("policy", "disable", "ops").stdout == "Disabled the policy 'ops'.\n"
    assert cli("policy", "disable", "ops").stdout == "The policy 'ops' is already disabled.\n"
    assert cli("policy", "enable", "ops").stdout == "Enabled the policy 'ops'.\n"
    assert cli("policy", "delete", "ops").stdout == "Deleted the policy 'ops'.\n"
    gone = cli("policy", "delete", "ops")
    assert (gone.returncode, gone.stderr) == (1, "certdesk: No policy 'ops' in this store.\n")


def test_a_deleted_user_brought_back_by_an_insider_is_deleted_again(granted, store_dir, tmp_path):
    """Carol, who has the store's key, brings bob back after his delete: his row not
    deleted, his older record and the older roster put back, and his old slot given the
    store's key. On a workstation that saw the newer roster bob is refused, and the next
    Administrator's sign-in deletes him again, and changes the store's key again."""
    master = granted.store.master_key()
    old_slot = granted.store.slots().slots["bob"]
    (record,) = _raw_rows(
        store_dir, master, 'SELECT "record_signature" FROM "user" WHERE "name" = \'bob\''
    )
    roster = _roster_of(store_dir, master)
    users.delete_users(granted, ["bob"])
    master = granted.store.master_key()
    granted.close()
    _raw_write(
        store_dir,
        master,
        'UPDATE "user" SET "deleted" = 0, "enabled" = 1, "record_signature" = ? '
        "WHERE \"name\" = 'bob'",
        record,
    )
    _put_back_roster(store_dir, master, roster)
    slots = keyslots.KeySlots.load(store_dir)
    wrap = PublicKeys(old_slot.public).wrap(master, keyslots.master_purpose(slots.store_id, "bob"))
    slots.slots["bob"] = replace(old_slot, master=wrap)
    slots.save(store_dir)
    kept = tmp_path / "planted.json"
    shutil.copy(store_dir / "keyslots.json", kept)
    with pytest.raises(TamperedError, match="'bob' is older than the one this workstation"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert admin.notices[0].endswith("were put back as it saw them: 'bob'")
        assert [r.name for r in users.list_users(admin)] == ["admin", "carol"]
        assert integrity.check_store(admin) == []  # his slot went with a new change of key
    finally:
        admin.close()
    assert not _opens(store_dir, kept, "bob", SIGNER_PASSWORD)
    with pytest.raises(AuthenticationError, match="No user 'bob'"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)


def test_an_older_slot_file_put_back_is_said_to_be_older_than_the_database(
    granted, store_dir, tmp_path
):
    kept = (store_dir / "keyslots.json").read_bytes()
    users.delete_users(granted, ["bob"])
    granted.close()
    (store_dir / "keyslots.json").write_bytes(kept)
    with pytest.raises(StoreDamagedError, match="the slot file is older than the database"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
