"""The colours of the console: a complete dark palette, applied when the desktop says it
is in dark mode (Qt 6.5+ `styleHints().colorScheme()`, followed when it changes), and
check boxes, radio buttons and text fields whose edges read on either palette.

Fusion, the style Qt uses on Linux without a platform theme, does not switch to a dark
palette by itself, and it draws an indicator's or a field's frame from the window colour
(a little darker): on the dark palette that frame is the colour of the field itself
(~1.2:1 against the window), and on the light one it has about 2:1. `ConsoleStyle` gives
indicators an outline halfway between the text and the base colour instead, over 3:1
against both row colours, and line edits, combo boxes, spin boxes and text edits a frame
halfway between them, over 3:1 against the window.
"""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QProxyStyle, QStyle

R = QPalette.ColorRole
G = QPalette.ColorGroup

# Each role's colour when enabled (active and inactive) and when disabled.
DARK = {
    R.Window: ("#2b2b2b", "#2b2b2b"),
    R.WindowText: ("#e6e6e6", "#7f7f7f"),
    R.Base: ("#1f1f1f", "#262626"),
    R.AlternateBase: ("#2a2a2a", "#2a2a2a"),
    R.ToolTipBase: ("#3a3a3a", "#3a3a3a"),
    R.ToolTipText: ("#e6e6e6", "#9a9a9a"),
    R.PlaceholderText: ("#8c8c8c", "#5f5f5f"),
    R.Text: ("#e6e6e6", "#7f7f7f"),
    R.Button: ("#353535", "#2f2f2f"),
    R.ButtonText: ("#e6e6e6", "#7f7f7f"),
    R.BrightText: ("#ff7070", "#ff7070"),
    # The bevels Fusion draws: lighter above the button colour, darker below it.
    R.Light: ("#505050", "#3c3c3c"),
    R.Midlight: ("#404040", "#363636"),
    R.Mid: ("#2a2a2a", "#2a2a2a"),
    R.Dark: ("#202020", "#202020"),
    R.Shadow: ("#0f0f0f", "#0f0f0f"),
    R.Highlight: ("#3574b5", "#4a4a4a"),
    R.HighlightedText: ("#ffffff", "#bdbdbd"),
    R.Accent: ("#3574b5", "#4a4a4a"),
    R.Link: ("#6cb4ff", "#5a7a9a"),
    R.LinkVisited: ("#c59cff", "#7d6a9a"),
}

_INDICATORS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    QStyle.PrimitiveElement.PE_IndicatorRadioButton,
)
# A line edit's frame (its panel draws it, as an editable combo box does), and the frame
# of a text edit and of the other framed views.
_FIELDS = (
    QStyle.PrimitiveElement.PE_PanelLineEdit,
    QStyle.PrimitiveElement.PE_FrameLineEdit,
)
_FIELD_CONTROLS = (
    QStyle.ComplexControl.CC_ComboBox,
    QStyle.ComplexControl.CC_SpinBox,
)
# Enough for over 3:1 against Base and AlternateBase on either palette, and a radio
# button's thin antialiased circle.
OUTLINE_TOWARD_TEXT = 0.6
# Over 3:1 against the window on either palette (3.4 light, 3.7 dark). From the base
# colour, not the window's, which is what the style changes: a frame drawn inside a
# panel (a line edit's) comes out the same.
FRAME_TOWARD_TEXT = 0.5
# Fusion's indicator frame is window.darker(140).lighter(110); a field's is
# window.darker(140), and a text edit's (PE_Frame) window.darker(140).lighter(108).
_FUSION_FRAME = 110 / 140
_FUSION_FIELD_FRAME = 100 / 140
_FUSION_VIEW_FRAME = 108 / 140


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, (enabled, disabled) in DARK.items():
        for group in (G.Active, G.Inactive):
            palette.setColor(group, role, QColor(enabled))
        palette.setColor(G.Disabled, role, QColor(disabled))
    return palette


def is_dark(scheme: Qt.ColorScheme) -> bool:
    return scheme == Qt.ColorScheme.Dark


def apply_scheme(app: QGuiApplication, scheme: Qt.ColorScheme) -> None:
    """The dark palette for a dark scheme; otherwise the style's or platform's own."""
    app.setPalette(dark_palette() if is_dark(scheme) else QPalette())


def indicator_outline(palette: QPalette, group: G = G.Active) -> QColor:
    """Between the field and the text (OUTLINE_TOWARD_TEXT of the way): the frame of an
    unchecked box or radio button."""
    return _between(palette.color(group, R.Base), palette.color(group, R.Text), OUTLINE_TOWARD_TEXT)


def field_frame(palette: QPalette, group: G = G.Active) -> QColor:
    """Between the field and the text (FRAME_TOWARD_TEXT of the way): the frame of a line
    edit, combo box, spin box or text edit."""
    return _between(palette.color(group, R.Base), palette.color(group, R.Text), FRAME_TOWARD_TEXT)


def _between(start: QColor, end: QColor, fraction: float) -> QColor:
    return QColor(
        *(
            round(a + fraction * (b - a))
            for a, b in zip(start.getRgb()[:3], end.getRgb()[:3], strict=True)
        )
    )


class ConsoleStyle(QProxyStyle):
    """Fusion with indicator frames of `indicator_outline` and field frames of
    `field_frame`: it derives both from the window colour alone, so that colour is set,
    for the indicator or field only, to the one whose derived frame is the one wanted."""

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        # Called for every primitive of every painted cell: one look-up of module
        # constants (an enum member's attribute access is a Python call) settles most.
        framing = _FRAMINGS.get(element)
        if framing is not None and (element is not _PE_FRAME or isinstance(widget, _SCROLL_AREA)):
            option = _framed(option, *framing)
        super().drawPrimitive(element, option, painter, widget)

    def drawComplexControl(self, control, option, painter, widget=None) -> None:
        if control in _FIELD_CONTROLS:
            option = _framed(option, field_frame, _FUSION_FIELD_FRAME)
        super().drawComplexControl(control, option, painter, widget)


def _framed(option, frame, derived: float):
    """A copy of `option` whose window colour Fusion darkens (by `derived`) into `frame`."""
    option = type(option)(option)
    option.palette = _framing_palette(option.palette, frame, derived)
    return option


def _framing_palette(palette: QPalette, frame, derived: float) -> QPalette:
    """`palette` with the window colour `_framed` gives it, made once per palette: every
    painted check box of a table asks for the same one."""
    # The cache key names the colours, not the group a widget's state picked.
    key = (palette.cacheKey(), palette.currentColorGroup(), frame, derived)
    made = _FRAMING_PALETTES.get(key)
    if made is None:
        if len(_FRAMING_PALETTES) >= _FRAMING_PALETTES_KEPT:
            _FRAMING_PALETTES.clear()
        made = QPalette(palette)
        for group in (G.Active, G.Inactive, G.Disabled):
            made.setColor(group, R.Window, frame(palette, group).lighter(round(100 / derived)))
        # Keeps `palette` too, so that its cache key is not reused by another one.
        _FRAMING_PALETTES[key] = made, QPalette(palette)
        return made
    return made[0]


# Element -> (frame, how Fusion derives its frame from the window colour); PE_Frame only
# for a scroll area (a list's or a text's frame), not every panel (the selection bar).
_PE_FRAME = QStyle.PrimitiveElement.PE_Frame
_SCROLL_AREA = QAbstractScrollArea
_FRAMINGS = {
    **{element: (indicator_outline, _FUSION_FRAME) for element in _INDICATORS},
    **{element: (field_frame, _FUSION_FIELD_FRAME) for element in _FIELDS},
    _PE_FRAME: (field_frame, _FUSION_VIEW_FRAME),
}
_FRAMING_PALETTES: dict[tuple, tuple[QPalette, QPalette]] = {}
_FRAMING_PALETTES_KEPT = 64


def install(app: QApplication) -> None:
    """Fusion's indicators and field frames fixed, and the palette of the desktop's colour
    scheme, now and whenever it changes. Other styles (Windows, macOS) follow the scheme
    themselves."""
    if not isinstance(app.style(), ConsoleStyle):
        if app.style().name().lower() != "fusion":
            return
        app.setStyle(ConsoleStyle("Fusion"))
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme())
    if not app.property("certdeskFollowsScheme"):
        app.setProperty("certdeskFollowsScheme", True)
        hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme))
