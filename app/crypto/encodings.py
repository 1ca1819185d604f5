"""Export encodings of a certificate and of private keys for sealing."""

import base64

from cryptography.hazmat.primitives import serialization

FORMATS = ("der", "pem")


def certificate_bytes(der: bytes, fmt: str) -> bytes:
    if fmt == "der":
        return der
    if fmt == "pem":
        body = base64.encodebytes(der).replace(b"\n", b"")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"
        )
    raise ValueError(f"unknown format {fmt!r}")


def private_key_pkcs8(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
