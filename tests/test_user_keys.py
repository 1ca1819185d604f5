"""Each user's key pairs (issue 12, part 1): made at `init` and `user add`, sealed in the
user's slot under their password, the master key wrapped to them, and given to the users
of an older store at their next sign-in under the same KEK."""

import base64
import json
import os

import keyring
import pytest

from app import keyslots, remember
from app.crypto.user_keys import PRIVATE_BYTES, UserKeys, WrapError
from app.errors import (
    AuthenticationError,
    CertdeskError,
    StoreDamagedError,
    StoreFullError,
    ValidationError,
)
from app.services import audit_log, integrity, logins, users
from models import AuditEvent, User
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.stores import PASSWORD
from tests.test_migrations import BOB_PASSWORD, FIXTURE, FIXTURE_PASSWORD, v1_copy

BOB = "a good long password"


def _slots(folder) -> dict:
    return json.loads((folder / "keyslots.json").read_text())


def _save(folder, doc: dict) -> None:
    (folder / "keyslots.json").write_text(json.dumps(doc))


def _public_in_row(session, name: str) -> bytes | None:
    public = User.get(User.name == name).public_keys
    return None if public is None else bytes(public)


# -- the key pairs themselves -----------------------------------------------------------


def test_a_wrap_opens_only_with_its_keys_and_for_its_purpose():
    alice, bob = UserKeys.generate(), UserKeys.generate()
    wrapped = alice.public().wrap(b"k" * 32, b"purpose one")
    assert alice.unwrap(wrapped, b"purpose one") == b"k" * 32
    assert wrapped != alice.public().wrap(b"k" * 32, b"purpose one")  # a fresh KEM each time
    with pytest.raises(WrapError):
        alice.unwrap(wrapped, b"purpose two")
    with pytest.raises(WrapError):
        bob.unwrap(wrapped, b"purpose one")
    changed = bytearray(wrapped)
    changed[-1] ^= 1
    with pytest.raises(WrapError):
        alice.unwrap(bytes(changed), b"purpose one")


def test_the_private_halves_come_back_as_the_same_keys():
    keys = UserKeys.generate()
    again = UserKeys(keys.private_bytes())
    assert len(keys.private_bytes()) == PRIVATE_BYTES
    assert again.public() == keys.public()
    assert again.unwrap(keys.public().wrap(b"secret", b"p"), b"p") == b"secret"
    with pytest.raises(ValueError, match="private keys must be"):
        UserKeys(keys.private_bytes()[:-1])


def test_a_signature_verifies_only_for_its_data_and_signer():
    alice, bob = UserKeys.generate(), UserKeys.generate()
    signature = alice.sign(b"event 1")
    assert alice.public().verify(signature, b"event 1")
    assert not alice.public().verify(signature, b"event 2")
    assert not bob.public().verify(signature, b"event 1")


# -- slots with key pairs ---------------------------------------------------------------


def test_a_new_store_and_a_new_user_get_key_pairs_in_their_slots(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    doc = _slots(store_dir)
    assert doc["version"] == keyslots.VERSION == 2
    for name in ("admin", "bob"):
        slot = doc["slots"][name]
        assert "wrapped" not in slot
        public = base64.b64decode(slot["public"])
        # The store keeps the same public halves with the user, for wrapping keys to them.
        assert _public_in_row(session, name) == public
    assert doc["slots"]["admin"]["public"] != doc["slots"]["bob"]["public"]
    master = session.store.master_key()
    session.close()
    signed_in, _ = users.sign_in(store_dir, "bob", password=BOB)
    try:
        assert signed_in.store.master_key() == master
    finally:
        signed_in.close()
    with pytest.raises(AuthenticationError, match="Wrong password for user 'bob'"):
        users.sign_in(store_dir, "bob", password=BOB + "!")


def test_a_slot_moved_to_another_user_or_with_other_public_keys_does_not_open(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    session.close()
    doc = _slots(store_dir)
    original = json.dumps(doc)
    # Bob's slot under the admin's name: his password no longer opens it.
    doc["slots"]["admin"] = doc["slots"]["bob"]
    _save(store_dir, doc)
    with pytest.raises(AuthenticationError, match="Wrong password"):
        users.sign_in(store_dir, "admin", password=BOB)
    # Bob's slot with the admin's public halves: it no longer opens with his password.
    doc = json.loads(original)
    doc["slots"]["bob"]["public"] = doc["slots"]["admin"]["public"]
    _save(store_dir, doc)
    with pytest.raises(AuthenticationError, match="Wrong password"):
        users.sign_in(store_dir, "bob", password=BOB)
    # The admin's wrap of the master key in bob's slot: bob's keys do not open it.
    doc = json.loads(original)
    doc["slots"]["bob"]["master"] = doc["slots"]["admin"]["master"]
    _save(store_dir, doc)
    with pytest.raises(StoreDamagedError, match="slot of 'bob' is damaged"):
        users.sign_in(store_dir, "bob", password=BOB)
    _save(store_dir, json.loads(original))
    users.sign_in(store_dir, "bob", password=BOB)[0].close()


# -- a store made before key pairs ------------------------------------------------------


def test_an_older_stores_users_get_key_pairs_at_their_next_sign_in(tmp_path):
    folder = v1_copy(tmp_path)
    before = keyslots.KeySlots.load(folder)
    assert not any(slot.keyed for slot in before.slots.values())
    remembered = before.kek_for("bob", BOB_PASSWORD)  # as "remember me" keeps it
    bob, kek = users.sign_in(folder, "bob", password=BOB_PASSWORD)
    try:
        assert kek == remembered
        assert _public_in_row(bob, "bob") == keyslots.KeySlots.load(folder).slots["bob"].public
        assert _public_in_row(bob, "admin") is None  # until the admin signs in
        master = bob.store.master_key()
    finally:
        bob.close()
    after = keyslots.KeySlots.load(folder)
    assert after.slots["bob"].keyed and not after.slots["admin"].keyed
    assert _slots(folder)["version"] == 2
    # The remembered KEK opens the keyed slot, the password too.
    again, _ = users.sign_in(folder, "bob", kek=remembered)
    again.close()
    admin, _ = users.sign_in(folder, "admin", password=FIXTURE_PASSWORD)
    try:
        assert admin.store.master_key() == master
        assert keyslots.KeySlots.load(folder).slots["admin"].keyed
        made = [e.user for e in audit_log.list_events(admin) if e.action == "user.keys"]
        assert sorted(made) == ["admin", "bob"]  # once each, however often they sign in
        assert integrity.check_store(admin) == []
    finally:
        admin.close()


def test_a_sign_in_killed_before_its_commit_gives_the_row_its_keys_at_the_next(tmp_path):
    folder = v1_copy(tmp_path)
    slots = keyslots.KeySlots.load(folder)
    kek = slots.kek_for("bob", BOB_PASSWORD)
    # What a sign-in killed after writing the slot file and before its commit leaves.
    slots.slots["bob"] = keyslots.upgraded(slots.store_id, "bob", slots.slots["bob"], kek)
    slots.save(folder)
    bob, _ = users.sign_in(folder, "bob", password=BOB_PASSWORD)
    try:
        assert _public_in_row(bob, "bob") == slots.slots["bob"].public
    finally:
        bob.close()
    assert keyslots.KeySlots.load(folder).slots["bob"] == slots.slots["bob"]  # not made again


def test_check_names_a_slot_whose_public_keys_differ_from_the_users(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    assert integrity.check_store(session) == []
    User.update(public_keys=UserKeys.generate().public().raw).where(User.name == "bob").execute()
    problems = integrity.check_store(session)
    assert problems == [
        "key slots: the public keys of 'bob' differ from those the store keeps for them",
        "user 'bob': the custodian did not certify the keys kept for them",
    ]


def test_no_secret_of_a_slot_is_in_its_file(session, store_dir):
    raw = (store_dir / "keyslots.json").read_bytes()
    decoded = b"".join(
        base64.b64decode(value)
        for slot in json.loads(raw)["slots"].values()
        for value in slot.values()
        if isinstance(value, str) and value != "argon2id"
    )
    master = session.store.master_key()
    assert master not in raw and master not in decoded
    assert os.fsencode(PASSWORD) not in raw


def test_signing_in_to_a_copy_leaves_the_fixture_of_version_1(tmp_path):
    users.sign_in(v1_copy(tmp_path), "bob", password=BOB_PASSWORD)[0].close()
    assert _slots(FIXTURE)["version"] == 1


# -- changing one's own password ----------------------------------------------------------

NEW = "a new and longer password"


def test_a_changed_password_opens_the_same_keys_and_the_old_one_nothing(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    session.close()
    bob, _ = users.sign_in(store_dir, "bob", password=BOB)
    before = keyslots.KeySlots.load(store_dir).slots
    try:
        users.change_password(bob, BOB, NEW)
        master = bob.store.master_key()
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        assert (last.user, last.action, last.target) == ("bob", "user.password", "bob")
    finally:
        bob.close()
    after = keyslots.KeySlots.load(store_dir).slots
    assert after["admin"] == before["admin"]  # only one's own slot changes
    assert (after["bob"].public, after["bob"].master) == (
        before["bob"].public,
        before["bob"].master,
    )
    assert after["bob"].salt != before["bob"].salt
    with pytest.raises(AuthenticationError, match="Wrong password"):
        users.sign_in(store_dir, "bob", password=BOB)
    again, _ = users.sign_in(store_dir, "bob", password=NEW)
    try:
        assert again.store.master_key() == master
    finally:
        again.close()


@pytest.mark.parametrize(
    ("current", "new", "says"),
    [
        ("not my password", NEW, "current password: wrong password for 'admin'"),
        (PASSWORD, "short", "password: at least 12 characters"),
        (PASSWORD, PASSWORD, "new password: the same as the current one"),
    ],
)
def test_a_refused_password_change_changes_nothing(session, store_dir, current, new, says):
    before = (store_dir / "keyslots.json").read_bytes()
    events = AuditEvent.select().count()
    with pytest.raises(ValidationError, match=says):
        users.change_password(session, current, new)
    assert (store_dir / "keyslots.json").read_bytes() == before
    assert AuditEvent.select().count() == events


def test_a_slot_changed_meanwhile_is_not_written_over(session, store_dir):
    # This window read the slot and sealed its change; another one's change came first.
    stale = keyslots.KeySlots.load(store_dir)
    mine, _ = stale.resealed("admin", stale.kek_for("admin", PASSWORD), "a third long password")
    users.change_password(session, PASSWORD, NEW)
    with (
        session.store.db.atomic("IMMEDIATE"),
        pytest.raises(CertdeskError, match="changed meanwhile"),
    ):
        session.store.replace_slot("admin", stale.slots["admin"], mine)
    users.sign_in(store_dir, "admin", password=NEW)[0].close()


def test_a_version_1_slot_resealed_gets_key_pairs(tmp_path):
    folder = v1_copy(tmp_path)
    slots = keyslots.KeySlots.load(folder)
    kek = slots.kek_for("bob", BOB_PASSWORD)
    slot, new_kek = slots.resealed("bob", kek, NEW)
    assert slot.keyed
    slots.slots["bob"] = slot
    admin_kek = slots.kek_for("admin", FIXTURE_PASSWORD)
    assert slots.open("bob", new_kek).master_key == slots.open("admin", admin_kek).master_key


def test_user_passwd_changes_the_password_of_who_signed_in(cli, store_dir, session):
    users.add_user(session, "bob", BOB, "Signer")
    session.close()
    as_bob = {"CERTDESK_USER": "bob", "CERTDESK_PASSWORD": BOB, "CERTDESK_NEW_PASSWORD": NEW}
    changed = cli("user", "passwd", env_extra=as_bob)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "Changed the password of 'bob'.\n"
    users.sign_in(store_dir, "bob", password=NEW)[0].close()
    users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()  # untouched
    # No copy beside the slot file opens with the old password either.
    for name in (keyslots.SLOTS_FILE, keyslots.BACKUP_FILE):
        copy = keyslots.KeySlots.load(store_dir, name)
        with pytest.raises(AuthenticationError):
            copy.open("bob", copy.kek_for("bob", BOB))
    refused = cli(
        "user",
        "passwd",
        env_extra=as_bob | {"CERTDESK_PASSWORD": NEW, "CERTDESK_NEW_PASSWORD": "short"},
    )
    assert refused.returncode != 0
    assert refused.stderr.strip().endswith("password: at least 12 characters")


def test_a_remembered_login_is_kept_with_the_new_password(session, store_dir):
    original = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    remember.reset()
    try:
        store_id = session.store.store_id
        remember.remember(
            store_id, "admin", keyslots.KeySlots.load(store_dir).kek_for("admin", PASSWORD)
        )
        logins.keep_remembered(session, users.change_password(session, PASSWORD, NEW))
        kek = remember.recall(store_id, "admin")
        assert kek == keyslots.KeySlots.load(store_dir).kek_for("admin", NEW)
        users.sign_in(store_dir, "admin", kek=kek)[0].close()
        remember.forget(store_id, "admin")
        # Not remembered: not remembered after either.
        logins.keep_remembered(session, users.change_password(session, NEW, PASSWORD + "!"))
        assert remember.recall(store_id, "admin") is None
    finally:
        keyring.set_keyring(original)
        remember.reset()


def test_a_password_change_whose_commit_fails_keeps_the_old_password(
    session, store_dir, monkeypatch
):
    import peewee

    def full(*_args, **_kwargs):
        raise peewee.OperationalError("database or disk is full")

    monkeypatch.setattr(type(session.store.db), "commit", full)
    with pytest.raises(StoreFullError):
        users.change_password(session, PASSWORD, NEW)
    monkeypatch.undo()
    slots = keyslots.KeySlots.load(store_dir)
    slots.open("admin", slots.kek_for("admin", PASSWORD))
    with pytest.raises(AuthenticationError):
        slots.open("admin", slots.kek_for("admin", NEW))
