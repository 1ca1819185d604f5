"""peewee models of the Certdesk store, the database proxy and the schema migrations."""

from models.attestations import Attestation
from models.audit import AuditEvent
from models.base import database
from models.certificates import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    PrivateKey,
    Request,
    RequestGroup,
)
from models.custody import Custodian, CustodianWrap, KeyGrant
from models.policies import (
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    PolicyUser,
    PolicyUserGroup,
)
from models.schema import SCHEMA_VERSION, SchemaVersion, migrate, schema_version
from models.users import Role, RolePermission, User, UserGroup, UserGroupMember

ALL_MODELS = [
    SchemaVersion,
    Role,
    RolePermission,
    User,
    UserGroup,
    UserGroupMember,
    PrivateKey,
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    Request,
    RequestGroup,
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    PolicyUser,
    PolicyUserGroup,
    Custodian,
    CustodianWrap,
    KeyGrant,
    Attestation,
    AuditEvent,
]

__all__ = [
    "ALL_MODELS",
    "SCHEMA_VERSION",
    "Attestation",
    "AuditEvent",
    "Certificate",
    "CertificateDer",
    "CertificateGroup",
    "CertificateGroupMember",
    "Custodian",
    "CustodianWrap",
    "KeyGrant",
    "Policy",
    "PolicyCertificate",
    "PolicyCertificateGroup",
    "PolicyUser",
    "PolicyUserGroup",
    "PrivateKey",
    "Request",
    "RequestGroup",
    "Role",
    "RolePermission",
    "SchemaVersion",
    "User",
    "UserGroup",
    "UserGroupMember",
    "database",
    "migrate",
    "schema_version",
]
