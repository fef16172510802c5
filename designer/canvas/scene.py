"""The canvas scene: a mirror of the document, built and updated from its signals.

The scene never stores anything the file needs and never reads the network back from its
items. User gestures (port drags, card drags, +/- buttons, weight edits) become calls to
the editor's public edits; refusals come back through ``editor.refused`` and are
re-emitted as ``statusMessage`` for the status bar. Weights and neuron maps shown in the
neuron view come from the session (trained, live or fresh ones).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsProxyWidget,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QLineEdit,
)

from designer.canvas import neuron_view
from designer.canvas.edge_item import EdgeItem, HitBand
from designer.canvas.node_item import NodeItem, format_shape
from designer.canvas.style import CanvasStyle
from designer.model.document import Document, layer_group
from designer.session import Session

SCENE_MARGIN = 4000.0
DRAG_Z = 50.0
EDITOR_Z = 100.0
#: A hovered neuron's map is this many neuron-size units wide (about 10x a small map).
ENLARGED_MAP = 16.0


class WeightEditor(QLineEdit):
    """The little field that opens on a clicked weight; Enter applies, Escape cancels."""

    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


class CanvasScene(QGraphicsScene):
    """Cards and edges of the open document, kept in step with it."""

    statusMessage = Signal(str)
    nodesSelected = Signal(list)
    nodeActivated = Signal(str)

    def __init__(self, session: Session, style: CanvasStyle | None = None,
                 parent: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.document: Document = session.document
        self.editor = session.editor
        self.style = style or CanvasStyle.light()
        self.snap_to_grid = False
        self._syncing = False
        self._neuron_view = False
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[tuple[str, str], EdgeItem] = {}
        self._weights: dict[tuple[str, str], neuron_view.WeightLinesItem] = {}
        self._images: dict[str, list[QImage]] | None = None
        self._zoom = 1.0
        self._drag: tuple[NodeItem, str] | None = None
        self._drag_line: QGraphicsPathItem | None = None
        self._hint_target: NodeItem | None = None
        self._editor_proxy: QGraphicsProxyWidget | None = None
        self.enlarged_map: QGraphicsPixmapItem | None = None  # a hovered neuron's map
        self._enlarged_key: tuple[str, int] | None = None
        self.weight_editor: WeightEditor | None = None
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBackgroundBrush(self.style.color("background"))
        self._connect(session)
        self.selectionChanged.connect(self._emit_selection)
        self.rebuild()

    def _connect(self, session: Session) -> None:
        doc = session.document
        doc.nodeAdded.connect(self._on_node_added)
        doc.nodeRemoved.connect(self._on_node_removed)
        doc.nodeChanged.connect(self._on_node_changed)
        doc.nodeRenamed.connect(self._on_node_renamed)
        doc.nodeMoved.connect(self._on_node_moved)
        doc.edgeAdded.connect(self._on_edge_added)
        doc.edgeRemoved.connect(self._on_edge_removed)
        doc.problemsChanged.connect(self._sync_derived)
        doc.projectReplaced.connect(self.rebuild)
        session.weightsChanged.connect(self._refresh_weights)
        session.neuronMapsChanged.connect(self._on_maps_changed)
        session.editor.refused.connect(self.statusMessage)

    # ------------------------------------------------------------------ read access
    def node_item(self, node_id: str) -> NodeItem | None:
        return self._nodes.get(node_id)

    def edge_item(self, src: str, dst: str) -> EdgeItem | None:
        return self._edges.get((src, dst))

    def weight_item(self, src: str, dst: str) -> neuron_view.WeightLinesItem | None:
        return self._weights.get((src, dst))

    def node_items(self) -> list[NodeItem]:
        return list(self._nodes.values())

    def edge_items(self) -> list[EdgeItem]:
        return list(self._edges.values())

    @property
    def snap_active(self) -> bool:
        """Snap only user drags, never positions coming from the document."""
        return self.snap_to_grid and not self._syncing

    @property
    def neuron_view(self) -> bool:
        return self._neuron_view

    # ------------------------------------------------------------------ mirroring
    def rebuild(self) -> None:
        """Drop every item and build the mirror of the document from scratch."""
        self.close_weight_editor()
        self.cancel_edge_drag()
        for item in list(self._weights.values()) + list(self._edges.values()):
            item.detach()
        self.clear()
        self._nodes.clear()
        self._edges.clear()
        self._weights.clear()
        self._images = None
        for node_id in self.document.node_ids():
            self._on_node_added(node_id)
        for src, dst in self.document.edges():
            self._on_edge_added(src, dst)
        self._sync_derived()

    def _on_node_added(self, node_id: str) -> None:
        doc = self.document
        item = NodeItem(doc.node(node_id), self.style, layer_group(doc.node_type(node_id)))
        self.addItem(item)
        self._set_pos(item, doc.position(node_id))
        self._nodes[node_id] = item
        self._grow_rect(item)

    def _on_node_removed(self, node_id: str) -> None:
        item = self._nodes.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_changed(self, node_id: str) -> None:
        item = self._nodes.get(node_id)
        if item is not None:
            item.set_node(self.document.node(node_id),
                          layer_group(self.document.node_type(node_id)))

    def _on_node_renamed(self, old: str, new: str) -> None:
        """Re-key the card and its edges in place: position and selection stay as they are
        (the inspector follows ``nodeRenamed`` itself, so no selection signal is sent)."""
        item = self._nodes.pop(old, None)
        if item is None:
            return
        self._nodes[new] = item
        item.set_node(self.document.node(new), layer_group(self.document.node_type(new)))

        def rekey(key: tuple[str, str]) -> tuple[str, str]:
            return (new if key[0] == old else key[0], new if key[1] == old else key[1])

        self._edges = {rekey(k): e for k, e in self._edges.items()}
        self._weights = {rekey(k): w for k, w in self._weights.items()}
        self._images = None
        for edge in item.edges:
            if isinstance(edge, EdgeItem):
                edge.update_path()  # its tooltip names both ends

    def _on_node_moved(self, node_id: str) -> None:
        item = self._nodes.get(node_id)
        if item is not None:
            self._set_pos(item, self.document.position(node_id))
            self._grow_rect(item)

    def _set_pos(self, item: NodeItem, pos: tuple[float, float]) -> None:
        self._syncing = True
        try:
            item.setPos(self.to_scene_pos(pos))
        finally:
            self._syncing = False

    def to_scene_pos(self, pos: tuple[float, float]) -> QPointF:
        """Where a layout position is drawn (presentation mode spreads the cards out)."""
        scale = self.style.position_scale
        return QPointF(pos[0] * scale, pos[1] * scale)

    def to_layout_pos(self, point: QPointF) -> tuple[float, float]:
        """The layout position (document units) of a scene point."""
        scale = self.style.position_scale
        return (round(point.x() / scale, 2), round(point.y() / scale, 2))

    def _on_edge_added(self, src: str, dst: str) -> None:
        a, b = self._nodes.get(src), self._nodes.get(dst)
        if a is None or b is None or (src, dst) in self._edges:
            return
        edge = EdgeItem(a, b, self.style)
        edge.set_detail(self._zoom)
        edge.set_label(_edge_label(self.document.shape(src)))
        self.addItem(edge)
        self._edges[(src, dst)] = edge

    def _on_edge_removed(self, src: str, dst: str) -> None:
        lines = self._weights.pop((src, dst), None)
        if lines is not None:
            lines.detach()
            self.removeItem(lines)
        edge = self._edges.pop((src, dst), None)
        if edge is not None:
            edge.detach()
            self.removeItem(edge)

    def _sync_derived(self) -> None:
        """After each validation: shapes, counts, badges, neuron columns, edge labels."""
        doc = self.document
        by_node: dict[str, list[Any]] = defaultdict(list)
        for problem in doc.problems:
            for node_id in problem.node_ids:
                by_node[node_id].append(problem)
        counts = doc.param_counts
        for node_id, item in self._nodes.items():
            neurons = neuron_view.neuron_count(doc, node_id) if self._neuron_view else None
            item.set_derived(doc.shape(node_id), counts.get(node_id), by_node.get(node_id, []),
                             neurons)
        order: dict[str, list[str]] = defaultdict(list)
        for src, dst in doc.edges():
            order[dst].append(src)
        for (src, dst), edge in self._edges.items():
            label = _edge_label(doc.shape(src))
            inputs = order.get(dst, [])
            if len(inputs) > 1 and doc.node_type(dst) == "Concatenate" and src in inputs:
                label = f"{inputs.index(src) + 1}: {label}"  # the input order matters
            edge.set_label(label)
        self._sync_weight_items()

    def _grow_rect(self, item: QGraphicsItem) -> None:
        """Keep a generous scene rect so the view can always scroll past the cards."""
        rect = self.sceneRect()
        wanted = item.sceneBoundingRect().adjusted(-SCENE_MARGIN, -SCENE_MARGIN,
                                                   SCENE_MARGIN, SCENE_MARGIN)
        if not rect.contains(wanted):
            self.setSceneRect(rect.united(wanted))

    # ------------------------------------------------------------------ neuron view
    def set_neuron_view(self, on: bool) -> None:
        """Draw small Dense layers and inputs as neuron columns with their weights."""
        self._neuron_view = bool(on)
        self._sync_derived()
        for item in self._nodes.values():  # neuron columns are taller than cards
            self._grow_rect(item)

    def _sync_weight_items(self) -> None:
        for key, edge in self._edges.items():
            src, dst = self._nodes[key[0]], self._nodes[key[1]]
            wanted = (self._neuron_view and src.neurons is not None and dst.neurons is not None
                      and dst.node.get("type") == "Dense")
            lines = self._weights.get(key)
            if wanted and lines is None:
                lines = neuron_view.WeightLinesItem(self, src, dst)
                self.addItem(lines)
                self._weights[key] = lines
            elif not wanted and lines is not None:
                lines.detach()
                self.removeItem(lines)
                del self._weights[key]
            elif lines is not None:
                lines.refresh()
            edge.setVisible(not wanted)

    def _refresh_weights(self) -> None:
        for lines in self._weights.values():
            lines.refresh()

    def _on_maps_changed(self) -> None:
        self._images = None
        if self._enlarged_key is not None:  # the hovered neuron's map follows training
            self.show_neuron_map(*self._enlarged_key)
        if self._neuron_view:
            for item in self._nodes.values():
                if item.neurons is not None:
                    item.refresh_maps()

    def neuron_images(self, node_id: str) -> list[QImage] | None:
        """Heat-map images of a layer's neurons from ``session.neuron_maps`` (cached)."""
        if self._images is None:
            self._images = {}
            for key, maps in self.session.neuron_maps.items():
                if getattr(maps, "ndim", 0) == 3 and maps.shape[0] <= neuron_view.MAX_NEURONS:
                    self._images[key] = [neuron_view.diverging_image(m, self.style)
                                         for m in maps]
        return self._images.get(node_id)

    def show_neuron_map(self, node_id: str, index: int | None) -> None:
        """Hovering a neuron shows its map enlarged beside it (None hides it), as in the
        Playground; the picture follows training until the mouse leaves."""
        self._enlarged_key = None if index is None else (node_id, index)
        item = self._nodes.get(node_id)
        images = self.neuron_images(node_id) if index is not None else None
        if item is None or not images or index is None or index >= len(images):
            if self.enlarged_map is not None:
                self.enlarged_map.hide()
            return
        if self.enlarged_map is None:
            self.enlarged_map = QGraphicsPixmapItem()
            self.enlarged_map.setZValue(EDITOR_Z)
            self.enlarged_map.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(self.enlarged_map)
        size = int(ENLARGED_MAP * self.style.neuron_size)
        pixmap = QPixmap.fromImage(images[index]).scaled(
            size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        center = item.neuron_center(index)
        self.enlarged_map.setPixmap(pixmap)
        self.enlarged_map.setPos(center.x() + item.neuron_radius() * 1.5, center.y() - size / 2)
        self.enlarged_map.show()

    def change_units(self, node_id: str, delta: int) -> None:
        """The +/- buttons of a neuron column."""
        self.editor.change_units(node_id, delta)

    def open_weight_editor(self, lines: neuron_view.WeightLinesItem, i: int, j: int,
                           pos: QPointF) -> WeightEditor:
        """Open a field on the clicked weight; Enter turns the value into a SetWeight."""
        self.close_weight_editor()
        editor = WeightEditor(f"{lines.weight(i, j):.6g}")
        editor.setFixedWidth(int(self.style.font_size * 10))
        editor.setToolTip(lines.describe(i, j))
        editor.selectAll()
        proxy = self.addWidget(editor)
        proxy.setZValue(EDITOR_Z)
        proxy.setPos(pos)
        editor.returnPressed.connect(lambda: self._commit_weight(lines.dst.node_id, i, j))
        editor.cancelled.connect(lambda: QTimer.singleShot(0, self.close_weight_editor))
        editor.editingFinished.connect(  # clicking elsewhere closes it without a change
            lambda: QTimer.singleShot(0, self.close_weight_editor))
        editor.setFocus()
        self._editor_proxy, self.weight_editor = proxy, editor
        return editor

    def _commit_weight(self, node_id: str, i: int, j: int) -> None:
        editor = self.weight_editor
        if editor is None:
            return
        text = editor.text().strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            self.statusMessage.emit(f"{text!r} is not a number: type a weight such as -0.25.")
            return
        self.editor.set_weight(node_id, "kernel", (i, j), value)
        QTimer.singleShot(0, self.close_weight_editor)

    def close_weight_editor(self) -> None:
        proxy, self._editor_proxy, self.weight_editor = self._editor_proxy, None, None
        if proxy is not None and proxy.scene() is self:
            self.removeItem(proxy)
            proxy.deleteLater()

    # ------------------------------------------------------------------ style
    def set_style(self, style: CanvasStyle) -> None:
        """Switch theme (light, dark, presentation): every item repaints with it."""
        self.style = style
        self._images = None
        self.setBackgroundBrush(style.color("background"))
        for node_id, item in self._nodes.items():
            item.set_style(style)
            self._set_pos(item, self.document.position(node_id))
            self._grow_rect(item)
        for edge in self._edges.values():
            edge.set_style(style)
        self._refresh_weights()
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)
        self.update()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        """A subtle grid: minor lines when zoomed in, major lines every five cells."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # axis-aligned lines
        painter.fillRect(rect, self.style.color("background"))
        zoom = painter.worldTransform().m11()
        grid = float(self.style.grid_size)
        for step, color, min_px in ((grid, "grid_minor", 7.0), (grid * 5, "grid_major", 10.0)):
            if step * zoom < min_px:
                continue
            painter.setPen(QPen(self.style.color(color), 0))
            left = int(rect.left() // step) * step
            top = int(rect.top() // step) * step
            lines = [QLineF(x, rect.top(), x, rect.bottom())
                     for x in _frange(left, rect.right(), step)]
            lines += [QLineF(rect.left(), y, rect.right(), y)
                      for y in _frange(top, rect.bottom(), step)]
            painter.drawLines(lines)

    # ------------------------------------------------------------------ selection
    def selected_node_ids(self) -> list[str]:
        """Selected cards in spec order."""
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.document.node_ids() if n in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        """Edges picked by clicking them (the scene, not Qt, keeps edge selection)."""
        return [key for key, edge in self._edges.items() if edge.is_selected_edge()]

    def select_edge(self, edge: EdgeItem, additive: bool = False) -> None:
        """Select an edge (Ctrl toggles it into the selection)."""
        if additive:
            edge.set_selected_edge(not edge.is_selected_edge())
            return
        self.clearSelection()
        self.clear_edge_selection()
        edge.set_selected_edge(True)

    def clear_edge_selection(self) -> None:
        for edge in self._edges.values():
            edge.set_selected_edge(False)

    def set_detail(self, zoom: float) -> None:
        """Level of detail after a zoom: edges drop labels and arrows when far out."""
        self._zoom = zoom
        for edge in self._edges.values():
            edge.set_detail(zoom)

    def select_nodes(self, ids: list[str]) -> None:
        """Select exactly these cards (e.g. from the Problems dock)."""
        wanted = set(ids)
        self.clear_edge_selection()
        self.blockSignals(True)
        try:
            self.clearSelection()
            for node_id in wanted:
                item = self._nodes.get(node_id)
                if item is not None:
                    item.setSelected(True)
        finally:
            self.blockSignals(False)
        self._emit_selection()

    def _emit_selection(self) -> None:
        self.nodesSelected.emit(self.selected_node_ids())

    def node_heights(self) -> dict[str, float]:
        """Card heights in layout units (for the automatic layout)."""
        scale = self.style.position_scale
        return {node_id: item.card_rect().height() / scale
                for node_id, item in self._nodes.items()}

    # ------------------------------------------------------------------ edge drag
    @property
    def edge_drag_active(self) -> bool:
        return self._drag is not None

    def begin_edge_drag(self, item: NodeItem, side: str, pos: QPointF) -> None:
        """Start drawing a connection from one of ``item``'s ports."""
        self.cancel_edge_drag()
        self._drag = (item, side)
        line = QGraphicsPathItem()
        pen = QPen(self.style.color("port_hover"), self.style.line_width * 1.3,
                   Qt.PenStyle.DashLine)
        line.setPen(pen)
        line.setZValue(DRAG_Z)
        self.addItem(line)
        self._drag_line = line
        self.update_edge_drag(pos)

    def update_edge_drag(self, pos: QPointF) -> None:
        if self._drag is None or self._drag_line is None:
            return
        item, side = self._drag
        start = item.port_scene_pos(side)
        a, b = (start, pos) if side == "out" else (pos, start)
        bend = max(40.0, abs(b.x() - a.x()) * 0.5)
        path = QPainterPath(a)
        path.cubicTo(a + QPointF(bend, 0), b - QPointF(bend, 0), b)
        self._drag_line.setPath(path)
        self._hint(self._node_at(pos, exclude=item))

    def _hint(self, target: NodeItem | None) -> None:
        """Mark the card under the cursor green or red, and say why red in the status bar."""
        if target is self._hint_target:
            return
        if self._hint_target is not None and self._hint_target.scene() is self:
            self._hint_target.set_drop_hint(None)
        self._hint_target = target
        if target is None or self._drag is None:
            return
        origin, side = self._drag
        src, dst = ((origin.node_id, target.node_id) if side == "out"
                    else (target.node_id, origin.node_id))
        reason = self.editor.edge_refusal(src, dst)
        target.set_drop_hint("in" if side == "out" else "out", reason is None)
        if reason:
            self.statusMessage.emit(reason)

    def finish_edge_drag(self, pos: QPointF) -> str | None:
        """Connect to the card under ``pos``; returns the refusal reason, if any."""
        if self._drag is None:
            return None
        origin, side = self._drag
        self.cancel_edge_drag()
        target = self._node_at(pos, exclude=origin)
        if target is None:
            return None
        if side == "out":
            return self.editor.connect(origin.node_id, target.node_id)
        return self.editor.connect(target.node_id, origin.node_id)

    def cancel_edge_drag(self) -> None:
        self._hint(None)
        self._drag = None
        if self._drag_line is not None:
            self.removeItem(self._drag_line)
            self._drag_line = None

    def _node_at(self, pos: QPointF, exclude: NodeItem | None = None) -> NodeItem | None:
        """The card under ``pos``, generous around ports so near-misses still connect."""
        for item in self.items(QRectF(pos.x() - 6, pos.y() - 6, 12, 12)):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if item is not None and item is not exclude:
                return item
        return None

    def node_at(self, pos: QPointF) -> NodeItem | None:
        return self._node_at(pos)

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The edge whose clickable band is under ``pos``, if any."""
        for item in self.items(pos):
            if isinstance(item, HitBand):
                return item.edge
            if isinstance(item, EdgeItem):
                return item
        return None

    # ------------------------------------------------------------------ moves
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """A click anywhere but on an edge drops the edge selection (Ctrl keeps it)."""
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        hit = next(iter(self.items(event.scenePos())), None)
        if not ctrl and not isinstance(hit, (EdgeItem, HitBand)):
            self.clear_edge_selection()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """A whole card drag becomes one MoveNodes command, on release."""
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.commit_moves()

    def commit_moves(self) -> None:
        doc = self.document
        moved = {}
        for item in self.selectedItems():
            if isinstance(item, NodeItem) and doc.has_node(item.node_id):
                pos = self.to_layout_pos(item.pos())
                if pos != doc.position(item.node_id):
                    moved[item.node_id] = pos
        if moved:
            self.editor.move_nodes(moved)


def _edge_label(shape: Any) -> str:
    """An edge's label: the shape it carries, nothing while that shape is unknown."""
    return "" if shape is None else format_shape(shape)


def _frange(start: float, stop: float, step: float) -> list[float]:
    count = int((stop - start) / step) + 2
    return [start + k * step for k in range(max(count, 0))]

