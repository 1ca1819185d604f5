"""Light and dark palettes (issue 10, item 8): the desktop's dark mode is followed, an
unchecked box or radio button stands out from its field, and the blue icons stay
visible on a selected row."""

import pytest

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)

from app.services import certificates, lifecycle
from tests.helpers.stores import import_some
from ui import palette
from ui.certificates_model import CertificatesModel as M
from ui.certificates_table import CertificatesTable
from ui.icons import icon

R = QPalette.ColorRole
G = QPalette.ColorGroup
READABLE = 3.0  # WCAG's least contrast for the parts of a control and for icons


def contrast(first: QColor, second: QColor) -> float:
    """The WCAG contrast ratio of two colours, 1 to 21."""

    def luminance(color: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in (color.redF(), color.greenF(), color.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def strongest(image: QImage, rect: QRect, background: QColor) -> float:
    """The contrast of the pixel in `rect` that stands out most from `background`."""
    return max(
        contrast(image.pixelColor(x, y), background)
        for y in range(rect.top(), rect.bottom() + 1)
        for x in range(rect.left(), rect.right() + 1)
    )


@pytest.fixture
def console_style(qapp):
    """The application as create_application makes it (Fusion with ConsoleStyle); the
    style and palette of the other tests are put back afterwards."""
    qapp.setStyle("Fusion")
    palette.install(qapp)
    yield qapp
    qapp.setPalette(QPalette())
    qapp.setStyle("Fusion")


def light_and_dark(qapp) -> list[tuple[str, QPalette]]:
    return [("light", qapp.style().standardPalette()), ("dark", palette.dark_palette())]


def test_the_dark_palette_applies_when_the_scheme_is_dark(console_style):
    app = console_style
    light_window = app.palette().color(R.Window)
    palette.apply_scheme(app, Qt.ColorScheme.Dark)
    assert app.palette().color(R.Window) == QColor("#2b2b2b")
    assert app.palette().color(R.Text) == QColor("#e6e6e6")
    palette.apply_scheme(app, Qt.ColorScheme.Light)
    assert app.palette().color(R.Window) == light_window
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the desktop switched
    assert app.palette().color(R.Base) == QColor("#1f1f1f")
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Unknown)
    assert app.palette().color(R.Window) == light_window


def test_the_dark_palette_sets_every_role_in_every_group():
    dark = palette.dark_palette()
    roles = [r for r in R if r not in (R.NoRole, R.NColorRoles)]
    assert set(palette.DARK) == set(roles)
    for group in (G.Active, G.Inactive, G.Disabled):
        for role in roles:
            assert dark.isBrushSet(group, role), (group, role)
    for role in (R.Text, R.PlaceholderText, R.Link):
        assert contrast(dark.color(role), dark.color(R.Base)) >= 4.5, role
    assert contrast(dark.color(R.HighlightedText), dark.color(R.Highlight)) >= 4.5
    assert contrast(dark.color(G.Disabled, R.Text), dark.color(R.Window)) >= READABLE


@pytest.mark.parametrize(
    "element",
    [
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
    ],
)
def test_an_unchecked_indicator_stands_out_from_the_rows(console_style, element):
    style = console_style.style()
    for name, colours in light_and_dark(console_style):
        for field in (R.Base, R.AlternateBase):
            image = QImage(32, 32, QImage.Format.Format_ARGB32)
            image.fill(colours.color(field))
            option = QStyleOptionButton()
            option.rect, option.palette = QRect(8, 8, 16, 16), colours
            option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Off
            painter = QPainter(image)
            style.drawPrimitive(element, option, painter)
            painter.end()
            seen = strongest(image, QRect(6, 6, 20, 20), colours.color(field))
            assert seen >= READABLE, (name, field, seen)


def test_an_indicator_after_a_disabled_one_of_the_same_palette_is_drawn_enabled(console_style):
    """The frames are made once per palette: a disabled menu entry's (the columns
    menu's Name) must not make the enabled ones after it look disabled."""
    style = console_style.style()

    def drawn(colours: QPalette, state) -> QImage:
        image = QImage(32, 32, QImage.Format.Format_ARGB32)
        image.fill(colours.color(R.Base))
        option = QStyleOptionButton()
        option.rect, option.palette, option.state = QRect(8, 8, 16, 16), colours, state
        painter = QPainter(image)
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorCheckBox, option, painter)
        painter.end()
        return image

    def unseen(colours: QPalette, n: int) -> QPalette:
        """The same colours under a cache key no frame was made for yet."""
        fresh = QPalette(colours)
        fresh.setColor(G.Disabled, R.Link, QColor(n, n, n))  # no indicator uses it
        return fresh

    on = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_On
    for name, colours in light_and_dark(console_style):
        enabled = drawn(unseen(colours, 1), on)
        disabled = unseen(colours, 2)
        disabled.setCurrentColorGroup(G.Disabled)
        assert drawn(disabled, QStyle.StateFlag.State_On) != enabled
        after = QPalette(disabled)
        after.setCurrentColorGroup(G.Active)
        assert after.cacheKey() == disabled.cacheKey()
        assert drawn(after, on) == enabled, name


@pytest.mark.parametrize("field", [QLineEdit, QComboBox, QSpinBox, QPlainTextEdit])
def test_an_empty_fields_edge_stands_out_from_the_window(qtbot, console_style, field):
    """Fusion draws a field's frame from the window colour: ~1.2:1 on the dark palette."""
    for name, colours in light_and_dark(console_style):
        console_style.setPalette(colours)
        window = QWidget()
        qtbot.addWidget(window)
        focused, shown = QPushButton("Elsewhere"), field()
        layout = QVBoxLayout(window)
        layout.addWidget(focused)
        layout.addWidget(shown)
        window.resize(240, 160)
        window.show()
        focused.setFocus()  # a focused field's frame is the highlight colour
        qtbot.waitExposed(window)
        assert not shown.hasFocus()
        image = window.grab().toImage()
        box = shown.geometry()
        left_edge = QRect(box.left() - 1, box.center().y() - 2, 4, 4)
        top_edge = QRect(box.left() + 8, box.top() - 1, 4, 4)
        background = colours.color(R.Window)
        for edge in (left_edge, top_edge):
            assert strongest(image, edge, background) >= READABLE, (name, edge)


def test_the_tables_unchecked_boxes_and_the_wizards_radio_buttons_read(
    qtbot, console_style, session, tmp_path, certs
):
    import_some(session, tmp_path, certs, ["alpha", "bravo"])
    for name, colours in light_and_dark(console_style):
        console_style.setPalette(colours)
        model = M()
        model.set_rows(certificates.list_certificates(session))
        table = CertificatesTable(model)
        qtbot.addWidget(table)
        table.resize(600, 200)
        image = table.viewport().grab().toImage()
        cell = table.visualRect(model.index(0, M.COL_CHECK))
        assert strongest(image, cell, colours.color(R.Base)) >= READABLE, name

        radio = QRadioButton("Fields")
        qtbot.addWidget(radio)
        radio.resize(radio.sizeHint())
        image = radio.grab().toImage()
        indicator = radio.style().subElementRect(
            QStyle.SubElement.SE_RadioButtonIndicator, _radio_option(radio), radio
        )
        assert strongest(image, indicator, colours.color(R.Window)) >= READABLE, name


def _radio_option(radio: QRadioButton) -> QStyleOptionButton:
    option = QStyleOptionButton()
    option.initFrom(radio)
    option.text = radio.text()
    return option


@pytest.mark.parametrize("name", ["certificate", "owner", "disabled", "reason"])
def test_the_icons_of_the_highlights_hue_stand_out_on_a_selected_row(console_style, name):
    for scheme, colours in light_and_dark(console_style):
        for group in (G.Active, G.Inactive):
            highlight = colours.color(group, R.Highlight)
            shown = _main_colour(icon(name), QIcon.Mode.Selected)
            assert contrast(shown, highlight) >= READABLE, (scheme, group, shown.name())
        for field in (R.Base, R.AlternateBase):
            shown = _main_colour(icon(name), QIcon.Mode.Normal)
            assert contrast(shown, colours.color(field)) >= READABLE, (scheme, field)


def test_a_selected_rows_certificate_and_status_icons_are_drawn_apart_from_the_highlight(
    qtbot, console_style, session, tmp_path, certs
):
    ids = import_some(session, tmp_path, certs, ["alpha"])
    lifecycle.disable_certificates(session, [ids["alpha"]])  # its status icon is grey
    for scheme, colours in light_and_dark(console_style):
        console_style.setPalette(colours)
        model = M()
        model.set_rows(certificates.list_certificates(session))
        table = CertificatesTable(model)
        qtbot.addWidget(table)
        table.resize(600, 200)
        table.selectRow(0)
        image = table.viewport().grab().toImage()
        cell = table.visualRect(model.index(0, M.COL_NAME))
        icon_area = QRect(cell.left(), cell.top(), 24, cell.height())
        highlight = colours.color(G.Inactive, R.Highlight)  # the table has no focus here
        assert strongest(image, icon_area, highlight) >= READABLE, scheme
        status = table.visualRect(model.index(0, M.COL_STATUS))
        first_slot = QRect(status.left(), status.top(), 6 + 16, status.height())
        assert strongest(image, first_slot, highlight) >= READABLE, scheme


def _main_colour(shown: QIcon, mode: QIcon.Mode) -> QColor:
    """The colour most of the icon's opaque pixels have."""
    image = shown.pixmap(16, 16, mode).toImage()
    counts: dict[int, int] = {}
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() == 255:
                counts[pixel.rgb()] = counts.get(pixel.rgb(), 0) + 1
    return QColor.fromRgb(max(counts, key=counts.get))
