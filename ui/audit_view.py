"""The Audit Log page: the events, newest first, with who did what to which target, the
outcome and the details; filtered by user, action, target, outcome and time before they
are read (a log of a million events shows its newest PAGE_EVENTS and says how many
match), exported to CSV, and verified: the result in words, and the first broken event
selected when there is one."""

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from app.errors import CertdeskError
from app.files import check_new_file
from app.services import audit_log
from app.services.audit_log import AuditEntry, AuditEvents, AuditFacets, AuditFilter
from app.services.operations import refusal
from app.services.session import Session
from ui.dialogs import show_failure
from ui.icons import icon
from ui.list_page import SEARCH_DELAY_MS, ListPage, PageAction, page_toolbar
from ui.rows_model import Column, RowsModel, RowsPart
from ui.save_dialog import save_new_file
from ui.store_events import events
from ui.tasks import Task, say_in_status_bar
from ui.wording import plural

PAGE_EVENTS = 100_000  # the newest events that match are shown; the rest are counted
SAVE_AUDIT = "save-audit"
EMPTY_HINT = "No events match the filters. Clear Filters shows the whole log."
ANY_USER, ANY_ACTION, ANY_OUTCOME = "All users", "All actions", "Any outcome"
TIME_RANGES = (
    ("Any time", None),
    ("Last 24 hours", dt.timedelta(days=1)),
    ("Last 7 days", dt.timedelta(days=7)),
    ("Last 30 days", dt.timedelta(days=30)),
    ("Between dates…", "custom"),
)
OUTCOME_ICONS = {"allowed": "enabled", "denied": "disabled", "failed": "expired"}
INTACT_COLOR, BROKEN_COLOR = "#2e9e44", "#d23c3c"


def details_text(entry: AuditEntry) -> str:
    return ", ".join(f"{k}={v}" for k, v in entry.details.items())


def local_time(entry: AuditEntry) -> str:
    return f"{entry.time.astimezone():%Y-%m-%d %H:%M:%S}"


COLUMNS = (
    Column(
        "Time (UTC)",
        display=lambda e: f"{e.time:%Y-%m-%d %H:%M:%S}",
        sort_key=lambda e: e.id,
        distinct_likely=True,
    ),
    Column("Local Time", display=local_time, sort_key=lambda e: e.id, distinct_likely=True),
    Column("User", display=lambda e: e.user, sort_key=lambda e: e.user.casefold()),
    Column("Action", display=lambda e: e.action, sort_key=lambda e: e.action),
    Column(
        "Target",
        display=lambda e: e.target,
        sort_key=lambda e: e.target.casefold(),
        tooltip=lambda e: e.target or None,
    ),
    Column(
        "Outcome",
        display=lambda e: e.outcome.capitalize(),
        sort_key=lambda e: e.outcome,
        decoration=lambda e: icon(OUTCOME_ICONS.get(e.outcome, "disabled")),
    ),
    Column(
        "Details",
        display=details_text,
        sort_key=lambda e: details_text(e).casefold(),
        tooltip=lambda e: details_text(e).replace(", ", "\n") or None,
    ),
)
TIME = 0


class AuditModel(RowsModel):
    dense_ids = True

    def haystack(self, row: AuditEntry) -> str:
        """What the search finds an event by; the time as ISO 8601 UTC (2026-12-06T20:45),
        made far faster than the columns' own text."""
        text = f"{row.time.isoformat()}\n{row.user}\n{row.action}\n{row.target}\n{row.outcome}"
        return f"{text}\n{details_text(row)}".casefold() if row.details else text.casefold()


class AuditView(ListPage):
    title = "Audit Log"
    icon_name = "audit"
    noun = ("event", "events")
    empty_hint = EMPTY_HINT
    search_hint = "Search the events shown"
    sort = (TIME, Qt.SortOrder.DescendingOrder)
    reload_on = ("audit_changed",)
    reads_when_shown = True  # every write adds an event: read when looked at

    def __init__(self, session: Session, parent=None):
        self._refused = refusal(session, audit_log.newest_events)
        self.filters = AuditFilter()
        self.matched = 0
        self.verdict = ""  # the last Verify's result, in words
        self.broken: list[int] = []
        self._facets_read = False
        self._typing = QTimer(singleShot=True, interval=SEARCH_DELAY_MS)
        if self._refused:
            self.empty_hint = self._refused
        super().__init__(session, AuditModel(COLUMNS), parent)
        self._typing.timeout.connect(self._filters_changed)
        for column, width in ((0, 135), (1, 135), (2, 90), (3, 170), (4, 200), (5, 90)):
            self.table.setColumnWidth(column, width)
        # Under the filters, in the page's own layout: a wrapped line there gets the
        # height it needs.
        self.verdict_label = QLabel(self)
        self.verdict_label.setWordWrap(True)
        self.verdict_label.hide()
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.table), self.verdict_label)
        # Each write adds events that the page shows in place, its rows read again:
        # the place in the table and the selection stay (the rows' keys are their ids).
        events.certificates_changed.connect(self.reload_when_shown)
        events.groups_changed.connect(self.reload_when_shown)
        events.requests_changed.connect(self.reload_when_shown)

    # -- what the page declares -------------------------------------------------------

    def page_actions(self) -> tuple[PageAction, ...]:
        return (
            PageAction(
                "refresh_action",
                "refresh",
                "Refresh",
                self.reload,
                audit_log.newest_events,
                shortcut="F5",
            ),
            PageAction("verify_action", "verify", "Verify", self.verify, audit_log.verify_chain),
            PageAction(
                "export_action", "download", "Export CSV…", self.export, audit_log.export_csv
            ),
        )

    def filter_bar(self) -> QWidget:
        # A tool bar: what a narrow window has no room for folds behind its » button.
        bar = page_toolbar(self)
        bar.setObjectName("filterBar")
        self.user_filter = QComboBox(bar)
        self.user_filter.addItem(ANY_USER, "")
        self.action_filter = QComboBox(bar)
        self.action_filter.addItem(ANY_ACTION, "")
        self.outcome_filter = QComboBox(bar)
        self.outcome_filter.addItem(ANY_OUTCOME, "")
        for outcome in audit_log.OUTCOMES:
            self.outcome_filter.addItem(icon(OUTCOME_ICONS[outcome]), outcome.capitalize(), outcome)
        self.target_filter = QLineEdit(bar)
        self.target_filter.setPlaceholderText("Certificate or other target")
        self.target_filter.setClearButtonEnabled(True)
        self.time_filter = QComboBox(bar)
        for label, span in TIME_RANGES:
            self.time_filter.addItem(label, span)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-7), bar)
        self.date_until = QDateEdit(today, bar)
        for edit in (self.date_from, self.date_until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setToolTip("Local dates; both days included")
        self.clear_filters = QToolButton(bar)
        self.clear_filters.setText("Clear Filters")
        self.clear_filters.setAutoRaise(True)
        self.clear_filters.clicked.connect(self.reset_filters)
        for combo in (self.user_filter, self.action_filter, self.outcome_filter, self.time_filter):
            combo.currentIndexChanged.connect(self._filters_changed)
            # Narrow enough for a small window; the list that opens shows whole names.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(9)
        self.target_filter.textChanged.connect(lambda _text: self._typing.start())
        self.date_from.dateChanged.connect(self._filters_changed)
        self.date_until.dateChanged.connect(self._filters_changed)
        self.target_filter.setMinimumWidth(
            self.target_filter.fontMetrics().horizontalAdvance("0" * 12)
        )
        self.target_filter.setMaximumWidth(self.target_filter.minimumWidth() * 2)
        self._date_actions = []
        # Clear Filters first: what does not fit folds behind » from the right.
        for widget in (
            self.clear_filters,
            self.user_filter,
            self.action_filter,
            self.outcome_filter,
            self.target_filter,
            self.time_filter,
            self.date_from,
            self.date_until,
        ):
            action = bar.addWidget(widget)
            if widget in (self.date_from, self.date_until):
                self._date_actions.append(action)
        self._show_dates()
        bar.setEnabled(not self._refused)
        return bar

    def load(self, session: Session) -> AuditEvents:
        if self._refused:
            return AuditEvents([], 0)
        return audit_log.newest_events(session, self.filters, PAGE_EVENTS)

    def _read(self, session: Session) -> tuple[int, RowsPart]:
        read = self.load(session)
        return read.matched, self.model.part(read.entries)

    def _show(self, read: tuple[int, RowsPart]) -> None:
        self.matched, part = read
        super()._show(part)

    def reload(self, *changed):
        if not self._facets_read and not self._refused:
            self._facets_read = True
            Task(self, audit_log.facets, self._session).on_done(self._show_facets).start()
        return super().reload(*changed)

    def showEvent(self, event) -> None:
        self._stale = self._stale or self.loaded  # what it shows may be old: look again
        super().showEvent(event)

    def counts_text(self) -> str:
        text = super().counts_text()
        if self.loaded and self.matched > self.model.total_count():
            text += f" (the newest of {self.matched:,} that match)"
        return text

    def handle(self, what: str, argument: object) -> None:
        if what == "filter" and isinstance(argument, AuditFilter):
            self.show_filter(argument)

    # -- filters ------------------------------------------------------------------------

    def _show_facets(self, facets: AuditFacets) -> None:
        for combo, names in (
            (self.user_filter, facets.users),
            (self.action_filter, facets.actions),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for name in names:
                combo.addItem(name, name)
            index = combo.findData(chosen)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def current_filter(self) -> AuditFilter:
        since = until = None
        span = self.time_filter.currentData()
        if span == "custom":
            since = _local_midnight(self.date_from.date())
            until = _local_midnight(self.date_until.date().addDays(1))
        elif span is not None:
            since = dt.datetime.now(dt.UTC) - span
        return AuditFilter(
            user=self.user_filter.currentData() or "",
            action=self.action_filter.currentData() or "",
            target=self.target_filter.text().strip(),
            outcome=self.outcome_filter.currentData() or "",
            since=since,
            # A range ending before it starts keeps nothing (not a refusal in a box).
            until=until
            if until is None or since is None or until > since
            else since + dt.timedelta(microseconds=1),
        )

    def _filters_changed(self, *_args) -> None:
        self._show_dates()
        try:
            self.filters = self.current_filter()
        except CertdeskError as exc:
            show_failure(self, exc)
            return
        self.clear_filters.setEnabled(not self.filters.empty)
        self.reload()

    def _show_dates(self) -> None:
        custom = self.time_filter.currentData() == "custom"
        for action in self._date_actions:  # a widget in a tool bar hides by its action
            action.setVisible(custom)

    def show_filter(self, filters: AuditFilter) -> None:
        """Show the events `filters` keeps (a figure of the dashboard, a broken event),
        the widgets set to say so as far as they can (a time range, as local dates)."""
        widgets = (
            self.user_filter,
            self.action_filter,
            self.outcome_filter,
            self.time_filter,
            self.target_filter,
            self.date_from,
            self.date_until,
        )
        for widget in widgets:
            widget.blockSignals(True)
        for combo, value in (
            (self.user_filter, filters.user),
            (self.action_filter, filters.action),
        ):
            if value and combo.findData(value) < 0:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(value), 0))
        self.outcome_filter.setCurrentIndex(max(self.outcome_filter.findData(filters.outcome), 0))
        self.target_filter.setText(filters.target)
        ranged = filters.since is not None or filters.until is not None
        self.time_filter.setCurrentIndex(self.time_filter.findData("custom") if ranged else 0)
        if filters.since is not None:
            self.date_from.setDate(filters.since.astimezone().date())
        if filters.until is not None:
            self.date_until.setDate(
                (filters.until - dt.timedelta(microseconds=1)).astimezone().date()
            )
        for widget in widgets:
            widget.blockSignals(False)
        self._show_dates()
        self.filters = filters
        self.clear_filters.setEnabled(not filters.empty)
        self.reload()

    def reset_filters(self) -> None:
        self.show_filter(AuditFilter())

    # -- verify, export ---------------------------------------------------------------

    def verify(self) -> Task:
        self.verdict_label.setText("Verifying the audit log…")
        self.verdict_label.setStyleSheet("")
        self.verdict_label.show()
        return (
            Task(self, audit_log.verify_chain, self._session)
            .busy(self, "Verifying the audit log…")
            .on_done(self._verified)
            .start()
        )

    def _verified(self, broken: list[int]) -> None:
        self.broken = broken
        if not broken:
            self.verdict = (
                "The audit log is intact: every event is linked to the one before it by its "
                "hash, and signed by the user who wrote it."
            )
            color = INTACT_COLOR
        else:
            first = broken[0]
            more = f" and {len(broken) - 1:,} more" if len(broken) > 1 else ""
            self.verdict = (
                f"The audit log is broken at event {first:,}{more}: an event was changed, "
                "removed or added behind Certdesk's back, or written by a user after their "
                "deletion. The first broken event is selected; the ones after it cannot "
                "be trusted."
            )
            color = BROKEN_COLOR
            self._select_event(first)
        self.verdict_label.setText(self.verdict)
        self.verdict_label.setStyleSheet(f"color: {color};")

    def _select_event(self, event_id: int) -> None:
        """Select the event; when the filters hide it, or it is older than the events
        read, the log is read again up to it, unfiltered."""
        if self.model.row_by_key(event_id) is not None:
            self.select(event_id)
            return
        self.select_after_reload(event_id)
        self.show_filter(AuditFilter(through=event_id))

    def export(self) -> Path | None:
        """The events that match the filters (all of them, not only those shown), to a
        CSV file chosen here and written off the GUI thread."""
        filters = self.filters
        path = save_new_file(
            self,
            "Export the audit log",
            f"certdesk-audit-{dt.date.today():%Y-%m-%d}.csv",
            "CSV (*.csv)",
            lambda path, _chosen: check_new_file(path),
            SAVE_AUDIT,
        )
        if path is not None:
            self.export_to(path, filters)
        return path

    def export_to(self, path: Path, filters: AuditFilter | None = None) -> Task:
        return (
            Task(self, audit_log.export_csv, self._session, path, filters or self.filters)
            .busy(self, "Exporting the audit log…")
            .on_done(lambda count: self._exported(path, count))
            .start()
        )

    def _exported(self, path: Path, count: int) -> None:
        say_in_status_bar(self, f"Exported {plural(count, 'event')} to {path}.")


def _local_midnight(day: QDate) -> dt.datetime:
    return QDateTime(day, QTime(0, 0)).toPython().astimezone().astimezone(dt.UTC)
