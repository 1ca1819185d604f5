"""The list-page template (ui.list_page, ui.rows_model) and the page registry of the main
window, through the Groups and Requests pages built on it."""

import ast
from pathlib import Path

import pytest

from PySide6.QtCore import QPoint, Qt

from app.services import certificate_groups, certificate_import, users
from models.permissions import AUDITOR
from tests.helpers.gui import cert_files, settle, wait_rows
from ui import main_window
from ui.groups_view import GroupsView
from ui.list_page import NO_MATCH_HINT, ListPage
from ui.main_window import PAGES, MainWindow
from ui.requests_view import RequestsView


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    certificate_import.import_files(session, cert_files(certs, tmp_path, ["Alpha", "Bravo"]))
    for name in ("Release", "Nightly Builds", "Archive"):
        certificate_groups.create_group(session, name, description=f"{name} signing")
    certificate_groups.add_to_groups(session, ["Alpha", "Bravo"], ["Release"])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 2)
    settle(qtbot)
    return win


def test_groups_and_requests_are_pages_of_the_template():
    assert issubclass(GroupsView, ListPage) and issubclass(RequestsView, ListPage)
    assert [page.title for page in PAGES] == [
        "Dashboard",
        "Certificates",
        "Certificate Groups",
        "Requests",
        "Signing",
        "Users",
        "User Groups",
        "Roles",
        "Policies",
        "Audit Log",
    ]


def test_the_main_window_wires_no_page_to_another():
    """Every connect() in main_window.py names at most one page: pages talk through the
    window (pageRequested, open_page) and the store events, not to each other."""
    pages = {"certificates", "groups", "requests"}
    tree = ast.parse(Path(main_window.__file__).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "connect":
            named = {
                n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in pages
            }
            assert len(named) <= 1, ast.unparse(node)


def test_the_groups_page_sorts_searches_and_counts_in_its_own_words(qtbot, window):
    page = window.open_page("Certificate Groups")
    model = page.model
    assert [model.row_at(i).name for i in range(3)] == ["Archive", "Nightly Builds", "Release"]
    assert window.count_label.text() == "3 certificate groups"
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by member count
    assert model.row_at(0).name == "Release" and model.index(0, 1).data() == "2"
    qtbot.keyClicks(page.search, "night")
    assert model.rowCount() == 3  # the search waits for a pause in the typing
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert window.count_label.text() == "1 of 3 certificate groups shown"
    place = page.table.geometry()
    page.search.setText("no such group")
    page.apply_search()
    # The hint is said inside the table, which stays where it is.
    assert page.table.empty_hint == NO_MATCH_HINT and page.table.geometry() == place
    page.search.clear()
    page.apply_search()
    assert model.rowCount() == 3 and page.table.geometry() == place


def test_a_page_keeps_its_selection_across_a_reload(qtbot, window, session):
    page = window.groups
    page.select("Release")
    certificate_groups.create_group(session, "Aardvark")
    page.reload()
    settle(qtbot)
    assert page.model.total_count() == 4 and page.selected_name() == "Release"


def test_a_reload_never_clears_the_search(qtbot, window, session):
    """A change elsewhere (another process, through the store watch) that makes the
    selected row stop matching the search leaves it unselected, the search as typed."""
    page = window.open_page("Certificate Groups")
    page.search.setText("signing")
    page.apply_search()
    page.select("Release")
    certificate_groups.edit_group(session, "Release", description="Shipped builds")
    page.reload()
    settle(qtbot)
    assert page.search.text() == "signing" and page.model.rowCount() == 2
    assert page.selected_name() is None


def test_the_context_menu_offers_the_page_actions_with_their_state(qtbot, window):
    page = window.open_page("Certificate Groups")
    page.select("Release")
    rect = page.table.visualRect(page.model.index(page.model.visible_row_of("Release"), 0))
    page._context_menu(rect.center())
    texts = [a.text() for a in page.menu.actions()]
    assert texts == ["New Group…", "Show Certificates", "Edit…", "Delete…"]
    assert all(a.isEnabled() for a in page.menu.actions())
    page.table.clearSelection()
    page._context_menu(QPoint(1, page.table.viewport().height() - 1))
    enabled = {a.text(): a.isEnabled() for a in page.menu.actions()}
    assert enabled == {
        "New Group…": True,
        "Show Certificates": False,
        "Edit…": False,
        "Delete…": False,
    }


def test_a_role_without_the_operation_sees_it_greyed_with_the_reason(qtbot, session, store_dir):
    users.add_user(session, "audrey", "a good long password", AUDITOR)
    auditor, _ = users.sign_in(store_dir, "audrey", "a good long password")
    win = MainWindow(auditor)
    qtbot.addWidget(win)
    settle(qtbot)
    for action in (win.requests.new_action, win.requests.cancel_action, win.groups.new_action):
        assert not action.isEnabled()
        assert action.toolTip().startswith("Your role (Auditor) may not ")
    win.close()


def test_an_empty_page_says_what_it_is_for(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    page = win.open_page("Requests")
    assert page.table.isVisibleTo(page) and page.table.empty_hint == page.empty_hint
    assert "New Request…" in page.table.empty_hint
    assert win.count_label.text() == "0 pending requests"


def test_a_page_asks_for_another_through_the_window(qtbot, window):
    window.certificates.pageRequested.emit("Certificate Groups", "show", "Nightly Builds")
    assert window.pages.currentWidget() is window.groups
    assert window.groups.selected_name() == "Nightly Builds"


def test_the_search_keeps_the_selection_and_showing_a_hidden_row_clears_it(qtbot, window):
    page = window.open_page("Certificate Groups")
    page.select("Release")
    page.search.setText("re")
    page.apply_search()
    assert page.selected_name() == "Release"
    page.search.setText("night")
    page.apply_search()
    assert page.selected_name() is None
    window.certificates.pageRequested.emit("Certificate Groups", "show", "Archive")
    assert page.search.text() == "" and page.selected_name() == "Archive"


def test_the_keyboard_on_a_page_escape_clears_the_search_and_tab_leaves_the_table(qtbot, window):
    page = window.open_page("Certificate Groups")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    page.search.setFocus()
    qtbot.waitUntil(page.search.hasFocus)
    qtbot.keyClicks(page.search, "night")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)
    assert page.search.text() == ""
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)  # empty: back to the list
    qtbot.waitUntil(page.table.hasFocus)
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.keyClick(page.table, Qt.Key.Key_Tab)
    assert not page.table.hasFocus() and page.table.currentIndex().row() == 0
