"""A Signer downloads certificates and sees what they may sign with: the service lists
exactly what the owner rule and the policies allow (as `sign` decides), the Signing page
shows it for every role, and the Certificates page offers a Signer the download with
every refused action saying in words what the role may not do."""

import io

import pytest

from PySide6.QtCore import Qt

from app.errors import CertdeskError
from app.services import (
    certificate_edits,
    certificate_groups,
    certificate_import,
    lifecycle,
    policies,
    signing,
    users,
)
from app.services.certificate_edits import GeneralChanges
from app.services.policies import PolicySpec
from models.permissions import ALL_PERMISSIONS, AUDITOR, SIGNER
from tests.helpers.gui import menu_action, open_menu, settle, wait_rows
from ui.main_window import MainWindow
from ui.sign_dialog import NONE_TO_SIGN, NONE_TO_SIGN_YET
from ui.signing_view import SigningView
from ui.store_events import ALL, events

PASSWORD = "a good long password"


def ed25519_p12(certs):
    return certs.p12(*certs.ed25519_cert(), None)


@pytest.fixture
def store(session, tmp_path, certs):
    """sam (a Signer in the user group Builders) and certificates that a policy, the owner
    rule, or nothing lets sam sign with."""

    def add(alias, with_key=True, **dates):
        cert, key = certs.make_cert(alias, **dates)
        data = certs.p12(cert, key, None) if with_key else certs.pem(cert)
        path = certs.write(tmp_path, f"{alias}.{'p12' if with_key else 'pem'}", data)
        certificate_import.import_files(session, [path])

    for alias in ("Release", "Hotfix", "Frozen", "Nobody's", "Other's", "Paused Policy"):
        add(alias)
    add("Retired", days=-2, start_days=-30)
    add("Public Only", with_key=False)
    certificate_import.import_files(
        session, [certs.write(tmp_path, "edwards.p12", ed25519_p12(certs))]
    )
    users.add_user(session, "sam", PASSWORD, SIGNER, ["Builders"])
    users.add_user(session, "olga", PASSWORD, SIGNER)
    certificate_groups.add_to_groups(session, ["Release", "Retired", "Frozen"], ["Production"])
    allow = policies.add_policy
    allow(session, PolicySpec("Builders sign", certificate_groups=("Production",),
                              user_groups=("Builders",)))  # fmt: skip
    allow(session, PolicySpec("Hotfixes", certificates=("Hotfix", "Edwards"), users=("sam",)))
    allow(session, PolicySpec("Freeze", certificates=("Frozen",), users=("sam",), deny=True,
                              priority=0))  # fmt: skip
    allow(session, PolicySpec("Olga's", certificates=("Other's",), users=("olga",)))
    allow(session, PolicySpec("Paused", certificates=("Paused Policy",), users=("sam",)))
    session.store.db.execute_sql("UPDATE policy SET enabled = 0 WHERE name = 'Paused'")
    certificate_edits.edit_certificate(session, "Public Only", GeneralChanges(owner="sam"))
    certificate_edits.edit_certificate(
        session, "Hotfix", GeneralChanges(pin="246813", ask_reason=True)
    )
    lifecycle.disable_certificates(session, ["Release"])
    return session


SAM_SEES = {
    # alias: (the policy allowing it, what stops everyone, in short and in a sentence)
    "Edwards": (
        "Hotfixes",
        "Ed25519 key",
        "It has an Ed25519 key: CMS signatures here need RSA or ECDSA.",
    ),
    "Hotfix": ("Hotfixes", "", ""),
    "Public Only": ("", "No private key", "It has no private key in this store."),
    "Release": ("Builders sign", "Disabled", "It is disabled: nobody can sign with it."),
    "Retired": ("Builders sign", "Expired", "It is not valid now (valid "),
}


def sign_in(store_dir, name):
    return users.sign_in(store_dir, name, PASSWORD)[0]


def test_a_signer_is_offered_exactly_what_the_owner_rule_and_the_policies_allow(store, store_dir):
    sam = sign_in(store_dir, "sam")
    try:
        choices = signing.signable_certificates(sam)
    finally:
        sam.close()
    assert [c.alias for c in choices] == sorted(SAM_SEES)
    for choice in choices:
        policy, blocked, why_not = SAM_SEES[choice.alias]
        assert (choice.policy, choice.blocked) == (policy, blocked), choice.alias
        assert choice.why_not.startswith(why_not) and bool(choice.why_not) == bool(why_not)
    hotfix = next(c for c in choices if c.alias == "Hotfix")
    assert hotfix.needs_pin and hotfix.asks_reason
    # A policy disabled takes its certificates away; the owner rule needs none.
    store.store.db.execute_sql("UPDATE policy SET enabled = 0 WHERE name = 'Hotfixes'")
    sam = sign_in(store_dir, "sam")
    try:
        left = {c.alias for c in signing.signable_certificates(sam)}
    finally:
        sam.close()
    assert left == set(SAM_SEES) - {"Hotfix", "Edwards"}


def test_what_stops_a_listed_certificate_is_what_sign_refuses_with(store, store_dir):
    sam = sign_in(store_dir, "sam")
    try:
        for choice in signing.signable_certificates(sam):
            if not choice.why_not:
                continue
            with pytest.raises(CertdeskError) as refused:
                signing.sign_data(sam, choice.alias, io.BytesIO(b"release artefact"))
            assert str(refused.value) == f"{choice.alias!r} {choice.why_not[3:]}"
    finally:
        sam.close()


@pytest.fixture
def signer_window(qtbot, store, store_dir):
    store.close()
    win = MainWindow(sign_in(store_dir, "sam"))
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 9)
    settle(qtbot)
    yield win
    win.close()


def test_the_signing_page_shows_a_signer_their_certificates(qtbot, signer_window):
    page = signer_window.open_page("Signing")
    settle(qtbot)  # it reads when first shown
    assert isinstance(page, SigningView)
    model = page.model
    shown = [model.row_at(i).alias for i in range(model.rowCount())]
    # The one that signs first, then by what stops the others.
    assert shown == ["Hotfix", "Release", "Edwards", "Retired", "Public Only"]
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert titles == ["Alias", "Allowed by", "PIN", "Reason", "Valid To", "Can sign"]
    row = {model.row_at(i).alias: i for i in range(model.rowCount())}
    cells = [model.index(row["Hotfix"], c).data() for c in range(model.columnCount())]
    assert cells[:4] == ["Hotfix", "Hotfixes", "Asked", "Asked"] and cells[5] == "Ready"
    assert model.index(row["Public Only"], 1).data() == "You own it"
    released = model.index(row["Release"], 5)
    assert released.data() == "Disabled"
    assert released.data(Qt.ItemDataRole.ToolTipRole) == "It is disabled: nobody can sign with it."
    ready = sum(model.index(i, 5).data() == "Ready" for i in range(model.rowCount()))
    assert 0 < ready < 5
    assert signer_window.count_label.text() == f"5 certificates, {ready} ready to sign"
    assert page.table.isVisibleTo(page) and page.model.rowCount() == 5


def _can_sign(page, alias):
    row = next(i for i in range(page.model.rowCount()) if page.model.row_at(i).alias == alias)
    return page.model.index(row, 5).data()


def test_the_signing_page_follows_a_change_to_a_certificate(qtbot, signer_window, store_dir):
    admin = users.sign_in(store_dir, "admin", "correct horse battery")[0]
    try:
        lifecycle.disable_certificates(admin, ["Hotfix"])
    finally:
        admin.close()
    page = signer_window.open_page("Signing")
    settle(qtbot)  # it reads when first shown
    events.certificates_changed.emit(ALL)
    settle(qtbot)
    assert _can_sign(page, "Hotfix") == "Disabled"


def test_the_hidden_signing_page_reads_once_it_is_shown(qtbot, signer_window, store_dir):
    """Its read decides every certificate's policies: the window's start does not read
    it, and a change while another page is shown marks it stale instead of reading for
    nobody."""
    page = signer_window.page_by_title["Signing"]
    assert page.isHidden() and not page.loaded and page.model.total_count() == 0
    signer_window.open_page("Signing")
    settle(qtbot)
    assert _can_sign(page, "Hotfix") == "Ready"
    signer_window.open_page("Certificates")
    assert page.isHidden()
    admin = users.sign_in(store_dir, "admin", "correct horse battery")[0]
    try:
        lifecycle.disable_certificates(admin, ["Hotfix"])
    finally:
        admin.close()
    events.certificates_changed.emit(ALL)
    settle(qtbot)
    assert _can_sign(page, "Hotfix") == "Ready"  # not read while hidden
    signer_window.open_page("Signing")
    qtbot.waitUntil(lambda: _can_sign(page, "Hotfix") == "Disabled")


def test_a_signer_without_a_policy_is_told_how_to_get_one(qtbot, session, store_dir):
    users.add_user(session, "nina", PASSWORD, SIGNER)
    win = MainWindow(sign_in(store_dir, "nina"))
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    page = win.open_page("Signing")
    settle(qtbot)  # it reads when first shown
    assert page.model.rowCount() == 0 and page.table.empty_hint == NONE_TO_SIGN
    assert "An administrator gives you certificates to sign with through a policy" in NONE_TO_SIGN
    assert win.count_label.text() == "0 certificates, 0 ready to sign"
    win.close()


def test_an_administrator_with_nothing_to_sign_is_told_what_to_do_themselves(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("Signing")
    settle(qtbot)
    assert page.model.rowCount() == 0 and page.table.empty_hint == NONE_TO_SIGN_YET
    assert "name yourself in a policy on the Policies page" in NONE_TO_SIGN_YET


def test_a_role_that_may_not_sign_is_told_so_on_the_page(qtbot, session, store_dir):
    users.add_user(session, "audrey", PASSWORD, AUDITOR)
    win = MainWindow(sign_in(store_dir, "audrey"))
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)  # no failure box: the page does not ask the refused read
    page = win.open_page("Signing")
    settle(qtbot)  # it reads when first shown
    assert page.model.rowCount() == 0
    assert page.table.empty_hint == "Your role (Auditor) may not sign with certificates."
    win.close()


def test_an_administrator_sees_what_they_may_sign_with(qtbot, store):
    certificate_edits.edit_certificate(store, "Nobody's", GeneralChanges(owner="admin"))
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    page = win.open_page("Signing")
    settle(qtbot)  # it reads when first shown
    assert [page.model.row_at(i).alias for i in range(page.model.rowCount())] == ["Nobody's"]
    win.close()


def test_a_signer_may_download_and_every_refusal_says_it_in_words(qtbot, signer_window):
    win = signer_window
    menu = open_menu(qtbot, win, 0, "right-click")
    assert menu_action(menu, "Download (.cer)…").isEnabled()
    assert menu_action(menu, "Properties…").isEnabled()
    refused = [a for a in menu.actions() if a.text() and not a.isEnabled()]
    assert {a.text() for a in refused} >= {"CSR / Renew…", "Add to Groups…", "Delete…"}
    bar = win.certificates.actions
    refused += [win.certificates.import_action, bar.enable_checked, bar.delete_checked]
    for action in refused:
        tip = action.toolTip()
        assert tip.startswith("Your role (Signer) may not "), (action.text(), tip)
        assert not any(p in tip for p in ALL_PERMISSIONS if "." in p), tip
    assert win.certificates.import_action.toolTip() == (
        "Your role (Signer) may not import certificates."
    )
    menu.close()


def test_properties_on_the_signing_page_opens_the_certificate(qtbot, signer_window):
    page = signer_window.open_page("Signing")
    settle(qtbot)
    assert page.select(page.model.row_at(0).id)
    page.properties_action.trigger()
    certificates = signer_window.certificates
    assert signer_window.pages.currentWidget() is certificates
    assert set(certificates.windows) == {page.model.row_at(0).id}
    for window in list(certificates.windows.values()):
        window.reject()
