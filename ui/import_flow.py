"""Importing files from the GUI: off the GUI thread, with a cancellable progress dialog,
a password prompt for PKCS#12 files that need one, and a summary at the end."""

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QProgressDialog, QWidget

from app.services import certificate_import
from app.services.certificate_import import ImportReport
from app.services.session import Session
from ui.dialogs import show_failure
from ui.store_events import ALL, events
from ui.tasks import Task

FILE_FILTER = "Certificates (*.cer *.crt *.der *.pem *.p7b *.p7c *.p12 *.pfx);;All files (*)"


class ImportFlow(QObject):
    """One import run: start(paths) → worker → passwords → summary → `finished(report)`."""

    finished = Signal(object)

    def __init__(self, parent: QWidget, session: Session):
        super().__init__(parent)
        self._parent = parent
        self._session = session
        self._task = None
        self._cancel = threading.Event()
        self._progress: QProgressDialog | None = None
        self._report = ImportReport()
        self.summary_box: QMessageBox | None = None

    def start(self, paths: list[str], passwords: dict[str, str] | None = None) -> None:
        self._cancel.clear()
        self._progress = QProgressDialog(
            "Importing certificates…", "Cancel", 0, len(paths), self._parent
        )
        self._progress.setWindowTitle("Import")
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.setMinimumDuration(500)  # short imports show no dialog at all
        self._progress.setAutoClose(False)
        self._progress.setAutoReset(False)
        self._progress.canceled.connect(self._cancel.set)
        self._task = (
            Task(
                self,
                certificate_import.import_files,
                self._session,
                paths,
                passwords=passwords,
                should_cancel=self._cancel.is_set,
            )
            # Not on the writer thread: the import takes the write lock per batch, so
            # that a Disable or a save gets in between; on the writer it would wait for
            # the whole import.
            # Completing a request links its key and may put the certificate in groups.
            .changes(certificates=ALL, requests=True, groups=True)
            .on_progress(self._on_progress)
            .on_done(self._on_result)
            .on_error(self._on_error)
            .start()
        )

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, done: int, total: int, path: str) -> None:
        if self._progress is not None:
            self._progress.setValue(done)
            self._progress.setLabelText(f"Importing {Path(path).name} ({done} of {total})…")

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _on_error(self, error: BaseException) -> None:
        self._close_progress()
        # An import that stops commits what it read before (in batches): show that too.
        events.announce(certificates=ALL, requests=True, groups=True)
        show_failure(self._parent, error, "Import failed")
        self.finished.emit(self._report)

    def _on_result(self, report: ImportReport) -> None:
        self._close_progress()
        self._merge(report)
        passwords = self._ask_passwords([f for f in report.files if f.needs_password])
        if passwords:
            self.start(list(passwords), passwords)
            return
        self._summarise()
        self.finished.emit(self._report)

    def _merge(self, report: ImportReport) -> None:
        """The first run's report, then each password retry in place of its files."""
        first = not self._report.files
        self._report = report if first else certificate_import.merged(self._report, report)

    def _ask_passwords(self, needing) -> dict[str, str]:
        passwords = {}
        for result in needing:
            text, ok = QInputDialog.getText(
                self._parent,
                "Password needed",
                f"{Path(result.path).name}: {result.error}.\nPassword:",
                QLineEdit.EchoMode.Password,
            )
            if ok:
                passwords[result.path] = text
        return passwords

    def _summarise(self) -> None:
        report = self._report
        lines = [f"Imported {report.imported} certificate{'s' if report.imported != 1 else ''}."]
        if report.duplicates:
            lines.append(f"{report.duplicates} already in the store, skipped.")
        if report.cancelled:
            lines.append("Cancelled: the remaining files were not imported.")
        if report.stopped:
            lines.append(f"Stopped: {report.stopped}")
            lines.append(f"{report.not_imported} file(s) were not imported.")
        completed = [a for f in report.files for a in f.requests_completed]
        superseded = [a for f in report.files for a in f.superseded]
        lines.extend(f"Completed the request “{a}”: its private key is linked." for a in completed)
        lines.extend(f"The renewed certificate is kept, disabled, as “{a}”." for a in superseded)
        if not (
            report.failed or report.duplicates or report.cancelled or report.stopped or completed
        ):
            return  # the refreshed table and the status bar say enough
        box = QMessageBox(self._parent)
        box.setWindowTitle("Import")
        warn = report.failed or report.stopped
        box.setIcon(QMessageBox.Icon.Warning if warn else QMessageBox.Icon.Information)
        if report.failed:
            lines.append(f"{len(report.failed)} file(s) could not be imported:")
            lines.extend(f"• {Path(f.path).name}: {f.error}" for f in report.failed[:8])
            if len(report.failed) > 8:
                lines.append(f"… and {len(report.failed) - 8} more (see Details).")
                box.setDetailedText("\n".join(f"{f.path}: {f.error}" for f in report.failed))
        box.setText("\n".join(lines))
        box.open()
        self.summary_box = box
