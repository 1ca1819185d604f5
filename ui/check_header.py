"""A horizontal header with a tri-state checkbox in the first section: checks all rows shown."""

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QStyle, QStyleOptionButton


class CheckHeader(QHeaderView):
    """Clicking the checkbox section checks every visible row (or unchecks them when all
    are checked); sections the model cannot sort by ignore clicks altogether."""

    checkClicked = Signal()

    def __init__(self, check_section: int, unsortable: tuple[int, ...], parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._check_section = check_section
        self._unsortable = unsortable
        self.check_state = Qt.CheckState.Unchecked
        self.setSectionsClickable(True)

    def set_check_state(self, state: Qt.CheckState) -> None:
        if state != self.check_state:
            self.check_state = state
            self.viewport().update()

    def paintSection(self, painter, rect: QRect, logical_index: int) -> None:
        painter.save()
        super().paintSection(painter, rect, logical_index)
        painter.restore()
        if logical_index != self._check_section:
            return
        option = QStyleOptionButton()
        option.rect = self._box_rect(rect)
        option.state = (
            QStyle.StateFlag.State_Enabled
            | {
                Qt.CheckState.Checked: QStyle.StateFlag.State_On,
                Qt.CheckState.PartiallyChecked: QStyle.StateFlag.State_NoChange,
                Qt.CheckState.Unchecked: QStyle.StateFlag.State_Off,
            }[self.check_state]
        )
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorCheckBox, option, painter)

    def _box_rect(self, section: QRect) -> QRect:
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        return QRect(
            section.left() + (section.width() - size) // 2,
            section.top() + (section.height() - size) // 2,
            size,
            size,
        )

    def mousePressEvent(self, event) -> None:
        section = self.logicalIndexAt(event.position().toPoint())
        if section in self._unsortable:
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        section = self.logicalIndexAt(event.position().toPoint())
        if section == self._check_section and event.button() == Qt.MouseButton.LeftButton:
            self.checkClicked.emit()
            return
        if section in self._unsortable:
            return
        super().mouseReleaseEvent(event)
