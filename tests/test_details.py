"""The Details tab's data against `openssl x509`, and the chain found in the store."""

import datetime as dt
import re

from cryptography import x509

from app.crypto.details import certificate_details, validity_text
from app.services import certificate_import, certificates


def openssl_text(certs, path, *options) -> str:
    return certs.openssl("x509", "-in", str(path), "-noout", *options).stdout.decode()


def test_details_agree_with_openssl(tmp_path, certs):
    path = certs.openssl_rich_cert(tmp_path, "Agree")
    details = certificate_details(x509.load_pem_x509_certificate(path.read_bytes()))
    text = openssl_text(certs, path, "-text")
    assert f"Version: {details.version}" in text
    serial = re.search(r"Serial Number:\s*\n\s*([0-9a-f:]+)", text).group(1)
    assert details.serial == serial.upper()
    assert f"Signature Algorithm: {details.signature_algorithm}" in text
    assert "NIST CURVE: P-256" in text and details.public_key == "EC P-256"
    for digest, value in (("-sha1", details.sha1), ("-sha256", details.sha256)):
        assert openssl_text(certs, path, "-fingerprint", digest).strip().endswith("=" + value)
    subject = openssl_text(certs, path, "-subject", "-nameopt", "sep_multiline,sname").splitlines()
    assert [line.strip() for line in subject[1:]] == [
        f"{p.label}={p.value}" for p in details.subject
    ]
    assert details.self_issued


def test_rsa_key_size_and_v1(tmp_path, certs):
    rsa_cert, _ = certs.make_cert("RSA One", key=certs.rsa_key())
    assert certificate_details(rsa_cert).public_key == "RSA 2048 bits"
    v1 = x509.load_pem_x509_certificate(certs.openssl_v1_cert(tmp_path).read_bytes())
    assert certificate_details(v1).version == "1 (0x0)"


def test_validity_text():
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    assert validity_text(now + dt.timedelta(days=10, hours=2), now) == "10 days remaining"
    assert validity_text(now - dt.timedelta(days=3), now) == "expired 3 days ago"
    assert validity_text(now - dt.timedelta(hours=5), now) == "expired 1 day ago"


def make_ca_chain(certs, folder):
    """root → intermediate → leaf with openssl, plus an impostor root of the same name."""

    def run(*args):
        certs.openssl(*args, cwd=folder)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    ca = ("-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-subj", "/CN=Chain Root")
    run("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", *ca)
    run("req", "-x509", *ec, "-keyout", "fake.key", "-out", "fake.pem", *ca)
    run("req", "-new", *ec, "-keyout", "mid.key", "-out", "mid.csr", "-subj", "/CN=Chain Mid")
    (folder / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\n")
    run("x509", "-req", "-in", "mid.csr", "-CA", "root.pem", "-CAkey", "root.key",
        "-extfile", "ca.ext", "-days", "30", "-out", "mid.pem")  # fmt: skip
    run("req", "-new", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=Chain Leaf")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "mid.pem", "-CAkey", "mid.key",
        "-days", "30", "-out", "leaf.pem")  # fmt: skip


def test_chain_follows_verified_issuers_in_the_store(session, tmp_path, certs):
    make_ca_chain(certs, tmp_path)
    certificate_import.import_files(session, [tmp_path / "leaf.pem"])
    assert certificates.get_certificate(session, "Chain Leaf").chain == ()
    # The impostor shares the root's name; only the real root's key verifies the chain.
    certificate_import.import_files(
        session, [tmp_path / "fake.pem", tmp_path / "mid.pem", tmp_path / "root.pem"]
    )
    detail = certificates.get_certificate(session, "Chain Leaf")
    assert detail.chain == ("Chain Mid", "Chain Root (2)")
    assert certificates.get_certificate(session, "Chain Root").details.self_issued
