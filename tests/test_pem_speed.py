"""PEM files shaped to make a block finder rescan the data: each must parse in linear
time. Each shape runs in its own interpreter with a timeout, so a quadratic finder
fails the test instead of hanging the suite (the old regex took minutes per MiB)."""

import subprocess
import sys
from pathlib import Path

import pytest

MIB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]
PARSE = """
import sys
from app.crypto.parse import parse
from app.errors import ImportFormatError
with open(sys.argv[1], "rb") as handle:
    data = handle.read()
try:
    parsed = parse(data)
except ImportFormatError as exc:
    print(f"refused: {exc}")
else:
    print(parsed.kind, len(parsed.certificates))
"""
NO_END = "refused: damaged PEM: a BEGIN line without its matching END line"


def repeated(line: bytes, size: int) -> bytes:
    return line * (size // len(line))


def shapes(certs) -> dict[str, tuple[bytes, str]]:
    from cryptography.hazmat.primitives import serialization

    real = certs.pem(certs.make_cert("After The Noise")[0])
    rsa_pem = certs.rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "begin-lines": (repeated(b"-----BEGIN CERTIFICATE-----\n", MIB), NO_END),
        "begin-lines-then-one-block": (
            repeated(b"-----BEGIN PRIVATE KEY-----\n", MIB) + real,
            "PEM 1",
        ),
        "alternating-labels": (
            repeated(b"-----BEGIN CERTIFICATE-----\n-----END PRIVATE KEY-----\n", MIB),
            NO_END,
        ),
        "distinct-labels": (
            b"".join(b"-----BEGIN L%07d-----\n" % i for i in range(MIB // 26)),
            NO_END,
        ),
        "begin-lines-20-mib": (repeated(b"-----BEGIN CERTIFICATE-----\n", 20 * MIB), NO_END),
        # Each RSA key costs ~40 ms to check: 600 of them would take half a minute.
        "rsa-keys": (
            repeated(rsa_pem, MIB) + real,
            "refused: holds more than 16 private keys; give each key beside its certificate",
        ),
    }


@pytest.mark.parametrize(
    "shape",
    [
        "begin-lines",
        "begin-lines-then-one-block",
        "alternating-labels",
        "distinct-labels",
        "begin-lines-20-mib",
        "rsa-keys",
    ],
)
def test_pathological_pem_parses_in_linear_time(tmp_path, certs, shape):
    data, expected = shapes(certs)[shape]
    path = certs.write(tmp_path, f"{shape}.pem", data)
    # Well under a second per MiB takes a fraction of this; the old finder, minutes.
    timeout = 10 + 2 * len(data) / MIB
    try:
        result = subprocess.run(
            [sys.executable, "-c", PARSE, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{shape}: {len(data) / MIB:.0f} MiB not parsed within {timeout:.0f} s")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
