"""Failed sign-ins and wrong PINs: counted across processes beside the key slots, each
one more making the next try wait longer, and the failed sign-ins written into the audit
log at an Administrator's next sign-in."""

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app import attempts, audit_heads, locked_json
from app.errors import AuthenticationError, ValidationError
from app.services import audit_log, certificate_edits, certificate_import, signing, users
from models.permissions import SIGNER
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD


@pytest.fixture
def pauses(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(attempts.time, "sleep", waited.append)
    return waited


def test_each_failure_after_the_first_few_makes_the_next_sign_in_wait_longer(
    session, store_dir, pauses
):
    users.add_user(session, "bob", SIGNER_PASSWORD, SIGNER)
    session.close()
    for _ in range(6):
        with pytest.raises(AuthenticationError):
            users.sign_in(store_dir, "bob", password="not his password at all")
    assert pauses == [1.0, 2.0, 4.0]
    bob, _ = users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)  # waits 8 s first
    bob.close()
    assert pauses[-1] == 8.0
    users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)[0].close()
    assert len(pauses) == 4  # the right password ended the run of failures
    assert [attempts.pause_for(n) for n in (0, 3, 7, 20)] == [0.0, 1.0, 16.0, 30.0]


def test_an_administrators_next_sign_in_writes_the_failures_into_the_log(
    session, store_dir, pauses
):
    users.add_user(session, "bob", SIGNER_PASSWORD, SIGNER)
    session.close()
    for name in ("bob", "bob", "mallory"):
        with pytest.raises(AuthenticationError):
            users.sign_in(store_dir, name, password="a guess of some length")
    users.sign_in(store_dir, "bob", password=SIGNER_PASSWORD)[0].close()  # not an admin
    for _ in range(2):
        admin, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
        try:
            events = [e for e in audit_log.list_events(admin) if e.action == "user.sign_in_failed"]
        finally:
            admin.close()
        assert sorted((e.target, e.outcome, e.details["failures"]) for e in events) == [
            ("bob", "failed", 2),
            ("mallory", "failed", 1),
        ]  # once: the second sign-in finds nothing new to report


def test_wrong_pins_in_a_row_make_the_next_signature_wait(session, tmp_path, certs, pauses):
    cert, key = certs.make_cert("Build")
    path = certs.write(tmp_path, "build.p12", certs.p12(cert, key, None))
    assert certificate_import.import_files(session, [path]).files[0].error is None
    certificate_edits.edit_certificate(
        session, "Build", certificate_edits.GeneralChanges(owner="admin", pin="739104")
    )
    for _ in range(5):
        with pytest.raises(ValidationError, match="wrong PIN"):
            signing.sign_data(session, "Build", io.BytesIO(b"x"), pin="000000")
    assert pauses == [1.0, 2.0]
    assert signing.sign_data(session, "Build", io.BytesIO(b"x"), pin="739104")
    assert pauses == [1.0, 2.0, 4.0]


COUNT = """
import sys
from pathlib import Path
from app import attempts, audit_heads, locked_json
for _ in range(25):
    attempts.failed(Path(sys.argv[1]), attempts.SIGN_IN, "bob")
"""


def test_failures_are_counted_across_processes(tmp_path):
    runs = [
        subprocess.Popen([sys.executable, "-c", COUNT, str(tmp_path)], cwd=str(_root()))
        for _ in range(6)
    ]
    assert [run.wait(timeout=60) for run in runs] == [0] * 6
    assert attempts.unreported(tmp_path)["bob"][0] == 150


def test_a_counter_file_that_is_not_a_file_counts_nothing_and_blocks_nothing(session, store_dir):
    session.close()
    (store_dir / attempts.FILE).mkdir()
    with pytest.raises(AuthenticationError):
        users.sign_in(store_dir, "admin", password="a guess of some length")
    assert attempts.unreported(store_dir) == {}
    users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()


def test_counts_and_times_beyond_any_date_are_taken_as_none(session, store_dir, pauses):
    """Anyone with the folder can edit the file: an Administrator's sign-in still works."""
    session.close()
    for value in (10**12, 10**20, -1, 2.5, "1"):
        entry = {"failed": value, "unreported": 1, "last": value}
        (store_dir / attempts.FILE).write_text(json.dumps({"sign-in": {"nobody": entry}}))
        users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()
    assert pauses == []


HOLD_LOCKS = """
import fcntl, os, sys
fds = [os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in sys.argv[1:]]
for fd in fds:
    fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_lock_another_process_keeps_never_hangs_a_sign_in(session, store_dir, monkeypatch):
    """Any process of the workstation's, or of a machine sharing the folder, can lock the
    counter file and the folder's audit head and keep them: a sign-in waits a little."""
    monkeypatch.setattr(locked_json, "LOCK_WAIT_S", 0.2)  # 2 s per file otherwise
    session.close()
    files = [str(store_dir / attempts.FILE), str(store_dir / audit_heads.FOLDER_FILE)]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCKS, *files],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    outcome: list[object] = []

    def sign_in() -> None:
        users.sign_in(store_dir, "admin", password=PASSWORD)[0].close()
        outcome.append("signed in")

    try:
        assert holder.stdout.readline() == "held\n"
        thread = threading.Thread(target=sign_in, daemon=True)
        thread.start()
        thread.join(timeout=60)
        assert outcome == ["signed in"]
    finally:
        holder.kill()
        holder.wait(timeout=10)


def _root() -> Path:
    return Path(__file__).resolve().parents[1]
