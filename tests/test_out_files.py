"""The files Certdesk writes for the user (`export`, `request new`, `renew`, `request csr`)
are always new: never over an existing file, never through a symbolic link, and nothing
is left under the chosen name when the write fails."""

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.errors import CertdeskError
from app.services import certificate_import, certificates
from tests.helpers.cli import one_line_error
from tests.helpers.stores import make_store

resource = pytest.importorskip("resource")

CA_FILE = b"the certificate the CA sent"
OTHER_FILE = b"someone else's file"


def occupied(tmp_path: Path) -> list[Path]:
    """A link to nowhere, a link to another existing file, and an existing file."""
    taken = tmp_path / "taken.out"
    taken.write_bytes(CA_FILE)
    (tmp_path / "target.out").write_bytes(OTHER_FILE)
    link = tmp_path / "link.out"
    link.symlink_to(tmp_path / "target.out")
    dangling = tmp_path / "dangling.out"
    dangling.symlink_to(tmp_path / "nowhere.out")
    return [dangling, link, taken]


def assert_untouched(tmp_path: Path) -> None:
    assert (tmp_path / "taken.out").read_bytes() == CA_FILE
    assert (tmp_path / "target.out").read_bytes() == OTHER_FILE
    assert not (tmp_path / "nowhere.out").exists()
    assert (tmp_path / "link.out").is_symlink() and (tmp_path / "dangling.out").is_symlink()


def refused_as_existing(result, out: Path) -> None:
    assert result.returncode == 1, result.stdout
    assert one_line_error(result) == f"certdesk: --out: {out}: exists; choose a new file name"


def store_with_certificate(cli, store_dir, tmp_path, certs) -> None:
    make_store(store_dir)
    pem = certs.write(tmp_path, "c.pem", certs.pem(certs.make_cert("Out Signing")[0]))
    assert cli("import", str(pem)).returncode == 0


def test_export_never_overwrites_nor_follows_a_link(cli, store_dir, tmp_path, certs):
    store_with_certificate(cli, store_dir, tmp_path, certs)
    for out in occupied(tmp_path):
        for fmt in ("der", "pem"):
            refused_as_existing(
                cli("export", "Out Signing", "--out", str(out), "--format", fmt), out
            )
    assert_untouched(tmp_path)
    actions = {e["action"] for e in json.loads(cli("audit", "--json").stdout)}
    assert "certificate.export" not in actions  # nothing was exported


def test_request_new_renew_and_csr_never_overwrite_nor_follow_a_link(
    cli, store_dir, tmp_path, certs
):
    store_with_certificate(cli, store_dir, tmp_path, certs)
    outs = occupied(tmp_path)
    new = ("request", "new", "--alias", "Fresh", "--subject", "CN=Fresh", "--key", "ec-p256")
    for out in outs:
        refused_as_existing(cli(*new, "--out", str(out)), out)
        refused_as_existing(cli("renew", "Out Signing", "--key", "ec-p256", "--out", str(out)), out)
    assert json.loads(cli("request", "list", "--json").stdout) == []  # no key made for nothing
    made = cli(*new, "--out", str(tmp_path / "fresh.csr"))
    assert made.returncode == 0, made.stderr
    (request,) = json.loads(cli("request", "list", "--json").stdout)
    for out in outs:
        refused_as_existing(cli("request", "csr", str(request["id"]), "--out", str(out)), out)
    assert_untouched(tmp_path)


@contextmanager
def file_size_limit(size: int):
    """Writes past `size` bytes fail with EFBIG (Python ignores SIGXFSZ), as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_failed_export_leaves_no_file(session, tmp_path, certs):
    pem = certs.write(tmp_path, "c.pem", certs.pem(certs.make_cert("Cut Short")[0]))
    certificate_import.import_files(session, [pem])
    out = tmp_path / "cut.pem"
    with file_size_limit(64), pytest.raises(CertdeskError, match="cannot write"):
        certificates.export_certificate(session, "Cut Short", out, "pem")
    assert not out.exists()  # not 64 bytes of half a certificate
