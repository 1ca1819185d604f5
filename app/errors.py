"""The one exception family for problems a user can cause or fix.

The CLI prints the message on one line and exits 1; the GUI shows it in a message box.
"""


class CertdeskError(Exception):
    """A problem worth one clear line to the user."""


class StoreMissingError(CertdeskError):
    pass


class StoreExistsError(CertdeskError):
    pass


class StoreBusyError(CertdeskError):
    pass


class StoreDamagedError(CertdeskError):
    pass


class NewerSchemaError(CertdeskError):
    pass


class SchemaMigrationError(CertdeskError):
    """A schema step failed on an older store: rolled back, the store is as it was (not
    damaged); this Certdesk opens it only once the step succeeds."""


class AuthenticationError(CertdeskError):
    pass


class PermissionDenied(CertdeskError):
    pass


class NotFoundError(CertdeskError):
    pass


class ValidationError(CertdeskError):
    """A field's value refused: `field` names it, `reason` says why (shown beside it)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ImportFormatError(CertdeskError):
    """A file that is not (or no longer) something Certdesk can import."""


class OrphanKeyError(ImportFormatError):
    """A private key whose certificate is not in the store (yet)."""


class PasswordRequiredError(ImportFormatError):
    """A PKCS#12 file that needs a password, or was given the wrong one."""


class StoreFullError(CertdeskError):
    """The disk under the store is full: the interrupted transaction was rolled back."""


class TamperedError(StoreDamagedError):
    """The store's files were changed outside Certdesk in a way its keys reveal: a
    custodian or a certificate of keys that is not the one the user's key slot trusts."""


class CustodianRequired(PermissionDenied):
    """A change that hands a private key to more users, run by someone who cannot open
    the key: only a key custodian (an Administrator) can."""
