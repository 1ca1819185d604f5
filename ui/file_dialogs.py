"""The file dialogs' starting folder: the last one used for the same purpose, else the
user's Documents (or home) folder, never the process's working directory (with
`make run`, the source tree)."""

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

# One remembered folder each: where certificates come from is seldom where CSRs go.
IMPORT_CERTIFICATES = "import-certificates"
IMPORT_ISSUED = "import-issued-certificate"
SAVE_CERTIFICATE = "save-certificate"
SAVE_CSR = "save-csr"


def _key(purpose: str) -> str:
    return f"folders/{purpose}"


def default_folder() -> Path:
    for location in (
        QStandardPaths.StandardLocation.DocumentsLocation,
        QStandardPaths.StandardLocation.HomeLocation,
    ):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def start_folder(purpose: str) -> Path:
    """The folder last used for `purpose`, while it still exists."""
    saved = QSettings().value(_key(purpose))
    if isinstance(saved, str) and saved and Path(saved).is_dir():
        return Path(saved)
    return default_folder()


def remember_folder(purpose: str, chosen: str | Path) -> None:
    """Remember the folder of the file `chosen` for the next dialog of `purpose`."""
    QSettings().setValue(_key(purpose), str(Path(chosen).parent))


def open_file_names(parent: QWidget, purpose: str, title: str, filters: str) -> list[str]:
    """Files to open, chosen in the folder last used for `purpose`; [] when cancelled."""
    paths, _chosen = QFileDialog.getOpenFileNames(
        parent, title, str(start_folder(purpose)), filters
    )
    if paths:
        remember_folder(purpose, paths[0])
    return paths
