"""The tabs of a certificate's window, one widget each. Each shows a CertificateDetail
given to `show_detail` (read by the window off the GUI thread) and reads nothing
itself. The Associates tab puts the certificate in groups and takes it out; the window
reads it again when the store events name it."""

from ui.certificate_tabs.associates import AssociatesTab
from ui.certificate_tabs.details import DetailsTab
from ui.certificate_tabs.extensions import ExtensionsTab
from ui.certificate_tabs.general import GeneralTab
from ui.certificate_tabs.signers import SignersTab

__all__ = ["AssociatesTab", "DetailsTab", "ExtensionsTab", "GeneralTab", "SignersTab"]
