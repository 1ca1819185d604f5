"""The CSR wizard: Key → Subject → Names and usages → Configuration → Summary → Done.

Each page checks its own fields with the engine's validation (the field named in the
error gets the message); the key is generated off the GUI thread on the Summary page.
What the pages start from (the owners and groups to offer, in renew mode the certificate
being renewed) is read off the GUI thread too, before the Key page lets anyone on.
"""

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.crypto import cms, csr, keygen
from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.errors import CertdeskError, NotFoundError, ValidationError
from app.files import write_new_file
from app.services import (
    certificate_edits,
    certificate_groups,
    certificates,
    signing_requests,
    users,
)
from app.services.aliases import validate_alias
from app.services.certificates import CertificateRow
from app.services.session import Session
from ui.dialogs import RemembersGeometry, show_failure
from ui.feedback import error_label, show_error
from ui.file_dialogs import SAVE_CSR
from ui.fonts import monospace
from ui.save_dialog import save_new_file
from ui.tasks import Task

NO_OWNER = "(no owner)"
# Fields whose errors belong on the Subject page (the Names page's check shows them there
# too).
SUBJECT_FIELDS = {name for name, *_ in csr.SUBJECT_FIELDS}
# The order people fill a subject in (KeyStore Explorer's), not the DER order.
FORM_ORDER = (
    "common_name",
    "organization",
    "organizational_unit",
    "locality",
    "state",
    "country",
    "email",
)


@dataclass(frozen=True)
class WizardStart:
    """What the pages start from: the owners and groups to offer (and why the owner may
    not be chosen, if not) and, when renewing, the certificate with the key type and
    request it was issued with."""

    owners: tuple[str, ...]
    groups: tuple[str, ...]
    owner_refusal: str | None = None
    renewed: CertificateRow | None = None
    key: KeySpec | None = None
    spec: RequestSpec = field(default_factory=RequestSpec)


def _read_start(session: Session, renews: int | None) -> WizardStart:
    """Every read the wizard needs, in one task on the runner."""
    owners = tuple(users.user_names(session))
    groups = tuple(g.name for g in certificate_groups.list_groups(session))
    if renews is None:
        return WizardStart(owners, groups, certificate_edits.access_refusal(session))
    key, spec = signing_requests.renewal_prefill(session, renews)
    rows = certificates.certificate_rows(session, [renews])
    if not rows:  # deleted between the two reads
        raise NotFoundError("That certificate is no longer in the store.")
    return WizardStart(owners, groups, None, rows[0], key, spec)


def countries() -> list[tuple[str, str]]:
    """ISO 3166 two-letter codes with names, from Qt's locale data."""
    pairs = {(QLocale.territoryToCode(t), QLocale.territoryToString(t)) for t in QLocale.Country}
    return sorted(p for p in pairs if len(p[0]) == 2 and p[0].isalpha())


def _show_field_error(
    errors: dict[str, QLabel], error: ValidationError, under: str | None = None
) -> bool:
    """The message under the field `under`, or the one it names (else under "subject");
    False, for validatePage."""
    for label in errors.values():
        label.hide()
    show_error(errors.get(under or error.field, errors["subject"]), error)
    return False


def _scrolling_body(page: QWizardPage) -> QVBoxLayout:
    """The layout of the page's content, in a frameless scroll area filling the page: on
    a small screen (or at 2x scale) the content scrolls and the wizard's buttons stay."""
    area = QScrollArea(page)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidgetResizable(True)
    body = QWidget(area)
    area.setWidget(body)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    return QVBoxLayout(body)


def _explanation(parent: QWidget) -> QLabel:
    """Text longer than a line: on the page, where it wraps and the page makes room for
    it (a wizard's subtitle is cut after two lines)."""
    label = QLabel(parent)
    label.setWordWrap(True)
    return label


def save_csr(parent, alias: str, pem: str) -> Path | None:
    """Save As `<alias>.csr`, a new file: never over one (it may be the issued certificate)."""
    return save_new_file(
        parent,
        "Save the CSR",
        f"{alias}.csr",
        "Certificate signing request (*.csr *.pem)",
        lambda path, _chosen: write_new_file(path, pem.encode("ascii")),
        SAVE_CSR,
    )


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())


class KeyPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Key")
        self.setSubTitle("The type of key pair to generate.")
        self.about = _explanation(self)
        self.about.setText(
            "The key pair is generated in Certdesk and sealed in the store at once; the "
            "private key never leaves it."
        )
        self.algorithm = QComboBox(self)
        self.algorithm.addItems(list(keygen.KEY_CHOICES))
        self.cannot_sign = error_label(self)  # beside the choice, before a CA is paid
        self.size = QComboBox(self)
        self.hash = QComboBox(self)
        self.hash.addItems(list(keygen.HASHES))
        self.note = _explanation(self)
        form = QFormLayout()
        form.addRow("Algorithm:", self.algorithm)
        form.addRow("", self.cannot_sign)
        form.addRow("Size or curve:", self.size)
        form.addRow("Signature hash:", self.hash)
        form.addRow("", self.note)
        layout = _scrolling_body(self)
        layout.addWidget(self.about)
        layout.addLayout(form)
        layout.addStretch(1)
        self.algorithm.currentTextChanged.connect(self._algorithm_changed)
        self.size.currentTextChanged.connect(self._size_changed)
        self.ready = False  # until the wizard has read what it starts from
        self.start_from(keygen.DEFAULT_KEY_SPEC)

    def start_from(self, initial: KeySpec) -> None:
        self.algorithm.setCurrentText(initial.algorithm)
        self._algorithm_changed(initial.algorithm)
        if initial.size or initial.curve:
            self.size.setCurrentText(str(initial.size or initial.curve))

    def set_ready(self) -> None:
        self.ready = True
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.ready

    def _algorithm_changed(self, algorithm: str) -> None:
        options, default = keygen.KEY_CHOICES[algorithm]
        self.cannot_sign.setText(
            f"Certdesk cannot sign with {algorithm} keys yet; a CA would issue a "
            "certificate you cannot use here."
        )
        self.cannot_sign.setVisible(algorithm not in cms.SIGNING_ALGORITHMS)
        self.size.blockSignals(True)
        self.size.clear()
        self.size.addItems([str(o) for o in options])
        self.size.setEnabled(bool(options))
        if default is not None:
            self.size.setCurrentText(str(default))
        self.size.blockSignals(False)
        self._size_changed()

    def _size_changed(self, *_args) -> None:
        spec = self.key_spec()
        default = keygen.default_hash(spec)
        self.hash.setEnabled(default is not None)
        if default is None:
            self.hash.setCurrentIndex(-1)
            self.note.setText("Ed25519 signs without a separate hash.")
        else:
            self.hash.setCurrentText(default)
            slow = spec.algorithm == "RSA" and (spec.size or 0) >= 4096
            self.note.setText(
                "Generating a 4096-bit RSA key can take a few seconds." if slow else ""
            )

    def key_spec(self) -> KeySpec:
        algorithm = self.algorithm.currentText()
        choice = self.size.currentText()
        if algorithm == "RSA":
            return KeySpec("RSA", size=int(choice))
        if algorithm == "ECDSA":
            return KeySpec("ECDSA", curve=choice)
        return KeySpec(algorithm)

    def hash_name(self) -> str | None:
        return self.hash.currentText() if self.hash.isEnabled() else None


class SubjectPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Subject")
        self.setSubTitle("Who the certificate names. Fill in the fields, or type one DN.")
        self.by_fields = QRadioButton("Fields", self)
        self.by_dn = QRadioButton("Distinguished name (RFC 4514)", self)
        choice = QButtonGroup(self)
        choice.addButton(self.by_fields)
        choice.addButton(self.by_dn)
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        attributes = {name: (label, bound) for name, label, _, bound in csr.SUBJECT_FIELDS}
        form = QFormLayout()
        for name in FORM_ORDER:
            label, bound = attributes[name]
            if name == "country":
                self.country = QComboBox(self)
                self.country.setEditable(True)
                self.country.addItem("", "")
                for code, country in countries():
                    self.country.addItem(f"{code} — {country}", code)
                form.addRow(f"{label}:", self.country)
            else:
                edit = QLineEdit(self)
                edit.setMaxLength(bound)
                self.fields[name] = edit
                form.addRow(f"{label}:", edit)
            self.errors[name] = error_label(self)
            form.addRow("", self.errors[name])
        self.dn = QLineEdit(self)
        self.dn.setPlaceholderText("CN=Build Signing,OU=Release,O=Example Ltd,C=GB")
        self.errors["subject"] = error_label(self)

        layout = _scrolling_body(self)
        layout.addWidget(self.by_fields)
        layout.addLayout(form)
        layout.addWidget(self.by_dn)
        layout.addWidget(self.dn)
        layout.addWidget(self.errors["subject"])
        layout.addStretch(1)
        self.by_fields.toggled.connect(self._mode_changed)
        self.start_from(RequestSpec())

    def start_from(self, initial: RequestSpec) -> None:
        for name, edit in self.fields.items():
            edit.setText(getattr(initial, name))
        self.country.setCurrentIndex(max(0, self.country.findData(initial.country)))
        if initial.country and self.country.currentIndex() == 0:
            self.country.setEditText(initial.country)
        self.dn.setText(initial.subject)
        (self.by_dn if initial.subject else self.by_fields).setChecked(True)
        self._mode_changed()

    def focus_first_field(self) -> None:
        (self.fields["common_name"] if self.by_fields.isChecked() else self.dn).setFocus()

    def _mode_changed(self, *_args) -> None:
        fields = self.by_fields.isChecked()
        for edit in self.fields.values():
            edit.setEnabled(fields)
        self.country.setEnabled(fields)
        self.dn.setEnabled(not fields)

    def country_code(self) -> str:
        text = self.country.currentText().strip()
        index = self.country.findText(text)
        if index >= 0:
            return self.country.itemData(index) or ""
        return text.upper()

    def values(self) -> dict:
        if self.by_dn.isChecked():
            return {"subject": self.dn.text()}
        values = {name: edit.text() for name, edit in self.fields.items()}
        values["country"] = self.country_code()
        return values

    def show_error(self, error: ValidationError) -> bool:
        # With the fields, the subject as a whole is refused only for being empty: said
        # beside the first of them.
        if error.field == "subject" and self.by_fields.isChecked():
            return _show_field_error(self.errors, error, "common_name")
        return _show_field_error(self.errors, error)

    def validatePage(self) -> bool:
        # The whole request's check, which also knows when a subject may be empty (with
        # alternative names); what it finds on the later pages waits for them.
        wizard: CsrWizard = self.wizard()
        try:
            csr.validate(wizard.request_spec(), wizard.key_page.key_spec())
        except ValidationError as exc:
            if exc.reason == csr.NO_SUBJECT:
                # Empty, and no alternative names yet: those are on the next page, which
                # this refusal keeps closed, so ask for what this page holds.
                example = ", e.g. CN=Release Signing" if self.by_dn.isChecked() else ""
                reason = f"give a subject: at least a Common Name{example}"
                return self.show_error(ValidationError("subject", reason))
            if exc.field == "subject" or exc.field in SUBJECT_FIELDS:
                return self.show_error(exc)
        for label in self.errors.values():
            label.hide()
        return True


class NamesPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Subject Alternative Names and Key Usages")
        self.setSubTitle("Separate several names with commas.")
        self.sans: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label, hint in (
            ("dns_names", "DNS names:", "build.example.com, *.example.com"),
            ("emails", "Emails:", "release@example.com"),
            ("uris", "URIs:", "https://example.com/signing"),
            ("ips", "IP addresses:", "10.0.0.1, 2001:db8::1"),
        ):
            edit = QLineEdit(self)
            edit.setPlaceholderText(hint)
            self.sans[name] = edit
            self.errors[name] = error_label(self)
            form.addRow(label, edit)
            form.addRow("", self.errors[name])
        usages = QGroupBox("Key usage", self)
        grid = QGridLayout(usages)
        self.key_usages: dict[str, QCheckBox] = {}
        for i, (name, label) in enumerate(csr.KEY_USAGES.items()):
            box = QCheckBox(label, usages)
            self.key_usages[name] = box
            grid.addWidget(box, i // 3, i % 3)
        extended = QGroupBox("Extended key usage", self)
        grid = QGridLayout(extended)
        self.ekus: dict[str, QCheckBox] = {}
        for i, (name, (label, _oid)) in enumerate(csr.EXTENDED_KEY_USAGES.items()):
            box = QCheckBox(label, extended)
            self.ekus[name] = box
            grid.addWidget(box, i // 3, i % 3)
        self.other_ekus: tuple[str, ...] = ()
        self.errors["key_usages"] = error_label(self)
        self.errors["extended_key_usages"] = error_label(self)
        self.errors["subject"] = error_label(self)
        layout = _scrolling_body(self)
        layout.addLayout(form)
        layout.addWidget(usages)
        layout.addWidget(self.errors["key_usages"])
        layout.addWidget(extended)
        layout.addWidget(self.errors["extended_key_usages"])
        layout.addWidget(self.errors["subject"])
        layout.addStretch(1)
        self.start_from(RequestSpec())

    def start_from(self, initial: RequestSpec) -> None:
        for name, edit in self.sans.items():
            edit.setText(", ".join(getattr(initial, name)))
        for name, box in self.key_usages.items():
            box.setChecked(name in initial.key_usages)
        for name, box in self.ekus.items():
            box.setChecked(name in initial.extended_key_usages)
        # Usages a renewed certificate had that the wizard has no box for are kept.
        self.other_ekus = tuple(
            e for e in initial.extended_key_usages if e not in csr.EXTENDED_KEY_USAGES
        )

    def values(self) -> dict:
        values = {name: _split(edit.text()) for name, edit in self.sans.items()}
        values["key_usages"] = tuple(n for n, box in self.key_usages.items() if box.isChecked())
        values["extended_key_usages"] = (
            tuple(n for n, box in self.ekus.items() if box.isChecked()) + self.other_ekus
        )
        return values

    def show_error(self, error: ValidationError) -> bool:
        return _show_field_error(self.errors, error)

    def validatePage(self) -> bool:
        wizard: CsrWizard = self.wizard()
        try:
            csr.validate(wizard.request_spec(), wizard.key_page.key_spec())
        except ValidationError as exc:
            if exc.field in SUBJECT_FIELDS:
                wizard.subject_page.show_error(exc)
            return self.show_error(exc)
        for label in self.errors.values():
            label.hide()
        return True


class ConfigurationPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Configuration")
        self.setSubTitle("What the certificate will be called, and where it will belong.")
        self.explanation = _explanation(self)
        self.explanation.hide()
        self.alias = QLineEdit(self)
        self.alias_error = error_label(self)
        self.groups = QListWidget(self)
        self.groups.setMaximumHeight(140)
        self.owner = QComboBox(self)
        form = QFormLayout()
        form.addRow("Alias:", self.alias)
        form.addRow("", self.alias_error)
        form.addRow("Certificate groups:", self.groups)
        form.addRow("Owner:", self.owner)
        layout = _scrolling_body(self)
        layout.addWidget(self.explanation)
        layout.addLayout(form)
        layout.addStretch(1)
        self.registerField("alias*", self.alias)

    def start_from(self, start: WizardStart) -> None:
        self.owner.clear()
        self.owner.addItem(NO_OWNER)
        self.owner.addItems(list(start.owners))
        self.groups.clear()
        renewed = start.renewed
        if renewed is None:
            self.owner.setEnabled(start.owner_refusal is None)
            self.owner.setToolTip(start.owner_refusal or "")
            for name in start.groups:
                item = QListWidgetItem(name, self.groups)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
            if not start.groups:
                QListWidgetItem("No certificate groups yet.", self.groups).setFlags(
                    Qt.ItemFlag.NoItemFlags
                )
            return
        # The issued certificate takes these over from the renewed one when it is
        # imported: shown as they are, not offered for change.
        self.setSubTitle("What the new certificate takes over from the one it renews.")
        self.explanation.setText(
            f"Renewing “{renewed.alias}”: when the certificate the CA issues is imported, "
            "it takes over this alias, owner, groups, policies and settings, and "
            f"“{renewed.alias}” is kept, disabled, under a dated alias. Until then it stays "
            "usable."
        )
        self.explanation.show()
        self.alias.setText(renewed.alias)
        self.alias.setReadOnly(True)
        for name in renewed.groups:
            QListWidgetItem(name, self.groups).setCheckState(Qt.CheckState.Checked)
        if not renewed.groups:
            QListWidgetItem("In no certificate group.", self.groups)
        for index in range(self.groups.count()):
            item = self.groups.item(index)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        owner = renewed.owner or NO_OWNER
        if self.owner.findText(owner) < 0:  # a user added since the names were read
            self.owner.addItem(owner)
        self.owner.setCurrentText(owner)
        self.owner.setEnabled(False)

    def cleanupPage(self) -> None:
        """Back keeps what was typed (QWizard's default puts the alias back to empty)."""

    def chosen_groups(self) -> tuple[str, ...]:
        items = [self.groups.item(i) for i in range(self.groups.count())]
        return tuple(i.text() for i in items if i.checkState() == Qt.CheckState.Checked)

    def owner_name(self) -> str | None:
        owner = self.owner.currentText()
        return None if owner == NO_OWNER else owner

    def validatePage(self) -> bool:
        self.alias_error.hide()
        if self.alias.isReadOnly():  # a renewal keeps the alias it renews
            return True
        try:
            validate_alias(self.alias.text())
        except ValidationError as exc:
            show_error(self.alias_error, exc)
            return False
        return True


class SummaryPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Summary")
        self.setSubTitle("The request carries exactly this. Create Request generates the key pair.")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(monospace())
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # a busy indicator: key generation has no progress
        self.busy.setFormat("Generating the key…")
        self.busy.setTextVisible(True)
        self.busy.hide()
        self.error = error_label(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create Request")
        self.created = None

    def initializePage(self) -> None:
        wizard: CsrWizard = self.wizard()
        spec, key = wizard.request_spec(), wizard.key_page.key_spec()
        config = wizard.config_page
        lines = [
            f"Alias:      {config.alias.text().strip()}",
            f"Key:        {key.label}",
            f"Hash:       {spec.hash or keygen.default_hash(key) or '(none: Ed25519)'}",
            f"Subject:    {csr.subject_name(spec).rfc4514_string() or '(empty)'}",
        ]
        lines += [
            f"Groups:     {', '.join(config.chosen_groups()) or '(none)'}",
            f"Owner:      {config.owner_name() or NO_OWNER}",
        ]
        if wizard.renews is not None:
            lines.append(f"Renews:     {wizard.renews}")
        lines += ["", "Extensions:"]
        for ext in csr.planned_extensions(spec):
            lines.append(f"  {ext.name}{' (critical)' if ext.critical else ''}:")
            lines += [f"      {line}" for line in ext.value.splitlines()]
        self.text.setPlainText("\n".join(lines))

    def isComplete(self) -> bool:
        return self.created is not None or not self.busy.isVisible()

    def validatePage(self) -> bool:
        if self.created is not None:
            return True
        if not self.busy.isVisible():
            self.error.hide()
            self.busy.show()
            self.completeChanged.emit()
            self.wizard().start_creating()
        return False

    def finished_creating(self, info) -> None:
        self.busy.hide()
        self.created = info
        self.completeChanged.emit()
        self.wizard().next()

    def failed_creating(self, error: BaseException) -> None:
        self.busy.hide()
        self.completeChanged.emit()
        show_error(self.error, error)


class DonePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Done")
        self.setSubTitle("The CSR to send to your CA.")
        self.explanation = _explanation(self)
        self.pem = QPlainTextEdit(self)
        self.pem.setReadOnly(True)
        self.pem.setFont(monospace())
        self.copy = QPushButton("Copy", self)
        self.save = QPushButton("Save As…", self)
        self.copy.clicked.connect(self._copy)
        self.save.clicked.connect(self.save_as)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy)
        buttons.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.pem)
        layout.addLayout(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.pem.toPlainText())

    def initializePage(self) -> None:
        info = self.wizard().summary_page.created
        self.explanation.setText(
            f"The request “{info.alias}” is pending. Send this CSR to your CA, then import "
            "the certificate it issues (Requests → Import Issued Certificate, or any import)."
        )
        self.pem.setPlainText(info.csr_pem)

    def save_as(self) -> Path | None:
        info = self.wizard().summary_page.created
        return save_csr(self, info.alias, info.csr_pem)


class CsrWizard(RemembersGeometry, QWizard):
    created = Signal(object)  # the RequestInfo

    def __init__(self, session: Session, parent=None, renews: int | None = None):
        super().__init__(parent)
        self._session = session
        self._creating = False
        self._renews_id = renews
        # The alias, for the pages, once read; the service is given the id, which a
        # rename cannot move.
        self.renews: str | None = None
        self.setWindowTitle("Renew certificate" if renews else "New certificate signing request")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.key_page = KeyPage()
        self.subject_page = SubjectPage()
        self.names_page = NamesPage()
        self.config_page = ConfigurationPage()
        self.summary_page = SummaryPage()
        self.done_page = DonePage()
        for page in (
            self.key_page,
            self.subject_page,
            self.names_page,
            self.config_page,
            self.summary_page,
            self.done_page,
        ):
            self.addPage(page)
            page.setEnabled(False)
        self.currentIdChanged.connect(self._page_shown)
        self.resize(640, 560)
        (
            Task(self, _read_start, session, renews)
            .busy(self, "Reading the certificate…" if renews else "")
            .on_done(self._loaded)
            .on_error(self._unreadable)
            .start()
        )

    def _loaded(self, start: WizardStart) -> None:
        if start.renewed is not None:
            self.renews = start.renewed.alias
            self.setWindowTitle(f"Renew {self.renews}")
            self.key_page.start_from(start.key or keygen.DEFAULT_KEY_SPEC)
            self.subject_page.start_from(start.spec)
            self.names_page.start_from(start.spec)
        self.config_page.start_from(start)
        for page_id in self.pageIds():
            self.page(page_id).setEnabled(True)
        self.key_page.set_ready()
        if self.currentPage() is self.key_page:
            # The focus went to Cancel while the page was disabled: Enter would close.
            self.key_page.algorithm.setFocus()

    def _unreadable(self, error: BaseException) -> None:
        """The certificate was deleted since the table was read (or cannot be read):
        said where the wizard was opened from."""
        show_failure(self.parentWidget(), error)
        self.close()

    def _page_shown(self, _page_id: int) -> None:
        # After QWizard gave the focus to the page's first focusable widget (a radio).
        if self.currentPage() is self.subject_page:
            self.subject_page.focus_first_field()

    def request_spec(self) -> RequestSpec:
        return RequestSpec(
            **self.subject_page.values(),
            **self.names_page.values(),
            hash=self.key_page.hash_name(),
        )

    def start_creating(self) -> None:
        key, spec = self.key_page.key_spec(), self.request_spec()
        if self._renews_id is not None:
            call = (signing_requests.renew, self._session, self._renews_id, key, spec)
        else:
            config = self.config_page
            call = (
                signing_requests.create_request,
                self._session,
                config.alias.text().strip(),
                key,
                spec,
                config.chosen_groups(),
                config.owner_name(),
            )
        self._creating = True  # the key is being made: no going back, no closing
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self.button(QWizard.WizardButton.CancelButton).setEnabled(False)
        (
            # Not on the writer thread: generating an RSA key takes seconds, and the
            # service takes the write lock only to store it; short writes go first.
            Task(self, *call)
            .changes(requests=True)
            .on_done(self._created)
            .on_error(self._failed)  # beside the summary, not in a box
            .start()
        )

    def reject(self) -> None:
        if not self._creating:
            super().reject()

    def _created(self, info) -> None:
        self._creating = False
        self.summary_page.finished_creating(info)
        self.created.emit(info)

    def _failed(self, error: BaseException) -> None:
        self._creating = False
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
        self.button(QWizard.WizardButton.CancelButton).setEnabled(True)
        if not isinstance(error, CertdeskError):
            error = CertdeskError(f"Unexpected error: {error}")
        self.summary_page.failed_creating(error)
