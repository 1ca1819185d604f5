"""Opening and creating a store folder: key slots, the SQLCipher connection, migrations.

A store is a folder holding `certdesk.db` (SQLCipher 4, opened with a random 256-bit raw
key, so no KDF runs per connection) and `keyslots.json` (one slot per user, opening the
user's key pairs and through them the master key). Private keys are sealed again inside
the database under a sub-key.

A database with a slot file is a store, whatever state it is in: nothing here removes
either. A store is made (by init or restore) with its slot file last; until then a marker
file says that the folder holds a half-made store, which the next init or restore clears.
"""

import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import peewee
from sqlcipher3 import dbapi2 as sqlcipher

import models
from app.crypto.sealing import Sealer, derive_subkey
from app.crypto.user_keys import UserKeys
from app.errors import (
    CertdeskError,
    NewerSchemaError,
    SchemaMigrationError,
    StoreBusyError,
    StoreDamagedError,
    StoreExistsError,
    StoreFullError,
    StoreMissingError,
)
from app.files import display_path
from app.inprogress import Held, remove_abandoned
from app.keyslots import (
    BACKUP_FILE,
    SLOTS_FILE,
    TEMP_PREFIX,
    KeySlots,
    OpenedSlot,
    Slot,
    upgraded,
)
from app.sqlite_errors import DAMAGE_ADVICE, store_problem
from app.store_paths import (
    DB_FILE,
    INIT_MARKER,
    MAKERS,
    half_made,
    has_slot_file,
    load_slots,
    maker_marker,
    store_exists,
)
from models.attestations import attested

BUSY_TIMEOUT_S = 5.0
# SQLCipher's page; the first one holds the salt, without which no page of the file reads.
PAGE_BYTES = 4096
_DB_FILES = {DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal"}


def _is_debris(name: str) -> bool:
    """What making a store puts in its folder before the slot file."""
    return name in _DB_FILES or name in MAKERS or name.startswith(TEMP_PREFIX)


class CipherDatabase(peewee.SqliteDatabase):
    """SQLCipher with a raw key, quiet logging, and a check that the key is right."""

    def __init__(self, path: Path, raw_key: bytes):
        self._key_hex = raw_key.hex()
        super().__init__(
            str(path),
            timeout=BUSY_TIMEOUT_S,
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "secure_delete": "on"},
        )

    def _connect(self):
        conn = sqlcipher.connect(
            self.database, timeout=self._timeout, isolation_level=None, **self.connect_params
        )
        try:
            # Before the key: otherwise SQLCipher prints its own errors to stderr.
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{self._key_hex}'\"")
            # A wrong key "opens" and fails only at the first query: check now.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self._add_conn_hooks(conn)
            conn.create_function("certdesk_attested", 2, attested)
        except sqlcipher.DatabaseError as exc:
            conn.close()
            raise _translate(exc, self.database) from exc
        except BaseException:
            conn.close()
            raise
        return conn


def _translate(exc: Exception, path: str) -> Exception:
    return store_problem(exc, path) or StoreDamagedError(
        f"{path}: cannot read the store ({exc}); {DAMAGE_ADVICE}."
    )


@dataclass
class Store:
    folder: Path
    store_id: str
    db: CipherDatabase
    sealer: Sealer
    # Kept while the store is open, to wrap new users' key slots; wiped on close.
    _master_key: bytearray

    def master_key(self) -> bytes:
        return bytes(self._master_key)

    def checkpoint(self, attempts: int = 20) -> bool:
        """Copy the write-ahead log into the database and empty it, so that page images
        of deleted rows do not linger in the -wal file. A reader in the middle of a
        read holds the log back: try again briefly; False if it never let go (the next
        checkpoint finishes the job)."""
        for attempt in range(attempts):
            busy, _, _ = self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.05 * (attempt + 1) / 4)
        return False

    def copy_database(self, target: Path) -> frozenset[str]:
        """A consistent copy of the open database, encrypted with the same key, taken with
        SQLite's online backup: writers may go on meanwhile. Returns the names of the
        users in the copy, so that the key slots kept beside it can be exactly theirs."""
        _backup_into(self.db, target)
        copy = sqlcipher.connect(str(target), isolation_level=None)
        try:
            copy.execute("PRAGMA cipher_log_level = NONE")
            copy.execute(f"PRAGMA key = \"x'{self.db._key_hex}'\"")
            table = models.User._meta.table_name
            return frozenset(name for (name,) in copy.execute(f'SELECT "name" FROM "{table}"'))
        finally:
            copy.close()

    def slots(self) -> KeySlots:
        """The key-slot file as it is on disk now."""
        return load_slots(self.folder)

    def previous_slots(self) -> KeySlots | None:
        """The copy of the slot file kept before its last change, if there is one."""
        if not (self.folder / BACKUP_FILE).exists():
            return None
        return KeySlots.load(self.folder, BACKUP_FILE)

    def add_slot(
        self,
        user: str,
        slot: Slot,
        holder: str,
        keys: UserKeys | None,
        custodian: UserKeys | None,
    ) -> None:
        """See `add_slot`."""
        add_slot(self, user, slot, holder, keys, custodian)

    def settle_slots(self) -> None:
        """See `settle_slots`."""
        settle_slots(self)

    def keyed_slot(self, user: str, kek: bytes) -> bytes | None:
        """See `keyed_slot`."""
        return keyed_slot(self, user, kek)

    def replace_slot(
        self, user: str, before: Slot, after: Slot, forget_before: bool = False
    ) -> None:
        """See `replace_slot`."""
        replace_slot(self, user, before, after, forget_before)

    def restore_slot(self, user: str, changed: Slot, before: Slot) -> None:
        """See `restore_slot`."""
        restore_slot(self, user, changed, before)

    def rotate_master_key(
        self,
        recipients: Callable[[], dict[str, bytes]],
        change: Callable[[], None],
        sign: Callable[[bytes], bytes],
        replaced: dict[str, Slot] | None = None,
    ) -> str | None:
        """See `rotate_master_key`."""
        return rotate_master_key(self, recipients, change, sign, replaced)

    def finish_key_change(self, next_key: bytes) -> str | None:
        """See `finish_key_change`."""
        return finish_key_change(self, next_key)

    def drop_key_change(self) -> None:
        """See `drop_key_change`."""
        drop_key_change(self)

    def undo_key_change(self) -> None:
        """See `undo_key_change`."""
        undo_key_change(self)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()
        _wipe(self._master_key)
        models.database.forget(self.db)


def _open(folder: Path, store_id: str, master_key: bytearray, existing: bool) -> Store:
    db = CipherDatabase(folder / DB_FILE, derive_subkey(bytes(master_key), "sqlcipher"))
    sealer = Sealer(derive_subkey(bytes(master_key), "private-keys"))
    models.database.initialize(db)
    try:
        if existing:
            _check_database_file(folder)
        db.connect()
        _migrate(folder, db, existing)
        if existing:
            _finish_interrupted(folder, db)
    except BaseException:
        if not db.is_closed():
            db.close()
        models.database.initialize(None)
        _wipe(master_key)
        raise
    return Store(folder=folder, store_id=store_id, db=db, sealer=sealer, _master_key=master_key)


def _damaged_database(folder: Path) -> StoreDamagedError:
    return StoreDamagedError(
        f"{folder / DB_FILE}: the database is empty or cut short although the key slots are "
        "there: the store is damaged. Run `certdesk check`, or restore a backup "
        "(`certdesk restore FILE --store NEW-FOLDER`)."
    )


def _check_database_file(folder: Path) -> None:
    """Before SQLite sees it: a file shorter than one page would be taken for a new, empty
    database and silently made into one. The pages written since the last checkpoint may
    be in the -wal file, but the first page is always in the database file."""
    if (folder / DB_FILE).stat().st_size < PAGE_BYTES:
        raise _damaged_database(folder)


def _migrate(folder: Path, db: CipherDatabase, existing: bool) -> None:
    try:
        found = models.schema_version()
        if existing and found == 0:
            # The schema is committed before the slot file is first written: a store
            # without it has lost its pages (a truncated file, a lost -wal).
            raise _damaged_database(folder)
        if 0 < found < models.SCHEMA_VERSION:
            _copy_before_migration(folder, db, found)
        models.migrate()
    except models.schema.NewerSchema as exc:
        raise NewerSchemaError(
            f"{folder}: this store was written by a newer Certdesk (schema {exc.found}; "
            f"this version reads up to {models.SCHEMA_VERSION}). Update Certdesk to open it."
        ) from None
    except models.schema.StepFailed as exc:
        raise _step_failure(folder, exc, found) from exc
    except peewee.OperationalError as exc:
        raise _translate(exc, str(folder / DB_FILE)) from exc


def _copy_before_migration(folder: Path, db: CipherDatabase, version: int) -> None:
    """Through SQLite's online backup, not a file copy: a copy of the file alone would miss
    pages still in the write-ahead log whenever a reader holds the checkpoint back."""
    target = _pre_migration_copy(folder, version)
    target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the store's own mode
    os.close(fd)
    try:
        _backup_into(db, target)
    except BaseException:
        target.unlink(missing_ok=True)  # no half copy that looks like a whole one
        raise


def _backup_into(db: CipherDatabase, target: Path) -> None:
    """A consistent copy of `db` at `target`, encrypted with the same key."""
    copy = sqlcipher.connect(str(target), isolation_level=None)
    try:
        copy.execute("PRAGMA cipher_log_level = NONE")
        copy.execute(f"PRAGMA key = \"x'{db._key_hex}'\"")
        db.connection().backup(copy)
    finally:
        copy.close()


def _pre_migration_copy(folder: Path, version: int) -> Path:
    return folder / f"{DB_FILE}.schema-{version}.bak"


def _step_failure(folder: Path, exc: models.schema.StepFailed, found: int) -> Exception:
    """A step that met a store condition (busy, disk full, a damaged page) is that
    condition, named with its step; any other failure is the step's own, a
    SchemaMigrationError: rolled back, so the store is not damaged, only not openable
    by this version until the step succeeds."""
    where = folder / DB_FILE
    step = f"schema step {exc.step.version} ({exc.step.description})"
    problem = store_problem(exc.cause)
    if problem is not None:
        return type(problem)(f"{display_path(where)}: {step} did not finish: {problem}")
    copy = _pre_migration_copy(folder, found)
    kept = f"; its copy from before is {copy.name}" if copy.exists() else ""
    return SchemaMigrationError(
        f"{display_path(where)}: {exc}. Nothing of the step was kept: the store stays at "
        f"schema {exc.reached}{kept}. This Certdesk cannot open it until the step "
        "succeeds; report this error."
    )


def _wipe(buffer: bytearray) -> None:
    for i in range(len(buffer)):
        buffer[i] = 0


def create_store(
    folder: Path,
    admin: str,
    password: str,
    populate: Callable[[Store, bytes | None], None],
    custodian: bytes | None = None,
) -> tuple[Store, bytes]:
    """Create the folder's database, let `populate` commit its first rows (the admin's
    user, with the public keys of their slot, which trusts the custodian anchored by
    `custodian`), then write the key slots; return the open store and the admin's KEK.
    Until the slot file is there the folder holds a half-made store, never one without
    its admin."""
    if store_exists(folder):
        raise StoreExistsError(f"{folder}: a store already exists here.")
    with making_store(folder, INIT_MARKER):
        master_key = bytearray(secrets.token_bytes(32))
        slots = KeySlots.new()
        kek = slots.add(admin, password, bytes(master_key), custodian=custodian)
        store = _open(folder, slots.store_id, master_key, existing=False)
        try:
            os.chmod(folder / DB_FILE, 0o600)
            populate(store, slots.slots[admin].public)
            with store.db.atomic("IMMEDIATE"):  # slot files are only written under the lock
                slots.save(folder)
        except BaseException:
            store.close()
            raise
    return store, kek


@contextmanager
def making_store(folder: Path, marker: str) -> Iterator[None]:
    """Prepare the folder (`prepare_new_folder`) and mark it as holding a half-made store
    while the block makes one in it. If the block fails before the slot file is written,
    what it left is removed, and the folder too if it was created here."""
    created = prepare_new_folder(folder)
    try:
        held = Held(folder / marker)
    except FileExistsError:
        raise StoreBusyError(
            f"{folder}: another Certdesk is making a store here; try again when it is done."
        ) from None
    try:
        with held:
            try:
                yield
            except BaseException:
                _remove_debris(folder)
                raise
    except BaseException:
        if created and not has_slot_file(folder):
            with suppress(OSError):
                folder.rmdir()
        raise


def _remove_debris(folder: Path, keep: str = "") -> None:
    # Checked again here, by whoever holds the marker: the slot file makes it a store.
    if has_slot_file(folder):
        return
    for name in os.listdir(folder):
        if _is_debris(name) and name != keep:
            (folder / name).unlink(missing_ok=True)


def prepare_new_folder(folder: Path) -> bool:
    """A new or empty folder only (or one holding a half-made store, cleared here): a
    store mixed into a folder of other files is easy to lose or to copy half of. The
    folder is made private to its owner, as a new one is created; True if created here."""
    if folder.exists() and not folder.is_dir():
        raise StoreExistsError(f"{folder}: is a file, not a folder; choose a folder for the store.")
    if folder.is_dir():
        _clear_half_made(folder)
        if any(folder.iterdir()):
            raise StoreExistsError(
                f"{folder}: the folder is not empty; choose a new or empty folder for the store."
            )
    try:
        try:
            folder.mkdir(parents=True, mode=0o700)
            created = True
        except FileExistsError:
            created = False
        # An existing folder keeps its mode otherwise: others could swap the store's files.
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise StoreMissingError(
            f"{folder}: cannot create the store folder ({exc.strerror or exc})."
        ) from None
    return created


def _clear_half_made(folder: Path) -> None:
    """Remove what an interrupted init or restore left, if that is all the folder holds
    and its process is gone; otherwise leave everything to the emptiness check."""
    marker = half_made(folder)
    if marker is None or not all(_is_debris(name) for name in os.listdir(folder)):
        return
    if not remove_abandoned(marker, lambda: _remove_debris(folder, keep=marker.name)):
        raise StoreBusyError(
            f"{folder}: `certdesk {MAKERS[marker.name]}` is making a store here right now; "
            "try again when it is done."
        )


def _current_slots(store: Store) -> KeySlots:
    """The slot file read afresh, for a change under the write lock."""
    slots = load_slots(store.folder)
    if slots.store_id != store.store_id:
        raise StoreDamagedError(
            f"{store.folder / SLOTS_FILE}: the key-slot file is damaged (it is of another "
            "store than the one open)"
        )
    return slots


def keyed_slot(store: Store, user: str, kek: bytes) -> bytes | None:
    """The public halves of `user`'s slot, made keyed first if it is of version 1 (under
    the same KEK, which `kek` proves: the file read afresh and saved). Call inside a write
    transaction, which holds the lock every writer of the slot file holds."""
    slots = _current_slots(store)
    slot = slots.slots.get(user)
    if slot is None:
        raise StoreDamagedError(
            f"{store.folder / SLOTS_FILE}: the key-slot file is damaged (no slot for {user!r})"
        )
    if not slot.keyed:
        slot = slots.slots[user] = upgraded(store.store_id, user, slot, kek)
        slots.save(store.folder)
    return slot.public


def replace_slot(
    store: Store, user: str, before: Slot, after: Slot, forget_before: bool = False
) -> None:
    """`user`'s slot, if it is still `before` in the file read afresh, replaced by `after`;
    refused if another change came first. `forget_before` (a password changed): the copy
    kept beside the file is the new one too, so that no copy opens with the old password.
    Call inside a write transaction, which holds the lock every writer of the slot file
    holds."""
    slots = _current_slots(store)
    if slots.slots.get(user) != before:
        raise CertdeskError(
            f"the key slot of {user!r} changed meanwhile (in another window or command); "
            "nothing was changed: try again"
        )
    slots.slots[user] = after
    if forget_before:
        slots.loaded = None
    slots.save(store.folder)


def restore_slot(store: Store, user: str, changed: Slot, before: Slot) -> None:
    """After a transaction that replaced `user`'s slot by `changed` failed to commit: the
    slot put back to `before`, if it is still `changed`, under a write lock of its own.
    Best effort: if the lock or the disk refuses, the slot stays as it was written."""
    try:
        with store.db.atomic("IMMEDIATE"):
            slots = _current_slots(store)
            if slots.slots.get(user) == changed:
                slots.slots[user] = before
                slots.save(store.folder)
    except (CertdeskError, peewee.DatabaseError):
        pass


def add_slot(
    store: Store,
    user: str,
    slot: Slot,
    holder: str,
    keys: UserKeys | None,
    custodian: UserKeys | None,
) -> None:
    """Write `user`'s slot into the slot file, read afresh, marked pending. Call inside
    the write transaction that creates the user, after the user's row, before the commit,
    and `settle_slots` after it (see users.add_user). While a change of the store's key
    waits, the slot gets the next key too, from `holder`'s slot (opened by `keys`), and
    the `custodian` signs the change again with it, once it has checked the change."""
    slots = _current_slots(store)
    if any(other.next is not None for other in slots.slots.values()):
        # A slot without the next key would open nothing once the change is finished.
        held = None if keys is None else slots.change_held(holder, keys)
        master, next_master = held or (b"", b"")
        public = None if custodian is None else custodian.public()
        if held is None or not slots.change_signed(public, master, next_master):
            raise StoreBusyError(
                f"{display_path(store.folder)}: a change of the store's key has not "
                "finished, and a user added meanwhile needs its next key from a key "
                "custodian (an Administrator) whose slot holds it; sign in again, or close "
                "every other Certdesk that has the store open, first"
            )
        _settle(slots)
        slots.slots[user] = slots.with_next_key(user, slot, next_master)
        slots.pending_rotation = slots.rotation
        slots.sign_change(custodian.sign, master, next_master)
    else:
        _settle(slots)
        slots.slots[user] = slot
    slots.pending = user
    slots.save(store.folder)


def settle_slots(store: Store) -> None:
    """After `user add` committed: its slot is no longer pending. If this cannot take the
    lock now, the next opening of the store does it."""
    try:
        with store.db.atomic("IMMEDIATE"):
            slots = load_slots(store.folder)
            if _settle(slots):
                slots.save(store.folder)
    except StoreFullError:
        pass  # committed with its slot on disk: only the pending mark waits for room
    except peewee.OperationalError as exc:
        if not isinstance(store_problem(exc), StoreBusyError):
            raise _translate(exc, str(store.folder / DB_FILE)) from exc


def _settle(slots: KeySlots) -> bool:
    """Finish the pending add the slot file names: kept if its user was committed,
    dropped if not (the add was interrupted). Call under the write lock. A slot of no
    user that is not pending is not touched: it is damage for `check` to report."""
    if slots.pending is None:
        return False
    if not models.User.select().where(models.User.name == slots.pending).exists():
        slots.remove(slots.pending)
        if slots.pending_rotation is not None:  # the change's signature before the add
            slots.rotation = slots.pending_rotation
    slots.pending, slots.pending_rotation = None, None
    return True


def _finish_interrupted(folder: Path, db: CipherDatabase) -> None:
    """What a killed `user add` can leave (see users.add_user): a pending slot, and temp
    files. Settled under the write lock, where no add is half-way; the lock is taken
    only when there is something to do, so that opening never queues behind a writer
    for nothing."""
    marker = maker_marker(folder)
    if marker is not None and not remove_abandoned(marker):
        return  # an init or restore is still finishing: the files are its own
    slots = KeySlots.load(folder)
    temp = [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
    if not temp and slots.pending is None:
        return
    try:
        with db.atomic("IMMEDIATE"):
            for path in folder.iterdir():
                if path.name.startswith(TEMP_PREFIX):
                    path.unlink(missing_ok=True)
            slots = KeySlots.load(folder)
            if _settle(slots):
                slots.save(folder)
    except StoreFullError:
        pass  # a pending slot is harmless: settled when the disk has room again
    except peewee.OperationalError as exc:
        raise _translate(exc, str(folder / DB_FILE)) from exc


def unlock_store(
    folder: Path, user: str, password: str | None = None, kek: bytes | None = None
) -> tuple[Store, bytes, OpenedSlot]:
    """Open the user's slot with their password (or remembered KEK) and the store with its
    master key; return the store, the KEK and what the slot opened. A store whose key was
    changed to the slot's next key and not yet to its slots opens with the next key: the
    caller checks that the custodian signed that change (`rotate_master_key`)."""
    slots = load_slots(folder)
    if kek is None:
        kek = slots.kek_for(user, password or "")
    opened = slots.open(user, kek)
    master_key = opened.master_key
    if opened.next_master_key is not None and not _key_opens(folder, master_key):
        master_key = opened.next_master_key  # the database has the next key already
    try:
        store = _open(folder, slots.store_id, bytearray(master_key), existing=True)
    except StoreDamagedError as exc:
        if "not a database" not in str(exc):
            raise
        raise StoreDamagedError(
            f"{display_path(folder / DB_FILE)}: the key slot of {user!r} does not open the "
            "database. Either the slot file is older than the database (the store's key "
            "changed when a user was deleted or given a new password), or the database is "
            f"damaged: {DAMAGE_ADVICE}."
        ) from None
    return store, kek, opened


def _key_opens(folder: Path, master_key: bytes) -> bool:
    """Whether the database reads with this master key. Tried with the older key first:
    a change of key that was cut short left a journal that only the older key rolls
    back."""
    key = derive_subkey(master_key, "sqlcipher").hex()
    db = sqlcipher.connect(str(folder / DB_FILE), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        db.execute("PRAGMA cipher_log_level = NONE")
        db.execute(f"PRAGMA key = \"x'{key}'\"")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError as exc:
        if "not a database" in str(exc):
            return False
        raise _translate(exc, str(folder / DB_FILE)) from exc
    finally:
        db.close()


def finish_key_change(store: Store, next_key: bytes) -> str | None:
    """A change of the store's key that committed: the database rekeyed to `next_key` if
    it is not yet, and the slots' next keys made their master keys. Returns why it has to
    wait for a later opening (another connection has the store open, the disk has no
    room for the rekey's journal, the slot file cannot be written), or None once done."""
    try:
        if store.master_key() == next_key:  # rekeyed already: only the slot file is left
            with store.db.atomic("IMMEDIATE"):
                _keep_rotated(store)
            return None
        if short := _short_of_room(store):
            return short
        with _alone(store):
            _rekey(store, next_key)
            _keep_rotated(store)
    except CertdeskError as exc:
        return str(exc)
    except peewee.DatabaseError as exc:
        return str(_translate(exc, str(store.folder / DB_FILE)))
    return None


def drop_key_change(store: Store) -> None:
    """Every slot's next key taken out: a change of the store's key that no custodian
    signed, or one signed for another key than the database's."""
    with store.db.atomic("IMMEDIATE"):
        _current_slots(store).without_next().save(store.folder)


def undo_key_change(store: Store) -> None:
    """A change of the store's key whose slot file was written and whose transaction
    never committed (a kill between the two): the slot file as it was before it, which
    the copy beside it keeps until the change is finished."""
    with store.db.atomic("IMMEDIATE"):
        before = store.previous_slots()
        if before is None or before.rotation is not None:
            _current_slots(store).without_next().save(store.folder)
            return
        before.loaded = None
        before.save(store.folder)


BUSY = (
    "another Certdesk (a window, a command or another workstation) has the store open, "
    "and its key changes only while no other has it open"
)


def _short_of_room(store: Store) -> str | None:
    """Why the disk cannot take the rekey's journal, which holds every page of the
    database: a rekey that runs out of room leaves pages under either key, and the
    database opens with neither."""
    size = (store.folder / DB_FILE).stat().st_size
    needed = size + max(size // 10, 16 * 1024 * 1024)
    free = shutil.disk_usage(store.folder).free
    if free >= needed:
        return None
    return (
        f"the disk has {free / 2**20:,.1f} MiB free, and changing the store's key needs "
        f"about {needed / 2**20:,.0f} MiB"
    )


def rotate_master_key(
    store: Store,
    recipients: Callable[[], dict[str, bytes]],
    change: Callable[[], None],
    sign: Callable[[bytes], bytes],
    replaced: dict[str, Slot] | None = None,
) -> str | None:
    """A new master key for the store: `change` run and committed in one write
    transaction with the slot file holding, for each of `recipients()` (user name: their
    certified public keys, read after `change` in the same transaction, so that a user
    added meanwhile is one), the present key and the new one wrapped to them, the
    custodian's signature (`sign`) of the change from one to the other, the `replaced`
    slots in place of theirs and every other slot left out; then `finish_key_change`,
    whose reason to wait, if any, is returned. A slot left out, or kept from before,
    opens nothing of the store once the change is finished. Cut short anywhere, the
    store opens with one key or the other: the next sign-in finishes a change that
    committed and undoes one that did not (app.services.users). Refused, with nothing
    changed, while the disk has no room for the rekey."""
    if short := _short_of_room(store):
        raise StoreFullError(f"{display_path(store.folder)}: {short}. Nothing was changed.")
    new_key = bytearray(secrets.token_bytes(32))
    try:
        written = False
        try:
            with store.db.atomic("IMMEDIATE"):
                change()
                before = _current_slots(store)
                master = store.master_key()
                slots = before.rotating(master, bytes(new_key), recipients(), replaced)
                slots.sign_change(sign, master, bytes(new_key))
                # The copy beside the file stays the one before the change until it is
                # finished (`undo_key_change`): it opens only the key the database has now.
                slots.save(store.folder)
                written = True
        except BaseException:
            if written:  # and not committed
                before.loaded = None
                with suppress(CertdeskError, OSError):
                    before.save(store.folder)
            raise
        return finish_key_change(store, bytes(new_key))
    finally:
        _wipe(new_key)


@contextmanager
def _alone(store: Store) -> Iterator[None]:
    """The database held by this connection alone, in rollback-journal mode: a rekey
    under another connection's feet would leave it reading pages it cannot decrypt.
    SQLite refuses to leave WAL mode while another connection has the file open, so
    that is the test: StoreBusyError, nothing changed. The exclusive lock the first
    write takes is kept until the block ends."""
    db = store.db
    store.checkpoint()
    try:
        db.execute_sql("PRAGMA locking_mode = EXCLUSIVE")
        mode = db.execute_sql("PRAGMA journal_mode = DELETE").fetchone()[0]
    except peewee.OperationalError as exc:
        if not isinstance(store_problem(exc), StoreBusyError):
            raise _translate(exc, str(store.folder / DB_FILE)) from exc
        mode = None
    try:
        if mode != "delete":
            raise StoreBusyError(BUSY)
        yield
    finally:
        with suppress(peewee.DatabaseError):
            db.execute_sql("PRAGMA locking_mode = NORMAL")
            db.execute_sql("PRAGMA journal_mode = WAL")


def _rekey(store: Store, master_key: bytes) -> None:
    """The database encrypted under `master_key`'s sub-key, and the open store using it."""
    key = derive_subkey(master_key, "sqlcipher")
    try:
        store.db.execute_sql(f"PRAGMA rekey = \"x'{key.hex()}'\"")
    except peewee.DatabaseError as exc:
        raise _translate(exc, str(store.folder / DB_FILE)) from exc
    store.db._key_hex = key.hex()
    store.sealer = Sealer(derive_subkey(master_key, "private-keys"))
    store._master_key[:] = master_key


def _keep_rotated(store: Store) -> None:
    """The slot file with each next key as its master key, and no copy beside it that
    opens with the older key."""
    rotated = _current_slots(store).rotated()
    rotated.loaded = None
    rotated.save(store.folder)


def close_thread_connection() -> None:
    """Close the calling thread's connection (worker threads call this when done)."""
    db = models.database.obj
    if db is not None and not db.is_closed():
        db.close()
