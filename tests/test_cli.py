"""The CLI contract of CLI.md, driven through the real `certdesk` program."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import PASSWORD, cli_env

CONTRACT_KEYS = {
    "alias", "enabled", "owner", "has_pin", "ask_reason", "usage_count", "last_used",
    "groups", "policies", "valid_from", "valid_to", "subject", "issuer", "serial",
    "sha1", "sha256", "has_private_key",
}  # fmt: skip


def one_line_error(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("certdesk ")


def test_bad_usage_exits_2(cli):
    assert cli("frobnicate").returncode == 2
    assert cli("export").returncode == 2


def test_init_import_list_show_export_round_trip(cli, tmp_path, certs):
    assert cli("init", "--admin", "admin").returncode == 0
    cert, _ = certs.make_cert("CLI Signing")
    good = certs.write(tmp_path, "good.pem", certs.pem(cert))
    p12 = certs.write(tmp_path, "k.p12", certs.p12(*certs.make_cert("CLI Keyed"), b"pw"))
    bad = certs.write(tmp_path, "bad.cer", b"\x30\x82\x05\x00truncated")
    result = cli(
        "import", str(good), str(bad), str(p12), "--password-env", "P12_PW",
        env_extra={"P12_PW": "pw"},
    )  # fmt: skip
    assert result.returncode == 1  # one file failed, after importing the others
    assert f"{bad}: truncated" in one_line_error(result)
    assert f"{good}: imported 'CLI Signing'" in result.stdout

    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["alias"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"CLI Signing", "CLI Keyed"}
    row = rows["CLI Signing"]
    assert set(row) >= CONTRACT_KEYS
    assert row["valid_to"].endswith("Z") and row["last_used"] is None
    assert row["serial"] == format(cert.serial_number, "x").rjust(len(row["serial"]), "0")
    assert row["sha256"] == cert.fingerprint(certs.hashes.SHA256()).hex()
    assert rows["CLI Keyed"]["has_private_key"] is True

    shown = cli("show", "CLI Signing", "--json")
    detail = json.loads(shown.stdout)
    assert {"description", "associated_users", "associated_user_groups", "extensions"} <= set(
        detail
    )
    assert {"oid": "2.5.29.37", "name": "X509v3 Extended Key Usage", "critical": False,
            "value": "Code Signing"} in detail["extensions"]  # fmt: skip

    out = tmp_path / "out.cer"
    exported = cli("export", "CLI Signing", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes() == certs.der(cert)
    text = certs.openssl("x509", "-inform", "der", "-in", str(out), "-noout", "-subject")
    assert b"CN=CLI Signing" in text.stdout.replace(b" = ", b"=")


def test_duplicate_import_is_skipped_with_exit_0(cli, tmp_path, certs):
    cli("init", "--admin", "admin")
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Once")[0]))
    cli("import", str(path))
    again = cli("import", str(path))
    assert again.returncode == 0
    assert "already in the store as 'Once'; skipped" in again.stdout


def test_wrong_password_is_one_line_exit_1(cli):
    cli("init", "--admin", "admin")
    result = cli("list", env_extra={"CERTDESK_PASSWORD": "wrong"})
    assert result.returncode == 1
    assert one_line_error(result) == "certdesk: Wrong password for user 'admin'."


def test_missing_store_is_one_line_exit_1(cli, tmp_path):
    result = cli("list", "--store", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "no store here" in one_line_error(result)


def test_no_terminal_and_no_credentials_exit_1(cli):
    cli("init", "--admin", "admin")
    result = cli("list", drop=("CERTDESK_PASSWORD",))
    assert result.returncode == 1
    assert "no credentials" in one_line_error(result)


def test_newer_schema_is_one_line_exit_1(cli, store_dir):
    cli("init", "--admin", "admin")
    from app.services import users
    from models import SchemaVersion

    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    SchemaVersion.update(version=99).execute()
    session.close()
    result = cli("list")
    assert result.returncode == 1
    assert "newer Certdesk" in one_line_error(result)


def test_unknown_alias_is_one_line_exit_1(cli, tmp_path):
    cli("init", "--admin", "admin")
    result = cli("export", "ghost", "--out", str(tmp_path / "g.cer"))
    assert result.returncode == 1
    assert one_line_error(result) == "certdesk: No certificate with alias 'ghost'."


@pytest.mark.parametrize("fmt", ["der", "pem"])
def test_export_is_read_by_openssl_and_keytool(cli, tmp_path, certs, fmt):
    cli("init", "--admin", "admin")
    cert, _ = certs.make_cert("Peer Check", key=certs.rsa_key())
    cli("import", str(certs.write(tmp_path, "p.pem", certs.pem(cert))))
    out = tmp_path / f"peer.{fmt}.cer"
    assert cli("export", "Peer Check", "--out", str(out), "--format", fmt).returncode == 0
    fingerprint = certs.openssl(
        "x509", "-inform", fmt, "-in", str(out), "-noout", "-fingerprint", "-sha256"
    ).stdout.decode()
    expected = cert.fingerprint(certs.hashes.SHA256()).hex(":").upper()
    assert expected in fingerprint
    if shutil.which("keytool") is None:
        pytest.skip("keytool (Java) is not installed")
    printed = subprocess.run(
        ["keytool", "-printcert", "-file", str(out)], capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0, printed.stderr
    assert "CN=Peer Check" in printed.stdout
    assert expected in printed.stdout


def test_cli_does_not_import_qt(cli, tmp_path):
    cli("init", "--admin", "admin")
    code = (
        "import sys; from app.__main__ import main; rc = main(['list', '--json']); "
        "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)"
    )
    env = cli_env(tmp_path, tmp_path / "store")
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_init_refuses_a_file_a_full_folder_and_an_impossible_path(cli, tmp_path):
    a_file = tmp_path / "cert.pem"
    a_file.write_text("not a store")
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    for store, expected in (
        (a_file, "is a file, not a folder"),
        (full, "the folder is not empty"),
        (tmp_path / "cert.pem" / "below", "cannot create the store folder"),
    ):
        result = cli("init", "--admin", "admin", env_extra={"CERTDESK_STORE": str(store)})
        assert result.returncode == 1
        assert expected in one_line_error(result)
    assert a_file.read_text() == "not a store" and sorted(full.iterdir()) == [full / "notes.txt"]


def test_list_marks_expiry_and_group_add_says_it_created_a_group(cli, tmp_path, certs):
    assert cli("init", "--admin", "admin").returncode == 0
    soon, _ = certs.make_cert("Soon", days=5)
    gone, _ = certs.make_cert("Gone", days=-3, start_days=-30)
    paths = [certs.write(tmp_path, f"{n}.pem", certs.pem(c)) for n, c in (("s", soon), ("g", gone))]
    assert cli("import", *map(str, paths)).returncode == 0
    lines = {line.split()[0]: line for line in cli("list").stdout.splitlines()[1:]}
    assert "expired" in lines["Gone"] and "days left" in lines["Soon"]
    added = cli("group", "add", "Prodcution", "Soon")
    assert added.returncode == 0
    assert "Created the certificate group 'Prodcution'." in added.stdout
    refused = cli("request", "cancel", "1")
    assert refused.returncode == 2 and "--yes" in one_line_error(refused)


def test_export_to_a_pem_name_writes_pem_unless_told(cli, tmp_path, certs):
    assert cli("init", "--admin", "admin").returncode == 0
    path = certs.write(tmp_path, "x.cer", certs.der(certs.make_cert("Named Pem")[0]))
    assert cli("import", str(path)).returncode == 0
    assert cli("export", "Named Pem", "--out", str(tmp_path / "a.pem")).returncode == 0
    assert (tmp_path / "a.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert cli("export", "Named Pem", "--out", str(tmp_path / "b.cer")).returncode == 0
    assert (tmp_path / "b.cer").read_bytes()[:1] == b"\x30"
    forced = cli("export", "Named Pem", "--out", str(tmp_path / "c.pem"), "--format", "der")
    assert forced.returncode == 0 and (tmp_path / "c.pem").read_bytes()[:1] == b"\x30"
