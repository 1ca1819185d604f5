"""Commands run at once, and commands killed (SIGKILL) at varied points: the store keeps
its users and their key slots together, and nothing half-made is left for good."""

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from app import audit_heads
from app.errors import StoreMissingError
from app.keyslots import BACKUP_FILE, SLOTS_FILE, TEMP_PREFIX
from app.services import certificate_import, integrity, users
from app.store import DB_FILE, load_slots
from models import User
from tests.helpers.cli import cli_env, one_line_error
from tests.helpers.stores import PASSWORD

# The real program, with the lowered Argon2id cost the in-process tests have (conftest):
# at full cost the 19 adds and the sign-ins that check them would take most of a minute.
CERTDESK = (
    "import sys; from app import keyslots; "
    "keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024); "
    "from app.__main__ import main; sys.exit(main())"
)


def _start(env, *args):
    return subprocess.Popen(
        [sys.executable, "-c", CERTDESK, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_at(proc, when) -> None:
    """SIGKILL `proc` after `when` seconds, or as soon as `when()` is true (polled as fast
    as Python goes: the moments worth hitting last a millisecond or so)."""
    if callable(when):
        while proc.poll() is None and not when():
            pass
    else:
        time.sleep(when)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


def _timed(env, *args) -> float:
    started = time.monotonic()
    proc = _start(env, *args)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return time.monotonic() - started


def _replaced(path):
    """True once `path` is another file than now (an atomic rename landed)."""
    before = path.stat().st_ino

    def check():
        try:
            return path.stat().st_ino != before
        except FileNotFoundError:
            return False

    return check


def _appears(folder, test=lambda name: True):
    """True once `folder` holds a new entry that passes `test`."""
    before = set(os.listdir(folder)) if folder.is_dir() else set()

    def check():
        try:
            return any(test(n) for n in set(os.listdir(folder)) - before)
        except FileNotFoundError:
            return False

    return check


def _slots_and_users(store_dir):
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)  # the next open
    try:
        slotted = set(load_slots(store_dir).users())
        known = {name for (name,) in User.select(User.name).tuples()}
        return slotted, known, integrity.check_store(session)
    finally:
        session.close()


HALF_MADE = (
    "an interrupted `certdesk init` left a half-made store here; "
    "run `certdesk init` again to re-create it"
)


def _password(name):
    return f"{name} has a long password"


def test_concurrent_user_adds_each_keep_their_slot(tmp_path, store_dir):
    users.initialise_store(store_dir, "admin", PASSWORD)[0].close()
    names = [f"user{i:02d}" for i in range(19)]
    reported, queue = [], list(names)
    for size in (3, 2, 3, 2, 3, 3, 3):
        batch, queue = queue[:size], queue[size:]
        runs = [
            (name, _start(cli_env(tmp_path, store_dir, CERTDESK_NEW_PASSWORD=_password(name)),
                          "user", "add", name, "--role", "Auditor"))
            for name in batch
        ]  # fmt: skip
        for name, run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            if "Added the user" in out:
                reported.append(name)
    assert reported == names
    slotted, known, problems = _slots_and_users(store_dir)
    assert slotted == known == {"admin", *names}
    assert problems == []
    for name in reported:
        users.sign_in(store_dir, name, password=_password(name))[0].close()


def test_user_add_killed_anywhere_leaves_slots_and_users_matching(cli, tmp_path, store_dir):
    users.initialise_store(store_dir, "admin", PASSWORD)[0].close()
    env = cli_env(tmp_path, store_dir)
    took = _timed(env | {"CERTDESK_NEW_PASSWORD": _password("first")}, "user", "add", "first")
    slots = store_dir / SLOTS_FILE
    points = [
        *(took * share for share in (0.35, 0.6, 0.8, 0.9, 1.0)),
        lambda: _appears(store_dir, lambda n: n.startswith(TEMP_PREFIX)),  # writing the slots
        *[lambda: _replaced(slots)] * 2,  # between the slot file's rename and the commit
    ]
    added = {"admin", "first"}
    for i, point in enumerate(points):
        name = f"killed{i}"
        when = point() if callable(point) else point
        proc = _start(env | {"CERTDESK_NEW_PASSWORD": _password(name)}, "user", "add", name)
        _kill_at(proc, when)
        slotted, known, problems = _slots_and_users(store_dir)
        assert slotted == known, (i, slotted ^ known)
        assert problems == [], (i, problems)
        assert not [n for n in os.listdir(store_dir) if n.startswith(TEMP_PREFIX)]
        added |= known
    assert cli("check").returncode == 0
    for name in added - {"admin"}:
        users.sign_in(store_dir, name, password=_password(name))[0].close()


def test_a_damaged_slot_file_is_recovered_from_the_bak(cli, store_dir, session):
    users.add_user(session, "bob", _password("bob"), "Auditor")
    session.close()
    (store_dir / SLOTS_FILE).write_text('{"format": "certdesk-keyslots", "slo')
    damaged = cli("list")
    assert damaged.returncode == 1
    assert f"damaged (not JSON); {BACKUP_FILE} beside it" in one_line_error(damaged)
    shutil.copy(store_dir / BACKUP_FILE, store_dir / SLOTS_FILE)  # as the README says
    slotted, known, problems = _slots_and_users(store_dir)
    # The slot file as it was before the last change (bob's slot unmarked as pending):
    # bob's slot is in it, still pending, and opening settles it.
    assert slotted == known == {"admin", "bob"}
    assert problems == []
    users.sign_in(store_dir, "bob", password=_password("bob"))[0].close()
    (store_dir / BACKUP_FILE).write_text("[]")  # `check` looks at the .bak too
    assert "keyslots.json.bak: the key-slot file is damaged" in " ".join(
        _slots_and_users(store_dir)[2]
    )


def test_init_killed_anywhere_leaves_a_store_or_one_that_init_makes_again(cli, tmp_path):
    base = tmp_path / "stores"
    took = _timed(cli_env(tmp_path, base / "timed"), "init", "--admin", "admin")
    points = [
        *(took * share for share in (0.4, 0.7, 0.85, 1.0)),
        lambda n: n.endswith(".partial") or n == DB_FILE,  # the marker (or, before, the db)
        lambda n: n == DB_FILE,
        lambda n: n == SLOTS_FILE,
    ]
    half_made = 0
    for i, point in enumerate(points):
        folder = base / f"s{i}"
        when = _appears(folder, point) if callable(point) else point
        proc = _start(cli_env(tmp_path, folder), "init", "--admin", "admin")
        _kill_at(proc, when)
        if (folder / SLOTS_FILE).exists():  # a store, whole: it opens as it is
            session, _ = users.sign_in(folder, "admin", password=PASSWORD)
            assert integrity.check_store(session) == []
            session.close()
        else:
            with pytest.raises(
                StoreMissingError, match=r"no store here|interrupted `certdesk init`"
            ):
                users.sign_in(folder, "admin", password=PASSWORD)
            if folder.exists() and os.listdir(folder):
                half_made += 1
                if half_made == 1:  # the same line through the program, once
                    listed = cli("list", env_extra={"CERTDESK_STORE": str(folder)})
                    assert HALF_MADE in one_line_error(listed)
            users.initialise_store(folder, "admin", PASSWORD)[0].close()
        # A kill between the slot file and its .bak leaves no .bak (until the next change);
        # a session's close leaves the audit head.
        made = {DB_FILE, SLOTS_FILE, BACKUP_FILE, audit_heads.FOLDER_FILE}
        assert {DB_FILE, SLOTS_FILE} <= set(os.listdir(folder)) <= made
    assert half_made  # the kill at the database's appearance leaves one at least


def _store_with_content(store_dir, tmp_path, certs):
    session, _ = users.initialise_store(store_dir, "admin", PASSWORD)

    files = []
    for i in range(10):
        cert, key = certs.make_cert(f"Backed Up {i}", key=certs.ec_key())
        files.append(certs.write(tmp_path, f"c{i}.p12", certs.p12(cert, key, None)))
    certificate_import.import_files(session, files)
    session.close()


def _only_backups(folder):
    for name in os.listdir(folder):
        with zipfile.ZipFile(folder / name) as archive:
            assert archive.testzip() is None, name
            assert sorted(archive.namelist()) == [
                "certdesk-backup.json",
                DB_FILE,
                SLOTS_FILE,
            ]


def test_backup_killed_anywhere_leaves_named_partials_that_the_next_backup_removes(
    tmp_path, store_dir, certs
):
    _store_with_content(store_dir, tmp_path, certs)
    out = tmp_path / "backups"
    out.mkdir()
    env = cli_env(tmp_path, store_dir)
    took = _timed(env, "backup", "--out", str(out / "timed.zip"))
    points = [
        *(took * share for share in (0.5, 0.8, 0.95)),
        *[lambda: _appears(out)] * 3,  # as soon as its work files appear beside the output
    ]
    for i, point in enumerate(points):
        when = point() if callable(point) else point
        proc = _start(env, "backup", "--out", str(out / f"b{i}.zip"))
        _kill_at(proc, when)
        for name in os.listdir(out):  # nothing unnamed: what is left says what it is
            assert name.endswith(".zip") or (
                name.startswith(".certdesk-backup-") and ".partial" in name
            ), name
    assert any(name.startswith(".certdesk-backup-") for name in os.listdir(out))
    _timed(env, "backup", "--out", str(out / "after.zip"))
    _only_backups(out)


def test_backup_never_replaces_a_file_created_while_it_runs(tmp_path, store_dir, certs):
    _store_with_content(store_dir, tmp_path, certs)
    out = tmp_path / "backups"
    out.mkdir()
    env = cli_env(tmp_path, store_dir)
    for attempt in range(5):
        target = out / f"race{attempt}.zip"
        under_way = _appears(out)  # once its work files appear beside the output
        proc = _start(env, "backup", "--out", str(target))
        while proc.poll() is None and not under_way():
            pass
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            proc.communicate(timeout=60)
            continue  # the backup finished first this time
        os.write(fd, b"mine")
        os.close(fd)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "exists; choose a new file name" in err and len(err.strip().splitlines()) == 1
        assert target.read_bytes() == b"mine"
        break
    else:
        pytest.fail("the backup always finished before the file could be created")
    assert not [name for name in os.listdir(out) if not name.endswith(".zip")]


def test_restore_killed_leaves_a_half_made_store_that_restore_makes_again(
    cli, tmp_path, store_dir, session
):
    from app.services import backup

    archive = backup.backup_store(session, tmp_path / "store.zip")
    session.close()
    parent = tmp_path / "restores"
    parent.mkdir()
    for attempt in range(5):  # the restore may finish before the kill lands: again, then
        target = parent / f"restored{attempt}"
        env = cli_env(tmp_path, target)
        when = _appears(target, lambda n: n == DB_FILE)
        proc = _start(env, "restore", str(archive))
        _kill_at(proc, when)
        if proc.returncode == -signal.SIGKILL and not (target / SLOTS_FILE).exists():
            break
    else:
        pytest.fail("every restore finished before it could be killed")
    listed = cli("list", env_extra={"CERTDESK_STORE": str(target)})
    assert "an interrupted `certdesk restore` left a half-made store here" in one_line_error(listed)
    _, err = _start(env, "restore", str(archive)).communicate(timeout=60)
    assert err == ""
    assert cli("list", env_extra={"CERTDESK_STORE": str(target)}).returncode == 0
    assert target.name in os.listdir(parent)
    # Nothing beside the restored folders: no scratch copy of the database.
    assert all(name.startswith("restored") for name in os.listdir(parent))


def test_a_slot_of_no_user_that_no_add_left_is_reported_not_removed(cli, store_dir, session):
    import json

    users.add_user(session, "bob", _password("bob"), "Auditor")
    session.close()
    doc = json.loads((store_dir / SLOTS_FILE).read_text())
    assert "pending" not in doc  # the add settled its slot after the commit
    doc["slots"]["ghost"] = doc["slots"]["bob"]  # written by hand, not by an add
    (store_dir / SLOTS_FILE).write_text(json.dumps(doc))
    before = (store_dir / SLOTS_FILE).read_bytes()

    checked = cli("check")

    assert checked.returncode == 1
    assert "key slots: a slot for no user, 'ghost'" in checked.stderr
    assert (store_dir / SLOTS_FILE).read_bytes() == before  # reported, never repaired


def test_a_pending_slot_whose_add_never_committed_is_removed_at_open(cli, store_dir, session):
    import json

    session.close()
    doc = json.loads((store_dir / SLOTS_FILE).read_text())
    doc["slots"]["halfway"] = doc["slots"]["admin"]
    doc["pending"] = "halfway"  # as `user add` leaves it when killed before its commit
    (store_dir / SLOTS_FILE).write_text(json.dumps(doc))

    assert cli("check").returncode == 0
    assert set(json.loads((store_dir / SLOTS_FILE).read_text())["slots"]) == {"admin"}
