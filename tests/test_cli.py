"""The CLI contract of CLI.md: in-process through `app.cli.main` (the `cli` fixture), and
through the real `certdesk` program where only a process shows it (`cli_process`)."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.helpers.cli import cli_env, one_line_error
from tests.helpers.stores import PASSWORD

CONTRACT_KEYS = {
    "alias", "enabled", "owner", "has_pin", "ask_reason", "usage_count", "last_used",
    "groups", "policies", "valid_from", "valid_to", "subject", "issuer", "serial",
    "sha1", "sha256", "has_private_key",
}  # fmt: skip


# ------------------------------------------------------------- the real program


def test_version(cli_process):
    result = cli_process("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("certdesk ")


def test_bad_usage_exits_2(cli_process):
    assert cli_process("frobnicate").returncode == 2
    assert cli_process("export").returncode == 2


def test_wrong_password_is_one_line_exit_1(cli_process, closed_store):
    result = cli_process("list", env_extra={"CERTDESK_PASSWORD": "wrong"})
    assert result.returncode == 1
    assert one_line_error(result) == "certdesk: Wrong password for user 'admin'."


def test_no_terminal_and_no_credentials_exit_1(cli_process, closed_store):
    # A real process: stdin is /dev/null and the keyring is the one the environment names.
    result = cli_process("list", drop=("CERTDESK_PASSWORD",))
    assert result.returncode == 1
    assert "no credentials" in one_line_error(result)


def test_cli_does_not_import_qt(tmp_path, closed_store):
    code = (
        "import sys; from app.__main__ import main; rc = main(['list', '--json']); "
        "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)"
    )
    env = cli_env(tmp_path, closed_store)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# ------------------------------------------------------------- init and import


@pytest.fixture
def imported(cli, tmp_path, certs):
    """A store made by `init`, then a PEM, a damaged file and a PKCS#12 imported in one
    command; returns the import's result and the PEM's certificate."""
    assert cli("init", "--admin", "admin").returncode == 0
    cert, _ = certs.make_cert("CLI Signing")
    good = certs.write(tmp_path, "good.pem", certs.pem(cert))
    p12 = certs.write(tmp_path, "k.p12", certs.p12(*certs.make_cert("CLI Keyed"), b"pw"))
    bad = certs.write(tmp_path, "bad.cer", b"\x30\x82\x05\x00truncated")
    result = cli(
        "import", str(good), str(bad), str(p12), "--password-env", "P12_PW",
        env_extra={"P12_PW": "pw"},
    )  # fmt: skip
    return result, cert, good, bad


def test_import_reports_each_file_and_exits_1_for_the_one_that_failed(imported):
    result, _, good, bad = imported
    assert result.returncode == 1  # one file failed, after importing the others
    assert f"{bad}: truncated" in one_line_error(result)
    assert f"{good}: imported 'CLI Signing'" in result.stdout


def test_list_json_has_the_contract_keys(cli, imported, certs):
    _, cert, _, _ = imported
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


def test_show_json_has_the_details_and_the_extensions(cli, imported):
    shown = cli("show", "CLI Signing", "--json")
    detail = json.loads(shown.stdout)
    assert {"description", "associated_users", "associated_user_groups", "extensions"} <= set(
        detail
    )
    assert {"oid": "2.5.29.37", "name": "X509v3 Extended Key Usage", "critical": False,
            "value": "Code Signing"} in detail["extensions"]  # fmt: skip


def test_export_writes_the_der_openssl_reads(cli, imported, tmp_path, certs):
    _, cert, _, _ = imported
    out = tmp_path / "out.cer"
    exported = cli("export", "CLI Signing", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes() == certs.der(cert)
    text = certs.openssl("x509", "-inform", "der", "-in", str(out), "-noout", "-subject")
    assert b"CN=CLI Signing" in text.stdout.replace(b" = ", b"=")


def test_duplicate_import_is_skipped_with_exit_0(cli, closed_store, tmp_path, certs):
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Once")[0]))
    cli("import", str(path))
    again = cli("import", str(path))
    assert again.returncode == 0
    assert "already in the store as 'Once'; skipped" in again.stdout


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


# ------------------------------------------------------------------ refusals


def test_missing_store_is_one_line_exit_1(cli, tmp_path):
    result = cli("list", "--store", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "no store here" in one_line_error(result)


def test_no_credentials_in_process_exit_1(cli, closed_store):
    result = cli("list", drop=("CERTDESK_PASSWORD",))
    assert result.returncode == 1
    assert "no credentials" in one_line_error(result)


def test_newer_schema_is_one_line_exit_1(cli, closed_store):
    from app.services import users
    from models import SchemaVersion

    session, _ = users.sign_in(closed_store, "admin", password=PASSWORD)
    SchemaVersion.update(version=99).execute()
    session.close()
    result = cli("list")
    assert result.returncode == 1
    assert "newer Certdesk" in one_line_error(result)


def test_unknown_alias_is_one_line_exit_1(cli, closed_store, tmp_path):
    result = cli("export", "ghost", "--out", str(tmp_path / "g.cer"))
    assert result.returncode == 1
    assert one_line_error(result) == "certdesk: No certificate with alias 'ghost'."


def test_request_cancel_needs_yes(cli, closed_store):
    refused = cli("request", "cancel", "1")
    assert refused.returncode == 2 and "--yes" in one_line_error(refused)


# -------------------------------------------------------------- list and export


def test_list_marks_expired_and_expiring_certificates(cli, closed_store, tmp_path, certs):
    soon, _ = certs.make_cert("Soon", days=5)
    gone, _ = certs.make_cert("Gone", days=-3, start_days=-30)
    paths = [certs.write(tmp_path, f"{n}.pem", certs.pem(c)) for n, c in (("s", soon), ("g", gone))]
    assert cli("import", *map(str, paths)).returncode == 0
    lines = {line.split()[0]: line for line in cli("list").stdout.splitlines()[1:]}
    assert "expired" in lines["Gone"] and "days left" in lines["Soon"]


def test_group_add_says_it_created_a_group(cli, closed_store, tmp_path, certs):
    path = certs.write(tmp_path, "s.pem", certs.pem(certs.make_cert("Soon")[0]))
    assert cli("import", str(path)).returncode == 0
    added = cli("group", "add", "Prodcution", "Soon")
    assert added.returncode == 0
    assert "Created the certificate group 'Prodcution'." in added.stdout
    edited = cli("group", "edit", "prodcution", "--rename", "Production", "--description", "Live")
    assert (edited.returncode, edited.stdout) == (0, "Saved the certificate group 'Production'.\n")
    assert json.loads(cli("show", "Soon", "--json").stdout)["groups"] == ["Production"]


def test_group_edit_needs_a_change_and_names_the_flag_it_refuses(cli, closed_store):
    nothing = cli("group", "edit", "Production")
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr
    refused = cli("group", "edit", "Production", "--rename", "  ")
    assert (refused.returncode, refused.stderr) == (
        1,
        "certdesk: --rename: must not be empty\n",
    )


@pytest.mark.parametrize("fmt", ["der", "pem"])
def test_export_is_read_by_openssl_and_keytool(cli, closed_store, tmp_path, certs, fmt):
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


def test_export_to_a_pem_name_writes_pem_unless_told(cli, closed_store, tmp_path, certs):
    path = certs.write(tmp_path, "x.cer", certs.der(certs.make_cert("Named Pem")[0]))
    assert cli("import", str(path)).returncode == 0
    assert cli("export", "Named Pem", "--out", str(tmp_path / "a.pem")).returncode == 0
    assert (tmp_path / "a.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert cli("export", "Named Pem", "--out", str(tmp_path / "b.cer")).returncode == 0
    assert (tmp_path / "b.cer").read_bytes()[:1] == b"\x30"
    forced = cli("export", "Named Pem", "--out", str(tmp_path / "c.pem"), "--format", "der")
    assert forced.returncode == 0 and (tmp_path / "c.pem").read_bytes()[:1] == b"\x30"
