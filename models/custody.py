"""Who holds which keys: the store's custodian, its wraps to Administrators, and each
private key's data key wrapped to the users who may sign with it (app.services.custody,
app.services.key_grants)."""

import peewee

from models.base import BaseModel
from models.certificates import PrivateKey
from models.users import User


class Custodian(BaseModel):
    """The store's one custodian key pair: its public halves (app.crypto.user_keys)."""

    public_keys = peewee.BlobField()
    # The users of an older store who had no key pairs when the custodian was made, one
    # name per line, and the custodian's signature of them (app.crypto.key_wraps): only
    # their keys are certified on first sight, so that blanking a certificate in the
    # database does not get other keys certified.
    awaiting = peewee.TextField(default="")
    awaiting_signature = peewee.BlobField(null=True)
    # The first audit event each of whose runs is signed by its user, and the custodian's
    # signature of it: events before it were written before custody (an older store's).
    audit_from = peewee.IntegerField(default=1)
    audit_from_signature = peewee.BlobField(null=True)
    # The roster: every user's name, role, enabled state and record version as last set,
    # a line each (models.roster), under a serial that grows with each change, signed by
    # the custodian (app.crypto.key_wraps). One user's older record put back no longer
    # matches it; the whole roster put back has an older serial and older versions, which
    # each workstation that saw newer ones names and undoes (app.audit_heads).
    roster = peewee.TextField(default="")
    roster_serial = peewee.IntegerField(default=0)
    roster_signature = peewee.BlobField(null=True)


class CustodianWrap(BaseModel):
    """The custodian's private halves wrapped to one Administrator's public keys."""

    user = peewee.ForeignKeyField(User, unique=True, backref="custodian_wraps", on_delete="CASCADE")
    wrapped = peewee.BlobField()


class KeyGrant(BaseModel):
    """A private key's data key wrapped to one user who may sign with it."""

    # Indexed by the unique pair below, which leads with it.
    private_key = peewee.ForeignKeyField(
        PrivateKey, backref="grants", on_delete="CASCADE", index=False
    )
    user = peewee.ForeignKeyField(User, backref="key_grants", on_delete="CASCADE")
    wrapped = peewee.BlobField()
    pin_sealed = peewee.BooleanField(default=False)  # sealed to the key's PIN too

    class Meta:
        indexes = ((("private_key", "user"), True),)
