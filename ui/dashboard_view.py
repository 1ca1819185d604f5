"""The Dashboard, the console's landing page: the certificates in figures (in all,
expiring within 30, 60 and 90 days, expired, disabled), each opening the Certificates
page filtered to what it counts; the signatures per certificate over the last 30 days as
a bar chart, each bar opening the Audit Log on them; the latest events; and Export
Expiry Calendar… (an .ics file of the expiry dates).

It is a page of figures, not a list: it keeps the page protocol (title, counts,
pageRequested, reload_when_shown) without the list template."""

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.files import check_new_file
from app.services import audit_log, dashboard
from app.services.audit_log import AuditFilter
from app.services.dashboard import Dashboard, Usage
from app.services.operations import refusal
from app.services.session import Session
from ui import certificates_model as cm
from ui.icons import icon
from ui.list_page import ReadsWhenShown, page_toolbar
from ui.save_dialog import save_new_file
from ui.store_events import events
from ui.tasks import Task, say_in_status_bar
from ui.wording import plural

SAVE_CALENDAR = "save-calendar"
EMPTY_STORE = (
    "No certificates yet. Import them on the Certificates page (File → Import…, Ctrl+I, "
    "or drop the files on its table): PEM, DER, PKCS#7 and PKCS#12."
)
NO_SIGNATURES = "No signatures in the last 30 days."
BAR_COLOR = QColor("#3b7fc4")


class Tile(QToolButton):
    """A figure and what it counts; a click opens what it counts."""

    def __init__(self, label: str, icon_name: str, parent: QWidget):
        super().__init__(parent)
        self.label = label
        self.setIcon(icon(icon_name))
        self.setIconSize(QSize(20, 20))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setAutoRaise(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_value(None)

    def set_value(self, value: int | None) -> None:
        self.value = value
        shown = "…" if value is None else f"{value:,}"
        self.setText(f"{shown}\n{self.label}")
        font = self.font()
        font.setBold(True)
        font.setPointSizeF(QFont().pointSizeF() * 1.15)
        self.setFont(font)


class UsageChart(QWidget):
    """Horizontal bars, one per certificate, painted here (no QtCharts): the alias at the
    left, the bar, the count at its end. A click on a bar emits `chosen(alias)`."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.usage: list[Usage] = []
        self.hint = ""
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_usage(self, usage: list[Usage], hint: str = "") -> None:
        self.usage, self.hint = usage, hint
        self.updateGeometry()
        self.update()

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 8

    def sizeHint(self) -> QSize:
        return QSize(320, max(len(self.usage), 3) * self._row_height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.sizeHint().height())

    def _label_width(self) -> int:
        widest = max((self.fontMetrics().horizontalAdvance(u.alias) for u in self.usage), default=0)
        return min(widest + 12, self.width() // 2)

    def bar_at(self, y: float) -> Usage | None:
        row = int((y - 4) // self._row_height())
        return self.usage[row] if 0 <= row < len(self.usage) else None

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = self.palette().color(QPalette.ColorRole.WindowText)
        if not self.usage:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.hint or NO_SIGNATURES)
            return
        metrics = self.fontMetrics()
        label_w = self._label_width()
        count_w = metrics.horizontalAdvance(f"{max(u.signatures for u in self.usage):,}") + 8
        room = max(self.width() - label_w - count_w - 8, 10)
        top = max(u.signatures for u in self.usage)
        h = self._row_height()
        for i, usage in enumerate(self.usage):
            y = 4 + i * h
            painter.setPen(text_color)
            alias = metrics.elidedText(usage.alias, Qt.TextElideMode.ElideMiddle, label_w - 8)
            painter.drawText(
                QRectF(0, y, label_w - 8, h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                alias,
            )
            width = max(room * usage.signatures / top, 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(BAR_COLOR)
            painter.drawRoundedRect(QRectF(label_w, y + 3, width, h - 6), 2, 2)
            painter.setPen(text_color)
            painter.drawText(
                QRectF(label_w + width + 4, y, count_w, h),
                Qt.AlignmentFlag.AlignVCenter,
                f"{usage.signatures:,}",
            )
        painter.end()

    def mouseMoveEvent(self, event) -> None:
        bar = self.bar_at(event.position().y())
        self.setCursor(Qt.CursorShape.PointingHandCursor if bar else Qt.CursorShape.ArrowCursor)
        tip = "" if bar is None else f"{plural(bar.signatures, 'signature')} with “{bar.alias}”"
        self.setToolTip(tip and f"{tip}: click for them in the Audit Log")

    def mouseReleaseEvent(self, event) -> None:
        bar = self.bar_at(event.position().y())
        if bar is not None and event.button() == Qt.MouseButton.LeftButton:
            self.chosen.emit(bar.alias)


def _section(title: str, parent: QWidget) -> QLabel:
    label = QLabel(title, parent)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(0, 12, 0, 2)  # apart from what is above it
    return label


class DashboardView(ReadsWhenShown, QWidget):
    title = "Dashboard"
    icon_name = "dashboard"
    reads_when_shown = True  # every write changes a figure: counted when looked at

    countsChanged = Signal(int, int)
    pageRequested = Signal(str, str, object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0
        self.figures: Dashboard | None = None
        self.loaded = False
        self.calendar_action = QAction(icon("calendar"), "Export Expiry Calendar…", self)
        self.calendar_action.triggered.connect(self.export_calendar)
        why_not = refusal(session, dashboard.export_calendar)
        self.calendar_action.setEnabled(why_not is None)
        self.calendar_action.setToolTip(why_not or "The expiry dates as calendar events (.ics)")
        refresh = QAction(icon("refresh"), "Refresh", self)
        refresh.triggered.connect(self.reload)
        bar = page_toolbar(self)
        bar.addAction(refresh)
        bar.addAction(self.calendar_action)

        body = QWidget(self)
        grid = QGridLayout(body)
        self.tiles = {
            "total": Tile("certificates", "certificate", body),
            "30": Tile("expiring within 30 days", "expiring", body),
            "60": Tile("within 60 days", "expiring", body),
            "90": Tile("within 90 days", "expiring", body),
            "expired": Tile("expired", "expired", body),
            "disabled": Tile("disabled", "disabled", body),
        }
        filters = {
            "total": cm.FILTER_ALL,
            "30": f"{cm.FILTER_EXPIRING_WITHIN}30",
            "60": f"{cm.FILTER_EXPIRING_WITHIN}60",
            "90": f"{cm.FILTER_EXPIRING_WITHIN}90",
            "expired": cm.FILTER_EXPIRED,
            "disabled": cm.FILTER_DISABLED,
        }
        for i, (key, tile) in enumerate(self.tiles.items()):
            tile.clicked.connect(
                lambda _c=False, f=filters[key]: self.pageRequested.emit(
                    "Certificates", "filter", f
                )
            )
            tile.setToolTip("Show them on the Certificates page")
            grid.addWidget(tile, i // 3, i % 3)
        self.empty = QLabel(EMPTY_STORE, body)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(placeholder-text);")
        self.empty.hide()
        grid.addWidget(self.empty, 2, 0, 1, 3)
        self.chart = UsageChart(body)
        self.chart.chosen.connect(self._open_signatures)
        self.latest = QListWidget(body)
        self.latest.setFrameShape(QFrame.Shape.NoFrame)
        self.latest.itemActivated.connect(
            lambda _item: self.pageRequested.emit("Audit Log", "filter", AuditFilter())
        )
        self.latest_hint = QLabel(body)
        self.latest_hint.setStyleSheet("color: palette(placeholder-text);")
        self.latest_hint.hide()
        grid.addWidget(_section("Signatures per certificate, last 30 days", body), 3, 0, 1, 3)
        grid.addWidget(self.chart, 4, 0, 1, 3)
        grid.addWidget(_section("Latest events", body), 5, 0, 1, 3)
        grid.addWidget(self.latest_hint, 6, 0, 1, 3)
        grid.addWidget(self.latest, 7, 0, 1, 3)
        grid.setRowStretch(8, 1)  # the room left goes below everything
        room = QScrollArea(self)
        room.setFrameShape(QFrame.Shape.NoFrame)
        room.setWidgetResizable(True)
        room.setWidget(body)
        top = QHBoxLayout()
        top.addWidget(bar, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(room, 1)
        for signal in (events.certificates_changed, events.audit_changed, events.access_changed):
            signal.connect(self.reload_when_shown)

    # -- the page protocol ------------------------------------------------------------

    def handle(self, what: str, argument: object) -> None:
        """Nothing to hand it: its figures come from the store."""

    def shutdown(self) -> None:
        """Nothing long runs here."""

    def counts_text(self) -> str:
        if self.figures is None:
            return "Reading the store…"
        return plural(self.figures.total, "certificate")

    def reload(self, *_changed) -> Task:
        self._generation += 1
        generation = self._generation
        return (
            Task(self, dashboard.dashboard, self._session)
            .on_done(
                lambda figures: self._show(figures) if generation == self._generation else None
            )
            .start()
        )

    def _show(self, figures: Dashboard) -> None:
        self.figures = figures
        self.loaded = True
        values = {
            "total": figures.total,
            "expired": figures.expired,
            "disabled": figures.disabled,
            **{str(days): n for days, n in figures.expiring.items()},
        }
        for key, tile in self.tiles.items():
            tile.set_value(values[key])
        self.empty.setVisible(figures.total == 0)
        refused = refusal(self._session, audit_log.list_events)
        self.chart.set_usage(figures.usage or [], refused or "")
        self.latest.clear()
        self.latest_hint.setVisible(figures.latest is None or not figures.latest)
        self.latest_hint.setText(refused or "No events yet.")
        for entry in figures.latest or ():
            when = f"{entry.time.astimezone():%Y-%m-%d %H:%M}"
            text = f"{when}   {entry.user}   {entry.action}   {entry.target}"
            item = QListWidgetItem(
                icon({"allowed": "enabled", "denied": "disabled"}.get(entry.outcome, "expired")),
                text,
                self.latest,
            )
            item.setToolTip("Double-click or Enter opens the Audit Log")
        self.latest.setFixedHeight(
            max(self.latest.count(), 1)
            * (self.latest.sizeHintForRow(0) if self.latest.count() else 20)
            + 6
        )
        self.countsChanged.emit(figures.total, figures.total)

    # -- actions ----------------------------------------------------------------------

    def _open_signatures(self, alias: str) -> None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=dashboard.USAGE_DAYS)
        self.pageRequested.emit(
            "Audit Log",
            "filter",
            AuditFilter(action="certificate.sign", target=alias, outcome="allowed", since=since),
        )

    def export_calendar(self) -> Path | None:
        path = save_new_file(
            self,
            "Export the expiry dates",
            "certdesk-expiry.ics",
            "iCalendar (*.ics)",
            lambda path, _chosen: check_new_file(path),
            SAVE_CALENDAR,
        )
        if path is not None:
            self.export_calendar_to(path)
        return path

    def export_calendar_to(self, path: Path) -> Task:
        return (
            Task(self, dashboard.export_calendar, self._session, path)
            .on_done(lambda count: self._exported(path, count))
            .start()
        )

    def _exported(self, path: Path, count: int) -> None:
        say_in_status_bar(self, f"Exported {plural(count, 'expiry date')} to {path}.")
