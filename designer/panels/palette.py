"""The layer palette: every layer type of the engine, grouped, searchable and draggable.

The list is built from `core.spec.LAYER_SCHEMAS`, so a layer added to the engine shows up
here without touching the designer.  Dragging an item starts a QDrag whose MIME type is
`application/x-ann-layer` (data: the type name) which the canvas turns into a node where
it is dropped; double-clicking asks the main window to add the layer after the selection.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QMimeData, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QDrag, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.panels.layer_icons import layer_icon, layer_pixmap
from designer.presentation import secondary_font

LAYER_MIME = "application/x-ann-layer"
NEURON = "Neuron"
GROUP_ORDER = ("Core", "Convolution", "Pooling", "Merge", "Shape", "Regularization")
NEURON_DESCRIPTION = "One more unit: drop it on a Dense layer (or double-click)."
NEURON_TOOLTIP = "y = f(w · x + b)\nDrop on a Dense layer to add one neuron to it."

TYPE_ROLE = Qt.ItemDataRole.UserRole
DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1
GROUP_ROLE = Qt.ItemDataRole.UserRole + 2


def palette_entries(schemas: Mapping) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(group, [(type, description, tooltip), ...]), ...] in the order shown.

    Groups follow GROUP_ORDER (unknown groups after them); the Neuron item follows Dense.
    """
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for type_name, schema in schemas.items():
        group = getattr(schema, "group", "Other") or "Other"
        description = getattr(schema, "description", "") or ""
        formula = getattr(schema, "formula", "") or ""
        tooltip = f"{type_name}: {description}" + (f"\n\n{formula}" if formula else "")
        groups.setdefault(group, []).append((type_name, description, tooltip))
        if type_name == "Dense":
            groups[group].append((NEURON, NEURON_DESCRIPTION, NEURON_TOOLTIP))
    order = [g for g in GROUP_ORDER if g in groups] + sorted(set(groups) - set(GROUP_ORDER))
    return [(group, groups[group]) for group in order]


class _EntryDelegate(QStyledItemDelegate):
    """Paints a layer as icon + bold name + muted one-line description (groups as headers)."""

    ICON = 36
    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        metrics = QFontMetrics(option.font)
        if index.data(TYPE_ROLE) is None:
            return QSize(200, metrics.height() + 2 * self.PAD)
        return QSize(200, max(self.ICON, 2 * metrics.height() + 4) + 2 * self.PAD)

    @staticmethod
    def description_font(font: QFont) -> QFont:
        """The description's font: a little smaller than the name's, never below 18 px
        in presentation mode."""
        return secondary_font(font, 0.88)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        type_name = index.data(TYPE_ROLE)
        if type_name is None:
            font = QFont(option.font)
            font.setBold(True)
            painter.save()
            painter.setFont(font)
            painter.setPen(option.palette.color(QPalette.ColorRole.WindowText))
            rect = option.rect.adjusted(2, 0, 0, 0)
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter, index.data())
            painter.restore()
            return
        self._paint_entry(painter, option, index, type_name)

    def _paint_entry(self, painter: QPainter, option: QStyleOptionViewItem,
                     index: QModelIndex, type_name: str) -> None:
        style = option.widget.style() if option.widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = type(opt.icon)()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole
        text_color = option.palette.color(role.HighlightedText if selected else role.Text)
        muted = option.palette.color(role.HighlightedText if selected else role.PlaceholderText)
        rect = option.rect
        icon_rect = QRect(rect.left() + self.PAD, rect.center().y() - self.ICON // 2,
                          self.ICON, self.ICON)
        painter.save()
        painter.drawPixmap(icon_rect, layer_pixmap(type_name, index.data(GROUP_ROLE),
                                                   self.ICON * 2))
        left = icon_rect.right() + self.PAD + 2
        text_rect = QRect(left, rect.top() + self.PAD, rect.right() - left - self.PAD,
                          rect.height() - 2 * self.PAD)
        name_font = QFont(option.font)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(text_color)
        half = text_rect.height() // 2
        painter.drawText(text_rect.adjusted(0, 0, 0, -half),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, type_name)
        small = self.description_font(option.font)
        painter.setFont(small)
        painter.setPen(muted)
        description = QFontMetrics(small).elidedText(
            index.data(DESCRIPTION_ROLE) or "", Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect.adjusted(0, half + 1, 0, 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, description)
        painter.restore()


class PaletteTree(QTreeWidget):
    """The tree of groups and layers; dragging a layer carries its type name."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(6)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegate(_EntryDelegate(self))
        self.setMouseTracking(True)
        self.setUniformRowHeights(False)

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        """The dragged layer as `application/x-ann-layer` plus plain text for other apps."""
        mime = QMimeData()
        type_name = items[0].data(0, TYPE_ROLE) if items else None
        if type_name:
            mime.setData(LAYER_MIME, type_name.encode("utf-8"))
            mime.setText(type_name)
        return mime

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802
        """Drag the current layer with its icon under the cursor."""
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item is not None else None
        if not type_name:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        pixmap = layer_pixmap(type_name, item.data(0, GROUP_ROLE), 48)
        drag.setPixmap(pixmap)
        drag.setHotSpot(pixmap.rect().center())
        drag.exec(Qt.DropAction.CopyAction)


class LayerPalette(QWidget):
    """Search box over the grouped layer list.

    `layerActivated(type_name)` fires on double-click or Enter; the main window adds the
    layer after the selected node (or, for "Neuron", one unit to the selected Dense layer).
    """

    layerActivated = Signal(str)

    def __init__(self, schemas: Mapping | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if schemas is None:
            from core.spec import LAYER_SCHEMAS
            schemas = LAYER_SCHEMAS
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.tree = PaletteTree(self)
        self.tree.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate(schemas)

    def _populate(self, schemas: Mapping) -> None:
        for group, entries in palette_entries(schemas):
            header = QTreeWidgetItem(self.tree, [group])
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setData(0, GROUP_ROLE, group)
            for type_name, description, tooltip in entries:
                item = QTreeWidgetItem(header, [type_name])
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                item.setData(0, TYPE_ROLE, type_name)
                item.setData(0, DESCRIPTION_ROLE, description)
                item.setData(0, GROUP_ROLE, group)
                item.setIcon(0, layer_icon(type_name, group))
                item.setToolTip(0, tooltip)
            header.setExpanded(True)

    def names_width(self) -> int:
        """The width this panel needs to show every layer name in full (with the current
        font: presentation mode's is larger), so the dock is never narrower by default."""
        bold = QFont(self.tree.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        longest = max((metrics.horizontalAdvance(item.text(0)) for item in self.items()),
                      default=0)
        delegate = _EntryDelegate
        bar = self.tree.verticalScrollBar().sizeHint().width()
        margins = self.layout().contentsMargins()
        return (longest + delegate.ICON + 3 * delegate.PAD + 4 + self.tree.indentation()
                + bar + 2 * self.tree.frameWidth() + margins.left() + margins.right())

    def items(self) -> list[QTreeWidgetItem]:
        """Every layer item (not the group headers), in display order."""
        found = []
        for g in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(g)
            found.extend(header.child(i) for i in range(header.childCount()))
        return found

    def visible_types(self) -> list[str]:
        """The type names the current filter leaves visible."""
        return [item.data(0, TYPE_ROLE) for item in self.items() if not item.isHidden()]

    def set_filter(self, text: str) -> None:
        """Show the layers whose name, description or group contains every typed word."""
        words = text.lower().split()
        for g in range(self.tree.topLevelItemCount()):
            header = self.tree.topLevelItem(g)
            shown = 0
            for i in range(header.childCount()):
                item = header.child(i)
                haystack = " ".join((item.data(0, TYPE_ROLE), item.data(0, DESCRIPTION_ROLE),
                                     header.text(0), item.toolTip(0))).lower()
                hidden = not all(word in haystack for word in words)
                item.setHidden(hidden)
                shown += not hidden
            header.setHidden(shown == 0)
        if self.search.text() != text:
            self.search.setText(text)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layerActivated.emit(type_name)
