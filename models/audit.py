import peewee

from models.base import BaseModel, UtcDateTimeField, utcnow


class AuditEvent(BaseModel):
    """One entry of the hash-chained log: `hash` covers this event and `prev_hash`."""

    time = UtcDateTimeField(default=utcnow, index=True)
    user = peewee.CharField()  # the name, kept even after the user is deleted
    action = peewee.CharField(index=True)
    target = peewee.TextField(default="")
    outcome = peewee.CharField(default="allowed")  # allowed / denied / failed
    details = peewee.TextField(default="{}")  # JSON
    prev_hash = peewee.CharField()
    hash = peewee.CharField(unique=True)
    # The Ed25519 signature by `user` of the last event of each append (app.crypto.key_wraps
    # audit_event); None on the others, which the chain ties to it.
    signature = peewee.BlobField(null=True)

    class Meta:
        # The Audit Log page's filters by user, and by user and action (schema 2).
        indexes = ((("user", "action"), False),)
