"""Keys that open only for the users allowed to use them: the custodian, data keys wrapped
to exactly each key's grantees, and what a Signer with only his own password and the
store folder can and cannot get."""

import base64
import datetime as dt
import io
import json
import os
import shutil
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlcipher3 import dbapi2 as sqlcipher

from app import audit_heads, keyslots
from app.crypto.key_wraps import (
    anchor_of,
    attestation,
    audit_head,
    data_key_purpose,
    pin_purpose,
)
from app.crypto.keygen import KeySpec
from app.crypto.pin_keys import PinKey
from app.crypto.sealing import Sealer, SealError, derive_subkey
from app.crypto.user_keys import UserKeys, WrapError
from app.errors import (
    AuthenticationError,
    CustodianRequired,
    StoreDamagedError,
    TamperedError,
    ValidationError,
)
from app.services import (
    audit_log,
    certificate_edits,
    certificate_groups,
    certificate_import,
    custody,
    integrity,
    journal,
    policies,
    signing,
    signing_requests,
    users,
)
from app.services.policies import PolicySpec
from models import Custodian, CustodianWrap, KeyGrant, PrivateKey, User
from models.base import using
from models.permissions import ADMINISTRATOR, CERTIFICATE_MANAGER, SIGNER
from tests.helpers import certgen as certs
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD
from tests.test_migrations import BOB_PASSWORD, FIXTURE_PASSWORD, v1_copy


def _grants(session) -> set[tuple[str, str]]:
    """(certificate alias, user name) of every wrap of a data key to a user."""
    with using(session.store.db):
        rows = session.store.db.execute_sql(
            'SELECT c."alias", u."name" FROM "key_grant" g '
            'JOIN "certificate" c ON c."private_key_id" = g."private_key_id" '
            'JOIN "user" u ON u."id" = g."user_id"'
        ).fetchall()
    return set(rows)


def test_init_makes_a_custodian_anchored_in_the_admins_slot(session, store_dir):
    with using(session.store.db):
        (custodian,) = Custodian.select()
        admin = User.get(User.name == "admin")
        assert CustodianWrap.select().where(CustodianWrap.user == admin.id).count() == 1
        assert admin.certified is not None
    assert session.custodian is not None
    assert session.custodian.public().raw == bytes(custodian.public_keys)
    slot = keyslots.KeySlots.load(store_dir).slots["admin"]
    assert slot.custodian == anchor_of(session.custodian.public())


def test_policies_user_groups_and_certificate_groups_give_exactly_their_wraps(granted):
    session = granted
    assert _grants(session) == {("K1", "bob"), ("K2", "carol")}
    # An owner is a grantee too; an owner who is also granted by a policy holds one wrap.
    certificate_edits.edit_certificate(session, "K3", certificate_edits.GeneralChanges(owner="bob"))
    assert _grants(session) == {("K1", "bob"), ("K2", "carol"), ("K3", "bob")}
    # Into the group: carol (through "ops") may now sign K1 too.
    certificate_groups.add_to_groups(session, ["K1"], ["release"])
    assert _grants(session) == {("K1", "bob"), ("K1", "carol"), ("K2", "carol"), ("K3", "bob")}
    # Out of the group (K2 keeps another group, so that the removal is allowed).
    certificate_groups.add_to_groups(session, ["K2"], ["spare"])
    certificate_groups.remove_from_groups(session, ["K2"], ["release"])
    assert _grants(session) == {("K1", "bob"), ("K1", "carol"), ("K3", "bob")}
    # The owner cleared, the group deleted: their wraps go.
    certificate_edits.edit_certificate(
        session, "K3", certificate_edits.GeneralChanges(clear_owner=True)
    )
    certificate_groups.delete_group(session, "release")
    assert _grants(session) == {("K1", "bob")}


def test_a_user_added_to_a_granted_user_group_gets_its_wraps(granted):
    users.add_user(granted, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
    assert ("K2", "dave") in _grants(granted)


def test_a_change_that_needs_a_new_wrap_is_refused_to_a_non_custodian(granted, store_dir):
    manager = _sign_in_as(granted, store_dir, "mia", CERTIFICATE_MANAGER)
    try:
        with pytest.raises(CustodianRequired, match="only a key custodian"):
            certificate_groups.add_to_groups(manager, ["K3"], ["release"])
        assert ("K3", "carol") not in _grants(manager)
        members = certificate_groups.list_members(manager, "release")
        assert [row.alias for row in members] == ["K2"]  # the refused change left nothing
        # A change that only takes wraps away needs no custodian.
        certificate_groups.add_to_groups(manager, ["K2"], ["spare"])
        certificate_groups.remove_from_groups(manager, ["K2"], ["release"])
        assert ("K2", "carol") not in _grants(manager)
    finally:
        manager.close()


def _sign_in_as(session, store_dir: Path, name: str, role: str):
    users.add_user(session, name, SIGNER_PASSWORD, role)
    session.close()
    return users.sign_in(store_dir, name, password=SIGNER_PASSWORD)[0]


def test_a_grantee_signs_with_their_own_wrap(granted, store_dir, tmp_path, certs):
    granted.close()
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    try:
        assert bob.custodian is None
        payload = tmp_path / "payload.bin"
        payload.write_bytes(b"release build 7")
        signature = signing.sign_data(bob, "K1", io.BytesIO(payload.read_bytes()))
    finally:
        bob.close()
    (tmp_path / "payload.p7s").write_bytes(signature)
    assert certs.verify_detached(tmp_path / "payload.p7s", payload)


def _raw_rows(folder: Path, master_key: bytes, sql: str) -> list[tuple]:
    """Rows read from the database as anyone holding its key can: sqlcipher3 alone."""
    key = derive_subkey(master_key, "sqlcipher").hex()
    with closing(sqlcipher.connect(str(folder / "certdesk.db"))) as db:
        db.execute(f"PRAGMA key = \"x'{key}'\"")
        return db.execute(sql).fetchall()


def test_a_signer_with_his_password_and_the_folder_opens_only_the_keys_granted_him(
    granted, store_dir
):
    """The attack of issue 12, played with the raw files and the project's own modules."""
    granted.close()
    slots = keyslots.KeySlots.load(store_dir)
    opened = slots.open("bob", slots.kek_for("bob", SIGNER_PASSWORD))
    master = opened.master_key
    bob_keys = UserKeys(opened.private)
    # He reads the metadata: the threat model says so.
    keys = _raw_rows(
        store_dir,
        master,
        'SELECT c."alias", k."id", k."uid", k."spki_sha256", k."sealed", k."custodian_wrap" '
        'FROM "private_key" k JOIN "certificate" c ON c."private_key_id" = k."id"',
    )
    assert {row[0] for row in keys} == {"K1", "K2", "K3"}
    wraps = _raw_rows(store_dir, master, 'SELECT "private_key_id", "wrapped" FROM "key_grant"')
    legacy = Sealer(derive_subkey(master, "private-keys"))
    opened_keys = {}
    for alias, key_id, uid, spki, sealed, custodian_wrap in keys:
        candidates = [data_key_purpose(slots.store_id, uid, "bob")]
        for wrapped in [custodian_wrap] + [w for k, w in wraps if k == key_id]:
            for purpose in (*candidates, data_key_purpose(slots.store_id, uid, None)):
                try:
                    data_key = bob_keys.unwrap(wrapped, purpose)
                except WrapError:
                    continue
                opened_keys[alias] = Sealer(data_key).open(sealed, uid, spki)
        with pytest.raises(SealError):  # the master key's sub-key opens no key any more
            legacy.open(sealed, uid, spki)
    assert set(opened_keys) == {"K1"}
    serialization.load_der_private_key(opened_keys["K1"], None)


def test_a_custodian_of_his_own_in_the_database_is_refused_at_sign_in(granted, store_dir):
    """Bob replaces the custodian with one of his own, to certify keys of his own."""
    granted.close()
    slots = keyslots.KeySlots.load(store_dir)
    master = slots.open("bob", slots.kek_for("bob", SIGNER_PASSWORD)).master_key
    forged = UserKeys.generate().public().raw
    _raw_write(store_dir, master, 'UPDATE "custodian" SET "public_keys" = ?', (forged,))
    for name, password in (("bob", SIGNER_PASSWORD), ("admin", PASSWORD)):
        with pytest.raises(TamperedError, match="custodian is not the one"):
            users.sign_in(store_dir, name, password=password)


def _raw_write(folder: Path, master_key: bytes, sql: str, params: tuple) -> None:
    key = derive_subkey(master_key, "sqlcipher").hex()
    with closing(sqlcipher.connect(str(folder / "certdesk.db"), isolation_level=None)) as db:
        db.execute(f"PRAGMA key = \"x'{key}'\"")
        db.execute(sql, params)


def test_keys_put_in_another_users_row_get_no_wrap(granted, store_dir):
    """Bob puts his public keys in carol's row: a wrap to carol's row would reach him."""
    bob_public = granted.store.slots().slots["bob"].public
    master = granted.store.master_key()
    granted.close()
    _raw_write(
        store_dir,
        master,
        'UPDATE "user" SET "public_keys" = ? WHERE "name" = ?',
        (bob_public, "carol"),
    )
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        # K3 into the group that carol (through "ops") may sign: a wrap to her row is due.
        certificate_groups.add_to_groups(session, ["K3"], ["release"])
        assert ("K3", "carol") not in _grants(session)
        assert "user 'carol': the custodian did not certify the keys kept for them" in (
            integrity.check_store(session)
        )
    finally:
        session.close()
    with pytest.raises(TamperedError, match="key slot of 'carol'"):
        users.sign_in(store_dir, "carol", password=SIGNER_PASSWORD)


def test_a_blanked_certificate_and_a_forged_slot_get_no_certificate(granted, store_dir):
    """Bob blanks carol's certificate and gives her a slot and row of his making, hoping
    that the next Administrator's sign-in certifies his keys as carol's."""
    master = granted.store.master_key()
    store_id = granted.store.store_id
    before = _wraps_of(granted, "carol")
    granted.close()
    slots = keyslots.KeySlots.load(store_dir)
    slots.slots["carol"], _ = keyslots.new_slot(store_id, "carol", "bob's chosen password", master)
    slots.save(store_dir)
    _raw_write(
        store_dir,
        master,
        'UPDATE "user" SET "public_keys" = ?, "certified" = NULL WHERE "name" = ?',
        (slots.slots["carol"].public, "carol"),
    )
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        with using(session.store.db):
            assert User.get(User.name == "carol").certified is None
        # Nothing new was wrapped to carol's row: her one wrap is still to her own keys.
        assert _wraps_of(session, "carol") == before
        users.add_user(session, "fay", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        certificate_groups.add_to_groups(session, ["K3"], ["release"])
        assert _wraps_of(session, "carol") == before
    finally:
        session.close()


def _wraps_of(session, name: str) -> list[bytes]:
    with using(session.store.db):
        user = User.get(User.name == name)
        return [bytes(g.wrapped) for g in KeyGrant.select().where(KeyGrant.user == user.id)]


def test_an_older_stores_keys_move_to_data_keys_and_sign_as_before(tmp_path, certs):
    folder = v1_copy(tmp_path)
    session, _ = users.sign_in(folder, "admin", password=FIXTURE_PASSWORD)
    try:
        with using(session.store.db):
            assert all(key.custodian_wrap is not None for key in PrivateKey.select())
        # Owning it hands the admin a wrap of its data key, made with the custodian's.
        owned = certificate_edits.GeneralChanges(owner="admin")
        certificate_edits.edit_certificate(session, "Release Signing", owned)
        assert _grants(session) == {("Release Signing", "admin")}
        payload = tmp_path / "payload.bin"
        payload.write_bytes(b"signed after the upgrade")
        content = io.BytesIO(payload.read_bytes())
        signature = signing.sign_data(session, "Release Signing", content)
    finally:
        session.close()
    (tmp_path / "payload.p7s").write_bytes(signature)
    assert certs.verify_detached(tmp_path / "payload.p7s", payload)
    assert (folder / users.KEYS_MOVED_BACKUP).exists()


def test_check_names_a_wrap_missing_or_held_by_someone_who_may_not_sign(granted):
    assert integrity.check_store(granted) == []
    with using(granted.store.db):
        bob = User.get(User.name == "bob")
        carol = User.get(User.name == "carol")
        k1 = PrivateKey.get(PrivateKey.id == _key_id(granted, "K1"))
        (taken,) = KeyGrant.select().where(KeyGrant.user == bob.id)
        KeyGrant.delete().where(KeyGrant.id == taken.id).execute()
        KeyGrant.create(private_key=k1.id, user=carol.id, wrapped=taken.wrapped)
    problems = integrity.check_store(granted)
    missing = f"private key {k1.id} ('K1'): 'bob' may sign with it but holds no wrap"
    assert any(p.startswith(missing) for p in problems), problems
    assert f"private key {k1.id}: wrapped to 'carol', who may not sign with it" in problems


def _key_id(session, alias: str) -> int:
    (row,) = session.store.db.execute_sql(
        'SELECT "private_key_id" FROM "certificate" WHERE "alias" = ?', (alias,)
    ).fetchall()
    return row[0]


def test_an_older_stores_users_are_certified_once_they_have_keys(tmp_path):
    folder = v1_copy(tmp_path)
    users.sign_in(folder, "admin", password=FIXTURE_PASSWORD)[0].close()
    bob, _ = users.sign_in(folder, "bob", password=BOB_PASSWORD)  # his keys made now
    with using(bob.store.db):
        assert User.get(User.name == "bob").certified is None
    bob.close()
    assert keyslots.KeySlots.load(folder).slots["bob"].custodian is not None  # on trust
    admin, _ = users.sign_in(folder, "admin", password=FIXTURE_PASSWORD)
    try:
        with using(admin.store.db):
            row = User.get(User.name == "bob")
            assert custody.verified_keys(admin, "bob", row.public_keys, row.certified)
            assert bytes(Custodian.get().awaiting_signature) and Custodian.get().awaiting == ""
        assert integrity.check_store(admin) == []
    finally:
        admin.close()


def test_a_slot_put_in_place_of_a_users_own_is_refused_not_taken(granted, store_dir):
    """Bob, with the master key, writes a slot for admin under a password he chose: as a
    slot with other keys, and as one of the kind made before key pairs."""
    master, store_id = granted.store.master_key(), granted.store.store_id
    granted.close()
    chosen = "bob's chosen password"
    slots = keyslots.KeySlots.load(store_dir)
    original = slots.slots["admin"]
    slots.slots["admin"], _ = keyslots.new_slot(store_id, "admin", chosen, master)
    slots.save(store_dir)
    with pytest.raises(TamperedError, match="key slot of 'admin' is not the one"):
        users.sign_in(store_dir, "admin", password=chosen)
    kek = keyslots.derive_kek(chosen, original.salt, original.params)
    nonce = os.urandom(keyslots.NONCE_BYTES)
    wrapped = AESGCM(kek).encrypt(
        nonce, master, f"certdesk-keyslot\x00{store_id}\x00admin".encode()
    )
    slots.slots["admin"] = keyslots.Slot(original.params, original.salt, nonce, wrapped)
    slots.save(store_dir)
    with pytest.raises(TamperedError, match="key slot of 'admin' is not the one"):
        users.sign_in(store_dir, "admin", password=chosen)
    # Nothing was rewritten to fit the forged slot: the real one opens again.
    slots.slots["admin"] = original
    slots.save(store_dir)
    users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()


def test_a_role_or_state_set_by_an_update_is_refused_at_sign_in(granted, store_dir):
    """Bob makes himself Administrator with one UPDATE, enables a user an Administrator
    disabled, and gives the Signer role more permissions."""
    users.add_user(granted, "dora", SIGNER_PASSWORD, SIGNER)
    users.disable_user(granted, "dora")
    master = granted.store.master_key()
    granted.close()
    admin_role = 'SELECT "id" FROM "role" WHERE "name" = \'Administrator\''
    edits = {
        "bob": (
            f'UPDATE "user" SET "role_id" = ({admin_role}) WHERE "name" = ?',
            ("bob",),
            "the role or state of 'bob' is not one an Administrator set",
        ),
        "dora": (
            'UPDATE "user" SET "enabled" = 1 WHERE "name" = ?',
            ("dora",),
            "the role or state of 'dora' is not one an Administrator set",
        ),
        "carol": (
            'INSERT INTO "role_permission" ("role_id", "permission") '
            'SELECT "id", ? FROM "role" WHERE "name" = \'Signer\'',
            ("users.manage",),
            "the role 'Signer' is not one Certdesk made",
        ),
    }
    for name, (sql, params, refusal) in edits.items():
        _raw_write(store_dir, master, sql, params)
        with pytest.raises(TamperedError, match=refusal):
            users.sign_in(store_dir, name, password=SIGNER_PASSWORD)
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        problems = integrity.check_store(session)
    finally:
        session.close()
    for name in ("bob", "dora"):
        assert f"user {name!r}: their role or state is not one an Administrator set" in problems


def _rechain(folder: Path, master_key: bytes) -> None:
    """Recompute every event's link and hash, as someone rewriting the log would."""
    from datetime import datetime

    from app.services.journal import GENESIS, _digest, _head, _tail

    key = derive_subkey(master_key, "sqlcipher").hex()
    with closing(sqlcipher.connect(str(folder / "certdesk.db"), isolation_level=None)) as db:
        db.execute(f"PRAGMA key = \"x'{key}'\"")
        rows = db.execute(
            'SELECT "id", "time", "user", "action", "target", "outcome", "details" '
            'FROM "audit_event" ORDER BY "id"'
        ).fetchall()
        previous = GENESIS
        for event_id, micros, user, action, target, outcome, details in rows:
            time = datetime.fromtimestamp(micros / 1_000_000, tz=dt.UTC)
            digest = _digest(previous, _head(time, user, action), target, _tail(outcome, details))
            db.execute(
                'UPDATE "audit_event" SET "prev_hash" = ?, "hash" = ? WHERE "id" = ?',
                (previous, digest, event_id),
            )
            previous = digest


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(
            'INSERT INTO "audit_event" ("time", "user", "action", "target", "outcome", '
            '"details", "prev_hash", "hash") SELECT "time", \'admin\', \'user.role\', '
            "'bob', 'allowed', '{}', '', 'forged' FROM \"audit_event\" ORDER BY \"id\" DESC "
            "LIMIT 1",
            id="an event added in admin's name",
        ),
        pytest.param(
            'UPDATE "audit_event" SET "target" = \'someone else\' WHERE "action" = \'policy.add\'',
            id="an admin's event changed",
        ),
        pytest.param(
            'DELETE FROM "audit_event" WHERE "id" = (SELECT min("id") FROM "audit_event" '
            "WHERE \"action\" = 'policy.add')",
            id="an admin's event deleted",
        ),
    ],
)
def test_a_rewritten_audit_log_is_named_by_verify_even_with_its_chain_rebuilt(
    granted, store_dir, rewrite
):
    assert audit_log.verify_chain(granted) == []
    master = granted.store.master_key()
    granted.close()
    _raw_write(store_dir, master, rewrite, ())
    _rechain(store_dir, master)
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert journal.chain_breaks() == []  # the chain alone no longer tells
        broken = audit_log.verify_chain(session)
        assert broken, "the rewrite went unnoticed"
        problems = integrity.check_store(session)
        assert f"audit event {broken[0]}: no signature of its user covers it" in problems
    finally:
        session.close()


def test_deleted_newest_events_and_an_older_database_are_named_at_the_next_sign_in(
    granted, store_dir, tmp_path
):
    older = tmp_path / "older.db"
    granted.store.checkpoint()
    shutil.copyfile(store_dir / "certdesk.db", older)
    users.add_user(granted, "erin", SIGNER_PASSWORD, SIGNER)
    master = granted.store.master_key()
    granted.close()  # this workstation has now seen erin's user.add
    newest = 'DELETE FROM "audit_event" WHERE "id" = (SELECT max("id") FROM "audit_event")'
    _raw_write(store_dir, master, newest, ())
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        (notice,) = session.notices
        assert notice.startswith("the store is older than the one this workstation last saw")
        assert audit_log.list_events(session)[-1].action == "store.older"
    finally:
        session.close()
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    assert again.notices == []  # said once; the store's end is what was seen since
    again.close()
    for name in ("certdesk.db-wal", "certdesk.db-shm"):
        (store_dir / name).unlink(missing_ok=True)
    shutil.copyfile(older, store_dir / "certdesk.db")  # an older copy put in place
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        (notice,) = session.notices
        assert notice.startswith("the store is older than the one this workstation last saw")
    finally:
        session.close()


def test_the_command_line_says_the_store_is_older(cli, closed_store):
    assert cli("list").returncode == 0
    session, _ = users.sign_in(closed_store, "admin", password=PASSWORD)
    master = session.store.master_key()
    session.close()
    newest = 'DELETE FROM "audit_event" WHERE "id" = (SELECT max("id") FROM "audit_event")'
    _raw_write(closed_store, master, newest, ())
    listed = cli("list")
    assert listed.returncode == 0
    assert "certdesk: warning: the store is older than the one this workstation" in (listed.stderr)
    assert "older" not in cli("list").stderr  # said once, and recorded
    _raw_write(closed_store, master, newest, ())
    checked = cli("check")
    assert checked.returncode == 1
    assert "audit head: the store is older than the one this workstation" in (
        checked.stdout + checked.stderr
    )


def _as_bob(granted, store_dir):
    """The master key, as bob's slot opens it (his password only)."""
    granted.close()
    slots = keyslots.KeySlots.load(store_dir)
    return slots, slots.open("bob", slots.kek_for("bob", SIGNER_PASSWORD))


ADMIN_ROLE = '(SELECT "id" FROM "role" WHERE "name" = \'Administrator\')'
SIGNER_ROLE = '(SELECT "id" FROM "role" WHERE "name" = \'Signer\')'


def test_an_updated_role_gets_no_custodian_wrap_and_a_kept_wrap_opens_nothing(granted, store_dir):
    _, opened = _as_bob(granted, store_dir)
    master = opened.master_key
    _raw_write(
        store_dir, master, f'UPDATE "user" SET "role_id" = {ADMIN_ROLE} WHERE "name" = ?', ("bob",)
    )
    users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()
    wrapped_to = 'SELECT count(*) FROM "custodian_wrap" w JOIN "user" u ON u."id" = w."user_id" '
    assert _raw_rows(store_dir, master, wrapped_to + "WHERE u.\"name\" = 'bob'") == [(0,)]
    # A wrap copied to bob's name while he is a Signer does not make him a custodian.
    _raw_write(
        store_dir,
        master,
        f'UPDATE "user" SET "role_id" = {SIGNER_ROLE} WHERE "name" = ?',
        ("bob",),
    )
    _raw_write(
        store_dir,
        master,
        'INSERT INTO "custodian_wrap" ("user_id", "wrapped") SELECT u."id", w."wrapped" '
        'FROM "user" u, "custodian_wrap" w WHERE u."name" = ?',
        ("bob",),
    )
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    assert bob.custodian is None
    bob.close()
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        problems = integrity.check_store(session)
    finally:
        session.close()
    assert (
        "user 'bob': holds the custodian's wrap without being an enabled Administrator" in problems
    )


def test_a_store_that_lost_its_custodian_never_gets_a_new_one(granted, store_dir):
    """Bob strips the anchor from his own slot, deletes the custodian, and makes himself
    Administrator, to found a custodian of his own."""
    slots, opened = _as_bob(granted, store_dir)
    kek = slots.kek_for("bob", SIGNER_PASSWORD)
    old = slots.slots["bob"]
    slots.slots["bob"] = keyslots._sealed(
        slots.store_id,
        "bob",
        old.params,
        old.salt,
        kek,
        opened.private,
        old.public,
        old.master,
        None,
    )
    slots.save(store_dir)
    _raw_write(store_dir, opened.master_key, 'DELETE FROM "custodian"', ())
    _raw_write(
        store_dir,
        opened.master_key,
        f'UPDATE "user" SET "role_id" = {ADMIN_ROLE} WHERE "name" = ?',
        ("bob",),
    )
    with pytest.raises(TamperedError, match="lost its custodian"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)


def test_rows_edited_for_bob_get_him_no_key_at_a_sign_in_or_an_unrelated_change(granted, store_dir):
    _, opened = _as_bob(granted, store_dir)
    master = opened.master_key
    bob_id = '(SELECT "id" FROM "user" WHERE "name" = \'bob\')'
    _raw_write(
        store_dir,
        master,
        f'UPDATE "certificate" SET "owner_id" = {bob_id} WHERE "alias" = ?',
        ("K3",),
    )
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert ("K3", "bob") not in _grants(session)
        certificate_groups.add_to_groups(session, ["K1"], ["spare"])  # about K1 alone
        assert ("K3", "bob") not in _grants(session)
        # What a change does hand on is in the log.
        certificate_edits.edit_certificate(
            session, "K2", certificate_edits.GeneralChanges(owner="bob")
        )
        granted_events = [e for e in audit_log.list_events(session) if e.action == "key.grant"]
        assert [(e.user, e.details["user"]) for e in granted_events][-1] == ("admin", "bob")
    finally:
        session.close()


def test_an_administrators_blanked_certificate_is_refused_and_named(granted, store_dir):
    _, opened = _as_bob(granted, store_dir)
    _raw_write(
        store_dir,
        opened.master_key,
        'UPDATE "user" SET "certified" = NULL WHERE "name" = ?',
        ("admin",),
    )
    with pytest.raises(TamperedError, match="'admin' are not the ones the custodian certified"):
        users.sign_in(store_dir, "admin", password=PASSWORD)
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    bob.close()


def _later_change_about(store_dir: Path, *aliases: str) -> set[tuple[str, str]]:
    """An Administrator's change about these certificates (into a group no policy names),
    which syncs their wraps from the rows as they are; the wraps held after it. `check`
    names a row that is not attested."""
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        certificate_groups.add_to_groups(session, list(aliases), ["spare"])
        problems = integrity.check_store(session)
        assert any("not signed by a user whose role may write them" in p for p in problems)
        return _grants(session)
    finally:
        session.close()


BOB = '(SELECT "id" FROM "user" WHERE "name" = \'bob\')'
K3 = '(SELECT "id" FROM "certificate" WHERE "alias" = \'K3\')'
BOB_POLICY = '(SELECT "id" FROM "policy" WHERE "name" = \'bob signs K1\')'
OPS_POLICY = '(SELECT "id" FROM "policy" WHERE "name" = \'ops release\')'


@pytest.mark.parametrize(
    "edits",
    [
        # He makes himself K3's owner, reusing the attestation of another owner row.
        [f'UPDATE "certificate" SET "owner_id" = {BOB} WHERE "alias" = \'K3\''],
        # He adds K3 to the policy that grants him K1, naming that link's attestation.
        [
            'INSERT INTO "policy_certificate" ("policy_id", "certificate_id", "attestation") '
            f'SELECT {BOB_POLICY}, {K3}, "attestation" FROM "policy_certificate" LIMIT 1'
        ],
        # He names himself in the policy of "release", and puts K3 in "release".
        [
            'INSERT INTO "policy_user" ("policy_id", "user_id", "attestation") '
            f'SELECT {OPS_POLICY}, {BOB}, "attestation" FROM "policy_user" LIMIT 1',
            'INSERT INTO "certificate_group_member" ("group_id", "certificate_id", "attestation") '
            f'SELECT "group_id", {K3}, "attestation" FROM "certificate_group_member" LIMIT 1',
        ],
        # He joins the user group "ops", and rewrites K2's membership to be K3's.
        [
            'INSERT INTO "user_group_member" ("user_group_id", "user_id", "attestation") '
            f'SELECT "user_group_id", {BOB}, "attestation" FROM "user_group_member" LIMIT 1',
            f'UPDATE "certificate_group_member" SET "certificate_id" = {K3}',
        ],
    ],
    ids=["owner", "policy-certificate", "policy-user+member", "user-member"],
)
def test_rows_bob_edits_hand_him_nothing_at_an_administrators_later_change(
    granted, store_dir, edits
):
    """The rows that decide who may sign are signed by their writers (attestations): an
    Administrator's later change about those certificates wraps no key to bob."""
    _, opened = _as_bob(granted, store_dir)
    for sql in edits:
        _raw_write(store_dir, opened.master_key, sql, ())
    held = _later_change_about(store_dir, "K2", "K3")
    assert ("K3", "bob") not in held
    assert ("K2", "bob") not in held


def test_rows_bob_signs_himself_hand_him_nothing(granted, store_dir):
    """Signed with his own certified key, a row his role could not write holds nothing."""
    slots, opened = _as_bob(granted, store_dir)
    (spki,) = _raw_rows(
        store_dir,
        opened.master_key,
        'SELECT "spki_sha256" FROM "certificate" WHERE "alias" = \'K3\'',
    )[0]
    items = f"owner\x1f{spki}\x1fbob"
    signature = UserKeys(opened.private).sign(attestation(slots.store_id, "bob", items))
    _raw_write(
        store_dir,
        opened.master_key,
        'INSERT INTO "attestation" ("signer_id", "items", "signature", "revokes") '
        f"VALUES ({BOB}, ?, ?, 0)",
        (items, signature),
    )
    _raw_write(
        store_dir,
        opened.master_key,
        f'UPDATE "certificate" SET "owner_id" = {BOB}, "owner_attestation" = '
        '(SELECT max("id") FROM "attestation") WHERE "alias" = \'K3\'',
        (),
    )
    assert ("K3", "bob") not in _later_change_about(store_dir, "K3")


def test_a_key_row_given_a_granted_certificates_public_key_is_refused(granted, store_dir):
    """Bob moves K3's key under K1 (granted to him) and gives the key K1's public key hash,
    so that every row reads as K1's: the seal, which binds the hash, does not open."""
    _, opened = _as_bob(granted, store_dir)
    ids = dict(
        _raw_rows(
            store_dir, opened.master_key, 'SELECT "alias", "private_key_id" FROM "certificate"'
        )
    )
    k1 = '(SELECT "spki_sha256" FROM "certificate" WHERE "alias" = \'K1\')'
    for sql in (
        f'UPDATE "private_key" SET "spki_sha256" = {k1} WHERE "id" = {ids["K3"]}',
        'DELETE FROM "key_grant"',
        'UPDATE "certificate" SET "private_key_id" = NULL WHERE "alias" IN (\'K1\', \'K3\')',
        f'UPDATE "certificate" SET "private_key_id" = {ids["K3"]} WHERE "alias" = \'K1\'',
    ):
        _raw_write(store_dir, opened.master_key, sql, ())
    with pytest.raises(TamperedError, match="is not the key of its public key"):
        _later_change_about(store_dir, "K1")


def test_rows_a_certificate_manager_wrote_hand_keys_on_at_an_administrators_change(
    granted, store_dir
):
    """A Certificate Manager puts K3 in a group no policy names (no wrap is due, so no
    custodian is needed); the policy an Administrator adds later hands K3 on."""
    manager = _sign_in_as(granted, store_dir, "mia", CERTIFICATE_MANAGER)
    certificate_groups.add_to_groups(manager, ["K3"], ["night"])
    manager.close()
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        policies.add_policy(
            session, PolicySpec("bob at night", certificate_groups=("night",), users=("bob",))
        )
        assert ("K3", "bob") in _grants(session)
    finally:
        session.close()


def _renew(session, alias: str, tmp_path: Path) -> None:
    """Renews `alias` with a new key and imports the certificate issued for it."""
    info = signing_requests.renew(session, alias, KeySpec("ECDSA", curve="P-256"))
    issued = tmp_path / "issued.pem"
    issued.write_bytes(certs.issue_for_request(info.csr_pem, 30))
    (result,) = certificate_import.import_files(session, [issued]).files
    assert result.error is None


def test_a_renewal_by_a_certificate_manager_carries_its_grants_to_later_grantees(
    granted, store_dir, tmp_path
):
    """Mia renews K2 (in "release", which "ops" may sign): the renewed key's grants and
    group, moved by her, are attested by her, so a user who joins "ops" later gets it."""
    manager = _sign_in_as(granted, store_dir, "mia", CERTIFICATE_MANAGER)
    try:
        _renew(manager, "K2", tmp_path)
        assert ("K2", "carol") in _grants(manager)  # the renewed one's, made at the request
    finally:
        manager.close()
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        users.add_user(session, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        assert ("K2", "dave") in _grants(session)
        assert not [p for p in integrity.check_store(session) if "not signed" in p]
    finally:
        session.close()


def _record_of(store_dir: Path, master: bytes, name: str) -> tuple:
    return _raw_rows(
        store_dir,
        master,
        f'SELECT "role_id", "enabled", "record_signature" FROM "user" WHERE "name" = \'{name}\'',
    )[0]


def _roster_of(store_dir: Path, master: bytes) -> tuple:
    """The custodian's roster as it is now, as anyone with the store's key reads it."""
    sql = 'SELECT "roster", "roster_serial", "roster_signature" FROM "custodian"'
    return _raw_rows(store_dir, master, sql)[0]


def _put_back_roster(store_dir: Path, master: bytes, roster: tuple) -> None:
    sql = 'UPDATE "custodian" SET "roster" = ?, "roster_serial" = ?, "roster_signature" = ?'
    _raw_write(store_dir, master, sql, roster)


def _put_back(store_dir: Path, master: bytes, name: str, record: tuple) -> None:
    _raw_write(
        store_dir,
        master,
        'UPDATE "user" SET "role_id" = ?, "enabled" = ?, "record_signature" = ? WHERE "name" = ?',
        (*record, name),
    )


def test_an_older_record_put_back_is_refused_and_gets_no_custodian(granted, store_dir):
    """Dora, disabled, and alice, no longer an Administrator, put back the records the
    custodian signed before: the roster says otherwise."""
    users.add_user(granted, "dora", SIGNER_PASSWORD, SIGNER)
    users.add_user(granted, "alice", SIGNER_PASSWORD, ADMINISTRATOR)
    master = granted.store.master_key()
    before = {name: _record_of(store_dir, master, name) for name in ("dora", "alice")}
    users.disable_user(granted, "dora")
    users.set_user_role(granted, "alice", SIGNER)
    granted.close()
    for name, record in before.items():
        _put_back(store_dir, master, name, record)
        with pytest.raises(TamperedError, match=f"the role or state of {name!r} is not one"):
            users.sign_in(store_dir, name, password=SIGNER_PASSWORD)
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)  # no one else's lockout
    try:
        problems = integrity.check_store(session)
    finally:
        session.close()
    for name in before:
        assert f"user {name!r}: their role or state is not one an Administrator set" in problems
    wrapped = 'SELECT count(*) FROM "custodian_wrap" w JOIN "user" u ON u."id" = w."user_id" '
    assert _raw_rows(store_dir, master, wrapped + "WHERE u.\"name\" = 'alice'") == [(0,)]


def test_the_whole_roster_put_back_is_named_and_undone_by_an_administrator(granted, store_dir):
    """Dora, disabled, puts back her older record and the older roster that says she is
    enabled: on a workstation that saw the newer roster she is refused, others are told
    the store is older, and the next Administrator's sign-in puts the newer records back,
    so that no later change wraps a key to her again."""
    users.add_user(granted, "dora", SIGNER_PASSWORD, SIGNER)
    policies.add_policy(granted, PolicySpec("dora signs K3", certificates=("K3",), users=("dora",)))
    master = granted.store.master_key()
    record = _record_of(store_dir, master, "dora")
    roster = _roster_of(store_dir, master)
    users.disable_user(granted, "dora")
    granted.close()  # this workstation keeps the roster it saw
    _put_back(store_dir, master, "dora", record)
    _put_back_roster(store_dir, master, roster)
    with pytest.raises(TamperedError, match="'dora' is older than the one this workstation"):
        users.sign_in(store_dir, "dora", password=SIGNER_PASSWORD)
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    try:
        (notice,) = bob.notices
    finally:
        bob.close()
    assert notice.startswith("the store is older than the one this workstation last saw: its")
    assert "users' roles and states are those of change" in notice
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        (notice,) = admin.notices
        assert notice.endswith("were put back as it saw them: 'dora'")
        policies.add_policy(admin, PolicySpec("bob too", certificates=("K3",), users=("bob",)))
        assert ("K3", "dora") not in _grants(admin)
        assert [r.enabled for r in users.list_users(admin) if r.name == "dora"] == [False]
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    with pytest.raises(AuthenticationError, match="'dora' is not allowed to sign in"):
        users.sign_in(store_dir, "dora", password=SIGNER_PASSWORD)


PIN = "739104"


def _bob_opens(store_dir: Path, alias: str, pin: str | None) -> bytes | None:
    """K's PKCS#8 as bob opens it with his own code: his wrap, then (given) the PIN's key."""
    slots = keyslots.KeySlots.load(store_dir)
    opened = slots.open("bob", slots.kek_for("bob", SIGNER_PASSWORD))
    ((uid, spki, sealed, salt, wrapped),) = _raw_rows(
        store_dir,
        opened.master_key,
        'SELECT k."uid", k."spki_sha256", k."sealed", k."pin_salt", g."wrapped" '
        'FROM "private_key" k JOIN "certificate" c ON c."private_key_id" = k."id" '
        'JOIN "key_grant" g ON g."private_key_id" = k."id" '
        f'WHERE c."alias" = \'{alias}\' AND g."user_id" = {BOB}',
    )
    if pin is not None:
        wrapped = PinKey(pin, salt).unwrap(wrapped, pin_purpose(slots.store_id, uid, "bob"))
    try:
        data_key = UserKeys(opened.private).unwrap(
            wrapped, data_key_purpose(slots.store_id, uid, "bob")
        )
    except WrapError:
        return None
    return Sealer(data_key).open(sealed, uid, spki)


def test_a_grantee_without_the_pin_cannot_open_the_key(granted, store_dir, tmp_path, certs):
    """K1's PIN seals bob's wrap too: with his password alone he cannot open K1; with the
    PIN he can, and Certdesk signs with it."""
    certificate_edits.edit_certificate(granted, "K1", certificate_edits.GeneralChanges(pin=PIN))
    granted.close()
    assert _bob_opens(store_dir, "K1", None) is None
    with pytest.raises(WrapError):
        _bob_opens(store_dir, "K1", "000000")
    serialization.load_der_private_key(_bob_opens(store_dir, "K1", PIN), None)
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    try:
        payload = tmp_path / "payload.bin"
        payload.write_bytes(b"release build 8")
        signature = signing.sign_data(bob, "K1", io.BytesIO(payload.read_bytes()), pin=PIN)
    finally:
        bob.close()
    (tmp_path / "payload.p7s").write_bytes(signature)
    assert certs.verify_detached(tmp_path / "payload.p7s", payload)
    # Cleared, the PIN no longer seals it.
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        changes = certificate_edits.GeneralChanges(clear_pin=True)
        certificate_edits.edit_certificate(session, "K1", changes)
    finally:
        session.close()
    serialization.load_der_private_key(_bob_opens(store_dir, "K1", None), None)


@pytest.mark.parametrize("pin_public", ["forged", "cleared"])
def test_a_pin_key_bob_replaces_gets_him_no_wrap_without_the_pin(granted, store_dir, pin_public):
    """Bob puts a PIN key of his own (or none) on K1's key and deletes his wrap, for the
    next change to wrap K1 to him under it: the custodian's wrap names the real one."""
    certificate_edits.edit_certificate(granted, "K1", certificate_edits.GeneralChanges(pin=PIN))
    _, opened = _as_bob(granted, store_dir)
    salt = os.urandom(16)
    forged = PinKey("111111", salt).public() if pin_public == "forged" else None
    k1_key = '(SELECT "private_key_id" FROM "certificate" WHERE "alias" = \'K1\')'
    _raw_write(
        store_dir,
        opened.master_key,
        f'UPDATE "private_key" SET "pin_public" = ?, "pin_salt" = ? WHERE "id" = {k1_key}',
        (forged, salt if forged else None),
    )
    _raw_write(store_dir, opened.master_key, f'DELETE FROM "key_grant" WHERE "user_id" = {BOB}', ())
    with pytest.raises(StoreDamagedError, match="to the custodian does not open"):
        _later_change_about(store_dir, "K1")


def test_a_renewal_takes_its_certificates_pin(granted, store_dir, tmp_path):
    certificate_edits.edit_certificate(granted, "K2", certificate_edits.GeneralChanges(pin=PIN))
    manager = _sign_in_as(granted, store_dir, "mia", CERTIFICATE_MANAGER)
    try:
        _renew(manager, "K2", tmp_path)
        rows = manager.store.db.execute_sql(
            'SELECT u."name", g."pin_sealed", k."pin_public" IS NOT NULL FROM "key_grant" g '
            'JOIN "user" u ON u."id" = g."user_id" JOIN "private_key" k ON k."id" = '
            'g."private_key_id" JOIN "certificate" c ON c."private_key_id" = k."id" '
            "WHERE c.\"alias\" = 'K2'"
        ).fetchall()
    finally:
        manager.close()
    assert rows == [("carol", 1, 1)]
    carol, _ = users.sign_in(store_dir, "carol", password=SIGNER_PASSWORD)
    try:
        with pytest.raises(ValidationError, match="asks for its PIN"):
            signing.sign_data(carol, "K2", io.BytesIO(b"build 9"))
        assert signing.sign_data(carol, "K2", io.BytesIO(b"build 9"), pin=PIN)
    finally:
        carol.close()


def test_check_names_a_wrap_that_lost_its_pin_and_a_pin_that_seals_nothing(granted, store_dir):
    certificate_edits.edit_certificate(granted, "K1", certificate_edits.GeneralChanges(pin=PIN))
    _, opened = _as_bob(granted, store_dir)
    for sql in (
        'UPDATE "key_grant" SET "pin_sealed" = 0',
        'UPDATE "certificate" SET "pin_hash" = (SELECT "pin_hash" FROM "certificate" '
        "WHERE \"alias\" = 'K1') WHERE \"alias\" = 'K3'",
    ):
        _raw_write(store_dir, opened.master_key, sql, ())
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        problems = integrity.check_store(session)
    finally:
        session.close()
    assert any(p.endswith("wrapped to 'bob' without its PIN") for p in problems)
    assert any(
        p.startswith("certificate 'K3': its PIN is Certdesk's check alone") for p in problems
    )


def test_an_older_database_put_back_is_named_on_a_workstation_that_never_saw_it(
    granted, store_dir, tmp_path, monkeypatch
):
    """The store folder keeps the newest head a session saw, signed by its user: only the
    database put back, any workstation names it."""
    older = tmp_path / "older.db"
    granted.store.checkpoint()
    shutil.copyfile(store_dir / "certdesk.db", older)
    users.add_user(granted, "erin", SIGNER_PASSWORD, SIGNER)
    granted.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another-workstation"))
    for name in ("certdesk.db-wal", "certdesk.db-shm"):
        (store_dir / name).unlink(missing_ok=True)
    shutil.copyfile(older, store_dir / "certdesk.db")
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)
    try:
        (notice,) = bob.notices
    finally:
        bob.close()
    assert notice.startswith(
        "the store is older than the one its folder's audit head says 'admin' saw: its audit "
        "log lacks event"
    )


def test_a_folder_head_no_user_signed_is_not_taken(granted, store_dir, tmp_path, monkeypatch):
    granted.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another-workstation"))
    head = json.loads((store_dir / audit_heads.FOLDER_FILE).read_text())
    head["id"] += 1000  # an event the store never had, under admin's old signature
    (store_dir / audit_heads.FOLDER_FILE).write_text(json.dumps(head))
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        notice = "audit-head.json was not signed by an enabled user of the store"
        assert session.notices == [f"{notice}; it is written again"]
        assert integrity.check_store(session) == [f"audit head: {notice}; it is written again"]
    finally:
        session.close()
    # Written again by the sign-in: a head beyond every event no longer keeps later ones out.
    kept = audit_heads.in_folder(store_dir)
    assert (kept.signer, kept.head.event_id) != ("admin", head["id"])
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert again.notices == []
        assert integrity.check_store(again) == []
    finally:
        again.close()


def test_a_membership_an_administrator_removed_and_bob_put_back_hands_nothing_on(
    granted, store_dir
):
    """K1 in "release" (which "ops" may sign), then out again; bob, who joins "ops"
    later, puts the removed row back with its old attestation: it was revoked."""
    certificate_groups.add_to_groups(granted, ["K1"], ["release", "spare"])
    master = granted.store.master_key()
    (removed,) = _raw_rows(
        store_dir,
        master,
        'SELECT m."group_id", m."certificate_id", m."attestation" FROM '
        '"certificate_group_member" m JOIN "certificate" c ON c."id" = m."certificate_id" '
        'JOIN "certificate_group" g ON g."id" = m."group_id" '
        "WHERE c.\"alias\" = 'K1' AND g.\"name\" = 'release'",
    )
    certificate_groups.remove_from_groups(granted, ["K1"], ["release"])
    session = granted
    users.add_user(session, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
    session.close()
    insert = (
        'INSERT INTO "certificate_group_member" ("group_id", "certificate_id", "attestation") '
        "VALUES (?, ?, ?)"
    )
    _raw_write(store_dir, master, insert, removed)
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        users.add_user(session, "erin", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        assert ("K1", "erin") not in _grants(session)
        certificate_groups.add_to_groups(session, ["K1"], ["night"])  # a change about K1
        assert ("K1", "dave") not in _grants(session)
    finally:
        session.close()


def test_a_revocation_taken_out_of_the_database_is_named_as_tampering(granted, store_dir):
    certificate_groups.add_to_groups(granted, ["K1"], ["release", "spare"])
    certificate_groups.remove_from_groups(granted, ["K1"], ["release"])
    master = granted.store.master_key()
    granted.close()
    _raw_write(store_dir, master, 'DELETE FROM "attestation" WHERE "revokes"', ())
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        with pytest.raises(TamperedError, match="which takes rows back, is gone or changed"):
            users.add_user(session, "dave", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
        assert any("which takes rows back, is gone" in p for p in integrity.check_store(session))
    finally:
        session.close()


def _admin_session(store_dir: Path):
    return users.sign_in(store_dir, "admin", password=PASSWORD)[0]


PLANTED_RENEWAL = (
    'INSERT INTO "request" ("alias", "subject", "csr_pem", "private_key_id", "renews_id", '
    "\"status\", \"created_at\") VALUES ('x', 'x', 'x', ?, ?, 'pending', "
    "'2026-01-01 00:00:00')"
)


def _key_and_certificate(store_dir: Path, master: bytes, alias: str) -> tuple[int, int]:
    return _raw_rows(
        store_dir,
        master,
        'SELECT k."id", c."id" FROM "private_key" k JOIN "certificate" c '
        f'ON c."private_key_id" = k."id" WHERE c."alias" = \'{alias}\'',
    )[0]


def test_a_renewal_bob_plants_does_not_take_the_pin_off_his_wrap(granted, store_dir):
    """Bob plants a pending "renewal" of K2 whose key is K1: the PIN change of K2 that
    follows leaves K1's PIN, which bob does not know, on his wrap."""
    edit = certificate_edits.edit_certificate
    edit(granted, "K1", certificate_edits.GeneralChanges(pin=PIN))
    edit(granted, "K2", certificate_edits.GeneralChanges(pin="carols-pin-1234"))
    master = granted.store.master_key()
    granted.close()
    k1, _ = _key_and_certificate(store_dir, master, "K1")
    _, k2_certificate = _key_and_certificate(store_dir, master, "K2")
    _raw_write(store_dir, master, PLANTED_RENEWAL, (k1, k2_certificate))
    session = _admin_session(store_dir)
    try:
        edit(session, "K2", certificate_edits.GeneralChanges(clear_pin=True))
    finally:
        session.close()
    assert _bob_opens(store_dir, "K1", None) is None
    serialization.load_der_private_key(_bob_opens(store_dir, "K1", PIN), None)


def test_a_key_row_given_a_granted_certificates_public_key_is_refused_when_it_is_resealed(
    granted, store_dir
):
    """K3 (granted to nobody) given K1's public-key hash and a copy of K1's attested
    policy link: the PIN an Administrator sets on K3 re-seals its key, and the new seal is
    checked against the certificate's public key before it is wrapped to anyone."""
    master = granted.store.master_key()
    granted.close()
    k1, c1 = _key_and_certificate(store_dir, master, "K1")
    k3, c3 = _key_and_certificate(store_dir, master, "K3")
    (spki1,) = _raw_rows(
        store_dir, master, f'SELECT "spki_sha256" FROM "private_key" WHERE "id" = {k1}'
    )[0]
    _raw_write(
        store_dir, master, 'UPDATE "private_key" SET "spki_sha256" = ? WHERE "id" = ?', (spki1, k3)
    )
    _raw_write(
        store_dir, master, 'UPDATE "certificate" SET "spki_sha256" = ? WHERE "id" = ?', (spki1, c3)
    )
    _raw_write(
        store_dir,
        master,
        'INSERT INTO "policy_certificate" ("policy_id", "certificate_id", "attestation") '
        'SELECT "policy_id", ?, "attestation" FROM "policy_certificate" WHERE "certificate_id" = ?',
        (c3, c1),
    )
    session = _admin_session(store_dir)
    try:
        with pytest.raises(TamperedError, match="is not the key of its public key"):
            certificate_edits.edit_certificate(
                session, "K3", certificate_edits.GeneralChanges(pin=PIN)
            )
        assert ("K3", "bob") not in _grants(session)
    finally:
        session.close()


def test_a_folder_head_beyond_any_event_is_refused_not_an_error(
    granted, store_dir, tmp_path, monkeypatch
):
    """Bob signs a folder head naming event 2**64 with his own certified key: every
    workstation's sign-in still works, and the head is not taken."""
    slots, opened = _as_bob(granted, store_dir)
    head = audit_head(slots.store_id, 2**64, "0" * 64, 0)
    signature = UserKeys(opened.private).sign(head)
    (store_dir / audit_heads.FOLDER_FILE).write_text(
        json.dumps(
            {
                "id": 2**64,
                "hash": "0" * 64,
                "roster": 0,
                "by": "bob",
                "signature": base64.b64encode(signature).decode(),
            }
        )
    )
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "another-workstation"))
    notices = []
    for name, password in (("admin", PASSWORD), ("carol", SIGNER_PASSWORD)):
        session, _ = users.sign_in(store_dir, name, password=password)
        notices.append(session.notices)
        session.close()
    unsigned = "audit-head.json was not signed by an enabled user of the store"
    assert notices == [[f"{unsigned}; it is written again"], []]


def test_a_second_custodian_row_with_an_older_roster_is_tampering(granted, store_dir):
    """Disabled, bob puts back the roster he copied before, in a custodian row of its
    own that sorts first, and his older record."""
    master = granted.store.master_key()
    columns = (
        '"public_keys", "awaiting", "awaiting_signature", "audit_from", '
        '"audit_from_signature", "roster", "roster_serial", "roster_signature"'
    )
    (kept,) = _raw_rows(store_dir, master, f'SELECT {columns} FROM "custodian"')
    record = _record_of(store_dir, master, "bob")
    users.disable_user(granted, "bob")
    granted.close()
    insert = f'INSERT INTO "custodian" ("id", {columns}) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)'
    _raw_write(store_dir, master, insert, kept)
    _put_back(store_dir, master, "bob", record)
    with pytest.raises(TamperedError, match="more than one custodian"):
        users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)


@pytest.mark.parametrize("change", ["disabled", "no longer an Administrator"])
def test_an_older_record_stays_refused_after_an_administrator_changes_another_user(
    granted, store_dir, change
):
    """The roster each user change signs is the one the custodian signed before, with
    that user's line changed: never the rows as the database holds them."""
    if change == "disabled":
        users.add_user(granted, "dora", SIGNER_PASSWORD, SIGNER)
    else:
        users.add_user(granted, "dora", SIGNER_PASSWORD, ADMINISTRATOR)
    master = granted.store.master_key()
    record = _record_of(store_dir, master, "dora")
    if change == "disabled":
        users.disable_user(granted, "dora")
    else:
        users.set_user_role(granted, "dora", SIGNER)
    granted.close()
    _put_back(store_dir, master, "dora", record)
    session = _admin_session(store_dir)
    try:
        users.add_user(session, "dave", SIGNER_PASSWORD, SIGNER)
    finally:
        session.close()
    _admin_session(store_dir).close()  # the next custodian sign-in makes the wraps owed
    with pytest.raises(TamperedError, match="the role or state of 'dora' is not one"):
        users.sign_in(store_dir, "dora", password=SIGNER_PASSWORD)
    wrapped = 'SELECT count(*) FROM "custodian_wrap" w JOIN "user" u ON u."id" = w."user_id" '
    assert _raw_rows(store_dir, master, wrapped + "WHERE u.\"name\" = 'dora'") == [(0,)]


def test_a_deleted_groups_policy_link_put_back_reaches_no_new_group_of_the_same_id(
    granted, store_dir
):
    """SQLite gives a new group the id of the one deleted before it: the link of a policy
    to the deleted group, put back with its attestation, was revoked with the group."""
    certificate_groups.add_to_groups(granted, ["K1"], ["tools"])
    spec = PolicySpec("bob signs tools", certificate_groups=("tools",), users=("bob",))
    policies.add_policy(granted, spec)
    master = granted.store.master_key()
    (removed,) = _raw_rows(
        store_dir,
        master,
        'SELECT l."policy_id", l."group_id", l."attestation" FROM "policy_certificate_group" l '
        'JOIN "certificate_group" g ON g."id" = l."group_id" WHERE g."name" = \'tools\'',
    )
    certificate_groups.delete_group(granted, "tools")
    certificate_groups.create_group(granted, "secret")
    granted.close()
    (new_id,) = _raw_rows(
        store_dir, master, 'SELECT "id" FROM "certificate_group" WHERE "name" = \'secret\''
    )[0]
    assert new_id == removed[1]
    insert = (
        'INSERT INTO "policy_certificate_group" ("policy_id", "group_id", "attestation") '
        "VALUES (?, ?, ?)"
    )
    _raw_write(store_dir, master, insert, removed)
    session = _admin_session(store_dir)
    try:
        certificate_groups.add_to_groups(session, ["K3"], ["secret"])
        assert ("K3", "bob") not in _grants(session)
    finally:
        session.close()


def test_an_older_record_signed_again_on_a_workstation_that_never_saw_the_newer_is_undone(
    granted, store_dir, tmp_path, monkeypatch
):
    """Dora puts back her older record and roster after admin disabled her on W1, and
    takes the folder's head away. Alice, another Administrator, on W2 (which never saw
    the newer roster) changes another user: the older record is signed again, at a
    higher serial. W1 still knows dora's newer record by its version: she is refused
    there, and admin's sign-in there disables her again."""
    w1, w2 = tmp_path / "w1", tmp_path / "w2"
    monkeypatch.setenv("XDG_STATE_HOME", str(w1))
    users.add_user(granted, "dora", SIGNER_PASSWORD, SIGNER)
    users.add_user(granted, "alice", SIGNER_PASSWORD, ADMINISTRATOR)
    master = granted.store.master_key()
    record = _record_of(store_dir, master, "dora")
    roster = _roster_of(store_dir, master)
    granted.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(w2))
    users.sign_in(store_dir, "alice", password=SIGNER_PASSWORD)[0].close()  # W2 sees it
    monkeypatch.setenv("XDG_STATE_HOME", str(w1))
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    users.disable_user(admin, "dora")
    admin.close()
    _put_back(store_dir, master, "dora", record)
    _put_back_roster(store_dir, master, roster)
    (store_dir / audit_heads.FOLDER_FILE).unlink()
    monkeypatch.setenv("XDG_STATE_HOME", str(w2))
    alice, _ = users.sign_in(store_dir, "alice", password=SIGNER_PASSWORD)
    try:
        users.set_user_role(alice, "bob", CERTIFICATE_MANAGER)  # signs the roster again
    finally:
        alice.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(w1))
    with pytest.raises(TamperedError, match="'dora' is older than the one this workstation"):
        users.sign_in(store_dir, "dora", password=SIGNER_PASSWORD)
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert any(n.endswith("were put back as it saw them: 'dora'") for n in admin.notices)
        assert [r.enabled for r in users.list_users(admin) if r.name == "dora"] == [False]
    finally:
        admin.close()
    with pytest.raises(AuthenticationError, match="'dora' is not allowed to sign in"):
        users.sign_in(store_dir, "dora", password=SIGNER_PASSWORD)


def test_a_record_put_back_stays_newer_than_one_a_stale_workstation_kept(
    granted, store_dir, tmp_path, monkeypatch
):
    """W_D last saw carol enabled after two changes; W_C saw her disabled after a third.
    An old database (carol at her first record) is put back: W_C's Administrator puts
    her back as disabled, newer than anything W_D kept, so W_D's Administrator does not
    enable her again."""
    w_d, w_c = tmp_path / "w_d", tmp_path / "w_c"
    granted.close()
    old = tmp_path / "old.db"
    shutil.copy(store_dir / "certdesk.db", old)
    monkeypatch.setenv("XDG_STATE_HOME", str(w_d))
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    users.disable_user(admin, "carol")
    users.enable_user(admin, "carol")
    admin.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(w_c))
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    users.disable_user(admin, "carol")
    admin.close()
    for name in ("certdesk.db-wal", "certdesk.db-shm", audit_heads.FOLDER_FILE):
        (store_dir / name).unlink(missing_ok=True)
    shutil.copy(old, store_dir / "certdesk.db")
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    assert any(n.endswith("were put back as it saw them: 'carol'") for n in admin.notices)
    admin.close()
    monkeypatch.setenv("XDG_STATE_HOME", str(w_d))
    admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        assert not any("were put back" in n for n in admin.notices)
        assert [r.enabled for r in users.list_users(admin) if r.name == "carol"] == [False]
    finally:
        admin.close()
