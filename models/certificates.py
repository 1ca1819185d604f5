import peewee

from models.base import BaseModel, UtcDateTimeField, utcnow
from models.users import User


class PrivateKey(BaseModel):
    """A private key sealed with AES-256-GCM under its own data key, which is wrapped to
    the custodian here and to each grantee in KeyGrant (models.custody); a key without
    `custodian_wrap` is still sealed under the sub-key of the master key that stores
    made before data keys used, until an Administrator's sign-in moves it."""

    uid = peewee.CharField(unique=True)  # random; the associated data of the seal
    algorithm = peewee.CharField()  # e.g. "RSA 3072", "EC P-256", "Ed25519"
    spki_sha256 = peewee.CharField(index=True)  # matches certificates and requests to the key
    sealed = peewee.BlobField()  # nonce || ciphertext of the PKCS#8 DER
    created_at = UtcDateTimeField(default=utcnow)
    custodian_wrap = peewee.BlobField(null=True)
    # The public key and salt of its certificate's PIN (app.crypto.pin_keys), to which
    # its grantees' wraps are sealed too; None for a key without a PIN.
    pin_public = peewee.BlobField(null=True)
    pin_salt = peewee.BlobField(null=True)


class Certificate(BaseModel):
    """Every column the table shows is computed once, at import; nothing is re-parsed to list."""

    alias = peewee.CharField(unique=True)
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    owner = peewee.ForeignKeyField(User, null=True, backref="owned", on_delete="SET NULL")
    owner_attestation = peewee.IntegerField(null=True)  # models.attestations
    ask_reason = peewee.BooleanField(default=False)
    pin_hash = peewee.CharField(null=True)
    usage_count = peewee.IntegerField(default=0)
    last_used = UtcDateTimeField(null=True)
    sha1 = peewee.CharField(index=True)
    sha256 = peewee.CharField(unique=True)
    subject = peewee.TextField()
    issuer = peewee.TextField()
    serial = peewee.CharField()
    not_before = UtcDateTimeField()
    not_after = UtcDateTimeField(index=True)
    spki_sha256 = peewee.CharField(index=True)
    key_algorithm = peewee.CharField(default="")
    private_key = peewee.ForeignKeyField(
        PrivateKey, null=True, unique=True, backref="certificates", on_delete="SET NULL"
    )
    imported_at = UtcDateTimeField(default=utcnow)


# The table's order, by name as the eye reads it, with ties by id: its first screen is
# then a walk of the index's first entries, and the whole order a walk of the index
# (schema 4), where sorting a million aliases took seconds.
Certificate.add_index(
    Certificate.alias.collate("NOCASE"), Certificate.id, name="certificate_alias_nocase"
)
# The owners of the keyed certificates, read from the index alone by every grant change
# (statements._grantees; schema 6).
Certificate.add_index(Certificate.owner, Certificate.private_key)


class CertificateDer(BaseModel):
    """The encoded certificate, apart so that listing 100,000 rows does not read the blobs."""

    certificate = peewee.ForeignKeyField(
        Certificate, primary_key=True, backref="der_row", on_delete="CASCADE"
    )
    der = peewee.BlobField()


class CertificateGroup(BaseModel):
    name = peewee.CharField(unique=True)
    description = peewee.TextField(default="")


class CertificateGroupMember(BaseModel):
    group = peewee.ForeignKeyField(CertificateGroup, backref="members", on_delete="CASCADE")
    certificate = peewee.ForeignKeyField(Certificate, backref="memberships", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("group", "certificate"), True),)


class Request(BaseModel):
    """A pending CSR with its sealed key; `renews` points at the certificate it replaces."""

    STATUS_PENDING = "pending"
    STATUS_COMPLETED = "completed"
    STATUS_CANCELLED = "cancelled"

    alias = peewee.CharField()
    subject = peewee.TextField()
    csr_pem = peewee.TextField()
    private_key = peewee.ForeignKeyField(
        PrivateKey, null=True, backref="requests", on_delete="SET NULL"
    )
    renews = peewee.ForeignKeyField(
        Certificate, null=True, backref="renewals", on_delete="SET NULL"
    )
    owner = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    # models.attestations: of the owner, and of the certificate it renews.
    owner_attestation = peewee.IntegerField(null=True)
    renews_attestation = peewee.IntegerField(null=True)
    # The certificate issued for this request, once imported against it.
    certificate = peewee.ForeignKeyField(
        Certificate, null=True, backref="issued_for", on_delete="SET NULL"
    )
    status = peewee.CharField(default=STATUS_PENDING, index=True)
    created_at = UtcDateTimeField(default=utcnow)
    completed_at = UtcDateTimeField(null=True)


class RequestGroup(BaseModel):
    """The certificate groups the issued certificate will be put in."""

    request = peewee.ForeignKeyField(Request, backref="groups", on_delete="CASCADE")
    group = peewee.ForeignKeyField(CertificateGroup, on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("request", "group"), True),)
