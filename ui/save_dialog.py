"""Save dialogs for the files Certdesk writes, which are always new files (app.files)."""

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.files import FileRefusedError, free_name
from ui.file_dialogs import remember_folder, start_folder

T = TypeVar("T")


def save_new_file(
    parent: QWidget,
    title: str,
    name: str,
    filters: str,
    write: Callable[[Path, str], T],
    purpose: str,
) -> T | None:
    """Ask where to save, then `write(path, chosen filter)`. The dialog opens on the
    folder last saved to for `purpose` (ui.file_dialogs) and never offers to replace a
    file, since the write would refuse it: a refused choice (it exists, the folder is
    read-only…) is said in one line and the dialog opens again on it. None when the
    user cancels."""
    chosen = ""
    proposed = str(free_name(start_folder(purpose) / name))
    while True:
        path, chosen = QFileDialog.getSaveFileName(
            parent,
            title,
            proposed,
            filters,
            selectedFilter=chosen,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if not path:
            return None
        try:
            written = write(Path(path), chosen)
        except FileRefusedError as exc:
            QMessageBox.warning(parent, "Certdesk", str(exc))
            proposed = str(free_name(path))
            continue
        remember_folder(purpose, path)
        return written
