"""Import of every supported format, duplicates, aliases, damaged files, odd certificates."""

import pytest
from cryptography.hazmat.primitives import serialization

from app.errors import PermissionDenied
from app.services import certificate_import, certificates, journal, users
from models import AuditEvent, Certificate, PrivateKey
from models.permissions import AUDITOR


def aliases(session) -> list[str]:
    return sorted(r.alias for r in certificates.list_certificates(session))


def test_pem_and_der_single_certificates(session, tmp_path, certs):
    a, _ = certs.make_cert("Alpha")
    b, _ = certs.make_cert("Beta")
    report = certificate_import.import_files(
        session,
        [
            certs.write(tmp_path, "a.pem", certs.pem(a)),
            certs.write(tmp_path, "b.cer", certs.der(b)),
        ],
    )
    assert [f.kind for f in report.files] == ["PEM", "DER"]
    assert aliases(session) == ["Alpha", "Beta"]


def test_format_comes_from_content_not_name(session, tmp_path, certs):
    a, _ = certs.make_cert("Misnamed")
    report = certificate_import.import_files(
        session, [certs.write(tmp_path, "x.p12", certs.pem(a))]
    )
    assert report.files[0].ok and report.files[0].kind == "PEM"


def test_pem_bundle_gives_one_entry_per_certificate(session, tmp_path, certs):
    bundle = b"".join(certs.pem(certs.make_cert(f"Chain {i}")[0]) for i in range(3))
    report = certificate_import.import_files(session, [certs.write(tmp_path, "b.pem", bundle)])
    assert report.imported == 3 and report.files[0].kind == "PEM bundle"


@pytest.mark.parametrize("encoding", ["DER", "PEM"])
def test_pkcs7_bundles(session, tmp_path, certs, encoding):
    chain = [certs.make_cert(f"P7 {i}")[0] for i in range(2)]
    data = certs.p7b(chain, getattr(serialization.Encoding, encoding))
    report = certificate_import.import_files(session, [certs.write(tmp_path, "c.p7b", data)])
    assert report.imported == 2, report.files[0].error
    assert report.files[0].kind.startswith("PKCS#7")


def test_pkcs12_with_password_links_the_sealed_key(session, tmp_path, certs):
    cert, key = certs.make_cert("With Key")
    ca, _ = certs.make_cert("Issuing CA")
    path = certs.write(tmp_path, "k.pfx", certs.p12(cert, key, b"s3cret", extra=[ca]))
    report = certificate_import.import_files(session, [path], password="s3cret")
    assert report.files[0].ok, report.files[0].error
    rows = {r.alias: r for r in certificates.list_certificates(session)}
    assert rows["With Key"].has_private_key and rows["With Key"].key_algorithm == "EC P-256"
    assert not rows["Issuing CA"].has_private_key


def test_pkcs12_without_password_asks_for_one(session, tmp_path, certs):
    cert, key = certs.make_cert("Locked")
    path = certs.write(tmp_path, "k.p12", certs.p12(cert, key, b"s3cret"))
    missing = certificate_import.import_files(session, [path]).files[0]
    assert missing.needs_password and "needs a password" in missing.error
    wrong = certificate_import.import_files(session, [path], password="nope").files[0]
    assert wrong.needs_password and "wrong password" in wrong.error
    assert aliases(session) == []


def test_openssl_pkcs12_with_empty_password(session, tmp_path, certs):
    cert, key = certs.make_cert("Empty Password")
    certs.write(tmp_path, "c.pem", certs.pem(cert))
    certs.write(
        tmp_path,
        "k.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    certs.openssl(
        "pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-passout", "pass:",
        "-out", "e.p12", cwd=tmp_path,
    )  # fmt: skip
    report = certificate_import.import_files(session, [tmp_path / "e.p12"])
    assert report.files[0].ok, report.files[0].error
    assert certificates.list_certificates(session)[0].has_private_key


def test_pem_with_certificate_and_key_links_the_key(session, tmp_path, certs):
    cert, key = certs.make_cert("PEM Pair")
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"kp"),
    )
    path = certs.write(tmp_path, "pair.pem", certs.pem(cert) + encrypted)
    assert certificate_import.import_files(session, [path]).files[0].needs_password
    assert certificate_import.import_files(session, [path], password="kp").files[0].ok
    assert certificates.list_certificates(session)[0].has_private_key


def test_key_arriving_after_its_certificate_is_linked(session, tmp_path, certs):
    cert, key = certs.make_cert("Later Key")
    certificate_import.import_files(session, [certs.write(tmp_path, "c.cer", certs.der(cert))])
    report = certificate_import.import_files(
        session, [certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))]
    )
    assert report.files[0].duplicates == ["Later Key"]
    assert report.files[0].keys_linked == ["Later Key"]
    assert certificates.list_certificates(session)[0].has_private_key


def test_same_certificate_twice_is_reported_and_skipped(session, tmp_path, certs):
    cert, _ = certs.make_cert("Twice")
    first = certs.write(tmp_path, "1.pem", certs.pem(cert))
    second = certs.write(tmp_path, "2.cer", certs.der(cert))
    report = certificate_import.import_files(session, [first, second])
    assert report.imported == 1
    assert report.files[1].duplicates == ["Twice"] and report.files[1].ok
    assert aliases(session) == ["Twice"]


def test_alias_from_cn_made_unique(session, tmp_path, certs):
    paths = [
        certs.write(tmp_path, f"{i}.pem", certs.pem(certs.make_cert("Same CN")[0]))
        for i in range(3)
    ]
    certificate_import.import_files(session, paths)
    assert aliases(session) == ["Same CN", "Same CN (2)", "Same CN (3)"]


def test_explicit_alias_and_its_conflict(session, tmp_path, certs):
    one = certs.write(tmp_path, "1.pem", certs.pem(certs.make_cert("CN One")[0]))
    two = certs.write(tmp_path, "2.pem", certs.pem(certs.make_cert("CN Two")[0]))
    assert certificate_import.import_files(session, [one], alias="release-2026").files[0].ok
    clash = certificate_import.import_files(session, [two], alias="release-2026").files[0]
    assert clash.error == "alias: 'release-2026' is already in use"
    assert aliases(session) == ["release-2026"]


def test_damaged_files_get_one_line_each_and_the_rest_still_imports(session, tmp_path, certs):
    good, _ = certs.make_cert("Survivor")
    der = certs.der(good)
    pem_text = certs.pem(good)
    bad = {
        "text.pem": b"hello, this is not a certificate\n",
        "empty.cer": b"",
        "truncated.cer": der[: len(der) // 2],
        "truncated.pem": pem_text[: len(pem_text) // 2],
        "garbage.bin": bytes(range(1, 200)),
        "csr.pem": b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"
        b"-----END CERTIFICATE REQUEST-----\n",
        "badbase64.pem": b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    }
    paths = [certs.write(tmp_path, name, data) for name, data in bad.items()]
    paths.insert(3, certs.write(tmp_path, "good.pem", pem_text))
    paths.append(tmp_path / "does-not-exist.pem")
    report = certificate_import.import_files(session, paths)
    failed = {f.path.rsplit("/", 1)[-1]: f.error for f in report.failed}
    assert set(failed) == set(bad) | {"does-not-exist.pem"}
    for error in failed.values():
        assert error and "\n" not in error
    assert "empty" in failed["empty.cer"]
    assert "truncated" in failed["truncated.cer"]
    assert "signing request" in failed["csr.pem"]
    assert "No such file" in failed["does-not-exist.pem"]
    assert "Survivor" in aliases(session)


def test_failed_file_leaves_nothing_behind(session, tmp_path, certs):
    # A bundle whose second block is damaged: the first must not stay half-imported.
    first = certs.pem(certs.make_cert("Half")[0])
    damaged = b"-----BEGIN CERTIFICATE-----\nMIIBroken=\n-----END CERTIFICATE-----\n"
    report = certificate_import.import_files(
        session, [certs.write(tmp_path, "half.pem", first + damaged)]
    )
    assert not report.files[0].ok
    assert aliases(session) == []
    assert not AuditEvent.select().where(AuditEvent.action == "certificate.import").exists()


@pytest.mark.parametrize(
    "openssl_args",
    [
        ["-set_serial", "-5"],  # negative serial
        ["-set_serial", "0"],  # zero serial
        ["-addext", "1.2.3.4.5.6.7=critical,DER:05:00"],  # unknown critical extension
        ["-utf8", "-subj", "/CN=Ünïcødé 証明書 Signing/O=Ørg"],  # UTF-8 name
        ["-subj", "/CN=Multi+UID=m1/O=Multi Valued RDN"],  # multi-valued RDN
        ["-subj", "/"],  # empty subject
    ],
)
def test_odd_but_parseable_certificates_import(session, tmp_path, certs, openssl_args):
    args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    args += ["-keyout", "k.pem", "-days", "30", "-out", "odd.pem"]
    if "-subj" not in openssl_args:
        args += ["-subj", "/CN=Odd"]
    certs.openssl(*args, *openssl_args, cwd=tmp_path)
    report = certificate_import.import_files(session, [tmp_path / "odd.pem"])
    assert report.files[0].ok, report.files[0].error
    (row,) = certificates.list_certificates(session)
    assert row.alias


def test_negative_serial_is_shown_like_openssl(session, tmp_path, certs):
    certs.openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "k.pem", "-subj", "/CN=Neg", "-set_serial", "-1234", "-out", "n.pem",
        cwd=tmp_path,
    )  # fmt: skip
    certificate_import.import_files(session, [tmp_path / "n.pem"])
    expected = certs.openssl("x509", "-in", "n.pem", "-noout", "-serial", cwd=tmp_path)
    serial = expected.stdout.decode().strip().split("=", 1)[1].lower()
    assert certificates.list_certificates(session)[0].serial == serial == "-04d2"


def test_version_1_certificate_imports(session, tmp_path, certs):
    certs.openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "k.pem", "-subj", "/CN=Version One", "-out", "r.csr", cwd=tmp_path,
    )  # fmt: skip
    certs.openssl(
        "x509", "-req", "-in", "r.csr", "-key", "k.pem", "-days", "10", "-out", "v1.pem",
        cwd=tmp_path,
    )  # fmt: skip
    text = certs.openssl("x509", "-in", "v1.pem", "-noout", "-text", cwd=tmp_path).stdout
    assert b"Version: 1" in text
    report = certificate_import.import_files(session, [tmp_path / "v1.pem"])
    assert report.files[0].ok, report.files[0].error
    assert aliases(session) == ["Version One"]


def test_bmpstring_name_imports(session, tmp_path, certs):
    # openssl's string_mask decides the encoding; build a BMPString name directly instead.
    from cryptography import x509
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    cert, _ = certs.make_cert("placeholder")
    key = certs.ec_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Wide Name", _ASN1Type.BMPString)])
    odd = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(99)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .sign(key, certs.hashes.SHA256())
    )
    report = certificate_import.import_files(
        session, [certs.write(tmp_path, "w.cer", certs.der(odd))]
    )
    assert report.files[0].ok, report.files[0].error
    assert aliases(session) == ["Wide Name"]


def test_each_import_writes_a_chained_audit_event(session, tmp_path, certs):
    paths = [
        certs.write(tmp_path, f"{i}.pem", certs.pem(certs.make_cert(f"A{i}")[0])) for i in range(3)
    ]
    certificate_import.import_files(session, paths)
    events = list(AuditEvent.select().where(AuditEvent.action == "certificate.import"))
    assert [e.target for e in events] == ["A0", "A1", "A2"]
    assert all(e.user == "admin" for e in events)
    assert journal.chain_breaks() == []
    AuditEvent.update(target="tampered").where(AuditEvent.id == events[1].id).execute()
    assert journal.chain_breaks() == [events[1].id]


def test_import_needs_the_permission(session, store_dir, tmp_path, certs):
    users.add_user(session, "audrey", "auditor password", AUDITOR)
    session.close()
    weak, _ = users.sign_in(store_dir, "audrey", password="auditor password")
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Nope")[0]))
    with pytest.raises(PermissionDenied, match=r"certificates\.import"):
        certificate_import.import_files(weak, [path])
    assert Certificate.select().count() == 0
    weak.close()


@pytest.mark.parametrize("encoding", ["PEM", "DER"])
def test_a_key_file_beside_its_certificate_is_linked_in_either_order(
    session, tmp_path, certs, encoding
):
    cert, key = certs.make_cert("Separate Files", key=certs.rsa_key())
    key_bytes = key.private_bytes(
        getattr(serialization.Encoding, encoding),
        serialization.PrivateFormat.TraditionalOpenSSL
        if encoding == "PEM"
        else serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path = certs.write(tmp_path, "signing.key", key_bytes)
    cert_path = certs.write(tmp_path, "signing.crt", certs.pem(cert))
    report = certificate_import.import_files(session, [key_path, cert_path])  # the key first
    assert all(f.ok for f in report.files), [f.error for f in report.files]
    assert report.files[0].keys_linked == ["Separate Files"]
    assert certificates.list_certificates(session)[0].has_private_key


def test_a_key_without_its_certificate_is_refused_clearly(session, tmp_path, certs):
    _, key = certs.make_cert("Nowhere")
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    path = certs.write(tmp_path, "lonely.key", pem_key)
    first = certificate_import.import_files(session, [path]).files[0]
    assert first.needs_password
    result = certificate_import.import_files(session, [path], password="secret").files[0]
    assert "matches no certificate" in result.error and "import its certificate" in result.error
    assert PrivateKey.select().count() == 0
