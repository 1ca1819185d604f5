"""The policy editor: a new policy, or one edited. General (name, description, enabled,
Allow or Deny, priority), What (certificates and certificate groups), Who (users and
user groups) and When (always, or weekdays and hours in UTC within a date range; hours
whose end comes before their start span midnight), with what the policy does said in
words under the tabs. A refusal is shown on the tab of the field it concerns."""

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import ValidationError
from app.services.policies import MAX_POLICY_NAME, MAX_PRIORITY, WEEKDAYS, PolicyRow, PolicySpec
from app.services.session import Session
from ui.dialogs import Dialog, ok_cancel
from ui.feedback import error_label, show_error
from ui.group_dialog import fit_height
from ui.name_picker import NamePicker
from ui.wording import curly_quotes

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Which tab shows the error of each field a service names.
FIELD_TABS = {
    "policy name": 0,
    "description": 0,
    "priority": 0,
    "certificates": 1,
    "certificate groups": 1,
    "users": 2,
    "user groups": 2,
    "days": 3,
    "hours": 3,
    "until": 3,
}
Submit = Callable[[PolicySpec, Callable[[object], None], Callable[[BaseException], None]], None]


class PolicyEditor(Dialog):
    def __init__(
        self, session: Session, parent: QWidget, submit: Submit, policy: PolicyRow | None = None
    ):
        super().__init__(parent)
        self._submit = submit
        self.saving = False
        self.setWindowTitle(f"Policy {policy.name}" if policy else "New policy")
        self.resize(640, 560)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._general_tab(), "General")
        self.certificates = NamePicker(
            session, "certificates", ("certificate", "certificates"), "certificate", self
        )
        self.certificate_groups = NamePicker(
            session, "certificate_groups", ("group", "groups"), "group", self
        )
        self.tabs.addTab(
            self._pair(
                "Certificates", self.certificates, "Certificate groups", self.certificate_groups
            ),
            "What",
        )
        self.users = NamePicker(session, "users", ("user", "users"), "user", self)
        self.user_groups = NamePicker(
            session, "user_groups", ("user group", "user groups"), "users", self
        )
        self.tabs.addTab(self._pair("Users", self.users, "User groups", self.user_groups), "Who")
        self.tabs.addTab(self._when_tab(), "When")
        self.errors = {i: error_label(self) for i in range(4)}
        for index, label in self.errors.items():
            self.tabs.widget(index).layout().addWidget(label)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = ok_cancel(self, "Save" if policy else "Create")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)
        for picker in (self.certificates, self.certificate_groups, self.users, self.user_groups):
            picker.changed.connect(self.update)
        self._load(policy)
        self.update()

    # -- the tabs -------------------------------------------------------------------

    def _general_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        self.name = QLineEdit(tab)
        self.name.setMaxLength(MAX_POLICY_NAME)
        self.name.setPlaceholderText("e.g. Release builds")
        self.description = QLineEdit(tab)
        self.description.setPlaceholderText("What the policy is for (optional)")
        self.enabled = QCheckBox("Enabled: the policy decides", tab)
        self.allow = QRadioButton("Allow: the users may sign with the certificates", tab)
        self.deny = QRadioButton("Deny: they may not, even the owner", tab)
        effect = QButtonGroup(tab)
        effect.addButton(self.allow)
        effect.addButton(self.deny)
        self.priority = QSpinBox(tab)
        self.priority.setRange(0, MAX_PRIORITY)
        self.priority.setMaximumWidth(self.priority.fontMetrics().horizontalAdvance("0" * 14))
        self.priority.setToolTip(
            "0 is the highest. Where policies disagree, the highest priority decides, a "
            "Deny before an Allow of the same priority."
        )
        form.addRow("&Name:", self.name)
        form.addRow("&Description:", self.description)
        form.addRow("", self.enabled)
        form.addRow("Effect:", self.allow)
        form.addRow("", self.deny)
        form.addRow("&Priority:", self.priority)
        hint = QLabel("0 is the highest; where policies disagree, the highest decides.", tab)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", hint)
        for widget in (self.name, self.description):
            widget.textChanged.connect(self.update)
        for button in (self.enabled, self.allow, self.deny):
            button.toggled.connect(self.update)
        self.priority.valueChanged.connect(self.update)
        return tab

    def _pair(self, first: str, left: QWidget, second: str, right: QWidget) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        for title, picker in ((first, left), (second, right)):
            box = QGroupBox(title, tab)
            box.setFlat(True)
            QVBoxLayout(box).addWidget(picker)
            # Halves of the tab, whatever the names each list holds.
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            row.addWidget(box, 1)
        layout.addLayout(row, 1)
        return tab

    def _when_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        self.always = QRadioButton("&Always", tab)
        self.scheduled = QRadioButton("On a &schedule:", tab)
        when = QButtonGroup(tab)
        when.addButton(self.always)
        when.addButton(self.scheduled)
        layout.addWidget(self.always)
        layout.addWidget(self.scheduled)
        self.schedule = QWidget(tab)
        grid = QGridLayout(self.schedule)
        grid.setContentsMargins(24, 0, 0, 0)
        days = QHBoxLayout()
        self.days = [QCheckBox(name, self.schedule) for name in DAY_NAMES]
        for box in self.days:
            days.addWidget(box)
            box.toggled.connect(self.update)
        days.addStretch(1)
        grid.addWidget(QLabel("Days:", self.schedule), 0, 0)
        grid.addLayout(days, 0, 1)
        self.all_day = QCheckBox("All day", self.schedule)
        self.time_from = QTimeEdit(QTime(8, 0), self.schedule)
        self.time_until = QTimeEdit(QTime(18, 0), self.schedule)
        hours = QHBoxLayout()
        hours.addWidget(self.all_day)
        for label, edit in (("from", self.time_from), ("until", self.time_until)):
            edit.setDisplayFormat("HH:mm")
            edit.timeChanged.connect(self.update)
            hours.addWidget(QLabel(label, self.schedule))
            hours.addWidget(edit)
        hours.addWidget(QLabel("UTC", self.schedule))
        hours.addStretch(1)
        self.all_day.toggled.connect(self.update)
        grid.addWidget(QLabel("Hours:", self.schedule), 1, 0)
        grid.addLayout(hours, 1, 1)
        note = QLabel(
            "Hours whose end comes before their start span midnight (22:00 until 06:00), "
            "and belong to the day they start on.",
            self.schedule,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        grid.addWidget(note, 2, 1)
        self.has_start = QCheckBox("From", self.schedule)
        self.has_end = QCheckBox("until", self.schedule)
        today = QDate.currentDate()
        self.date_from = QDateEdit(today, self.schedule)
        self.date_until = QDateEdit(today.addMonths(3), self.schedule)
        dates = QHBoxLayout()
        for check, edit in ((self.has_start, self.date_from), (self.has_end, self.date_until)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self.update)
            check.toggled.connect(self.update)
            dates.addWidget(check)
            dates.addWidget(edit)
        dates.addStretch(1)
        grid.addWidget(QLabel("Dates:", self.schedule), 3, 0)
        grid.addLayout(dates, 3, 1)
        layout.addWidget(self.schedule)
        layout.addStretch(1)
        self.always.toggled.connect(self.update)
        return tab

    # -- values ---------------------------------------------------------------------

    def _load(self, policy: PolicyRow | None) -> None:
        spec = policy.spec() if policy else PolicySpec("")
        self.name.setText(spec.name)
        self.description.setText(spec.description)
        self.enabled.setChecked(spec.enabled)
        (self.deny if spec.deny else self.allow).setChecked(True)
        self.priority.setValue(spec.priority)
        self.certificates.set_chosen(spec.certificates)
        self.certificate_groups.set_chosen(spec.certificate_groups)
        self.users.set_chosen(spec.users)
        self.user_groups.set_chosen(spec.user_groups)
        scheduled = bool(spec.days or spec.hours or spec.date_from or spec.date_until)
        (self.scheduled if scheduled else self.always).setChecked(True)
        chosen_days = spec.days.split(",") if spec.days else list(WEEKDAYS[:5])
        for box, day in zip(self.days, WEEKDAYS, strict=True):
            box.setChecked(day in chosen_days)
        self.all_day.setChecked(scheduled and not spec.hours)
        if spec.hours:
            start, end = spec.hours.split("-")
            self.time_from.setTime(QTime.fromString(start, "HH:mm"))
            self.time_until.setTime(QTime.fromString(end, "HH:mm"))
        self.has_start.setChecked(spec.date_from is not None)
        self.has_end.setChecked(spec.date_until is not None)
        if spec.date_from:
            self.date_from.setDate(spec.date_from)
        if spec.date_until:
            self.date_until.setDate(spec.date_until)

    def spec(self) -> PolicySpec:
        scheduled = self.scheduled.isChecked()
        days = [d for box, d in zip(self.days, WEEKDAYS, strict=True) if box.isChecked()]
        hours = ""
        if scheduled and not self.all_day.isChecked():
            start, end = (e.time().toString("HH:mm") for e in (self.time_from, self.time_until))
            hours = f"{start}-{end}"
        return PolicySpec(
            name=self.name.text(),
            description=self.description.text(),
            enabled=self.enabled.isChecked(),
            certificates=tuple(self.certificates.chosen),
            certificate_groups=tuple(self.certificate_groups.chosen),
            users=tuple(self.users.chosen),
            user_groups=tuple(self.user_groups.chosen),
            deny=self.deny.isChecked(),
            priority=self.priority.value(),
            days=",".join(days) if scheduled and len(days) < 7 else "",
            hours=hours,
            date_from=_date(self.date_from) if scheduled and self.has_start.isChecked() else None,
            date_until=_date(self.date_until) if scheduled and self.has_end.isChecked() else None,
        )

    def missing(self) -> str:
        spec = self.spec()
        if not spec.name.strip():
            return "Name the policy (General)."
        if not spec.certificates and not spec.certificate_groups:
            return "Check at least one certificate or certificate group (What)."
        if not spec.users and not spec.user_groups:
            return "Check at least one user or user group (Who)."
        if self.scheduled.isChecked() and not any(box.isChecked() for box in self.days):
            return "Check at least one day (When)."
        if spec.hours and spec.hours.split("-")[0] == spec.hours.split("-")[1]:
            return "The hours start and end at the same time (When)."
        if spec.date_from and spec.date_until and spec.date_until < spec.date_from:
            return "The end date comes before the start date (When)."
        return ""

    def update(self, *_args) -> None:
        scheduled = self.scheduled.isChecked()
        self.schedule.setEnabled(scheduled)
        for edit in (self.time_from, self.time_until):
            edit.setEnabled(scheduled and not self.all_day.isChecked())
        self.date_from.setEnabled(scheduled and self.has_start.isChecked())
        self.date_until.setEnabled(scheduled and self.has_end.isChecked())
        missing = "Saving…" if self.saving else self.missing()
        self.ok_button.setEnabled(not missing)
        self.ok_button.setToolTip(missing)
        self.summary.setText(curly_quotes(describe(self.spec())) if not self.missing() else missing)

    # -- saving ---------------------------------------------------------------------

    def accept(self) -> None:
        if self.saving or not self.ok_button.isEnabled():
            return
        self.saving = True
        self.update()
        for label in self.errors.values():
            label.hide()
        self._submit(self.spec(), self._saved, self.refuse)

    def reject(self) -> None:
        if not self.saving:
            super().reject()

    def _saved(self, _row) -> None:
        self.saving = False
        super().accept()

    def refuse(self, error: BaseException) -> None:
        self.saving = False
        self.update()
        tab = FIELD_TABS.get(error.field, 0) if isinstance(error, ValidationError) else 0
        label = self.errors[tab]
        if isinstance(error, ValidationError):
            error = ValidationError(error.field, f"{error.field}: {error.reason}")
        show_error(label, error)
        self.tabs.setCurrentIndex(tab)
        fit_height(self)


def _date(edit: QDateEdit) -> dt.date:
    return edit.date().toPython()


def describe(spec: PolicySpec) -> str:
    """What the policy does, in one sentence."""
    who = _listed([*spec.users, *(f"the members of {g}" for g in spec.user_groups)])
    what = _listed(
        [*spec.certificates, *(f"the certificates of {g}" for g in spec.certificate_groups)]
    )
    if spec.deny:
        sentence = f"Stops {who} from signing with {what}"
    else:
        sentence = f"Lets {who} sign with {what}"
    when = []
    if spec.days:
        when.append(_days(spec.days))
    if spec.hours:
        start, end = spec.hours.split("-")
        when.append(f"{start}–{end} UTC" + (" (over midnight)" if start > end else ""))
    if spec.date_from:
        when.append(f"from {spec.date_from:%Y-%m-%d}")
    if spec.date_until:
        when.append(f"until {spec.date_until:%Y-%m-%d}")
    sentence += ", " + ", ".join(when) if when else ", at any time"
    state = "" if spec.enabled else " (disabled: it decides nothing until enabled)"
    return f"{sentence}, priority {spec.priority}{state}."


def _listed(names: list[str]) -> str:
    quoted = [f"'{n}'" if not n.startswith("the ") else n for n in names]
    if len(quoted) > 4:
        quoted = [*quoted[:3], f"{len(quoted) - 3} more"]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _days(days: str) -> str:
    chosen = days.split(",")
    if chosen == list(WEEKDAYS[:5]):
        return "Monday to Friday"
    return ", ".join(DAY_NAMES[WEEKDAYS.index(d)] for d in chosen)
