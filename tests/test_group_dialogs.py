"""The group dialogs, the Groups page's member list and context menu, the Associates tab's
group actions and the bulk delete confirmation, driven through the real widgets; the
store is checked afterwards."""

import itertools
import threading

import pytest

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.services import certificate_groups, certificate_import, users
from app.services.targets import BulkResult
from models import Certificate
from models.permissions import CERTIFICATE_MANAGER
from tests.helpers.gui import cert_files, open_menu, settle, wait_rows
from ui.certificate_actions import NO_GROUP_CHECKED
from ui.certificate_tabs.associates import CHOOSE_GROUP
from ui.certificate_window import CertificateWindow
from ui.groups_view import EMPTY_HINT, MEMBERS_HEADING, NO_GROUP_CHOSEN
from ui.main_window import MainWindow
from ui.wording import MAX_LISTED_FAILURES, failures_text

NAMES = ["Alpha", "Bravo", "Charlie", "Delta"]


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    certificate_import.import_files(session, cert_files(certs, tmp_path, NAMES))
    certificate_groups.add_to_groups(session, ["Alpha", "Bravo"], ["Release"])
    certificate_groups.add_to_groups(session, ["Bravo"], ["Nightly"])
    certificate_groups.create_group(session, "Archive")
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.resize(1024, 700)
    win.show()
    wait_rows(qtbot, win, len(NAMES))
    settle(qtbot)
    return win


def ids_of(win, *aliases) -> list[int]:
    model = win.certificates.model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    return [next(r.id for r in rows if r.alias == alias) for alias in aliases]


def groups_of(alias: str) -> list[str]:
    cert = Certificate.get(Certificate.alias == alias)
    return sorted(m.group.name for m in cert.memberships)


def assert_no_overlap(dialog: QWidget) -> None:
    """The dialog's visible widgets (its direct children) neither overlap each other nor
    leave the dialog."""
    shown = [
        w
        for w in dialog.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if w.isVisible()
    ]
    assert shown
    for widget in shown:
        assert dialog.rect().contains(widget.geometry()), widget
    for a, b in itertools.combinations(shown, 2):
        assert not a.geometry().intersects(b.geometry()), (a, b)


def opened(qtbot, dialog):
    qtbot.waitExposed(dialog)
    settle(qtbot)  # what it lists is read off the GUI thread
    return dialog


# -- Remove from Groups ---------------------------------------------------------------


def test_remove_lists_exactly_the_groups_of_the_chosen_certificates(qtbot, window):
    actions = window.certificates.actions
    window.certificates.model.set_checked(ids_of(window, "Alpha", "Bravo"), True)
    assert actions.remove_groups_checked.isEnabled()
    actions.remove_groups_checked.trigger()
    picker = actions.picker
    assert picker.names() == [] and not picker.ok_button.isEnabled()  # still reading
    opened(qtbot, picker)
    assert picker.names() == ["Nightly", "Release"]  # not Archive, which holds neither
    texts = [picker.list.item(i).text() for i in range(picker.list.count())]
    assert texts == ["Nightly    (1 of these)", "Release    (2 of these)"]
    assert picker.new_name is None and picker.create_button is None  # nothing to create
    assert "no certificate groups" not in picker.status.text()
    assert_no_overlap(picker)
    picker.set_checked("Release")
    assert picker.ok_button.isEnabled()
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert groups_of("Alpha") == [] and groups_of("Bravo") == ["Nightly"]


def test_remove_lists_what_the_store_says_not_what_the_table_last_read(qtbot, window, session):
    certificate_groups.add_to_groups(session, ["Charlie"], ["Archive"])  # the table missed it
    picker = window.certificates.actions.remove_groups(ids_of(window, "Charlie"))
    opened(qtbot, picker)
    assert picker.names() == ["Archive"]
    assert picker.list.item(0).text() == "Archive"  # one certificate: no "(1 of these)"


def test_remove_groups_is_disabled_when_no_chosen_certificate_is_in_a_group(qtbot, window):
    actions = window.certificates.actions
    model = window.certificates.model
    model.set_checked(ids_of(window, "Charlie", "Delta"), True)
    assert not actions.remove_groups_checked.isEnabled()
    assert actions.remove_groups_checked.toolTip() == NO_GROUP_CHECKED
    model.set_checked(ids_of(window, "Bravo"), True)
    assert actions.remove_groups_checked.isEnabled()

    picker = opened(qtbot, actions.remove_groups(ids_of(window, "Charlie", "Delta")))
    assert picker.names() == []
    assert not picker.ok_button.isEnabled()
    assert picker.ok_button.toolTip() == "None of these 2 certificates is in a group."
    assert picker.status.isVisible() and not picker.list.isVisible()
    assert picker.status.text() == "None of these 2 certificates is in a group."
    assert not picker.prompt.isVisible()  # "Take them out of the groups below" of none
    assert_no_overlap(picker)
    picker.reject()
    one = opened(qtbot, actions.remove_groups(ids_of(window, "Delta")))
    assert one.ok_button.toolTip() == "This certificate is in no group."


# -- Add to Groups ----------------------------------------------------------------------


def test_add_reads_the_groups_off_the_gui_thread_and_lists_them_all(qtbot, window):
    actions = window.certificates.actions
    picker = actions.add_groups(ids_of(window, "Charlie"))
    # Nothing is read before the event loop runs: the list comes from the runner.
    assert picker.names() == [] and picker.status.text() == "Reading the certificate groups…"
    opened(qtbot, picker)
    assert picker.names() == ["Archive", "Nightly", "Release"]
    assert picker.list.item(0).text() == "Archive    (0 certificates)"
    assert picker.new_name.isVisible() and picker.create_button.isVisible()
    assert_no_overlap(picker)
    picker.set_checked("Archive")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert groups_of("Charlie") == ["Archive"]


def test_a_name_typed_at_once_goes_to_the_new_name_field_and_return_creates_it(qtbot, window):
    picker = opened(qtbot, window.certificates.actions.add_groups(ids_of(window, "Charlie")))
    qtbot.waitActive(picker)
    assert picker.new_name.hasFocus()  # not the list, whose keyboard search ate the name
    qtbot.keyClicks(QApplication.focusWidget(), "Test Team")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    settle(qtbot)
    assert picker.isVisible()  # Return created the group; it did not also press Add
    assert picker.chosen() == ["Test Team"] and picker.new_name.text() == ""
    assert groups_of("Charlie") == []
    with qtbot.waitSignal(picker.accepted):  # now Add, to what is ticked
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    settle(qtbot)
    assert groups_of("Charlie") == ["Test Team"]


def test_a_group_typed_before_the_list_came_is_the_stored_one(qtbot, window, monkeypatch):
    """Typed and created while the groups were still being read: when they come, the
    stored "Release" takes the place of the typed "release", ticked, listed once."""
    gate = threading.Event()
    read = certificate_groups.list_groups

    def slow_list_groups(session):
        gate.wait(10)
        return read(session)

    monkeypatch.setattr(certificate_groups, "list_groups", slow_list_groups)
    picker = window.certificates.actions.add_groups(ids_of(window, "Delta"))
    picker.activateWindow()
    qtbot.waitUntil(picker.new_name.hasFocus)
    qtbot.keyClicks(picker.new_name, "release")
    qtbot.keyClick(picker.new_name, Qt.Key.Key_Return)
    assert picker.names() == ["release"]
    gate.set()
    qtbot.waitUntil(lambda: picker.loaded)
    assert [n for n in picker.names() if n.casefold() == "release"] == ["Release"]
    assert picker.chosen() == ["Release"]
    picker.reject()


def test_return_in_the_group_list_adds_only_to_what_is_ticked(qtbot, window):
    picker = opened(qtbot, window.certificates.actions.add_groups(ids_of(window, "Delta")))
    picker.list.setFocus()
    picker.list.setCurrentRow(2)  # Release, not ticked
    qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    settle(qtbot)
    assert picker.isVisible() and not picker.ok_button.isEnabled()
    assert groups_of("Delta") == []
    qtbot.keyClick(picker.list, Qt.Key.Key_Space)
    assert picker.chosen() == ["Release"]
    with qtbot.waitSignal(picker.accepted):
        qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    settle(qtbot)
    assert groups_of("Delta") == ["Release"]


def test_the_selection_bar_and_the_row_menu_word_the_group_actions_alike(qtbot, window):
    actions = window.certificates.actions
    menu = open_menu(qtbot, window, 0, "actions-button")
    in_menu = [a.text() for a in menu.actions() if "Groups" in a.text()]
    menu.close()
    bar = [actions.add_groups_checked.text(), actions.remove_groups_checked.text()]
    assert in_menu == bar == ["Add to Groups…", "Remove from Groups…"]


# -- the Groups page ----------------------------------------------------------------------


def double_click(qtbot, view, where: QPoint) -> None:
    """As the platform delivers it: a click, then the double-click."""
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)


def row_center(page, name: str) -> QPoint:
    index = page.model.index(page.model.visible_row_of(name), 0)
    return page.table.visualRect(index).center()


def test_double_click_shows_the_groups_certificates_and_opens_one(qtbot, window):
    page = window.open_page("Certificate Groups")
    double_click(qtbot, page.table, row_center(page, "Release"))
    settle(qtbot)
    assert page.editor is None  # no Rename dialog any more
    members = page.members
    assert members.heading.text() == "Certificates in “Release”"
    assert [members.model.row_at(i).alias for i in range(2)] == ["Alpha", "Bravo"]
    assert members.table.hasFocus() and members.table.currentIndex().row() == 0
    assert page.splitter.isVisible() and members.table.isVisible()
    index = members.model.index(1, 0)  # Bravo
    double_click(qtbot, members.table, members.table.visualRect(index).center())
    assert window.pages.currentWidget() is window.certificates
    (bravo,) = ids_of(window, "Bravo")
    detail = window.certificates.windows[bravo]
    assert isinstance(detail, CertificateWindow)
    qtbot.waitUntil(lambda: detail.detail is not None)
    assert detail.detail.row.alias == "Bravo"
    detail.reject()


def test_enter_shows_the_members_and_an_empty_group_says_how_to_fill_it(qtbot, window):
    page = window.open_page("Certificate Groups")
    page.select("Archive")
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    settle(qtbot)
    members = page.members
    assert members.model.rowCount() == 0 and members.table.isVisible()
    assert "“Archive” holds no certificates yet" in members.table.empty_hint
    assert "use Add to Groups… to put them in it" in members.table.empty_hint
    page.select("Nightly")
    qtbot.waitUntil(lambda: members.model.rowCount() == 1)
    settle(qtbot)
    assert [members.model.row_at(i).alias for i in range(members.model.rowCount())] == ["Bravo"]
    members.table.setFocus()
    members.table.setCurrentIndex(members.model.index(0, 0))
    qtbot.keyClick(members.table, Qt.Key.Key_Delete)  # the group's Delete: not from here
    settle(qtbot)
    assert page.confirmation is None and page.model.row_by_key("Nightly") is not None
    qtbot.keyClick(members.table, Qt.Key.Key_Return)
    assert window.pages.currentWidget() is window.certificates
    assert set(window.certificates.windows) == set(ids_of(window, "Bravo"))
    window.certificates.windows[ids_of(window, "Bravo")[0]].reject()


def test_an_empty_groups_page_shows_its_hint_alone_and_says_each_thing_once(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.resize(1024, 700)
    win.show()
    page = win.open_page("Certificate Groups")
    settle(qtbot)
    assert page.model.total_count() == 0 and page.table.empty_hint == EMPTY_HINT
    assert page.table.isVisible() and not page.members.isVisible()  # no "Select a group"
    certificate_groups.create_group(session, "Release")
    with qtbot.waitSignal(page.countsChanged):
        page.reload()
    settle(qtbot)
    members = page.members
    qtbot.waitUntil(lambda: members.height() > 200)  # its share of the splitter again
    assert members.key is None and members.table.empty_hint == NO_GROUP_CHOSEN
    assert members.heading.text() == MEMBERS_HEADING != NO_GROUP_CHOSEN


def test_the_member_list_follows_changes_to_the_group(qtbot, window, session):
    page = window.open_page("Certificate Groups")
    page.select("Nightly")
    settle(qtbot)
    window.certificates.actions.add_groups(ids_of(window, "Delta"))
    picker = opened(qtbot, window.certificates.actions.picker)
    picker.set_checked("Nightly")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    members = page.members
    assert [members.model.row_at(i).alias for i in range(2)] == ["Bravo", "Delta"]
    assert page.selected_name() == "Nightly"


def test_the_context_menu_edits_name_and_description_in_one_dialog(qtbot, window, session):
    page = window.open_page("Certificate Groups")
    page._context_menu(row_center(page, "Release"))
    texts = [a.text() for a in page.menu.actions()]
    assert texts == ["New Group…", "Show Certificates", "Edit…", "Delete…"]
    next(a for a in page.menu.actions() if a.text() == "Edit…").trigger()
    page.menu.close()
    editor = page.editor
    qtbot.waitExposed(editor)
    assert editor.windowTitle() == "Edit certificate group"
    assert editor.width() >= editor.fontMetrics().horizontalAdvance(editor.windowTitle()) + 100
    assert (editor.name.text(), editor.description.text()) == ("Release", "")
    assert_no_overlap(editor)
    editor.name.setText("Production")
    editor.description.setText("Shipped to customers")
    with qtbot.waitSignal(editor.accepted):
        qtbot.mouseClick(editor.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    (group,) = [g for g in certificate_groups.list_groups(session) if g.name == "Production"]
    assert group.description == "Shipped to customers" and group.members == 2
    row = page.model.visible_row_of("Production")
    assert page.model.index(row, 2).data() == "Shipped to customers"
    assert page.selected_name() == "Production"
    qtbot.waitUntil(
        lambda: (
            window.certificates.model.row_by_id(ids_of(window, "Alpha")[0]).groups
            == ("Production",)
        )
    )


def test_a_refused_new_group_keeps_the_dialog_and_the_typed_name(qtbot, window, session):
    page = window.open_page("Certificate Groups")
    page.new_action.trigger()
    editor = page.editor
    qtbot.waitExposed(editor)
    assert editor.windowTitle() == "New certificate group"
    qtbot.keyClicks(editor.name, "RELEASE")
    qtbot.keyClick(editor.name, Qt.Key.Key_Return)
    settle(qtbot)
    assert editor.isVisible() and editor.name.text() == "RELEASE"
    assert editor.name_error.isVisible()  # the group as it is stored, not as typed:
    assert editor.name_error.text() == "A certificate group named “Release” already exists."
    assert_no_overlap(editor)
    editor.description.setText("bad \u202e text")
    editor.name.setText("Release Candidates")
    editor.accept()
    settle(qtbot)
    assert editor.isVisible() and editor.description_error.isVisible()
    assert not editor.name_error.isVisible()
    editor.description.setText("Builds awaiting sign-off")
    with qtbot.waitSignal(editor.accepted):
        editor.accept()
    settle(qtbot)
    made = [g for g in certificate_groups.list_groups(session) if g.name == "Release Candidates"]
    assert [g.description for g in made] == ["Builds awaiting sign-off"]
    assert page.selected_name() == "Release Candidates"


# -- the certificate window's Associates tab ---------------------------------------------


def open_associates(qtbot, window, alias: str):
    (cid,) = ids_of(window, alias)
    detail = window.certificates.open_certificate(cid)
    qtbot.waitUntil(lambda: detail.detail is not None, timeout=10_000)
    detail.tabs.setCurrentWidget(detail.associates_tab)
    return detail, detail.associates_tab


def listed(listing) -> list[str]:
    return [listing.item(i).text() for i in range(listing.count())]


def test_the_associates_tab_adds_to_groups_and_removes_from_one(qtbot, window):
    detail, tab = open_associates(qtbot, window, "Alpha")
    assert listed(tab.group_list) == ["Release"]
    assert tab.add_button.isEnabled()
    assert not tab.remove_button.isEnabled() and tab.remove_button.toolTip() == CHOOSE_GROUP
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    picker = opened(qtbot, tab.picker)
    assert "“Alpha”" in picker.prompt.text()
    picker.set_checked("Archive")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert groups_of("Alpha") == ["Archive", "Release"]
    assert listed(tab.group_list) == ["Archive", "Release"]  # read again through the events
    tab.group_list.setCurrentRow(1)
    assert tab.remove_button.isEnabled()
    qtbot.mouseClick(tab.remove_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert groups_of("Alpha") == ["Archive"]
    assert listed(tab.group_list) == ["Archive"]
    assert window.certificates.model.row_by_id(detail.detail.row.id).groups == ("Archive",)
    detail.reject()


def test_unsaved_general_edits_survive_a_group_change(qtbot, window):
    detail, tab = open_associates(qtbot, window, "Alpha")
    detail.general_tab.description.setPlainText("Not saved yet")
    tab.group_list.setCurrentRow(0)
    qtbot.mouseClick(tab.add_button, Qt.MouseButton.LeftButton)
    picker = opened(qtbot, tab.picker)
    picker.set_checked("Nightly")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert listed(tab.group_list) == ["Nightly", "Release"]
    assert detail.general_tab.description.toPlainText() == "Not saved yet"


def test_leaving_the_last_group_is_refused_to_a_certificate_manager_with_the_reason(
    qtbot, session, store_dir, tmp_path, certs
):
    certificate_import.import_files(session, cert_files(certs, tmp_path, ["Solo"]))
    certificate_groups.add_to_groups(session, ["Solo"], ["Release"])
    users.add_user(session, "mia", "a good long password", CERTIFICATE_MANAGER)
    manager, _ = users.sign_in(store_dir, "mia", "a good long password")
    win = MainWindow(manager)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 1)
    detail, tab = open_associates(qtbot, win, "Solo")
    tab.group_list.setCurrentRow(0)
    tab.remove_from_group()
    settle(qtbot)
    box = next(w for w in detail.findChildren(QWidget) if w.windowTitle() == "Certdesk")
    assert box.text() == "Solo: removing its last group needs the Administrator role"
    assert groups_of("Solo") == ["Release"]
    box.close()
    detail.reject()


def test_a_bulk_actions_failures_are_worded_by_one_helper_in_curly_quotes():
    result = BulkResult()
    result.add("Alpha", True, "added")
    for i in range(MAX_LISTED_FAILURES + 2):
        result.add(f"Cert {i}", False, "not in group 'Release'")
    lines = failures_text(result).split("\n")
    assert lines[0] == "Cert 0: not in group “Release”"
    assert len(lines) == MAX_LISTED_FAILURES + 1 and lines[-1] == "…and 2 more."
    assert "'" not in failures_text(result)


# -- the bulk delete confirmation -------------------------------------------------------


def test_the_delete_confirmation_names_the_key_holders_first(qtbot, session, tmp_path, certs):
    keyed = ["Zulu Keyed", "Yankee Keyed", "Xray Keyed"]
    for alias in keyed:
        cert, key = certs.make_cert(alias)
        certificate_import.import_files(
            session, [certs.write(tmp_path, f"{alias}.p12", certs.p12(cert, key, None))]
        )
    plain = [f"Plain {i}" for i in range(8)]
    certificate_import.import_files(session, cert_files(certs, tmp_path, plain))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 11)
    model = win.certificates.model
    model.set_checked([model.row_at(i).id for i in range(11)], True)
    box = win.certificates.actions.delete(model.checked_ids())
    assert box.text() == "Delete 11 certificates?"
    text = box.informativeText()
    head = text.index("The private keys of these 3 are destroyed")
    others = text.index("The other 8 have no private key in the store:")
    assert all(head < text.index(f"• {alias}") < others for alias in keyed)
    shown_plain = [alias for alias in plain if f"• {alias}\n" in text]
    assert len(shown_plain) == 6 and all(text.index(f"• {a}") > others for a in shown_plain)
    assert "…and 2 more" in text and "cannot be undone" in text
    assert "Show Details lists every one. Groups and policies stop naming them." in text
    every = box.detailedText().split("\n")  # under Show Details…: all, key holders marked
    assert sorted(every[:3]) == sorted(f"{alias} (and its private key)" for alias in keyed)
    assert sorted(every[3:]) == plain
    box.reject()
    settle(qtbot)
    assert Certificate.select().count() == 11


def test_the_delete_confirmation_says_and_more_for_many_key_holders(
    qtbot, session, tmp_path, certs
):
    for i in range(8):
        cert, key = certs.make_cert(f"Keyed {i}")
        certificate_import.import_files(
            session, [certs.write(tmp_path, f"k{i}.p12", certs.p12(cert, key, None))]
        )
    certificate_import.import_files(session, cert_files(certs, tmp_path, ["Plain"]))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 9)
    model = win.certificates.model
    model.set_checked([model.row_at(i).id for i in range(9)], True)
    box = win.certificates.actions.delete(model.checked_ids())
    text = box.informativeText()
    assert text.index("The private keys of these 8") < text.index("…and 2 more")
    assert text.index("…and 2 more") < text.index("The other one has no private key")
    assert text.index("The other one has") < text.index("• Plain")
    assert len(box.detailedText().split("\n")) == 9


def test_a_one_certificate_delete_says_it_not_them(qtbot, window):
    box = window.certificates.actions.delete(ids_of(window, "Alpha"))
    assert box.text() == "Delete the certificate “Alpha”?"
    assert box.informativeText() == (
        "It has no private key in the store.\n"
        "Groups and policies stop naming it. This cannot be undone."
    )
    assert box.detailedText() == ""  # nothing more to list
    box.reject()
