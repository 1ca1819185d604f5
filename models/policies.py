import peewee

from models.base import BaseModel
from models.certificates import Certificate, CertificateGroup
from models.users import User, UserGroup


class Policy(BaseModel):
    """What (certificates, groups) × who (users, user groups) × when, Allow or Deny."""

    EFFECT_ALLOW = "allow"
    EFFECT_DENY = "deny"

    name = peewee.CharField(unique=True)
    description = peewee.TextField(default="")
    effect = peewee.CharField(default=EFFECT_ALLOW)
    priority = peewee.IntegerField(default=100)  # 0 is the highest
    enabled = peewee.BooleanField(default=True)
    # Schedule; all empty means always. Weekdays as "mon,tue,...", times as "HH:MM" UTC.
    weekdays = peewee.CharField(default="")
    time_from = peewee.CharField(default="")
    time_until = peewee.CharField(default="")
    date_from = peewee.DateField(null=True)
    date_until = peewee.DateField(null=True)
    attestation = peewee.IntegerField(null=True)  # models.attestations


class PolicyCertificate(BaseModel):
    policy = peewee.ForeignKeyField(Policy, backref="certificates", on_delete="CASCADE")
    certificate = peewee.ForeignKeyField(Certificate, backref="policy_links", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("policy", "certificate"), True),)


class PolicyCertificateGroup(BaseModel):
    policy = peewee.ForeignKeyField(Policy, backref="certificate_groups", on_delete="CASCADE")
    group = peewee.ForeignKeyField(CertificateGroup, backref="policy_links", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("policy", "group"), True),)


class PolicyUser(BaseModel):
    policy = peewee.ForeignKeyField(Policy, backref="users", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="policy_links", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("policy", "user"), True),)


class PolicyUserGroup(BaseModel):
    policy = peewee.ForeignKeyField(Policy, backref="user_groups", on_delete="CASCADE")
    user_group = peewee.ForeignKeyField(UserGroup, backref="policy_links", on_delete="CASCADE")
    attestation = peewee.IntegerField(null=True)  # models.attestations

    class Meta:
        indexes = ((("policy", "user_group"), True),)
