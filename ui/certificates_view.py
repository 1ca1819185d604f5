"""The Certificates page: import, search, expiry filter and the table."""

import threading
from collections.abc import Sequence

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.memory import collections_paused, settle_after_read
from app.services import certificate_import, certificates
from app.services.operations import refusal
from app.services.session import Session
from ui import certificates_model as cm
from ui import settings
from ui.certificate_actions import CertificateActions
from ui.certificate_window import CertificateWindow
from ui.certificates_table import CertificatesTable
from ui.file_dialogs import IMPORT_CERTIFICATES, open_file_names
from ui.icons import icon
from ui.import_flow import FILE_FILTER, ImportFlow
from ui.list_page import SEARCH_DELAY_MS, SearchBox, counts_text, page_toolbar
from ui.rows_model import RowsPart, joined
from ui.sign_dialog import SignFileDialog, open_sign_dialog
from ui.store_events import ALL, events
from ui.store_watch import kept_place
from ui.tasks import Task
from ui.wording import ADD_TO_GROUPS, REMOVE_FROM_GROUPS

_ENABLED = certificates.CertificateRow._fields.index("enabled")  # set in place after a toggle

NOTHING_CHECKED = "Check rows to act on several at once"
EMPTY_HINT = (
    "No certificates yet.\n\nImport .cer, .crt, .pem, .p7b or .p12/.pfx files with "
    "Import… (Ctrl+I), or drop them here."
)
HEADER_STATE = "certificates/columns"
# Rows the GUI thread appends at once while a load streams in: a few ms of its time each
# (20,000 held the window for 40 ms).
PART_ROWS = 5000
# From the load's end to the check of its keys for equal ones (`_check_distinct`).
CHECK_AFTER_MS = 200
FILTERS = (
    ("All certificates", cm.FILTER_ALL),
    ("Expiring within {days} days", cm.FILTER_EXPIRING),  # the warning period's
    ("Expiring within 60 days", f"{cm.FILTER_EXPIRING_WITHIN}60"),
    ("Expiring within 90 days", f"{cm.FILTER_EXPIRING_WITHIN}90"),
    ("Expired", cm.FILTER_EXPIRED),
    ("Hide expired", cm.FILTER_HIDE_EXPIRED),
    ("Disabled", cm.FILTER_DISABLED),
)


class ElidedLabel(QLabel):
    """A one-line label that gives up its width: where there is no room its text is cut
    with "…" (the whole of it in the tooltip), rather than widen the window."""

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event) -> None:
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.width()
        )
        self.setToolTip("" if shown == self.text() else self.text())
        painter = QPainter(self)
        painter.drawText(self.rect(), int(self.alignment()), shown)


class CertificatesView(QWidget):
    """The certificates page. It keeps the page protocol of ui.list_page (title, counts,
    pageRequested, handle) with a table of its own: checkboxes, the selection bar, the
    status and actions columns."""

    title = "Certificates"
    icon_name = "certificate"
    noun = ("certificate", "certificates")

    countsChanged = Signal(int, int)  # shown, total
    pageRequested = Signal(str, str, object)  # as ListPage.pageRequested
    loaded = Signal()
    imported = Signal(object)  # the ImportReport

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0  # of reload(): a slower, older read must not win
        self._read_stop: threading.Event | None = None  # the read under way stops when set
        self._loading = False
        self._checking = False  # the keys of the last load, for equal ones
        self._streaming = False  # a read into the empty table is under way
        # Rows whose `enabled` was just set from the write itself: the re-read of the
        # announcement that follows leaves them out (`_enabled_in_place`).
        self._set_in_place: frozenset[int] = frozenset()
        self.import_flow: ImportFlow | None = None
        self.model = cm.CertificatesModel(self)
        self.table = CertificatesTable(self.model, self)
        self.table.filesDropped.connect(self.import_files)
        self.actions = CertificateActions(session, self.model, self)
        self.table.menuRequested.connect(self.actions.popup_menu)
        self.table.deleteRequested.connect(self._delete_key)
        self.table.openRequested.connect(self._open_row)
        self.actions.openRequested.connect(self.open_certificate)
        self.actions.renewRequested.connect(
            lambda certificate_id: self.pageRequested.emit("Requests", "renew", certificate_id)
        )
        self.actions.signRequested.connect(self.sign_with)
        self.windows: dict[int, CertificateWindow] = {}
        self.sign_dialog: SignFileDialog | None = None  # the last one opened
        self.selection_bar = self._selection_bar()
        self.model.checkedChanged.connect(self._show_checked)

        self.import_action = QAction(icon("import"), "Import…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self.choose_files)
        reason = refusal(session, certificate_import.import_files)
        if reason:
            self.import_action.setEnabled(False)
            self.import_action.setToolTip(reason)
            self.table.setAcceptDrops(False)
        page_bar = page_toolbar(self)
        page_bar.addAction(self.import_action)

        self.search = SearchBox(
            "Search name, subject, issuer, serial or thumbprint  (Ctrl+F)", self.table, self
        )
        self.search.setMinimumWidth(120)
        self.find_action = QAction("Find", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self._focus_search)
        self.addAction(self.find_action)

        self.expiry = QComboBox(self)
        for label, key in FILTERS:
            self.expiry.addItem(label.format(days=settings.warning_days()), key)
        self.model.warning_days = settings.warning_days()
        settings.settings_events.changed.connect(self._settings_changed)

        self._filter_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.search.textChanged.connect(self._filter_timer.start)
        self.expiry.currentIndexChanged.connect(self._apply_filter)

        # As wide as its longest choice when there is room, but it may shrink to show
        # "Expired" and its arrow: the page then fits 512 px (1024 at twice the scale).
        arrow = self.expiry.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.expiry.setMinimumWidth(
            self.expiry.fontMetrics().horizontalAdvance("Expired…") + 2 * arrow
        )

        top = QHBoxLayout()
        top.addWidget(page_bar, 1)
        top.addWidget(self.search, 2)
        top.addWidget(self.expiry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(self.selection_bar)
        layout.addWidget(self.table)
        self._show_checked(0)
        events.certificates_enabled.connect(self._enabled_in_place)
        events.certificates_changed.connect(self.refresh)

    # -- checked rows -------------------------------------------------------------

    def _selection_bar(self) -> QFrame:
        """What can be done to all the checked rows, and how many they are. It is always
        there, the same height, so that checking a row never moves the table under the
        pointer; with nothing checked its buttons are disabled and it says how to start."""
        frame = QFrame(self)
        frame.setObjectName("selectionBar")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        frame.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(frame)
        row.setContentsMargins(4, 0, 8, 0)
        self.bulk_bar = page_toolbar(frame)
        for action, short in (
            (self.actions.add_groups_checked, ADD_TO_GROUPS),
            (self.actions.remove_groups_checked, REMOVE_FROM_GROUPS),
            (self.actions.enable_checked, "Enable"),
            (self.actions.disable_checked, "Disable"),
            (self.actions.delete_checked, "Delete…"),
        ):
            action.setIconText(short)  # the bar says "5 selected": the buttons need less
            self.bulk_bar.addAction(action)
        # The count sits after the buttons, which therefore stay where they are.
        row.addWidget(self.bulk_bar, 1)
        self.checked_label = ElidedLabel(frame)
        row.addWidget(self.checked_label)
        self.clear_checks = QToolButton(frame)
        self.clear_checks.setText("Clear Selection")
        self.clear_checks.setToolTip("Uncheck every row (Escape in the table)")
        self.clear_checks.setAutoRaise(True)
        self.clear_checks.clicked.connect(
            lambda: self.model.set_checked(self.model.checked_ids(), False)
        )
        row.addWidget(self.clear_checks)
        return frame

    def _show_checked(self, count: int) -> None:
        self.checked_label.setText(f"{count:,} selected" if count else NOTHING_CHECKED)
        self.bulk_bar.setEnabled(count > 0)
        self.clear_checks.setVisible(count > 0)
        self.selection_bar.setAutoFillBackground(count > 0)

    # -- certificate windows ------------------------------------------------------

    def open_certificate(self, certificate_id: int) -> CertificateWindow | None:
        """One window per certificate: opening it again raises the one already open."""
        window = self.windows.get(certificate_id)
        if window is None:
            row = self.model.row_by_id(certificate_id)
            if row is None:
                return None
            # It reads the certificate itself, off the GUI thread; what it saves comes
            # back to the table through ui.store_events.
            window = CertificateWindow(self._session, certificate_id, self)
            window.groupRequested.connect(
                lambda name: self.pageRequested.emit("Certificate Groups", "show", name)
            )
            window.policyRequested.connect(
                lambda name: self.pageRequested.emit("Policies", "show", name)
            )
            window.finished.connect(lambda *_: self.windows.pop(certificate_id, None))
            self.windows[certificate_id] = window
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def sign_with(self, certificate_id: int) -> SignFileDialog:
        self.sign_dialog = open_sign_dialog(self._session, self, certificate_id)
        return self.sign_dialog

    def _open_row(self, visible_row: int) -> None:
        self.open_certificate(self.model.row_at(visible_row).id)

    def _delete_key(self) -> None:
        """Delete asks about the checked rows, or else the current one."""
        ids = self.model.checked_ids()
        current = self.table.currentIndex()
        if not ids and current.isValid():
            ids = [self.model.row_at(current.row()).id]
        self.actions.delete(ids)

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _apply_filter(self) -> None:
        self.model.set_filter(self.search.text(), self.expiry.currentData())
        self._update_hint()

    def _update_hint(self) -> None:
        if self.model.total_count() == 0:
            self.table.set_empty_hint(EMPTY_HINT)
        else:
            self.table.set_empty_hint("No certificate matches this search and filter.")
        self.countsChanged.emit(self.model.rowCount(), self.model.total_count())

    # -- loading ------------------------------------------------------------------

    def reload(self) -> None:
        """Read the rows off the GUI thread in chunks, each with its haystacks and the
        sort keys made with it on the worker. Into an empty table the first screen goes
        at once, the rest when all are in; a reload gathers them and replaces the rows
        in one step, keeping the place (a table emptied and refilled under the user
        would lose it)."""
        self._generation += 1
        generation = self._generation
        self._loading = True
        self._checking = False  # a check of the rows replaced ends unheard
        self._stop_reading()
        stop = self._read_stop = threading.Event()
        streamed = self._streaming = self.model.total_count() == 0
        gathered: list[RowsPart] = []

        def take(chunk: tuple[RowsPart, bool]) -> None:
            if generation != self._generation:
                return
            if streamed:
                self.model.append_rows(*chunk)
                self._update_hint()
            else:
                gathered.append(chunk[0])

        def done(result: tuple[list[int] | None, dict[int, Sequence]]) -> None:
            if generation != self._generation:
                return
            places, likely = result
            if streamed:
                self._streaming = False
                self.model.finish_rows(places=places)
                self._update_hint()
            else:
                with kept_place(self.table):
                    self.model.set_rows(joined(gathered), places=places)
                self._update_hint()
            self._loading = False
            self._checking = True
            settle_after_read()
            self.loaded.emit()
            # Once the table has laid out and painted the rows: begun at once (or after
            # the events queued), the check held the GIL in turns with that work and the
            # window froze for 100 ms.
            QTimer.singleShot(
                CHECK_AFTER_MS, self, lambda: self._check_distinct(generation, likely)
            )

        (
            Task(self, _read_rows, self._session, self.model, stop)
            .on_chunk(take)
            .on_error(lambda _superseded: None, _Superseded)
            .busy(self, "Loading certificates…")
            .on_done(done)
            .always(lambda: self._reload_ended(generation, streamed))
            .start()
        )

    def _check_distinct(self, generation: int, keys: dict[int, Sequence]) -> None:
        """After the rows are in, on a worker: which columns' keys all differ, so that
        their sorts take the faster kind (`RowsModel.add_distinct`). A second at a
        million rows that the load no longer waits for; a sort meanwhile is only slower."""
        if generation != self._generation:
            return  # a newer read replaced these rows (and cleared `checking`)

        def found(columns: set[int]) -> None:
            if generation == self._generation:
                self.model.add_distinct(columns)

        def ended() -> None:
            if generation == self._generation:
                self._checking = False

        Task(self, self.model.distinct_keys, keys).on_done(found).always(ended).start()

    @property
    def checking(self) -> bool:
        """The keys of a finished load are being checked for equal ones (`loaded` came):
        until then the sorts of the columns that turn out distinct are slower."""
        return self._checking

    @property
    def loading(self) -> bool:
        """A read is under way: the rows shown may not be all of them yet."""
        return self._loading

    def reload_when_shown(self) -> None:
        """The page protocol's start (ui.list_page): this page is the window's first and
        reads at once."""
        self.reload()

    def _reload_ended(self, generation: int, streamed: bool) -> None:
        if generation != self._generation:
            return
        if self._loading and streamed:
            # The read failed (its box is shown): what came shows, in the header's order,
            # rather than waiting out of view for the rest.
            self._streaming = False
            self.model.finish_rows()
            self._update_hint()
        self._loading = False

    def _enabled_in_place(self, ids: tuple[int, ...], enabled: bool) -> None:
        """An enable or disable changed nothing but this flag of these certificates: their
        rows take it from the write's own answer instead of being read again."""
        if self._loading:
            return  # refresh reloads: the read under way may have come before the write
        flag, row_type, make = int(enabled), certificates.CertificateRow, tuple.__new__
        # One tuple each, built as the listing builds them (_replace is several Python
        # calls per row), with no collection set off by them (they hold no cycle).
        with collections_paused():
            rows = [
                make(row_type, (*r[:_ENABLED], flag, *r[_ENABLED + 1 :]))
                for r in map(self.model.row_by_id, ids)
                if r
            ]
            # The flag is in no haystack or tie key, and only the Status column sorts by it.
            self.model.update_rows(rows, columns=[cm.CertificatesModel.COL_STATUS])
        self._set_in_place = frozenset(r.id for r in rows)

    def refresh(self, ids) -> None:
        """Re-read the certificates a write changed (store_events.ALL: all of them), but
        those just set in place; an id that no longer reads back was deleted and leaves
        the table."""
        set_in_place, self._set_in_place = self._set_in_place, frozenset()
        if ids is ALL or self._loading:
            # A reload under way may have read before this write: read again after it.
            self.reload()
            return
        wanted = [i for i in ids if i not in set_in_place and self.model.row_by_id(i) is not None]
        if wanted:
            # On the writer thread, after the write that announced them: two refreshes
            # of the same rows then arrive in the order of their writes.
            (
                Task(self, certificates.certificate_rows, self._session, wanted)
                .writes()
                .on_done(lambda rows: self._update_rows(wanted, rows))
                .start()
            )

    def _update_rows(self, wanted: list[int], rows) -> None:
        self.model.update_rows(rows)
        found = {r.id for r in rows}
        self.model.remove_ids([i for i in wanted if i not in found])
        self._update_hint()

    def handle(self, what: str, argument: object) -> None:
        """Another page asked for something of this one (through the main window)."""
        if what == "import":
            self.choose_files()
        elif what == "open":
            self.open_certificate(argument)
        elif what == "filter":  # a figure of the dashboard: the rows it counts
            self.search.clear()
            self.expiry.setCurrentIndex(max(self.expiry.findData(argument), 0))
            self._apply_filter()

    def _settings_changed(self) -> None:
        days = settings.warning_days()
        index = self.expiry.findData(cm.FILTER_EXPIRING)
        self.expiry.setItemText(index, FILTERS[index][0].format(days=days))
        self.model.set_warning_days(days)
        self._update_hint()

    def counts_text(self) -> str:
        if self._streaming:  # most rows wait out of view until all are in
            return f"Reading {self.noun[1]}… {self.model.total_count():,} so far"
        return counts_text(self.model.rowCount(), self.model.total_count(), self.noun)

    # -- importing ----------------------------------------------------------------

    def choose_files(self) -> None:
        paths = open_file_names(self, IMPORT_CERTIFICATES, "Import certificates", FILE_FILTER)
        if paths:
            self.import_files(paths)

    def import_files(self, paths: list[str]) -> None:
        if not self.import_action.isEnabled() or not paths:
            return
        self.import_flow = ImportFlow(self, self._session)
        self.import_flow.finished.connect(self._imported)
        self.import_flow.start(list(paths))

    def shutdown(self) -> None:
        """Cancel an import and stop a read under way (the window then waits for the
        workers)."""
        if self.import_flow is not None:
            self.import_flow.cancel()
        self._stop_reading()

    def _stop_reading(self) -> None:
        """A read under way ends at its next chunk: a reload replaces it, or the window
        closes (at a million rows it would read for seconds, holding its snapshot)."""
        if self._read_stop is not None:
            self._read_stop.set()

    def _imported(self, report) -> None:
        self.imported.emit(report)  # the import announced its changes (ui.store_events)

    # -- state --------------------------------------------------------------------

    def save_state(self, settings: QSettings) -> None:
        # Widths, order, sorting and the columns shown. (Named anew when the optional
        # columns came: the older "certificates/header" was made for other columns.)
        settings.setValue(HEADER_STATE, self.table.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        state = settings.value(HEADER_STATE)
        if state is not None:
            header = self.table.horizontalHeader()
            header.restoreState(state)
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())


class _Superseded(Exception):
    """A read stopped because a newer one replaced it (or its window closed)."""


def _read_rows(
    session: Session, model: cm.CertificatesModel, stop: threading.Event, chunk
) -> tuple[list[int] | None, dict[int, Sequence]]:
    """On the worker: the rows, each chunk made into the model's part (its pure
    function), so that the GUI thread only extends its lists. Returns the places of the
    rows in the table's name order, as the parts place them (None if the listing's order
    names others), and the keys of the columns whose keys likely all differ, for
    `distinct_keys` to check once (not at the first click on their header)."""
    likely: dict[int, Sequence] = {}
    arrived = model.positions()

    def take(rows: list, in_order: bool) -> None:
        for start in range(0, len(rows), PART_ROWS):
            if stop.is_set():
                raise _Superseded  # ends the read transaction too
            part = model.part(rows[start : start + PART_ROWS], in_order)
            for column, keys in part.keys.items():
                if model.columns[column].distinct_likely:
                    likely.setdefault(column, keys[:0]).extend(keys)
            arrived.append(list(map(model.key_of, part.rows)))
            chunk((part, in_order))

    with collections_paused():
        order = certificates.stream_certificates(session, "name", take)
    return arrived.places(order), likely
