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

# What each permission allows, in words that follow "may" or "may not": a refusal names
# these, never the permission's name.
PERMISSION_WORDS: dict[str, str] = {
    CERTIFICATES_VIEW: "see certificates",
    CERTIFICATES_IMPORT: "import certificates",
    CERTIFICATES_EDIT: "edit certificates",
    CERTIFICATES_ENABLE_DISABLE: "enable or disable certificates",
    CERTIFICATES_DOWNLOAD: "download certificates",
    CERTIFICATES_REQUEST: "request or renew certificates",
    CERTIFICATES_DELETE: "delete certificates",
    GROUPS_ADD_CERTIFICATES: "add certificates to groups",
    GROUPS_REMOVE_CERTIFICATES: "remove certificates from groups",
    GROUPS_MANAGE: "create, edit or delete certificate groups",
    POLICIES_MANAGE: "manage policies",
    USERS_MANAGE: "manage users",
    ROLES_MANAGE: "manage roles",
    AUDIT_VIEW: "read the audit log",
    SIGN: "sign with certificates",
}

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
    # Certificates are public: a Signer downloads them (schema step 3 grants it in stores
    # made before).
    SIGNER: (
        "Sees certificates, downloads them, and signs with those a policy allows.",
        (CERTIFICATES_VIEW, CERTIFICATES_DOWNLOAD, SIGN),
    ),
}
