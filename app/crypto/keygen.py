"""Key types a request may use, their generation and their default signature hash."""

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.errors import ValidationError

RSA_SIZES = (2048, 3072, 4096)
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
# What the wizard offers: algorithm → (sizes or curves, the one preselected).
KEY_CHOICES: dict[str, tuple[tuple[int | str, ...], int | str | None]] = {
    "RSA": (RSA_SIZES, 3072),
    "ECDSA": (tuple(CURVES), "P-256"),
    "Ed25519": ((), None),
}
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}
# Hash strength matched to the curve (NIST SP 800-57), as CAs and openssl expect.
_CURVE_HASH = {"P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512"}


@dataclass(frozen=True)
class KeySpec:
    """One key type: RSA with `size`, ECDSA with `curve`, or Ed25519 with neither.

    A missing size or curve takes the wizard's default (RSA 3072, as the CLI, or P-256).
    """

    algorithm: str
    size: int | None = None
    curve: str | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in KEY_CHOICES:
            raise ValidationError("key", f"unknown key algorithm {self.algorithm!r}")
        options, default = KEY_CHOICES[self.algorithm]
        if self.algorithm == "RSA":
            if self.curve is not None:
                raise ValidationError("key", "an RSA key has a size, not a curve")
            object.__setattr__(self, "size", default if self.size is None else self.size)
            if self.size not in options:
                raise ValidationError(
                    "key", f"RSA keys must be 2048, 3072 or 4096 bits, not {self.size}"
                )
        elif self.algorithm == "ECDSA":
            if self.size is not None:
                raise ValidationError("key", "an ECDSA key has a curve, not a size")
            object.__setattr__(self, "curve", default if self.curve is None else self.curve)
            if self.curve not in options:
                raise ValidationError(
                    "key", f"ECDSA curves are P-256, P-384 or P-521, not {self.curve!r}"
                )
        elif self.size is not None or self.curve is not None:
            raise ValidationError("key", "an Ed25519 key has neither size nor curve")

    @property
    def label(self) -> str:
        """'RSA 3072', 'ECDSA P-256', 'Ed25519'."""
        return " ".join(str(part) for part in (self.algorithm, self.size or self.curve) if part)

    @property
    def token(self) -> str:
        """The CLI's spelling: 'rsa-3072', 'ec-p256', 'ed25519'."""
        if self.algorithm == "RSA":
            return f"rsa-{self.size}"
        if self.algorithm == "ECDSA":
            return "ec-" + self.curve.replace("-", "").lower()
        return "ed25519"

    @classmethod
    def from_token(cls, token: str) -> "KeySpec":
        for spec in all_key_specs():
            if spec.token == token.strip().lower():
                return spec
        choices = " ".join(spec.token for spec in all_key_specs())
        raise ValidationError("key", f"unknown key type {token!r}; choose one of: {choices}")


DEFAULT_KEY_SPEC = KeySpec("RSA", 3072)


def all_key_specs() -> list[KeySpec]:
    """Every key type offered, in the wizard's order."""
    specs = []
    for algorithm, (options, _) in KEY_CHOICES.items():
        if algorithm == "RSA":
            specs += [KeySpec(algorithm, size=size) for size in options]
        elif algorithm == "ECDSA":
            specs += [KeySpec(algorithm, curve=curve) for curve in options]
        else:
            specs.append(KeySpec(algorithm))
    return specs


def generate_key(spec: KeySpec):
    """A new private key; RSA 4096 takes a second or more, so call it off the GUI thread."""
    if spec.algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    if spec.algorithm == "ECDSA":
        return ec.generate_private_key(CURVES[spec.curve]())
    return ed25519.Ed25519PrivateKey.generate()


def default_hash(spec: KeySpec) -> str | None:
    """The hash name a request signed by this key uses unless told otherwise; None for
    Ed25519, whose signature (PureEdDSA) hashes internally and takes no separate hash."""
    if spec.algorithm == "RSA":
        return "SHA-256"
    if spec.algorithm == "ECDSA":
        return _CURVE_HASH[spec.curve]
    return None


def hash_algorithm(name: str | None) -> hashes.HashAlgorithm | None:
    if name is None:
        return None
    if name not in HASHES:
        raise ValidationError("hash", f"choose one of {', '.join(HASHES)}, not {name!r}")
    return HASHES[name]()


def spec_of_public_key(key) -> KeySpec | None:
    """The KeySpec a key (public or private) corresponds to, e.g. to prefill a renewal;
    None for anything the wizard does not offer (DSA, Ed448, RSA 1024, other curves)."""
    if hasattr(key, "public_key"):
        key = key.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size in RSA_SIZES:
        return KeySpec("RSA", size=key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        for curve, curve_type in CURVES.items():
            if isinstance(key.curve, curve_type):
                return KeySpec("ECDSA", curve=curve)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeySpec("Ed25519")
    return None
