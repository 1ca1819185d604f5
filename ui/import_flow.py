"""Importing files from the GUI: off the GUI thread, with a cancellable progress dialog,
a password prompt for PKCS#12 files that need one, and one summary at the end."""

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)

from app.services import certificate_import
from app.services.certificate_import import FileResult, ImportReport
from app.services.request_completion import Completion
from app.services.session import Session
from ui.dialogs import show_failure
from ui.store_events import ALL, events
from ui.tasks import BUSY_DELAY_MS, Task
from ui.wording import capped, curly_quotes, plural

# Every extension the importer is given in practice (it reads the format from the content):
# a key on its own (.key) is linked to its certificate.
FILE_FILTER = (
    "Certificates and keys (*.cer *.crt *.cert *.der *.pem *.p7b *.p7c *.p12 *.pfx *.key);;"
    "All files (*)"
)
ISSUED_FILTER = "Issued certificates (*.cer *.crt *.cert *.der *.pem *.p7b *.p7c);;All files (*)"
# Lines of a kind, and names in one sentence, in the box itself; all of them in its
# details: the box stays smaller than the screen.
MAX_LISTED = 5


@dataclass(frozen=True)
class Summary:
    """What an import did, in the words of the box (and the status bar's `headline`)."""

    headline: str
    lines: tuple[str, ...]
    details: str  # every duplicate and failure, for the box's Show Details…
    warn: bool
    worth_a_box: bool  # more to say than the headline


class ImportFlow(QObject):
    """One import run: start(paths) → worker → passwords → summary → `finished(report)`.
    With `issued`, the files are certificates issued for pending requests, and the
    summary says which matched none."""

    finished = Signal(object)

    def __init__(self, parent: QWidget, session: Session, issued: bool = False):
        super().__init__(parent)
        self._parent = parent
        self._session = session
        self._issued = issued
        self._task = None
        self._cancel = threading.Event()
        self._progress: QProgressDialog | None = None
        self._report = ImportReport()
        self.summary_box: QMessageBox | None = None

    @property
    def progress_dialog(self) -> QProgressDialog | None:
        return self._progress

    def start(self, paths: list[str], passwords: dict[str, str] | None = None) -> None:
        self._cancel.clear()
        first = Path(paths[0]).name if len(paths) == 1 else plural(len(paths), "file")
        text = f"Importing {first}…"
        # No range yet: the bar runs as "busy" until the first file is read and its
        # certificates counted.
        self._progress = QProgressDialog(text, "Cancel", 0, 0, self._parent)
        self._progress.setWindowTitle("Import")
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        # The busy cursor and the status bar say it at once; the dialog only when the
        # import is more than a flicker.
        self._progress.setMinimumDuration(BUSY_DELAY_MS)
        self._progress.setAutoClose(False)
        self._progress.setAutoReset(False)
        self._progress.canceled.connect(self._cancel.set)
        self._progress.setMinimumWidth(self._progress.fontMetrics().averageCharWidth() * 50)
        self._progress.setValue(0)  # starts the dialog's own timer
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
            .busy(self._parent, text, delay_ms=0)
            .on_progress(self._on_progress)
            .on_done(self._on_result)
            .on_error(self._on_error)
            .start()
        )

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, done: int, total: int, path: str) -> None:
        dialog = self._progress
        if dialog is not None:
            dialog.setLabelText(f"Importing {Path(path).name}…")
            dialog.setMaximum(total)
            # Last: a shown modal dialog's setValue runs the event loop, which may
            # deliver the result and close the dialog.
            dialog.setValue(done)

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
        summary = summarise(self._report, issued=self._issued)
        if not summary.worth_a_box:
            return  # the refreshed table and the status bar's headline say enough
        box = QMessageBox(self._parent)
        box.setWindowTitle("Import Issued Certificate" if self._issued else "Import")
        box.setIcon(QMessageBox.Icon.Warning if summary.warn else QMessageBox.Icon.Information)
        box.setText("\n".join([summary.headline, "", *summary.lines]))
        if summary.details:
            box.setDetailedText(summary.details)
        _widen(box)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.summary_box = box


def _widen(box: QMessageBox) -> None:
    """A summary of many lines reads better wider than a message box makes itself, as
    long as it fits the screen."""
    screen = box.screen().availableGeometry().width()
    width = min(box.fontMetrics().averageCharWidth() * 70, screen * 3 // 4)
    layout = box.layout()
    layout.addItem(
        QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed),
        layout.rowCount(),
        0,
        1,
        layout.columnCount(),
    )


def summarise(report: ImportReport, issued: bool = False) -> Summary:
    """Every import's summary, whatever its files held: certificates, keys, duplicates,
    completed requests, failures. Long lists are cut in the box; its details name all."""
    files = [f for f in report.files if f.ok]
    lines = _capped([_completion(c) for f in files for c in f.completions])
    completed = any(f.completions for f in files)
    if issued:
        lines += _capped([_unmatched(f) for f in files if not f.completions])
    lines += _capped(
        [
            f"Linked the private key in {_name(f)} to {_names(f.keys_linked)}."
            for f in files
            if f.keys_linked
        ]
    )
    lines += _capped([_known(f) for f in files if f.keys_known])
    duplicates = [a for f in files for a in f.duplicates]
    if duplicates:
        lines.append(f"Already in the store, skipped: {_names(duplicates)}.")
    if report.cancelled:
        lines.append("Cancelled: the remaining files were not imported.")
    if report.stopped:
        lines.append(f"Stopped: {curly_quotes(report.stopped)}")
        lines.append(f"{plural(report.not_imported, 'file')} not imported.")
    if report.failed:
        lines += ["", f"{plural(len(report.failed), 'file')} could not be imported:"]
        lines += _capped([f"• {_name(f)}: {curly_quotes(f.error)}" for f in report.failed])
    return Summary(
        headline=headline(report),
        lines=tuple(lines),
        # The whole log on demand, when the box has more than one file's story to tell.
        details="\n".join(line for f in report.files for line in _file_log(f))
        if len(report.files) > 1 or duplicates or report.failed
        else "",
        warn=bool(report.failed or report.stopped or (issued and not completed)),
        worth_a_box=bool(lines),
    )


def _file_log(result: FileResult) -> list[str]:
    """Everything one file gave, for the box's details (as the CLI prints it)."""
    name = result.name
    if not result.ok:
        return [f"{name}: {curly_quotes(result.error)}"]
    return [
        *(f"{name}: imported “{a}”" for a in result.imported),
        *(f"{name}: already in the store as “{a}”, skipped" for a in result.duplicates),
        *(f"{name}: private key linked to “{a}”" for a in result.keys_linked),
        *(f"{name}: “{a}” already holds this private key" for a in result.keys_known),
        *(f"{name}: completed the request “{c.request}”" for c in result.completions),
    ]


def _known(result: FileResult) -> str:
    verb = "holds" if len(result.keys_known) == 1 else "hold"
    return f"{_name(result)}: {_names(result.keys_known)} already {verb} this private key."


def _capped(lines: list[str]) -> list[str]:
    return capped(lines, MAX_LISTED, "… and {n:,} more (Show Details…).")


def _names(aliases: list[str]) -> str:
    """“A”; “A” and “B”; “A”, “B”, … “E” and 12 more (Show Details… names them)."""
    quoted = [f"“{a}”" for a in aliases]
    if len(quoted) > MAX_LISTED:
        left = len(quoted) - MAX_LISTED
        return f"{', '.join(quoted[:MAX_LISTED])} and {left:,} more (Show Details… names them)"
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def headline(report: ImportReport) -> str:
    """One sentence for the status bar and the box: "Imported 3 certificates, linked 1
    private key; 2 certificates already in the store, skipped; 1 file failed." """
    linked = sum(len(f.keys_linked) for f in report.files)
    done = []
    if report.imported or not linked:
        done.append(f"imported {plural(report.imported, 'certificate')}")
    if linked:
        done.append(f"linked {plural(linked, 'private key')}")
    others = []
    if report.duplicates:
        others.append(f"{plural(report.duplicates, 'certificate')} already in the store, skipped")
    if report.failed:
        others.append(f"{plural(len(report.failed), 'file')} failed")
    text = "; ".join([", ".join(done), *others])
    return text[:1].upper() + text[1:] + "."


def _completion(completion: Completion) -> str:
    text = (
        f"Completed the request “{completion.request}”: the certificate "
        f"“{completion.alias}” holds its private key."
    )
    if completion.superseded:
        text += (
            f" It renews the certificate that was “{completion.alias}”, which is kept, "
            f"disabled, as “{completion.superseded}”."
        )
    return text


def _unmatched(result: FileResult) -> str:
    text = f"{_name(result)} matched no pending request: no request holds its key"
    if result.imported:
        return f"{text}. It was imported as an ordinary certificate, {_names(result.imported)}."
    if result.duplicates:
        return f"{text}, and it is already in the store as {_names(result.duplicates)}."
    return f"{text}."


def _name(result: FileResult) -> str:
    return Path(result.name).name
