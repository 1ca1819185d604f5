"""Permission names and built-in roles: the contract the UI, CLI and tests share."""

CERTIFICATES_VIEW = "certificates.view"
CERTIFICATES_IMPORT = "certificates.import"
CERTIFICATES_EDIT = "certificates.edit"
CERTIFICATES_ENABLE_DISABLE = "certificates.enable_disable"
CERTIFICATES_DOWNLOAD = "certificates.download"
CERTIFICATES_REQUEST = "certificates.request"
CERTIFICATES_DELETE = "certificates.delete"
GROUPS_ADD_CERTIFICATES = "groups.add_certificates"
GROUPS_REMOVE_CERTIFICATES = "groups.remove_certificates"
GROUPS_MANAGE = "groups.manage"
POLICIES_MANAGE = "policies.manage"
USERS_MANAGE = "users.manage"
ROLES_MANAGE = "roles.manage"
AUDIT_VIEW = "audit.view"
SIGN = "sign"

ALL_PERMISSIONS = (
    CERTIFICATES_VIEW,
    CERTIFICATES_IMPORT,
    CERTIFICATES_EDIT,
    CERTIFICATES_ENABLE_DISABLE,
    CERTIFICATES_DOWNLOAD,
    CERTIFICATES_REQUEST,
    CERTIFICATES_DELETE,
    GROUPS_ADD_CERTIFICATES,
    GROUPS_REMOVE_CERTIFICATES,
    GROUPS_MANAGE,
    POLICIES_MANAGE,
    USERS_MANAGE,
    ROLES_MANAGE,
    AUDIT_VIEW,
    SIGN,
)

ADMINISTRATOR = "Administrator"
CERTIFICATE_MANAGER = "Certificate Manager"
AUDITOR = "Auditor"
SIGNER = "Signer"

BUILTIN_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    ADMINISTRATOR: ("Every permission, including users and roles.", ALL_PERMISSIONS),
    CERTIFICATE_MANAGER: (
        "Imports, edits, renews and groups certificates; no users, roles or policies.",
        (
            CERTIFICATES_VIEW,
            CERTIFICATES_IMPORT,
            CERTIFICATES_EDIT,
            CERTIFICATES_ENABLE_DISABLE,
            CERTIFICATES_DOWNLOAD,
            CERTIFICATES_REQUEST,
            CERTIFICATES_DELETE,
            GROUPS_ADD_CERTIFICATES,
            GROUPS_REMOVE_CERTIFICATES,
            GROUPS_MANAGE,
        ),
    ),
    AUDITOR: ("Reads certificates and the audit log.", (CERTIFICATES_VIEW, AUDIT_VIEW)),
    SIGNER: ("Sees certificates and signs with those a policy allows.", (CERTIFICATES_VIEW, SIGN)),
}
