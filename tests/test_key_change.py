"""A change of the store's key is taken only as the custodian signed it: from the key the
database has to the next key the slots hold. A next key planted in the slot file, a
signed change put back later, or a database rekeyed by someone else is not taken; a
change that waits is said at each sign-in and by `check`, and one whose next key was
taken out is made again by an Administrator's sign-in. A disk without room for the
rekey refuses the change before anything changes."""

import base64
import json
import secrets
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from app import keyslots, store
from app.crypto.sealing import derive_subkey
from app.crypto.user_keys import PublicKeys, UserKeys
from app.errors import StoreFullError, TamperedError
from app.services import audit_log, integrity, journal, users
from models.base import using
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD
from tests.test_key_custody import _raw_rows, _raw_write
from tests.test_user_revocation import _opens


def _plant_next(store_dir: Path, key: bytes, only: str | None = None) -> None:
    """What anyone who may write the folder can do: `key` wrapped, as a next master key,
    to the public keys each slot shows (or only to `only`'s)."""
    path = store_dir / "keyslots.json"
    doc = json.loads(path.read_text())
    for user, slot in doc["slots"].items():
        if only in (None, user):
            public = PublicKeys(base64.b64decode(slot["public"]))
            wrap = public.wrap(key, keyslots.master_purpose(doc["store_id"], user))
            slot["next"] = base64.b64encode(wrap).decode()
    path.write_text(json.dumps(doc))


def _database_opens_with(store_dir: Path, key: bytes) -> bool:
    try:
        _raw_rows(store_dir, key, "SELECT count(*) FROM sqlite_master")
    except Exception:
        return False
    return True


def _sign_in(store_dir: Path, name: str = "admin", password: str = PASSWORD):
    return users.sign_in(store_dir, name, password=password)[0]


def test_a_next_key_planted_in_the_slot_file_is_not_taken(granted, store_dir, tmp_path):
    """After bob's delete, someone with the folder and no password wraps a key of theirs
    to every slot: the next sign-in, anyone's, takes it out and says so."""
    users.delete_users(granted, ["bob"])
    granted.close()
    planted = secrets.token_bytes(32)
    _plant_next(store_dir, planted)
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        (notice,) = carol.notices
        assert notice.startswith("keyslots.json held a change of the store's key that no")
    finally:
        carol.close()
    assert not _database_opens_with(store_dir, planted)
    slots = keyslots.KeySlots.load(store_dir)
    assert sorted(slots.slots) == ["admin", "carol"]
    assert all(slot.next is None for slot in slots.slots.values())
    admin = _sign_in(store_dir)
    try:
        assert admin.notices == []
        events = [e for e in audit_log.list_events(admin) if e.action == "store.rekey"]
        assert [(e.user, e.outcome) for e in events] == [("admin", "allowed"), ("carol", "denied")]
        assert integrity.check_store(admin) == []
    finally:
        admin.close()


def test_a_next_key_planted_in_one_slot_drops_no_other(granted, store_dir):
    granted.close()
    _plant_next(store_dir, secrets.token_bytes(32), only="admin")
    _sign_in(store_dir).close()
    assert sorted(keyslots.KeySlots.load(store_dir).slots) == ["admin", "bob", "carol"]
    _sign_in(store_dir, "bob", SIGNER_PASSWORD).close()


def test_a_signed_change_put_back_after_a_later_one_is_not_taken(granted, store_dir, tmp_path):
    """The slot file of a change that waited (signed from the key of then to the next)
    put back once the store has moved on: its next key, which bob had, is not taken."""
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        assert users.delete_users(granted, ["bob"]) is not None  # waits for carol
        waiting = (store_dir / "keyslots.json").read_bytes()
        granted.close()
    finally:
        carol.close()
    admin = _sign_in(store_dir)  # finishes it
    try:
        users.add_user(admin, "dave", SIGNER_PASSWORD, "Signer")
        users.delete_users(admin, ["dave"])
        now = admin.store.master_key()
    finally:
        admin.close()
    old = json.loads(waiting)
    doc = json.loads((store_dir / "keyslots.json").read_text())
    for user, slot in doc["slots"].items():
        slot["next"] = old["slots"][user]["next"]
    doc["rotation"] = old["rotation"]
    (store_dir / "keyslots.json").write_text(json.dumps(doc))
    admin = _sign_in(store_dir)
    try:
        (notice,) = admin.notices
        assert "no custodian signed" in notice
        assert _database_opens_with(store_dir, now)
    finally:
        admin.close()


def test_a_database_rekeyed_by_someone_who_is_not_custodian_is_refused(granted, store_dir):
    """Carol, who has the store's key, rekeys the database to a key of hers and wraps it
    to every slot: refused as tampering, never made everyone's key."""
    master = granted.store.master_key()
    granted.close()
    hers = secrets.token_bytes(32)
    key = derive_subkey(hers, "sqlcipher").hex()
    _raw_rows(store_dir, master, f"PRAGMA rekey = \"x'{key}'\"")
    _plant_next(store_dir, hers)
    with pytest.raises(TamperedError, match="changed by someone who is not its custodian"):
        _sign_in(store_dir)
    slots = keyslots.KeySlots.load(store_dir)
    assert all(slot.next is not None for slot in slots.slots.values())  # left as found


def test_a_change_whose_next_key_was_taken_out_is_made_again(granted, store_dir, tmp_path):
    """Bob, deleted while carol held the store open, still knows its key: he takes the
    waiting next key out of the slot file. A Signer's sign-in says the change is owed;
    the next Administrator's makes it with a new key."""
    kept = tmp_path / "kept.json"
    shutil.copy(store_dir / "keyslots.json", kept)
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        users.delete_users(granted, ["bob"])
        granted.close()
    finally:
        carol.close()
    path = store_dir / "keyslots.json"
    doc = json.loads(path.read_text())
    for slot in doc["slots"].values():
        del slot["next"]
    del doc["rotation"]
    path.write_text(json.dumps(doc))
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        (notice,) = carol.notices
        assert "is not finished" in notice and "an Administrator's next sign-in" in notice
    finally:
        carol.close()
    assert _opens(store_dir, kept, "bob", SIGNER_PASSWORD)
    admin = _sign_in(store_dir)
    try:
        (notice,) = admin.notices
        assert notice.endswith(
            "had lost its next key from the slot file; it was made again, with a new key"
        )
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    assert not _opens(store_dir, kept, "bob", SIGNER_PASSWORD)
    _sign_in(store_dir, "carol", SIGNER_PASSWORD).close()


Usage = namedtuple("Usage", "total used free")


def test_a_disk_without_room_for_the_rekey_refuses_the_delete(granted, store_dir, monkeypatch):
    """A rekey that runs out of room leaves pages under either key: a delete is refused
    first, with nothing changed, when the disk cannot take the rekey's journal."""
    size = (store_dir / "certdesk.db").stat().st_size
    monkeypatch.setattr(store.shutil, "disk_usage", lambda _: Usage(size * 4, size * 4, size))
    slot_file = (store_dir / "keyslots.json").read_bytes()
    with pytest.raises(StoreFullError, match=r"the disk has .* MiB free.*Nothing was changed"):
        users.delete_users(granted, ["bob"])
    assert (store_dir / "keyslots.json").read_bytes() == slot_file
    assert [r.name for r in users.list_users(granted)] == ["admin", "bob", "carol"]


def test_a_user_added_while_the_change_waits_opens_the_store_after_it(granted, store_dir):
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        assert users.delete_users(granted, ["bob"]) is not None
        users.add_user(granted, "dave", SIGNER_PASSWORD, "Signer")
        granted.close()
    finally:
        carol.close()
    _sign_in(store_dir).close()  # finishes the change
    assert all(slot.next is None for slot in keyslots.KeySlots.load(store_dir).slots.values())
    dave = _sign_in(store_dir, "dave", SIGNER_PASSWORD)
    try:
        assert [r.name for r in users.list_users(dave)] == ["admin", "carol", "dave"]
    finally:
        dave.close()


def test_a_change_made_while_the_last_one_is_half_done_leaves_every_slot_opening(
    granted, store_dir, monkeypatch
):
    """Bob's delete rekeys the database, and its slot file cannot be written; carol holds
    the store open, so dave's delete waits for its own rekey. Each slot's master key is
    the one the database has, so everyone still signs in, and the next sign-in alone
    finishes it."""
    keep_rotated = store._keep_rotated

    def no_room(_):
        raise StoreFullError("keyslots.json: cannot write the key-slot file (the disk is full)")

    monkeypatch.setattr(store, "_keep_rotated", no_room)
    assert "the disk is full" in users.delete_users(granted, ["bob"])
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        (notice,) = carol.notices
        assert notice.startswith("the change of the store's key is not finished: keyslots.json")
        monkeypatch.setattr(store, "_keep_rotated", keep_rotated)
        users.add_user(granted, "dave", SIGNER_PASSWORD, "Signer")
        assert "another Certdesk" in users.delete_users(granted, ["dave"])
        granted.close()
    finally:
        carol.close()
    for name, password in (("carol", SIGNER_PASSWORD), ("admin", PASSWORD)):
        session = _sign_in(store_dir, name, password)
        try:
            assert session.notices == []
        finally:
            session.close()
    slots = keyslots.KeySlots.load(store_dir)
    assert sorted(slots.slots) == ["admin", "carol"]
    assert all(slot.next is None for slot in slots.slots.values())


def _waiting_delete_of_bob(granted, store_dir: Path, tmp_path: Path) -> tuple[bytes, UserKeys]:
    """Bob deleted while carol holds the store open: the change of key waits. Returns
    the key the database still has and bob's own keys, both of which he keeps."""
    kept = tmp_path / "bobs-copy"
    kept.mkdir()
    shutil.copy(store_dir / "keyslots.json", kept / "keyslots.json")
    slots = keyslots.KeySlots.load(kept)
    bob = UserKeys(slots.open("bob", slots.kek_for("bob", SIGNER_PASSWORD)).private)
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        assert users.delete_users(granted, ["bob"]) is not None
        master = granted.store.master_key()
        granted.close()
    finally:
        carol.close()
    return master, bob


def _take_next_keys_out(store_dir: Path, only: str | None = None) -> None:
    path = store_dir / "keyslots.json"
    doc = json.loads(path.read_text())
    for user, slot in doc["slots"].items():
        if only in (None, user):
            slot.pop("next", None)
    path.write_text(json.dumps(doc))


def test_an_event_bob_adds_after_the_change_does_not_make_it_forgotten(
    granted, store_dir, tmp_path
):
    """Bob, deleted, still knows the database's key while the change waits: he appends a
    store.rekey event of his own naming another key and takes the next keys out. The
    change is still owed, the next Administrator's sign-in makes it, and his event is
    named: nobody acts once deleted."""
    master, bob = _waiting_delete_of_bob(granted, store_dir, tmp_path)
    store_id = keyslots.KeySlots.load(store_dir).store_id
    raw = store._open(store_dir, store_id, bytearray(master), existing=True)
    try:
        with using(raw.db), raw.db.atomic("IMMEDIATE"), journal.signed_by("bob", bob, store_id):
            journal.record("bob", "store.rekey", "", from_key="0" * 64)
    finally:
        raw.close()
    _take_next_keys_out(store_dir)
    admin = _sign_in(store_dir)
    try:
        (notice,) = admin.notices
        assert "it was made again, with a new key" in notice
        (problem,) = integrity.check_store(admin)
        assert (
            problem.startswith("audit event ")
            and "written by a user after their deletion" in problem
        )
    finally:
        admin.close()
    assert not _database_opens_with(store_dir, master)


def test_a_next_key_taken_out_of_one_slot_locks_nobody_out(granted, store_dir, tmp_path):
    """While the change waits, someone with the folder takes the next key out of the
    Administrator's slot only: carol's sign-in must not finish it without them. The
    change is one nobody signed as it is now; the Administrator's sign-in makes it
    anew."""
    master, _ = _waiting_delete_of_bob(granted, store_dir, tmp_path)
    _take_next_keys_out(store_dir, only="admin")
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        unsigned, waits = carol.notices
        assert "no custodian signed" in unsigned
        assert "is not finished" in waits and "an Administrator's next sign-in" in waits
    finally:
        carol.close()
    admin = _sign_in(store_dir)
    try:
        assert "made again, with a new key" in admin.notices[0]
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    assert not _database_opens_with(store_dir, master)
    _sign_in(store_dir, "carol", SIGNER_PASSWORD).close()


def test_a_deleted_users_row_set_back_gets_no_next_key(granted, store_dir, tmp_path):
    """Bob sets his row back to not deleted and puts his old slot back, while the change
    waits; the Administrator's new change leaves his slot out all the same."""
    old_slot = json.loads((store_dir / "keyslots.json").read_text())["slots"]["bob"]
    master, _ = _waiting_delete_of_bob(granted, store_dir, tmp_path)
    _raw_write(store_dir, master, 'UPDATE "user" SET "deleted" = 0 WHERE "name" = ?', ("bob",))
    path = store_dir / "keyslots.json"
    doc = json.loads(path.read_text())
    doc.pop("rotation")
    for slot in doc["slots"].values():
        slot.pop("next")
    doc["slots"]["bob"] = old_slot
    path.write_text(json.dumps(doc))
    _sign_in(store_dir).close()
    assert sorted(keyslots.KeySlots.load(store_dir).slots) == ["admin", "carol"]
    assert not _database_opens_with(store_dir, master)


def test_an_event_put_in_an_administrators_name_is_not_covered_by_their_next(granted, store_dir):
    """Carol appends an unsigned event in admin's name: admin's next signed append does not
    cover it, and `check` names it."""
    master = granted.store.master_key()
    granted.close()
    store_id = keyslots.KeySlots.load(store_dir).store_id
    raw = store._open(store_dir, store_id, bytearray(master), existing=True)
    try:
        with using(raw.db), raw.db.atomic("IMMEDIATE"):
            journal.record("admin", "user.role", "carol", role="Administrator", was="Signer")
    finally:
        raw.close()
    admin = _sign_in(store_dir)
    try:
        users.add_user(admin, "dave", SIGNER_PASSWORD, "Signer")  # admin's next append
        planted = [e for e in audit_log.list_events(admin) if e.action == "user.role"]
        assert len(planted) == 1
        (problem,) = integrity.check_store(admin)
        assert "no signature of its user covers it" in problem
    finally:
        admin.close()


def test_an_add_cut_short_while_the_change_waits_leaves_it_signed(granted, store_dir, monkeypatch):
    """Dave's add writes his slot, with the next key and the change signed again, and
    never commits: the next sign-in drops his slot and takes the change as signed before
    it, and finishes it."""
    carol = _sign_in(store_dir, "carol", SIGNER_PASSWORD)
    try:
        assert users.delete_users(granted, ["bob"]) is not None
        add_slot = granted.store.add_slot

        def cut_short(*args):
            add_slot(*args)
            raise OSError("killed")

        monkeypatch.setattr(granted.store, "add_slot", cut_short)
        with pytest.raises(OSError, match="killed"):
            users.add_user(granted, "dave", SIGNER_PASSWORD, "Signer")
        assert "dave" in keyslots.KeySlots.load(store_dir).slots
        granted.close()
    finally:
        carol.close()
    admin = _sign_in(store_dir)
    try:
        assert admin.notices == []
        assert integrity.check_store(admin) == []
    finally:
        admin.close()
    slots = keyslots.KeySlots.load(store_dir)
    assert sorted(slots.slots) == ["admin", "carol"]
    assert all(slot.next is None for slot in slots.slots.values())
