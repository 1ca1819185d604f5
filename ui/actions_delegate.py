"""Paints the ⋯ button of each row's last column: one delegate, no widget per row
(`setIndexWidget` on 100,000 rows would take seconds and much memory)."""

from PySide6.QtCore import QEvent, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionToolButton

BUTTON = 24


class ActionsDelegate(QStyledItemDelegate):
    WIDTH = BUTTON + 8

    clicked = Signal(QModelIndex, QRect)  # the row, and the button's rect in the viewport

    def paint(self, painter, option, index) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        rect = self.button_rect(option.rect)
        if option.state & QStyle.StateFlag.State_MouseOver:
            button = QStyleOptionToolButton()
            button.rect = rect
            button.text = "⋯"
            button.toolButtonStyle = Qt.ToolButtonStyle.ToolButtonTextOnly
            button.state = (
                QStyle.StateFlag.State_Enabled
                | QStyle.StateFlag.State_MouseOver
                | QStyle.StateFlag.State_Raised
            )
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelButtonTool, button, painter, option.widget
            )
        painter.save()
        painter.setPen(option.palette.text().color())
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "⋯")
        painter.restore()

    @staticmethod
    def button_rect(cell: QRect) -> QRect:
        size = min(BUTTON, cell.height() - 2)
        return QRect(
            cell.left() + (cell.width() - size) // 2,
            cell.top() + (cell.height() - size) // 2,
            size,
            size,
        )

    def editorEvent(self, event, model, option, index) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and event.button() == Qt.MouseButton.LeftButton
            and option.rect.contains(event.position().toPoint())
        ):
            self.clicked.emit(index, self.button_rect(option.rect))
            return True
        return False

    def sizeHint(self, option, index) -> QSize:
        return QSize(self.WIDTH, BUTTON)
