"""Whether a certificate's extensions let its key sign files (detached CMS signatures).

Key usage must allow digitalSignature or nonRepudiation (contentCommitment): RFC 5280
names the second for signatures that commit the signer to the content, which is what a
signed file is, and qualified signing certificates (ETSI EN 319 412-2) often carry only
it; S/MIME (RFC 8550) and OpenSSL's smime_sign purpose accept either too.
"""

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.crypto.extensions import LONG_NAMES
from app.crypto.parse import quietly

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # RFC 9336

# The extended key usages that cover signing a file, in the order the verdict names them.
SIGNING_USAGES = {
    ExtendedKeyUsageOID.CODE_SIGNING: "code signing",
    DOCUMENT_SIGNING: "document signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "e-mail protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "time stamping",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "any extended key usage",
}


@dataclass(frozen=True)
class SigningVerdict:
    allowed: bool
    why: str  # the usages that allow it, or the extension that refuses it

    @property
    def text(self) -> str:
        return f"allowed ({self.why})" if self.allowed else f"refused: {self.why}"


def signing_verdict(cert: x509.Certificate) -> SigningVerdict:
    try:
        extensions = quietly(lambda: cert.extensions)
    except (ValueError, x509.DuplicateExtension) as exc:
        return SigningVerdict(False, f"its extensions cannot be read ({exc})")
    basic = _value(extensions, x509.BasicConstraints)
    if basic is not None and basic.ca:
        return SigningVerdict(False, "basic constraints mark it as a CA certificate (CA:TRUE)")
    usage = _value(extensions, x509.KeyUsage)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return SigningVerdict(False, "key usage lacks digitalSignature and nonRepudiation")
    extended = _value(extensions, x509.ExtendedKeyUsage)
    if extended is None:
        return SigningVerdict(True, "no extended key usage limits it")
    found = set(extended)
    allowing = [name for oid, name in SIGNING_USAGES.items() if oid in found]
    if allowing:
        return SigningVerdict(True, ", ".join(allowing))
    held = ", ".join(LONG_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in extended)
    return SigningVerdict(
        False,
        "extended key usage has none of code signing, document signing, e-mail protection, "
        f"time stamping (it has {held or 'no usage'})",
    )


def _value(extensions: x509.Extensions, kind: type[x509.ExtensionType]):
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
