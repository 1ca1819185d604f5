"""Paints the Status column: four fixed icon slots (enabled, owner, PIN, reason)."""

from functools import cache

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate

from ui.certificates_model import CertificatesModel
from ui.icons import icon

ICON = 16
GAP = 4


class StatusDelegate(QStyledItemDelegate):
    WIDTH = GAP + 4 * (ICON + GAP)  # a gap, then four slots each followed by a gap

    def paint(self, painter, option, index) -> None:
        row = index.data(CertificatesModel.ROW_ROLE)
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        if row is None:
            return
        slots = (
            "enabled" if row.enabled else "disabled",
            "owner" if row.owner else None,
            "pin" if row.has_pin else None,
            "reason" if row.ask_reason else None,
        )
        top = option.rect.top() + (option.rect.height() - ICON) // 2
        left = option.rect.left() + GAP
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        mode = QIcon.Mode.Selected if selected else QIcon.Mode.Normal
        ratio = painter.device().devicePixelRatioF()
        for name in slots:
            if name:
                painter.drawPixmap(QRect(left, top, ICON, ICON), _pixmap(name, mode, ratio))
            left += ICON + GAP

    def sizeHint(self, option, index) -> QSize:
        return QSize(self.WIDTH, ICON + 8)


@cache
def _pixmap(name: str, mode: QIcon.Mode, ratio: float) -> QPixmap:
    """What `QIcon.paint` draws in a slot, rendered once: up to four slots of every
    painted row would otherwise each look the icon's pixmap up again."""
    return icon(name).pixmap(QSize(ICON, ICON), ratio, mode)
