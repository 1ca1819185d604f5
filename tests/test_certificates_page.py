"""The certificates page as a new administrator meets it on a small screen: the table
holds still while rows are checked, the window fits the screen, the header's menu of
columns, checks the search hides, the status bar after a delete, and the keyboard."""

import pytest

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QContextMenuEvent, QFont, QGuiApplication
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton

from app.services import certificate_groups, certificate_import, users
from models import Certificate
from tests.helpers.gui import answer, cell_center, cert_files, settle, wait_rows
from tests.helpers.stores import PASSWORD
from ui.certificates_model import CertificatesModel as M
from ui.certificates_table import NAME_SAMPLE
from ui.certificates_view import NOTHING_CHECKED
from ui.dialogs import Dialog
from ui.main_window import MainWindow

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    paths = [certs.write(tmp_path, f"{n}.pem", certs.pem(certs.make_cert(n)[0])) for n in NAMES]
    soon, _ = certs.make_cert("Expiring Soon", days=12, start_days=-300)
    paths.append(certs.write(tmp_path, "soon.pem", certs.pem(soon)))
    certificate_import.import_files(session, paths)
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, len(NAMES) + 1)
    settle(qtbot)
    return win


def active(qtbot, win) -> None:
    """Keyboard focus needs the window active, offscreen too."""
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)


def click_check(qtbot, win, row: int) -> None:
    table = win.certificates.table
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(win, row, M.COL_CHECK)
    )


def checked_names(view) -> list[str]:
    return [view.model.row_by_id(i).alias for i in view.model.checked_ids()]


def stored(alias: str) -> Certificate:
    return Certificate.get(Certificate.alias == alias)


# -- item 3: the table holds still ------------------------------------------------------


def table_place(win) -> tuple:
    table = win.certificates.table
    first_row = table.visualRect(win.certificates.model.index(0, M.COL_NAME))
    return table.viewport().mapTo(win, QPoint(0, 0)), first_row, table.viewport().size()


def test_checking_and_clearing_rows_moves_nothing(qtbot, window):
    view = window.certificates
    before = table_place(window)
    assert view.checked_label.text() == NOTHING_CHECKED and not view.bulk_bar.isEnabled()
    click_check(qtbot, window, 0)
    assert checked_names(view) == ["Alpha"]
    assert view.checked_label.text() == "1 selected" and view.bulk_bar.isEnabled()
    assert table_place(window) == before
    click_check(qtbot, window, 2)
    assert table_place(window) == before
    qtbot.mouseClick(view.clear_checks, Qt.MouseButton.LeftButton)
    assert view.model.checked_ids() == [] and view.checked_label.text() == NOTHING_CHECKED
    assert table_place(window) == before


# -- item 4: the window fits the screen ---------------------------------------------------


def test_at_1024_by_700_the_default_columns_fit_and_checking_keeps_the_width(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    view, table = window.certificates, window.certificates.table
    header = table.horizontalHeader()
    settle(qtbot)
    assert table.horizontalScrollBar().maximum() == 0  # nothing off to the right
    last = header.sectionViewportPosition(M.COL_ACTIONS) + header.sectionSize(M.COL_ACTIONS)
    assert last <= table.viewport().width()
    row = next(i for i in range(6) if view.model.row_at(i).alias == "Expiring Soon")
    text = view.model.index(row, M.COL_VALID_TO).data()
    assert text.endswith("days left)")
    needed = table.fontMetrics().horizontalAdvance(text) + 16 + 6  # and the icon
    assert header.sectionSize(M.COL_VALID_TO) >= needed  # shown in full
    assert all(header.isSectionHidden(c) for c in M.OPTIONAL)
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.model.checked_ids()) == 6
    QApplication.processEvents()
    assert window.width() == 1024
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert window.minimumSizeHint().width() <= screen.width()


def test_the_selection_bars_hint_gives_up_its_width(qtbot, window):
    """It held the page (and so the window) at 381 px; now it is cut with "…"."""
    view = window.certificates
    label = view.checked_label
    assert view.selection_bar.minimumSizeHint().width() < 200
    label.resize(80, label.height())
    label.grab()  # painted: cut, with the whole text in its tooltip
    assert label.text() == NOTHING_CHECKED and label.toolTip() == NOTHING_CHECKED
    label.resize(label.sizeHint().width(), label.height())
    label.grab()
    assert label.toolTip() == ""


@pytest.mark.parametrize("points", [9, 10, 11])
def test_the_default_columns_fit_1024_pixels_at_a_desktops_font_size(
    qtbot, session, tmp_path, certs, points
):
    """A GTK desktop's Sans 10 (or 11) is larger than Qt's 9 pt: the columns still fit
    beside the sidebar, and Name keeps room for a real certificate's name."""
    soon, _ = certs.make_cert("Expiring Soon", days=12, start_days=-300)
    paths = [certs.write(tmp_path, "s.pem", certs.pem(soon))]
    many = [f"Build Agent Signing {n:02d}" for n in range(30)]  # the table scrolls down
    paths += cert_files(certs, tmp_path, many)
    certificate_import.import_files(session, paths)
    app = QApplication.instance()
    before = app.font()
    app.setFont(QFont(before.family(), points))
    try:
        win = MainWindow(session)
        qtbot.addWidget(win)
        win.show()
        win.resize(1024, 700)
        qtbot.waitUntil(lambda: win.width() == 1024)
        wait_rows(qtbot, win, 31)
        settle(qtbot)
        table = win.certificates.table
        header = table.horizontalHeader()
        qtbot.waitUntil(table.verticalScrollBar().isVisible)
        settle(qtbot)
        assert table.horizontalScrollBar().maximum() == 0, points
        assert header.length() <= table.viewport().width()
        if points <= 10:
            assert header.sectionSize(M.COL_NAME) >= 180
        soon_row = win.certificates.model.visible_row_of(stored("Expiring Soon").id)
        text = win.certificates.model.index(soon_row, M.COL_VALID_TO).data()
        needed = table.fontMetrics().horizontalAdvance(text) + 16 + 6  # and the icon
        assert header.sectionSize(M.COL_VALID_TO) >= needed
    finally:
        app.setFont(before)


def test_a_saved_window_larger_than_the_screen_is_fitted_to_it(qtbot, session, store_dir):
    screen = QGuiApplication.primaryScreen().availableGeometry()
    big = MainWindow(session)
    qtbot.addWidget(big)
    big.show()
    big.setGeometry(0, 0, screen.width() * 2, screen.height() * 2)
    assert big.width() > screen.width()
    big.close()  # saves the geometry, closes the session
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    win = MainWindow(again)
    qtbot.addWidget(win)
    win.show()
    assert screen.contains(win.frameGeometry())
    win.close()


class TallDialog(Dialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.resize(3000, 2500)  # a default made for a larger screen


def test_a_dialog_is_fitted_to_the_screen_with_or_without_a_saved_size(qtbot):
    screen = QGuiApplication.primaryScreen().availableGeometry()
    first = TallDialog()
    qtbot.addWidget(first)
    first.show()
    assert screen.contains(first.frameGeometry())
    first.setGeometry(-500, -500, 4000, 4000)
    first.hide()  # remembers that
    assert QSettings().value("dialogs/TallDialog/geometry") is not None
    second = TallDialog()
    qtbot.addWidget(second)
    second.show()
    assert screen.contains(second.frameGeometry())


def open_header_menu(qtbot, table):
    header = table.horizontalHeader()
    where = QPoint(header.sectionViewportPosition(M.COL_GROUPS) + 5, header.height() // 2)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, where, header.mapToGlobal(where))
    QApplication.sendEvent(header.viewport(), event)
    qtbot.waitUntil(lambda: table.columns_menu is not None and table.columns_menu.isVisible())
    return {a.text(): a for a in table.columns_menu.actions()}


def test_the_header_menu_shows_and_hides_columns_and_they_are_remembered(qtbot, window, store_dir):
    table = window.certificates.table
    header = table.horizontalHeader()
    entries = open_header_menu(qtbot, table)
    assert list(entries) == [t for t in M.HEADERS if t]
    assert not entries["Name"].isEnabled() and entries["Name"].isChecked()
    assert not entries["Serial"].isChecked() and entries["Policies"].isChecked()
    entries["Serial"].trigger()
    assert not header.isSectionHidden(M.COL_SERIAL)
    entries = open_header_menu(qtbot, table)
    entries["Policies"].trigger()
    assert header.isSectionHidden(M.COL_POLICIES)
    serial = window.certificates.model.index(0, M.COL_SERIAL).data()
    assert ":" in serial and serial == serial.upper()
    header.resizeSection(M.COL_GROUPS, 133)
    table.sortByColumn(M.COL_KEY, Qt.SortOrder.DescendingOrder)
    window.close()  # saves the header with the window
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    second = MainWindow(again)
    qtbot.addWidget(second)
    second.show()
    header = second.certificates.table.horizontalHeader()
    assert not header.isSectionHidden(M.COL_SERIAL) and header.isSectionHidden(M.COL_POLICIES)
    assert header.sectionSize(M.COL_GROUPS) == 133
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        M.COL_KEY,
        Qt.SortOrder.DescendingOrder,
    )
    second.close()


def test_the_name_column_takes_the_room_the_others_leave(qtbot, window):
    window.resize(1100, 700)
    table = window.certificates.table
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: header.length() == table.viewport().width())
    header.resizeSection(M.COL_GROUPS, header.sectionSize(M.COL_GROUPS) + 40)
    assert header.length() == table.viewport().width()  # Name gave the 40 pixels
    name = header.sectionSize(M.COL_NAME)
    for column in M.OPTIONAL:
        header.showSection(column)
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() > 0)  # then it scrolls
    assert name > header.sectionSize(M.COL_NAME)
    assert header.sectionSize(M.COL_NAME) >= table.fontMetrics().horizontalAdvance(NAME_SAMPLE)


# -- item 5: what the search hides leaves the checks ----------------------------------


def test_checked_rows_the_search_hides_are_unchecked_and_not_acted_on(qtbot, window):
    view = window.certificates
    for row in (0, 2, 3):  # Alpha, Charlie, Delta
        click_check(qtbot, window, row)
    assert checked_names(view) == ["Alpha", "Charlie", "Delta"]
    view.search.setText("ha")  # Alpha, Charlie
    wait_rows(qtbot, window, 2)
    assert checked_names(view) == ["Alpha", "Charlie"]
    assert view.checked_label.text() == "2 selected"
    view.actions.disable_checked.trigger()
    qtbot.waitUntil(lambda: not stored("Charlie").enabled)
    settle(qtbot)
    assert [stored(n).enabled for n in ("Alpha", "Charlie", "Delta")] == [False, False, True]
    view.search.clear()
    wait_rows(qtbot, window, len(NAMES) + 1)
    assert checked_names(view) == ["Alpha", "Charlie"]  # Delta stays unchecked


# -- item 7: the status bar ---------------------------------------------------------------


def test_the_status_bar_counts_after_a_delete_and_each_page_its_own(qtbot, window, session):
    certificate_groups.create_group(session, "Release")
    window.groups.reload()
    settle(qtbot)
    view = window.certificates
    view.search.setText("echo")
    wait_rows(qtbot, window, 1)
    assert window.count_label.text() == "1 of 6 certificates shown"
    table = view.table
    table.setCurrentIndex(view.model.index(0, M.COL_NAME))
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    answer(view.actions.confirmation, "Delete")
    qtbot.waitUntil(lambda: window.count_label.text() == "0 of 5 certificates shown")
    settle(qtbot)
    assert window.statusBar().currentMessage() == "Deleted 1 certificate."
    window.open_page("Certificate Groups")
    assert window.count_label.text() == "1 certificate group"
    window.open_page("Requests")
    assert window.count_label.text() == "0 pending requests"
    window.open_page("Certificates")
    view.search.clear()
    qtbot.waitUntil(lambda: window.count_label.text() == "5 certificates")


# -- item 11: the keyboard ----------------------------------------------------------------


def test_tab_and_shift_tab_leave_the_table(qtbot, window):
    active(qtbot, window)
    table = window.certificates.table
    table.setFocus()
    table.setCurrentIndex(window.certificates.model.index(2, M.COL_NAME))
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus() and table.currentIndex().row() == 2
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert not table.hasFocus() and table.currentIndex().column() == M.COL_NAME


def test_escape_clears_the_search_then_returns_to_the_table(qtbot, window):
    active(qtbot, window)
    view = window.certificates
    view.find_action.trigger()
    qtbot.waitUntil(view.search.hasFocus)
    qtbot.keyClicks(view.search, "alp")
    wait_rows(qtbot, window, 1)
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == "" and view.search.hasFocus()
    wait_rows(qtbot, window, len(NAMES) + 1)
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(view.table.hasFocus)


def test_escape_in_the_table_clears_the_checks(qtbot, window):
    table = window.certificates.table
    table.setCurrentIndex(window.certificates.model.index(0, M.COL_NAME))
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.certificates.model.checked_ids()) == 6
    qtbot.keyClick(table, Qt.Key.Key_Escape)
    assert window.certificates.model.checked_ids() == []


# -- item 15: one style of page buttons ---------------------------------------------------


def test_every_page_shows_its_actions_as_the_same_flat_tool_bar_buttons(qtbot, window):
    styles = set()
    for page in window.page_by_title.values():
        # A page's filter bar is a tool bar of fields, for its » in a narrow window.
        bars = [b for b in page.findChildren(QToolBar) if b.objectName() != "filterBar"]
        assert bars, page.title
        for bar in bars:
            styles.add((bar.toolButtonStyle(), bar.iconSize().width()))
            buttons = [b for b in bar.findChildren(QToolButton) if b.defaultAction()]
            assert buttons and all(b.autoRaise() for b in buttons), page.title
    assert styles == {(Qt.ToolButtonStyle.ToolButtonTextBesideIcon, 16)}
    view = window.certificates
    assert any(view.import_action in bar.actions() for bar in view.findChildren(QToolBar))
