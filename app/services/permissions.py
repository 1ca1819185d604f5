"""The permission names the faces ask the session about (`Session.can`/`refusal`), so
that ui/ depends on the services and never on models/, where they are defined."""

from models.permissions import (
    BUILTIN_ROLES,
    CERTIFICATES_DELETE,
    CERTIFICATES_DOWNLOAD,
    CERTIFICATES_EDIT,
    CERTIFICATES_ENABLE_DISABLE,
    CERTIFICATES_IMPORT,
    CERTIFICATES_REQUEST,
    GROUPS_ADD_CERTIFICATES,
    GROUPS_MANAGE,
    GROUPS_REMOVE_CERTIFICATES,
    SIGNER,
)

__all__ = [
    "BUILTIN_ROLES",
    "CERTIFICATES_DELETE",
    "CERTIFICATES_DOWNLOAD",
    "CERTIFICATES_EDIT",
    "CERTIFICATES_ENABLE_DISABLE",
    "CERTIFICATES_IMPORT",
    "CERTIFICATES_REQUEST",
    "GROUPS_ADD_CERTIFICATES",
    "GROUPS_MANAGE",
    "GROUPS_REMOVE_CERTIFICATES",
    "SIGNER",
]
