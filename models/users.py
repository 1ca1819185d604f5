import peewee

from models.base import BaseModel, UtcDateTimeField, utcnow


class Role(BaseModel):
    name = peewee.CharField(unique=True)
    description = peewee.TextField(default="")
    builtin = peewee.BooleanField(default=False)


class RolePermission(BaseModel):
    role = peewee.ForeignKeyField(Role, backref="permissions", on_delete="CASCADE")
    permission = peewee.CharField()

    class Meta:
        indexes = ((("role", "permission"), True),)


class User(BaseModel):
    name = peewee.CharField(unique=True)
    display_name = peewee.CharField(default="")
    role = peewee.ForeignKeyField(Role, backref="users", on_delete="RESTRICT")
    enabled = peewee.BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)
    # The public halves of the user's key pairs (app.crypto.user_keys), as their key slot
    # holds them; None until the user of a store made before key pairs signs in.
    public_keys = peewee.BlobField(null=True)
    # The custodian's signature of the name and public keys (app.crypto.key_wraps): keys
    # are wrapped only to certified public keys. None until a custodian has certified them.
    certified = peewee.BlobField(null=True)
    # The custodian's signature of the name, role and enabled state (app.crypto.key_wraps),
    # checked at the user's sign-in: one UPDATE does not make a Signer an Administrator.
    record_signature = peewee.BlobField(null=True)
    # A deleted user stays, disabled and without a key slot, for the signatures they made
    # (audit events, attested rows) to be verified; the custodian's roster says so.
    deleted = peewee.BooleanField(default=False)


class UserGroup(BaseModel):
    """A local group of users; an external directory group is just its name here."""

    name = peewee.CharField(unique=True)
    description = peewee.TextField(default="")


class UserGroupMember(BaseModel):
    user_group = peewee.ForeignKeyField(UserGroup, backref="members", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="user_groups", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("user_group", "user"), True),)
