"""`user`, `audit`, `check`, `backup` and `restore`, as in CLI.md."""

import json

import pytest

from models import AuditEvent, PrivateKey
from tests.helpers.cli import one_line_error
from tests.helpers.stores import raw_store


def test_user_add_then_user_list_shows_the_role_and_groups(cli, closed_store):
    added = cli(
        "user", "add", "bob", "--role", "Auditor", "--user-group", "Release Engineers",
        env_extra={"CERTDESK_NEW_PASSWORD": "bobs long password"},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = {u["name"]: u for u in json.loads(cli("user", "list", "--json").stdout)}
    assert {"name": "bob", "role": "Auditor", "enabled": True,
            "user_groups": ["Release Engineers"]}.items() <= listed["bob"].items()  # fmt: skip


def test_the_new_user_signs_in_with_the_role(cli, closed_store, tmp_path, certs):
    added = cli(
        "user", "add", "bob", "--role", "Auditor",
        env_extra={"CERTDESK_NEW_PASSWORD": "bobs long password"},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Shared")[0]))
    assert cli("import", str(path)).returncode == 0
    as_bob = {"CERTDESK_USER": "bob", "CERTDESK_PASSWORD": "bobs long password"}
    assert cli("list", env_extra=as_bob).returncode == 0
    refused = cli("disable", "Shared", env_extra=as_bob)
    assert refused.returncode == 1 and "certificates.enable_disable" in one_line_error(refused)


def test_user_add_needs_a_long_enough_new_password(cli, closed_store):
    no_password = cli("user", "add", "carol")
    assert no_password.returncode == 1 and "CERTDESK_NEW_PASSWORD" in one_line_error(no_password)
    short = cli("user", "add", "carol", env_extra={"CERTDESK_NEW_PASSWORD": "short"})
    assert short.returncode == 1 and "password" in one_line_error(short)


@pytest.fixture
def keyed_store(cli, closed_store, tmp_path, certs):
    """A store holding one certificate with its private key, imported by the CLI."""
    cert, key = certs.make_cert("Audited")
    p12 = certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))
    assert cli("import", str(p12)).returncode == 0
    return closed_store


def test_audit_json_lists_the_events(cli, keyed_store):
    events = json.loads(cli("audit", "--json").stdout)
    assert [e["action"] for e in events] == ["store.create", "certificate.import"]
    assert set(events[0]) >= {"time", "user", "action", "target", "outcome", "details"}
    assert events[1]["time"].endswith("Z") and events[1]["outcome"] == "allowed"


def test_audit_verify_and_check_pass_on_an_intact_store(cli, keyed_store):
    assert cli("audit", "--verify").returncode == 0
    assert cli("check").returncode == 0


def test_audit_verify_and_check_find_damage(cli, keyed_store):
    with raw_store(keyed_store):
        AuditEvent.update(target="Edited").where(
            AuditEvent.action == "certificate.import"
        ).execute()
        sealed = bytearray(PrivateKey.get().sealed)
        sealed[-1] ^= 1
        PrivateKey.update(sealed=bytes(sealed)).execute()
    broken = cli("audit", "--verify")
    assert broken.returncode == 1 and "broken at event" in one_line_error(broken)
    checked = cli("check")
    assert checked.returncode == 1
    lines = checked.stderr.strip().splitlines()
    assert any("private key" in line and "does not open" in line for line in lines)
    assert any("audit event" in line for line in lines)


@pytest.fixture
def archive(cli, closed_store, tmp_path, certs):
    """A backup made by the CLI while another connection holds the store open."""
    cert, key = certs.make_cert("Backed Up Signing")
    p12 = certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))
    assert cli("import", str(p12)).returncode == 0
    archive = tmp_path / "store.certdesk-backup"
    with raw_store(closed_store):  # the store is open
        done = cli("backup", "--out", str(archive))
    assert done.returncode == 0, done.stderr
    return archive


def test_a_backup_made_while_open_is_encrypted_and_never_overwritten(cli, archive):
    assert b"Backed Up Signing" not in archive.read_bytes()  # still encrypted inside
    again = cli("backup", "--out", str(archive))
    assert again.returncode == 1 and "exists" in one_line_error(again)


def test_restore_into_a_new_folder_gives_a_whole_store(cli, archive, tmp_path):
    elsewhere = {"CERTDESK_STORE": str(tmp_path / "restored")}
    assert cli("restore", str(archive), env_extra=elsewhere).returncode == 0
    listed = json.loads(cli("list", "--json", env_extra=elsewhere).stdout)
    assert [(c["alias"], c["has_private_key"]) for c in listed] == [("Backed Up Signing", True)]
    assert cli("check", env_extra=elsewhere).returncode == 0
    actions = [e["action"] for e in json.loads(cli("audit", "--json", env_extra=elsewhere).stdout)]
    assert actions[-1] == "store.backup"


def test_restore_refuses_a_folder_that_holds_a_store(cli, archive, tmp_path):
    elsewhere = {"CERTDESK_STORE": str(tmp_path / "restored")}
    assert cli("restore", str(archive), env_extra=elsewhere).returncode == 0
    refused = cli("restore", str(archive), env_extra=elsewhere)
    assert refused.returncode == 1
    assert "already exists" in one_line_error(refused) or "not empty" in one_line_error(refused)


def test_restore_refuses_a_damaged_backup(cli, archive, tmp_path):
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(archive.read_bytes()[:200])
    broken = cli("restore", str(damaged), env_extra={"CERTDESK_STORE": str(tmp_path / "x")})
    assert broken.returncode == 1 and "damaged backup" in one_line_error(broken)


def test_restore_refuses_mixed_plaintext_bombs_and_junk_leaving_nothing(
    cli, closed_store, tmp_path, monkeypatch
):
    import zipfile

    from app.errors import CertdeskError
    from app.services import backup

    good = tmp_path / "good.zip"
    assert cli("backup", "--out", str(good)).returncode == 0
    with zipfile.ZipFile(good) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}

    def variant(name, **changes):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in (parts | changes).items():
                archive.writestr(member, data)
        return path

    other_slots = json.loads(parts["keyslots.json"])
    other_slots["store_id"] = "0123456789abcdef" * 2  # well-formed, of another store
    cases = {
        variant("mixed.zip", **{"keyslots.json": json.dumps(other_slots)}): "different stores",
        variant("plain.zip", **{"certdesk.db": b"SQLite format 3\x00" + bytes(100)}): "unencrypted",
        variant("junk.zip", **{"certdesk-backup.json": "[]"}): "not a Certdesk backup",
    }
    for archive, expected in cases.items():
        target = tmp_path / f"into-{archive.stem}"
        with pytest.raises(CertdeskError, match=expected):
            backup.restore_store(target, archive)
        assert not target.exists()  # the folder restore created goes too
    monkeypatch.setitem(backup.LIMITS, "certdesk.db", 1000)
    with pytest.raises(CertdeskError, match="implausibly large"):
        backup.restore_store(tmp_path / "into-bomb", good)


def test_restore_refuses_a_fifo_or_a_device_at_once(cli_process, tmp_path):
    import os

    fifo = tmp_path / "backup.zip"
    os.mkfifo(fifo)
    for archive, what in ((fifo, "is a named pipe (FIFO)"), ("/dev/zero", "is a device")):
        target = tmp_path / f"restored-{what.split()[-1]}"
        # A process: an open that blocked on the FIFO would end in the runner's timeout.
        result = cli_process("restore", str(archive), "--store", str(target))
        assert result.returncode == 1
        assert what in one_line_error(result)
        assert not target.exists()


def test_a_store_path_that_cannot_be_resolved_is_one_line(cli, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    for path in (str(loop), "~no-such-user-here/store"):
        result = cli("list", "--store", path)
        assert result.returncode == 1
        assert "cannot be a store folder" in one_line_error(result)


def test_a_backup_holds_the_slots_of_the_users_in_its_copy_only(cli, store_dir, tmp_path, session):
    import zipfile

    from app.keyslots import SLOTS_FILE
    from app.services import backup

    doc = json.loads((store_dir / SLOTS_FILE).read_text())
    doc["slots"]["halfway"] = doc["slots"]["admin"]
    doc["pending"] = "halfway"  # an add under way whose user the copy does not have
    (store_dir / SLOTS_FILE).write_text(json.dumps(doc))

    archive = backup.backup_store(session, tmp_path / "store.backup")
    session.close()

    with zipfile.ZipFile(archive) as opened:
        archived = json.loads(opened.read(SLOTS_FILE))
    assert set(archived["slots"]) == {"admin"} and "pending" not in archived
    restored = cli("restore", str(archive), "--store", str(tmp_path / "restored"))
    assert restored.returncode == 0, restored.stderr
    assert cli("check", "--store", str(tmp_path / "restored")).returncode == 0


def test_restore_refuses_a_backup_that_could_never_open(cli, tmp_path, session):
    import zipfile

    from app.keyslots import SLOTS_FILE
    from app.services import backup
    from app.store import DB_FILE

    good = backup.backup_store(session, tmp_path / "good.backup")
    session.close()
    with zipfile.ZipFile(good) as source:
        members = {name: source.read(name) for name in source.namelist()}
    slots = json.loads(members[SLOTS_FILE])
    for name, change, why in (
        ("short", {DB_FILE: members[DB_FILE][:100]}, "its database is cut short"),
        ("no users", {SLOTS_FILE: json.dumps(slots | {"slots": {}}).encode()}, "name no user"),
    ):
        archive = tmp_path / f"{name}.backup"
        with zipfile.ZipFile(archive, "w") as out:
            for member, data in (members | change).items():
                out.writestr(member, data)
        target = tmp_path / f"restored-{name.replace(' ', '-')}"
        result = cli("restore", str(archive), "--store", str(target))
        assert result.returncode == 1
        assert why in one_line_error(result)
        assert not target.exists()
