"""Import under hostile conditions: file names and passwords that are not UTF-8, FIFOs
and devices, a disk that fills up, another writer wanting the lock, and the messages an
administrator reads when a key, a password or an alias is not what the import expected.
Every case runs `certdesk` on a real store: in-process, or as the real program where
bytes cross a process boundary or a read could block, or beside a real second process."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from app import store as store_module
from app.crypto.sealing import derive_subkey
from app.services import audit_log, certificate_import, certificates, users
from app.sqlite_errors import database_errors
from tests.helpers.cli import cli_env
from tests.helpers.sqlcipher_pages import iter_decrypted_pages
from tests.helpers.stores import HOLD_LOCK, PASSWORD, make_store


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr


def listed(cli) -> list[dict]:
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def many_certificates(certs, folder: Path, count: int, prefix: str) -> list[str]:
    key = certs.ec_key()  # one key signs them all: fast, and still distinct certificates
    paths = []
    for i in range(count):
        cert, _ = certs.make_cert(f"{prefix} {i:05d}", key=key)
        paths.append(str(certs.write(folder, f"{prefix}-{i:05d}.pem", certs.pem(cert))))
    return paths


def store_with_signer(cli, store_dir, tmp_path, certs, alias: str) -> Path:
    """A new store holding one certificate with its key, and a file to sign."""
    make_store(store_dir)
    cert, key = certs.make_cert(alias)
    p12 = certs.write(tmp_path, "signer.p12", certs.p12(cert, key, None))
    assert cli("import", str(p12)).returncode == 0
    return certs.write(tmp_path, "payload.bin", b"data")


# --------------------------------------------------------------- names and passwords


def test_a_file_name_that_is_not_utf8_stands_alone(cli, cli_process, closed_store, tmp_path, certs):
    good = certs.write(tmp_path, "good.pem", certs.pem(certs.make_cert("Good Name")[0]))
    odd = os.fsdecode(os.fsencode(tmp_path) + b"/odd-\xff\xfe.pem")
    Path(odd).write_bytes(certs.pem(certs.make_cert("Odd Name")[0]))
    junk = os.fsdecode(os.fsencode(tmp_path) + b"/junk-\xff.pem")
    Path(junk).write_bytes(b"not a certificate at all\n")

    result = cli_process("import", str(good), odd, junk)  # the name's bytes in argv

    no_traceback(result)
    assert result.returncode == 1  # the junk file failed, alone
    assert "odd-\\xff\\xfe.pem: imported 'Odd Name'" in result.stdout
    assert "good.pem: imported 'Good Name'" in result.stdout
    (line,) = [ln for ln in result.stderr.splitlines() if "junk-" in ln]
    assert "junk-\\xff.pem: not a certificate" in line
    assert {c["alias"] for c in listed(cli)} == {"Good Name", "Odd Name"}


def test_a_password_that_is_not_utf8_opens_a_key_and_is_refused_by_a_pkcs12_alone(
    cli, cli_process, closed_store, tmp_path, certs
):
    from cryptography.hazmat.primitives import serialization

    secret = b"gr\xfcn-passwort"  # Latin-1, as an old shell profile may hold it
    cert, key = certs.make_cert("Latin-1 Key")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )
    key_file = certs.write(tmp_path, "l1.key", key_pem)
    cert_file = certs.write(tmp_path, "l1.crt", certs.pem(cert))
    other, other_key = certs.make_cert("UTF-8 Bundle")
    p12 = certs.write(tmp_path, "u8.p12", certs.p12(other, other_key, b"utf8-secret"))

    result = cli_process(  # the password's bytes in the environment
        "import",
        str(key_file),
        str(cert_file),
        str(p12),
        "--password-env",
        "PW",
        env_extra={"PW": os.fsdecode(secret)},
    )

    no_traceback(result)
    assert result.returncode == 1
    (problem,) = result.stderr.strip().splitlines()
    assert "u8.p12: the password is not UTF-8 text, and a PKCS#12 password must be" in problem
    assert "Imported 1 certificate(s) and 1 private key(s)" in result.stdout
    assert [(c["alias"], c["has_private_key"]) for c in listed(cli)] == [("Latin-1 Key", True)]


def test_a_store_password_that_is_not_utf8_is_the_bytes_given(cli, cli_process, tmp_path, certs):
    latin1 = {"CERTDESK_PASSWORD": os.fsdecode(b"sch\xf6nes-passwort")}
    created = cli_process("init", "--admin", "admin", env_extra=latin1)
    no_traceback(created)
    assert created.returncode == 0, created.stderr
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Latin-1 Store")[0]))
    assert cli("import", str(path), env_extra=latin1).returncode == 0
    assert [c["alias"] for c in listed(lambda *a: cli(*a, env_extra=latin1))] == ["Latin-1 Store"]
    not_the_same_bytes = {"CERTDESK_PASSWORD": "schönes-passwort"}
    wrong = cli_process("list", env_extra=not_the_same_bytes)
    no_traceback(wrong)
    assert wrong.returncode == 1 and "Wrong password" in wrong.stderr


# ------------------------------------------------------------- only regular files


def test_fifos_devices_and_folders_are_refused_at_once(
    cli, cli_process, closed_store, tmp_path, certs
):
    fifo = tmp_path / "pipe.pem"
    os.mkfifo(fifo)
    good = certs.write(tmp_path, "good.pem", certs.pem(certs.make_cert("Beside A Pipe")[0]))

    started = time.monotonic()
    # A process: a blocked FIFO or a read of /dev/zero ends in the runner's timeout.
    result = cli_process("import", str(fifo), "/dev/zero", "/dev/urandom", str(tmp_path), str(good))
    elapsed = time.monotonic() - started

    no_traceback(result)
    assert result.returncode == 1
    problems = result.stderr.strip().splitlines()
    assert problems == [
        f"certdesk: {fifo}: is a named pipe (FIFO), not a regular file",
        "certdesk: /dev/zero: is a device, not a regular file",
        "certdesk: /dev/urandom: is a device, not a regular file",
        f"certdesk: {tmp_path}: is a folder, not a file",
    ]
    assert elapsed < 20  # a blocked FIFO or a read of /dev/zero would never return
    assert [c["alias"] for c in listed(cli)] == ["Beside A Pipe"]


def test_a_file_over_the_limit_is_refused_by_its_size(cli, closed_store, tmp_path, certs):
    big = tmp_path / "big.pem"
    with open(big, "wb") as handle:
        handle.truncate(certificate_import.MAX_IMPORT_FILE_SIZE + 1)  # sparse: costs no disk

    result = cli("import", str(big))

    no_traceback(result)
    assert result.returncode == 1
    assert "big.pem: too large" in result.stderr


# ------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, where the test may mount one (root, Linux); else skipped."""
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root on Linux")
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named_and_the_saved_files_are_reported(cli, small_disk, tmp_path, certs):
    store = small_disk / "store"
    env = {"CERTDESK_STORE": str(store)}
    make_store(store)
    paths = many_certificates(certs, tmp_path, 6000, "Full Disk")

    result = cli("import", *paths, env_extra=env)

    no_traceback(result)
    assert result.returncode == 1
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 1 and "the disk is full" in problems[0], result.stderr
    reported = [ln for ln in result.stdout.splitlines() if ": imported " in ln]
    summary = result.stdout.strip().splitlines()[-1]
    assert 0 < len(reported) < len(paths)
    assert summary.startswith(f"Imported {len(reported)} certificate(s)")
    assert f"{len(paths) - len(reported)} file(s) not imported" in summary
    # Exactly what was reported is in the store, and the store is whole.
    stored = listed(lambda *a: cli(*a, env_extra=env))
    assert len(stored) == len(reported)
    check = cli("check", env_extra=env)
    assert check.returncode == 0, check.stderr


# ------------------------------------------------------------ the write lock shared


def slow_pkcs12(certs, cn: str) -> bytes:
    """A PKCS#12 whose key derivation costs ~15 ms: 500 of them take seconds to read."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

    cert, key = certs.make_cert(cn)
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(30_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(b"slow")
    )
    return pkcs12.serialize_key_and_certificates(b"slow", key, cert, None, encryption)


def test_a_short_writer_gets_in_during_a_long_import(cli, closed_store, tmp_path, certs, store_dir):
    """Reading 520 slow files takes longer than the busy timeout (5 s); a `disable` run
    meanwhile must not wait for all of it."""
    first = certs.write(tmp_path, "first.pem", certs.pem(certs.make_cert("Disable Me")[0]))
    assert cli("import", str(first)).returncode == 0
    slow = slow_pkcs12(certs, "Slow Bundle")
    paths = [str(certs.write(tmp_path, f"slow-{i}.p12", slow)) for i in range(520)]
    env = cli_env(tmp_path, store_dir, PW="slow")
    long_import = subprocess.Popen(
        [sys.executable, "-m", "app", "import", "--password-env", "PW", *paths],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # signed in, and reading the first batch
        short = cli("disable", "Disable Me")
        still_running = long_import.poll() is None
    finally:
        _, err = long_import.communicate(timeout=300)
    assert short.returncode == 0, short.stderr
    assert still_running, "the import ended first: the test showed nothing"
    assert long_import.returncode == 0, err
    rows = {r["alias"]: r for r in listed(cli)}
    assert set(rows) == {"Disable Me", "Slow Bundle"}
    assert rows["Disable Me"]["enabled"] is False


def test_when_busy_strikes_the_committed_files_are_reported(
    store_dir, tmp_path, certs, monkeypatch
):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.3)
    monkeypatch.setattr(certificate_import, "PROGRESS_INTERVAL_S", 0)  # every step
    session, _ = users.initialise_store(store_dir, "admin", PASSWORD)
    batch = certificate_import.FILES_PER_TRANSACTION
    paths = many_certificates(certs, tmp_path, batch * 2 + 50, "Busy")
    holder = None

    def progress(done, total, path):
        nonlocal holder
        if path == paths[batch + 10] and holder is None:  # reading the second batch
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD_LOCK, str(store_dir), PASSWORD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout.readline().strip() == "locked"

    try:
        report = certificate_import.import_files(session, paths, progress=progress)
    finally:
        holder.communicate("release\n", timeout=30)
    assert "the store is busy" in report.stopped
    assert len(report.files) == batch and report.imported == batch
    assert report.not_imported == batch + 50
    stored = {r.alias for r in certificates.list_certificates(session)}
    assert stored == {a for f in report.files for a in f.imported}
    session.close()


# ---------------------------------------------------------------- true messages


def test_a_plain_key_and_a_protected_pkcs12_in_one_command(cli, closed_store, tmp_path, certs):
    from cryptography.hazmat.primitives import serialization

    plain_cert, plain_key = certs.make_cert("Plain Key")
    key_pem = plain_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = certs.write(tmp_path, "plain.key", key_pem)
    cert_file = certs.write(tmp_path, "plain.crt", certs.pem(plain_cert))
    p12_cert, p12_key = certs.make_cert("Protected Bundle")
    protected = certs.write(tmp_path, "p.p12", certs.p12(p12_cert, p12_key, b"s3cret"))
    open_cert, open_key = certs.make_cert("Open Bundle")
    unprotected = certs.write(tmp_path, "o.p12", certs.p12(open_cert, open_key, None))

    result = cli(
        "import",
        str(key_file),
        str(cert_file),
        str(protected),
        str(unprotected),
        "--password-env",
        "PW",
        env_extra={"PW": "s3cret"},
    )

    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "Imported 3 certificate(s) and 3 private key(s) from 4 file(s)" in result.stdout
    assert all(c["has_private_key"] for c in listed(cli))


def test_a_key_its_certificate_already_holds_is_no_error(cli, closed_store, tmp_path, certs):
    from cryptography.hazmat.primitives import serialization

    cert, key = certs.make_cert("Held Key")
    assert (
        cli("import", str(certs.write(tmp_path, "h.p12", certs.p12(cert, key, None)))).returncode
        == 0
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    result = cli("import", str(certs.write(tmp_path, "h.key", key_pem)))

    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "h.key: 'Held Key' already holds this private key; skipped" in result.stdout
    assert "0 private key(s)" in result.stdout


@pytest.mark.parametrize("alias", ["", "   "])
def test_an_empty_alias_is_refused_however_it_is_written(cli, closed_store, tmp_path, certs, alias):
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Aliased")[0]))

    result = cli("import", str(path), "--alias", alias)

    no_traceback(result)
    assert result.returncode == 1
    assert "alias: must not be empty" in result.stderr
    assert listed(cli) == []


# -------------------------------------------------------------- a damaged page


def damage_page(db: Path, page: int) -> None:
    """Overwrite 16 bytes inside one page: its HMAC no longer matches."""
    with open(db, "r+b") as handle:
        handle.seek((page - 1) * 4096 + 200)
        handle.write(b"\0" * 16)


def test_check_names_a_damaged_page_and_other_commands_say_damaged(
    cli, closed_store, tmp_path, certs
):
    paths = many_certificates(certs, tmp_path, 300, "Paged")
    assert cli("import", *paths).returncode == 0
    db = closed_store / store_module.DB_FILE
    session, _ = users.sign_in(closed_store, "admin", password=PASSWORD)
    try:
        assert session.store.checkpoint()
        aliases = [r.alias for r in certificates.list_certificates(session)]
        raw_key = derive_subkey(session.store.master_key(), "sqlcipher")
    finally:
        session.close()
    # The page that holds the DER of a certificate two thirds in, wherever the audit
    # events (they name the files, so their size follows the tmp path) put it.
    der = certs.der(certs.x509.load_pem_x509_certificate(Path(paths[200]).read_bytes()))
    (page,) = [n for n, plain in iter_decrypted_pages(db, raw_key) if der in plain]
    damage_page(db, page)

    check = cli("check")

    no_traceback(check)
    assert check.returncode == 1
    lines = check.stderr.strip().splitlines()
    assert lines[0] == f"certdesk: database page {page}: damaged (its HMAC does not match)"
    assert lines[1].startswith("certdesk: database: unreadable tables and indexes: table ")
    assert "restore the latest backup" in lines[-1]

    # A command that meets the page says so in one line; one that does not, works.
    session, _ = users.sign_in(closed_store, "admin", password=PASSWORD)
    on_page = []
    for alias in aliases:
        try:
            certificates.get_certificate(session, alias)
        except database_errors():
            on_page.append(alias)
            session.store.db.close()  # SQLCipher fails every later read on this connection
    session.close()
    assert on_page, "no certificate lies on the damaged page: choose another page"
    met = cli("show", on_page[0])
    no_traceback(met)
    assert met.returncode == 1
    (line,) = met.stderr.strip().splitlines()
    assert "the store is damaged" in line and "certdesk check" in line
    untouched = next(a for a in aliases if a not in on_page)
    assert cli("show", untouched).returncode == 0


def test_a_backup_onto_a_full_disk_says_so_and_leaves_nothing(
    cli, closed_store, small_disk, tmp_path, certs
):
    paths = many_certificates(certs, tmp_path, 300, "Backed Up")
    assert cli("import", *paths).returncode == 0
    with open(small_disk / "filler", "wb") as filler:
        filler.write(bytes(1536 * 1024))  # the store's copy no longer fits beside it

    result = cli("backup", "--out", str(small_disk / "store.backup"))

    no_traceback(result)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith(
        "store.backup: cannot write the backup: the disk is full; nothing was written"
    )
    assert os.listdir(small_disk) == ["filler"]
    events = json.loads(cli("audit", "--json").stdout)
    assert [e["outcome"] for e in events if e["action"] == "store.backup"] == ["allowed", "failed"]


@pytest.mark.parametrize(
    "command",
    [
        ("show", "ALIAS"),
        ("set", "Plain", "--description", "ALIAS"),
        ("user", "add", "ALIAS"),
        ("sign", "Plain", "FILE", "--out", "OUT", "--reason", "ALIAS"),
    ],
)
def test_text_arguments_that_are_not_utf8_are_one_line(
    cli, cli_process, store_dir, tmp_path, certs, command
):
    payload = store_with_signer(cli, store_dir, tmp_path, certs, "Plain")
    values = {
        "ALIAS": os.fsdecode(b"caf\xe9"),
        "FILE": str(payload),
        "OUT": str(tmp_path / "o.sig"),
    }
    before = json.loads(cli("audit", "--json").stdout)

    result = cli_process(  # the argument's bytes in argv
        *(values.get(a, a) for a in command), env_extra={"CERTDESK_NEW_PASSWORD": "x" * 12}
    )

    no_traceback(result)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("“caf\\xe9” is not UTF-8 text")
    assert json.loads(cli("audit", "--json").stdout) == before
    assert not (tmp_path / "o.sig").exists()


def test_an_audit_detail_that_is_not_utf8_is_stored_escaped(session):
    from app.services import journal
    from app.services.session import write_transaction

    signing = journal.signed_by("admin", session.keys, session.store.store_id)
    with signing, write_transaction(session):
        journal.record("admin", "certificate.export", "x", file=os.fsdecode(b"/tmp/caf\xe9.cer"))
    (event,) = [e for e in audit_log.list_events(session) if e.action == "certificate.export"]
    assert event.details == {"file": "/tmp/caf\\xe9.cer"}
    assert audit_log.verify_chain(session) == []


def test_a_fifo_where_a_work_marker_belongs_is_one_line_not_a_hang(cli_process, closed_store):
    os.mkfifo(closed_store / ".certdesk-init.partial")

    result = cli_process("list")  # the runner gives up after 120 s: a blocked open fails

    no_traceback(result)
    assert result.returncode == 1
    assert "is not a file Certdesk made" in result.stderr


def test_sign_blames_its_out_file_only_for_the_out_file(
    cli, cli_process, store_dir, tmp_path, certs
):
    payload = store_with_signer(cli, store_dir, tmp_path, certs, "Signer")
    os.mkfifo(store_dir / ".certdesk-init.partial")  # met while signing in, not by --out

    result = cli_process("sign", "Signer", str(payload), "--out", str(tmp_path / "p.sig"))

    no_traceback(result)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "--out" not in line and "is not a file Certdesk made" in line
    assert not (tmp_path / "p.sig").exists()


def test_a_name_attribute_of_the_wrong_string_type_is_a_damaged_certificate(session, certs):
    """A common name encoded as a BIT STRING: cryptography raises TypeError for it."""
    der = certs.make_cert("A")[0].public_bytes(serialization.Encoding.DER)
    common_name = b"\x06\x03\x55\x04\x03\x0c\x01A"
    assert common_name in der
    mangled = der.replace(common_name, b"\x06\x03\x55\x04\x03\x03\x01\x00")
    result = certificate_import.import_bytes(session, "bitstring.cer", mangled)
    assert result.error is not None and "damaged certificate" in result.error
    assert certificates.list_certificates(session) == []
