"""Detached CMS SignedData (RFC 5652) built from the content's message digest.

With signed attributes the signature covers only the attributes, one of which is the
digest of the content: the caller hashes the content in chunks, so files of any size
are signed in constant memory. cryptography's PKCS7SignatureBuilder wants the whole
content, so asn1crypto encodes the structure and cryptography makes the signature.
No S/MIME capabilities attribute: these signatures are for files, not mail.
"""

import datetime as dt
from collections.abc import Sequence

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
# SigningKey's types as keygen.KeySpec names them: a key of another type (Ed25519) makes
# a certificate that cannot sign here, which the CSR wizard says before it is made.
SIGNING_ALGORITHMS = ("RSA", "ECDSA")

# UTCTime holds years up to 2049; RFC 5652 wants GeneralizedTime from 2050 on.
_LAST_UTC_TIME_YEAR = 2049


def digest_for(public_key) -> hashes.HashAlgorithm:
    """The digest that matches the key's strength: SHA-256 for RSA and P-256, SHA-384
    for P-384, SHA-512 for P-521 (RFC 5753, RFC 5754)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size > 384:
            return hashes.SHA512()
        if public_key.curve.key_size > 256:
            return hashes.SHA384()
    return hashes.SHA256()


def detached_signature(
    signer: x509.Certificate,
    key: SigningKey,
    algorithm: hashes.HashAlgorithm,
    message_digest: bytes,
    signing_time: dt.datetime,
    chain: Sequence[x509.Certificate],
) -> bytes:
    """The DER of a ContentInfo holding a SignedData without content: `message_digest`
    is the `algorithm` digest of the content; the signer's certificate and `chain`
    (its issuers) are included."""
    digest_name = algorithm.name  # "sha256", "sha384", "sha512": the same in asn1crypto
    attributes = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [_time(signing_time)]}),
            cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
        ]
    )
    # The signature covers the DER of the attributes as a SET (RFC 5652, 5.4).
    to_sign = attributes.dump()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, padding.PKCS1v15(), algorithm)
        signature_algorithm = "rsassa_pkcs1v15"
    else:
        signature = key.sign(to_sign, ec.ECDSA(algorithm))
        signature_algorithm = f"{digest_name}_ecdsa"
    signer_cert = _asn1(signer)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signer_cert.issuer,
                        "serial_number": signer_cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_name}),
            "signed_attrs": attributes,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": signature_algorithm}),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_name})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [signer_cert, *(_asn1(c) for c in chain)],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _time(when: dt.datetime) -> cms.Time:
    when = when.astimezone(dt.UTC).replace(microsecond=0)
    if when.year <= _LAST_UTC_TIME_YEAR:
        return cms.Time({"utc_time": when})
    return cms.Time({"general_time": when})
