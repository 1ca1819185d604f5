"""Extension decoding, checked against what `openssl x509 -text` prints for the same
certificate, plus real certificates and malformed values that must not stop the details."""

import datetime as dt
import ipaddress
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto.extensions import LONG_NAMES, ExtensionInfo, describe_extensions

DATA = Path(__file__).parent / "data" / "extensions"
SCT_OID = "1.3.6.1.4.1.11129.2.4.2"
UNDECODABLE = "(undecodable value, shown as DER hex)"

# Sections that -addext values refer to with @name or by name.
SECTIONS = """
[req]
distinguished_name = dn
[dn]
[dir]
C = US
O = Dir Org
CN = Dir Name
[policy]
policyIdentifier = 1.3.6.1.4.1.99
CPS.1 = http://cps.example.com
userNotice.1 = @notice
[notice]
explicitText = "Notice text"
organization = "Org Inc"
noticeNumbers = 1, 2
[notice_only_number]
policyIdentifier = 1.2.3
userNotice.1 = @number
[number]
organization = Org
noticeNumbers = 7
[dp_reasons]
reasons = keyCompromise,CACompromise,superseded,AACompromise
CRLissuer = dirName:dir
[dp_relative]
relativename = relative
[relative]
CN = Relative
"""

# Each case: the -addext values of one openssl-made certificate.
OPENSSL_CASES = {
    "constraints and usages": [
        "basicConstraints=critical,CA:TRUE,pathlen:0",
        "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,"
        "keyAgreement,keyCertSign,cRLSign,encipherOnly,decipherOnly",
        "extendedKeyUsage=codeSigning,serverAuth,clientAuth,emailProtection,timeStamping,"
        "OCSPSigning,1.2.3.4,msCodeInd,msCodeCom,msCTLSign,msEFS,anyExtendedKeyUsage",
        "policyConstraints=requireExplicitPolicy:1,inhibitPolicyMapping:2",
        "inhibitAnyPolicy=3",
        # cryptography has no name for feature 6 and refuses the extension; openssl prints 6.
        "tlsfeature=status_request,6,status_request_v2",
    ],
    "odd key usage": [
        # cryptography refuses Encipher Only without Key Agreement; openssl prints it.
        "keyUsage=digitalSignature,encipherOnly",
        "basicConstraints=CA:FALSE",
        "extendedKeyUsage=critical,codeSigning",
    ],
    "names": [
        "subjectAltName=DNS:example.com,IP:10.0.0.1,IP:2001:db8::1,email:a@b.c,URI:https://x,"
        "dirName:dir,RID:1.2.3.4,RID:2.5.29.32.0,"
        "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com,"
        "otherName:1.3.6.1.5.5.7.8.9;UTF8:smtp@example.com,otherName:1.2.3.4;UTF8:other",
        "issuerAltName=DNS:issuer.example,email:ca@example.com",
        "nameConstraints=critical,permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0,"
        "permitted;IP:2001:db8::/ffff:ffff::,permitted;dirName:dir,permitted;RID:1.2.3,"
        "permitted;otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn,excluded;email:bad.com,"
        "excluded;URI:.bad.com",
    ],
    "revocation and access": [
        "crlDistributionPoints=URI:http://crl.example.com/a.crl,URI:http://crl2.example.com/b.crl",
        "freshestCRL=URI:http://delta.example.com/d.crl",
        "authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example/ca.crt",
        "subjectInfoAccess=caRepository;URI:http://repo.example.com",
        "noCheck=ignored",
    ],
    "distribution point details": [
        # openssl runs a Full Name into the next heading, so these points have none.
        "crlDistributionPoints=dp_reasons,dp_relative",
    ],
    "policies": [
        "certificatePolicies=1.2.3.4.5,2.23.140.1.2.1,2.5.29.32.0,@policy,@notice_only_number",
        "policyMappings=1.2.3.4:1.2.3.5,2.5.29.32.0:1.2.840.1",
    ],
    "netscape, certificate transparency and key usage period": [
        "nsCertType=client,server,email,objsign,sslCA,emailCA,objCA",
        "nsComment=Hello comment",
        "nsBaseUrl=https://ns.example.com/",
        "ct_precert_poison=NULL",
        "privateKeyUsagePeriod=DER:3022800f32303234303130313030303030305a"
        "810f32303235303631353132333435365a",
    ],
}


def openssl(*args: str | Path) -> str:
    done = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def openssl_cert(
    folder: Path, extensions: list[str], subject: str = "/CN=Extensions", signer: Path | None = None
) -> Path:
    """A P-256 certificate made by `openssl req -x509` with these -addext values; signed by
    `signer` (whose key is beside it, as .key) if given, else self-signed."""
    config = folder / "openssl.cnf"
    config.write_text(SECTIONS)
    stem = re.sub(r"\W+", "_", subject)
    cert, key = folder / f"{stem}.pem", folder / f"{stem}.key"
    issuer = ["-CA", signer, "-CAkey", signer.with_suffix(".key")] if signer else []
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", cert, "-subj", subject, "-days", "2", "-config", config,
        *issuer, *[arg for extension in extensions for arg in ("-addext", extension)],
    )  # fmt: skip
    return cert


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def openssl_extensions(cert: Path) -> list[tuple[str, bool, list[str]]]:
    """(name, critical, value lines) for each extension `openssl x509 -text` prints."""
    text = openssl("x509", "-in", cert, "-noout", "-text")
    section = text.partition("X509v3 extensions:\n")[2].partition("\n    Signature Algorithm")[0]
    extensions: list[tuple[str, bool, list[str]]] = []
    for line in section.splitlines():
        if re.match(r" {12}\S", line):
            head = line.strip()
            extensions.append(
                (head.removesuffix(" critical").removesuffix(":"), "critical" in head, [])
            )
        elif line.strip():
            # openssl glues a Full Name's last line to the next heading, 16 spaces apart.
            extensions[-1][2].extend(re.split(r" {8,}", line.strip()))
    return extensions


def normalised(lines: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in lines if line.strip()]


def assert_matches_openssl(cert: Path) -> list[ExtensionInfo]:
    ours, theirs = describe_extensions(load(cert)), openssl_extensions(cert)
    assert len(ours) == len(theirs)
    for info, (name, critical, lines) in zip(ours, theirs, strict=True):
        assert info.critical == critical, name
        if name == info.oid:  # openssl neither names nor decodes it
            continue
        assert info.name == name
        assert normalised(info.value.splitlines()) == normalised(lines), name
    return ours


def by_name(infos: list[ExtensionInfo]) -> dict[str, str]:
    return {info.name: info.value for info in infos}


@pytest.mark.parametrize("case", OPENSSL_CASES)
def test_values_match_openssl(tmp_path, case):
    infos = assert_matches_openssl(openssl_cert(tmp_path, OPENSSL_CASES[case]))
    assert all(info.name != info.oid and UNDECODABLE not in info.value for info in infos)


def test_common_values_read_like_openssl(tmp_path):
    values = by_name(describe_extensions(load(openssl_cert(tmp_path, OPENSSL_CASES["names"]))))
    assert values["X509v3 Subject Alternative Name"].startswith(
        "DNS:example.com, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1, email:a@b.c, "
        "URI:https://x, DirName:/C=US/O=Dir Org/CN=Dir Name, Registered ID:1.2.3.4, "
        "Registered ID:X509v3 Any Policy, othername: UPN::user@example.com"
    )
    values = by_name(
        describe_extensions(load(openssl_cert(tmp_path, OPENSSL_CASES["constraints and usages"])))
    )
    assert values["X509v3 Basic Constraints"] == "CA:TRUE, pathlen:0"
    assert values["X509v3 Extended Key Usage"].startswith(
        "Code Signing, TLS Web Server Authentication"
    )
    assert re.fullmatch(r"([0-9A-F]{2}:){19}[0-9A-F]{2}", values["X509v3 Subject Key Identifier"])


def test_authority_key_identifier_with_issuer_and_serial(tmp_path):
    ca = openssl_cert(tmp_path, ["basicConstraints=critical,CA:TRUE"], subject="/CN=Root CA/O=Org")
    leaf = openssl_cert(
        tmp_path,
        ["authorityKeyIdentifier=keyid:always,issuer:always", "subjectAltName=DNS:leaf.example"],
        subject="/CN=Leaf",
        signer=ca,
    )
    aki = by_name(assert_matches_openssl(leaf))["X509v3 Authority Key Identifier"]
    keyid, issuer, serial = aki.splitlines()
    assert keyid.startswith("keyid:") and issuer == "DirName:/CN=Root CA/O=Org"
    number = load(ca).serial_number
    assert serial == "serial:" + number.to_bytes((number.bit_length() + 7) // 8).hex(":").upper()


def test_microsoft_extensions(tmp_path):
    template = x509.MSCertificateTemplate(x509.ObjectIdentifier("1.3.6.1.4.1.311.21.8.1.2"), 100, 4)
    cert = openssl_cert(
        tmp_path,
        [
            "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:CodeSigning",
            f"1.3.6.1.4.1.311.21.7=DER:{template.public_bytes().hex()}",
            # SEQUENCE OF PolicyInformation: Code Signing, TLS Web Client Authentication
            "1.3.6.1.4.1.311.21.10=DER:3018300a06082b06010505070303300a06082b06010505070302",
        ],
    )
    values = by_name(describe_extensions(load(cert)))
    assert values["Microsoft Certificate Template Name"] == "CodeSigning"
    assert values["Microsoft Certificate Template"] == (
        "Template=1.3.6.1.4.1.311.21.8.1.2, Major Version Number=100, Minor Version Number=4"
    )
    assert values["Microsoft Application Policies"] == (
        "Policy: Code Signing\nPolicy: TLS Web Client Authentication"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.pem")))
def test_real_certificates_match_openssl(name):
    infos = assert_matches_openssl(DATA / name)
    scts = by_name(infos)["CT Precertificate SCTs"]
    assert scts.startswith("Signed Certificate Timestamp:\n    Version   : v1 (0x0)\n")
    assert "    Signature : ecdsa-with-SHA256\n" in scts


def test_sct_list_in_a_generated_certificate(tmp_path):
    real = load(DATA / "letsencrypt-cryptography-io.pem")
    value = real.extensions.get_extension_for_oid(x509.ObjectIdentifier(SCT_OID)).value
    cert = openssl_cert(tmp_path, [f"{SCT_OID}=DER:{value.public_bytes().hex()}"])
    scts = by_name(assert_matches_openssl(cert))["CT Precertificate SCTs"]
    assert scts.count("Signed Certificate Timestamp:") == 2
    assert "    Timestamp : Sep 26 20:56:33.769 2018 GMT" in scts.splitlines()


def test_unknown_critical_extension_is_oid_and_hex(tmp_path):
    cert = openssl_cert(tmp_path, ["1.2.3.4.5=critical,DER:0c03616263"])
    [unknown] = [i for i in describe_extensions(load(cert)) if i.oid == "1.2.3.4.5"]
    assert unknown == ExtensionInfo("1.2.3.4.5", "1.2.3.4.5", True, "0C:03:61:62:63")


def test_version_1_certificate_has_no_extensions(tmp_path):
    config = tmp_path / "v1.cnf"
    config.write_text("[req]\ndistinguished_name = dn\n[dn]\n")
    cert = tmp_path / "v1.pem"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", tmp_path / "v1.key", "-out", cert, "-subj", "/CN=v1", "-config", config,
    )  # fmt: skip
    assert load(cert).version == x509.Version.v1
    assert describe_extensions(load(cert)) == []


# --- malformed values: cryptography refuses them, the details still show ----------------

KEY = ec.generate_private_key(ec.SECP256R1())


def build(*extensions: tuple[x509.ExtensionType, bool]) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Malformed")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(KEY, hashes.SHA256())


def raw(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


def test_one_malformed_extension_leaves_the_others_decoded():
    cert = build(
        (x509.BasicConstraints(ca=False, path_length=None), True),
        # an otherName without its [0] wrapper, as in pyca's malformed-san.pem
        (raw("2.5.29.17", bytes.fromhex("3009a00706035504030c00")), False),
        # x400Address: cryptography raises UnsupportedGeneralNameType, not ValueError
        (raw("2.5.29.18", bytes.fromhex("3004a3023000")), False),
        (x509.SubjectKeyIdentifier(b"\x01\x02"), False),
    )
    with pytest.raises(ValueError):  # what the fallback is for
        list(cert.extensions)
    assert describe_extensions(cert) == [
        ExtensionInfo("2.5.29.19", "X509v3 Basic Constraints", True, "CA:FALSE"),
        ExtensionInfo(
            "2.5.29.17",
            "X509v3 Subject Alternative Name",
            False,
            "30:09:A0:07:06:03:55:04:03:0C:00\n" + UNDECODABLE,
        ),
        ExtensionInfo(
            "2.5.29.18",
            "X509v3 Issuer Alternative Name",
            False,
            "30:04:A3:02:30:00\n" + UNDECODABLE,
        ),
        ExtensionInfo("2.5.29.14", "X509v3 Subject Key Identifier", False, "01:02"),
    ]


def test_duplicate_extensions_are_both_shown():
    second = x509.SubjectAlternativeName([x509.DNSName("b.example")]).public_bytes()
    cert = build(
        (x509.SubjectAlternativeName([x509.DNSName("a.example")]), False),
        (raw("2.5.29.99", second), False),
    )
    # Renumber 2.5.29.99 to 2.5.29.17, the same length; loading checks no signature.
    der = cert.public_bytes(serialization.Encoding.DER)
    duplicated = x509.load_der_x509_certificate(der.replace(b"\x55\x1d\x63", b"\x55\x1d\x11"))
    with pytest.raises(x509.DuplicateExtension):
        list(duplicated.extensions)
    assert [i.value for i in describe_extensions(duplicated)] == ["DNS:a.example", "DNS:b.example"]


DECODED_OIDS = sorted(
    {
        *(
            o.dotted_string
            for o in vars(ExtensionOID).values()
            if isinstance(o, x509.ObjectIdentifier)
        ),
        *(
            o
            for o in LONG_NAMES
            if o.startswith(("2.5.29.", "1.3.6.1.5.5.7.1.", "2.16.840.1.113730.1."))
        ),
        "1.3.6.1.4.1.311.20.2",
        "1.3.6.1.4.1.311.21.7",
        "1.3.6.1.4.1.311.21.10",
    }
)


@pytest.mark.parametrize("oid", DECODED_OIDS)
def test_garbage_values_show_as_hex(oid):
    [info] = describe_extensions(build((raw(oid, b"\xff\x00garbage"), True)))
    assert info.oid == oid and info.critical and info.name == LONG_NAMES.get(oid, oid)
    assert info.value in (
        "FF:00:67:61:72:62:61:67:65",  # unknown to us: plain hex
        "FF:00:67:61:72:62:61:67:65\n" + UNDECODABLE,
    )


# Extensions decoded here rather than by cryptography, well-formed.
DER_SEEDS = [
    ("2.5.29.15", bytes.fromhex("030201ff")),
    ("2.5.29.16", bytes.fromhex("3011800f32303234303130313030303030305a")),
    ("2.5.29.33", bytes.fromhex("300c300a06032a030406032a0305")),
    ("1.3.6.1.5.5.7.1.24", bytes.fromhex("3006020105020111")),
    ("2.16.840.1.113730.1.1", bytes.fromhex("030204d0")),
    ("2.16.840.1.113730.1.13", b"\x16\x02hi"),
    ("1.3.6.1.4.1.311.20.2", bytes.fromhex("1e0400430053")),
    ("1.3.6.1.4.1.311.21.10", bytes.fromhex("300c300a06082b06010505070303")),
]


@cache
def seed_values() -> list[tuple[str, bytes]]:
    """(OID, value) of many well-formed extensions, for damaging."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seed")])
    made = [
        x509.SubjectAlternativeName(
            [
                x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
                x509.DirectoryName(name),
                x509.RegisteredID(x509.ObjectIdentifier("1.2.3")),
                x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x01u"),
            ]
        ),
        x509.NameConstraints(
            [x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")), x509.DirectoryName(name)],
            [x509.DNSName("bad.example")],
        ),
        x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    None,
                    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "R")]),
                    frozenset({x509.ReasonFlags.key_compromise}),
                    [x509.DirectoryName(name)],
                )
            ]
        ),
        x509.AuthorityKeyIdentifier(b"\x01" * 20, [x509.DirectoryName(name)], 1234567),
        x509.CertificatePolicies(
            [
                x509.PolicyInformation(
                    x509.ObjectIdentifier("1.2.3"),
                    ["https://cps", x509.UserNotice(x509.NoticeReference("Org", [1, 2]), "T")],
                )
            ]
        ),
        x509.PolicyConstraints(1, 2),
        x509.MSCertificateTemplate(x509.ObjectIdentifier("1.3.6.1.4.1.311.21.8.1"), 100, 4),
    ]
    values = [*DER_SEEDS, *((e.oid.dotted_string, e.public_bytes()) for e in made)]
    for path in DATA.glob("*.pem"):
        values += [(e.oid.dotted_string, e.value.public_bytes()) for e in load(path).extensions]
    return values


def test_seed_values_decode():
    for oid, value in seed_values():
        [info] = describe_extensions(build((raw(oid, value), False)))
        assert UNDECODABLE not in info.value, oid


@settings(max_examples=400, deadline=None)
@given(
    seed=st.integers(min_value=0),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=3
    ),
    cut=st.integers(0, 3),
)
def test_damaged_values_never_raise(seed, edits, cut):
    oid, value = seed_values()[seed % len(seed_values())]
    damaged = bytearray(value)
    for position, byte in edits:
        damaged[position % len(damaged)] = byte
    damaged = bytes(damaged[: len(damaged) - cut])
    [info] = describe_extensions(build((raw(oid, damaged), False)))
    assert (info.oid, info.name, info.critical) == (oid, LONG_NAMES.get(oid, oid), False)
    assert isinstance(info.value, str)
