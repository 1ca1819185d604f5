"""Two writers on one store: they queue on SQLite's lock, and a long lock is reported."""

import subprocess
import sys

from app import store as store_module
from app.services import certificate_import, certificates, users
from tests.helpers.cli import cli_env
from tests.helpers.stores import HOLD_LOCK, PASSWORD


def test_a_held_write_lock_gives_a_clear_busy_error(store_dir, tmp_path, certs, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    session, _ = users.initialise_store(store_dir, "admin", PASSWORD)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store_dir), PASSWORD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Waiting")[0]))
    try:
        assert holder.stdout.readline().strip() == "locked"
        stopped = certificate_import.import_files(session, [path])
        assert "the store is busy" in stopped.stopped
        assert (stopped.files, stopped.not_imported) == ([], 1)
    finally:
        holder.communicate("release\n", timeout=30)
    assert certificate_import.import_files(session, [path]).imported == 1
    session.close()


def test_two_cli_imports_at_once_both_land(store_dir, tmp_path, certs):
    users.initialise_store(store_dir, "admin", PASSWORD)[0].close()
    env = cli_env(tmp_path, store_dir)
    batches = []
    for batch in range(2):
        files = []
        for i in range(150):
            cert, _ = certs.make_cert(f"Batch {batch} #{i}", key=certs.ec_key())
            files.append(str(certs.write(tmp_path, f"{batch}-{i}.pem", certs.pem(cert))))
        batches.append(files)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "import", *files],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for files in batches
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    assert len(certificates.list_certificates(session)) == 300
    from app.services import journal

    assert journal.chain_breaks() == []
    session.close()
