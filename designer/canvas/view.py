"""The canvas widget: zoom, pan, rubber band, drops from the palette, clipboard.

Interactions (see docs/canvas.md): the wheel zooms around the cursor, the middle
button or space+drag pans, dragging on empty canvas draws a rubber band, layers dropped
from the palette (MIME ``application/x-ann-layer``) appear where they are dropped, and a
"Neuron" dropped on a Dense layer adds a unit. The shell's menu actions call the public
methods (``copy``, ``paste``, ``fit_to_view``, ...); the same keys work without menus.
"""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from designer.canvas.scene import CanvasScene
from designer.editor import Editor
from designer.model.document import Document
from designer.session import Session

LAYER_MIME = "application/x-ann-layer"
FRAGMENT_MIME = "application/x-ann-fragment"  # same as designer/clipboard.py
NEURON = "Neuron"
MAX_CLIPBOARD_BYTES = 5_000_000
MIN_ZOOM, MAX_ZOOM = 0.08, 4.0
PASTE_STEP = 40.0
ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1),
          Qt.Key.Key_Down: (0, 1)}


class CanvasView(QGraphicsView):
    """The designer's drawing surface for one :class:`CanvasScene`."""

    statusMessage = Signal(str)
    zoomChanged = Signal(float)
    spaceTapped = Signal()  # Space pressed and released without panning (play/pause)

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self._scene = scene
        self._pan_from: QPointF | None = None
        self._space = False
        self._space_panned = False  # the held Space was used to pan
        self._paste_count = 0
        self._keep_fitted = False  # re-fit on resize until the user zooms or pans
        #: Seconds the last repaint took (the live refresher spaces the canvas' training
        #: updates by it: designer.training.live).
        self.paint_seconds = 0.0
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing
                            | QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the grid
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        scene.statusMessage.connect(self.statusMessage)
        self.zoomChanged.connect(scene.set_detail)

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        """Paint, and keep how long it took."""
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - start

    @classmethod
    def for_session(cls, session: Session, parent: QWidget | None = None) -> CanvasView:
        """A view with its own scene mirroring ``session``'s document."""
        return cls(CanvasScene(session), parent)

    @property
    def canvas(self) -> CanvasScene:
        return self._scene

    @property
    def document(self) -> Document:
        return self._scene.document

    @property
    def editor(self) -> Editor:
        return self._scene.editor

    @property
    def session(self) -> Session:
        return self._scene.session

    # ------------------------------------------------------------------ zoom and pan
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Scale by ``factor`` within sensible limits, keeping the scene point under the
        viewport position ``at`` (default: the centre) where it is."""
        target = min(max(self.zoom * factor, MIN_ZOOM), MAX_ZOOM)
        if target == self.zoom:
            return
        spot = at if at is not None else QPointF(self.viewport().rect().center())
        anchor = self.mapToScene(spot.toPoint())
        self.scale(target / self.zoom, target / self.zoom)
        shift = QPointF(self.mapFromScene(anchor)) - spot
        bars = self.horizontalScrollBar(), self.verticalScrollBar()
        bars[0].setValue(bars[0].value() + round(shift.x()))
        bars[1].setValue(bars[1].value() + round(shift.y()))
        self.zoomChanged.emit(self.zoom)

    def zoom_in(self) -> None:
        self._keep_fitted = False
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self._keep_fitted = False
        self.zoom_by(0.8)

    def reset_zoom(self) -> None:
        self._keep_fitted = False
        self.zoom_by(1.0 / self.zoom)

    def fit_to_view(self, selection: bool = True) -> None:
        """Show every card (or the selection, when there is one and ``selection``)."""
        items = (selection and self._scene.selectedItems()) or self._scene.node_items()
        if not items:
            return
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.5:
            self.zoom_by(1.5 / self.zoom)
        readable = self._scene.style.min_zoom  # presentation: text stays >= 18 px
        if self.zoom < readable:
            self.zoom_by(readable / self.zoom)
            self.centerOn(rect.center().x(), rect.center().y())
        self.zoomChanged.emit(self.zoom)
        self._keep_fitted = True

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """A network just opened stays fitted while the window and its docks settle
        (maximising, restoring the layout); once the user zooms or pans it stays put."""
        super().resizeEvent(event)
        if self._keep_fitted:
            self.fit_to_view()

    fit = fit_to_view  # the name the shell's View menu calls

    def center_on_nodes(self, ids: list[str]) -> None:
        """Select these cards and scroll them into view (Problems dock clicks)."""
        self._scene.select_nodes(ids)
        items = [self._scene.node_item(i) for i in ids]
        rect = QRectF()
        for item in items:
            if item is not None:
                rect = rect.united(item.sceneBoundingRect())
        if not rect.isNull():
            self.ensureVisible(rect, 40, 40)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self._keep_fitted = False
            self.zoom_by(1.0015 ** delta, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position()
            self._space_panned = self._space_panned or self._space
            self._keep_fitted = False
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._space_panned = self._space_panned or self._space
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value()
                                                - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value()
                                              - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        """Space (held: pan; tapped: ``spaceTapped``) and the arrows that move selected
        cards are the canvas's, before any window shortcut (play/pause, step) sees them."""
        if event.type() == QEvent.Type.ShortcutOverride and (
                event.key() == Qt.Key.Key_Space
                or (event.key() in ARROWS and self._scene.selectedItems())):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and self._scene.weight_editor is None:
            if not event.isAutoRepeat():
                self._space, self._space_panned = True, False
                self.setDragMode(QGraphicsView.DragMode.NoDrag)
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self._scene.focusItem() is None and self._shortcut(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and self._space:
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            if not self._space_panned:
                self.spaceTapped.emit()
            return
        super().keyReleaseEvent(event)

    def _shortcut(self, event: QKeyEvent) -> bool:
        """Keys that work even without the shell's menus (its shortcuts win when present)."""
        keys = QKeySequence.StandardKey
        table = ((keys.Copy, self.copy), (keys.Cut, self.cut), (keys.Paste, self.paste),
                 (keys.SelectAll, self.select_all), (keys.ZoomIn, self.zoom_in),
                 (keys.ZoomOut, self.zoom_out))
        for key, action in table:
            if event.matches(key):
                action()
                return True
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
            return True
        if event.key() == Qt.Key.Key_D and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.duplicate()
            return True
        if event.key() in ARROWS and self._scene.selected_node_ids():
            big = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.nudge(*ARROWS[event.key()], steps=5 if big else 1)
            return True
        if event.key() == Qt.Key.Key_Escape:
            self._scene.cancel_edge_drag()
            self._scene.clearSelection()
            return True
        return False

    # ------------------------------------------------------------------ context menu
    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        self.context_menu(self.mapToScene(event.pos())).exec(event.globalPos())

    def context_menu(self, scene_pos: QPointF) -> QMenu:
        """The right-click menu for what is under ``scene_pos`` (a card, an edge, nothing)."""
        menu = QMenu(self)
        node = self._scene.node_at(scene_pos)
        edge = self._scene.edge_at(scene_pos)
        if node is not None:
            if node.node_id not in self._scene.selected_node_ids():
                self._scene.select_nodes([node.node_id])
            for text, slot in (("Duplicate", self.duplicate), ("Copy", self.copy),
                               ("Cut", self.cut), ("Delete", self.delete_selected)):
                menu.addAction(text, slot)
            if node.node.get("type") == "Dense":
                menu.addSeparator()
                node_id = node.node_id
                menu.addAction("Add a neuron",
                               lambda: self.editor.change_units(node_id, +1))
                menu.addAction("Remove a neuron",
                               lambda: self.editor.change_units(node_id, -1))
        elif edge is not None:
            self._scene.select_edge(edge)
            key = edge.key
            menu.addAction(f"Delete connection {key[0]} → {key[1]}",
                           lambda: self.editor.disconnect(*key))
        else:
            paste = menu.addAction("Paste", self.paste)
            paste.setEnabled(clipboard_fragment() is not None)
            for text, slot in (("Select all", self.select_all), ("Auto layout", self.auto_layout),
                               ("Fit to view", self.fit_to_view)):
                menu.addAction(text, slot)
        return menu

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if not mime.hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        kind = bytes(mime.data(LAYER_MIME).data())[:128].decode("utf-8", "replace").strip()
        self.drop_layer(kind, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    def drop_layer(self, kind: str, scene_pos: QPointF) -> str | None:
        """Create a ``kind`` layer centred on ``scene_pos`` (or add a neuron to a Dense).

        Returns the new node id (the Dense layer's id for a neuron), or None if refused.
        """
        if kind == NEURON:
            target = self._scene.node_at(scene_pos)
            if target is None or target.node.get("type") != "Dense":
                self.statusMessage.emit("Drop the neuron on a Dense layer to add a unit to it.")
                return None
            refused = self.editor.change_units(target.node_id, +1)
            return None if refused else target.node_id
        style = self._scene.style
        x, y = self._scene.to_layout_pos(QPointF(scene_pos.x() - style.node_width / 2,
                                                 scene_pos.y() - style.font_size * 2))
        if self._scene.snap_to_grid:
            grid = style.grid_size
            x, y = round(x / grid) * grid, round(y / grid) * grid
        node_id = self.editor.add_node(kind, pos=(x, y))
        if node_id:
            self._scene.select_nodes([node_id])
            self.statusMessage.emit(f"Added {kind} layer {node_id}.")
        return node_id or None

    # ------------------------------------------------------------------ editing
    def nudge(self, dx: int, dy: int, steps: int = 1) -> None:
        """Move the selected cards by grid cells (arrow keys; Shift for five cells)."""
        grid = self._scene.style.grid_size * steps
        doc = self.document
        self.editor.move_nodes({i: (doc.position(i)[0] + dx * grid,
                                    doc.position(i)[1] + dy * grid)
                                for i in self._scene.selected_node_ids()})

    def select_all(self) -> None:
        self._scene.select_nodes(self.document.node_ids())

    def delete_selected(self) -> None:
        """Delete selected cards (with their edges) and selected edges, as one step."""
        ids = self._scene.selected_node_ids()
        gone = set(ids)
        edges = [e for e in self._scene.selected_edges() if not gone & set(e)]
        if not ids and not edges:
            return
        if self.editor.refuse_if_locked():  # the status bar says why; no empty undo step
            return
        stack = self.editor.undo_stack
        stack.beginMacro("Delete")
        try:
            for src, dst in edges:
                self.editor.disconnect(src, dst)
            if ids:
                self.editor.remove_nodes(ids)
        finally:
            stack.endMacro()

    def copy(self) -> bool:
        """Put the selected cards (and the edges between them) on the clipboard as JSON."""
        ids = self._scene.selected_node_ids()
        if not ids:
            self.statusMessage.emit("Select layers to copy first.")
            return False
        text = json.dumps(self.editor.copy_fragment(ids))
        mime = QMimeData()
        mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._paste_count = 0
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selected()

    def paste(self) -> list[str]:
        """Insert the clipboard's layers with new ids, offset so they do not hide the old."""
        fragment = clipboard_fragment()
        if fragment is None:
            self.statusMessage.emit("The clipboard holds no layers to paste.")
            return []
        self._paste_count += 1
        return self._insert(fragment, self._paste_count * PASTE_STEP)

    def duplicate(self) -> list[str]:
        """Copy and paste the selection in one go, without touching the clipboard."""
        ids = self._scene.selected_node_ids()
        if not ids:
            return []
        return self._insert(self.editor.copy_fragment(ids), PASTE_STEP)

    def _insert(self, fragment: dict[str, Any], step: float) -> list[str]:
        new = self.editor.paste(fragment, (step, step))
        if new:
            self._scene.select_nodes(new)
        return new

    def auto_layout(self) -> None:
        """Arrange the cards left to right (undoable) and show them all."""
        self.editor.auto_layout(self._scene.node_heights())
        self._scene.clearSelection()
        self.fit_to_view()

    def set_snap_to_grid(self, on: bool) -> None:
        self._scene.snap_to_grid = bool(on)

    def set_neuron_view(self, on: bool) -> None:
        """Toggle the TensorFlow-Playground-like drawing of small Dense layers.

        The neuron columns make cards several times taller: a view that was fitted to
        the network (not zoomed or panned since) fits it again, so none is cut off."""
        self._scene.set_neuron_view(on)
        if self._keep_fitted:
            self.fit_to_view(selection=False)


def clipboard_fragment() -> dict[str, Any] | None:
    """The layers on the clipboard (our MIME type or JSON text), checked for size and form."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(FRAGMENT_MIME):
        raw = bytes(mime.data(FRAGMENT_MIME).data())
    elif mime.hasText():
        raw = mime.text().encode("utf-8", "replace")
    else:
        return None
    if len(raw) > MAX_CLIPBOARD_BYTES:
        return None
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("nodes"), list) else None
