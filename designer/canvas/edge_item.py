"""A connection between two cards: a smooth curve with an arrow, labelled with its shape.

Edges are the most numerous items, so they are built from Qt's own C++ items (a path,
an arrow polygon, a label) and paint without calling into Python. The path is rebuilt
only when an end moves (``update_path``). Labels hide when zoomed far out
(``set_detail``). Clicking an edge selects it (the scene keeps edge selection itself, so
Qt's dashed selection rectangle never appears).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QFontMetricsF,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
)

from designer.canvas.style import CanvasStyle

if TYPE_CHECKING:
    from designer.canvas.node_item import NodeItem

EDGE_Z = 1.0
LABEL_MIN_ZOOM = 0.45
OVERVIEW_ZOOM = 0.3
ARROW = 7.0
PORT_GAP = 6.0  # the arrow tip stops just before the input port
HIT_WIDTH = 10.0  # clickable band around the curve, in scene units


class EdgeItem(QGraphicsPathItem):
    """The edge ``src -> dst``; ``key`` is the (src, dst) pair of the spec."""

    def __init__(self, src: NodeItem, dst: NodeItem, style: CanvasStyle) -> None:
        super().__init__()
        self.src, self.dst = src, dst
        self._style = style
        self._label = ""
        self._selected = False
        self._detail = True
        self._label_fits = True  # a label squeezed between close cards is left out
        self.setZValue(EDGE_Z)
        self.setBrush(Qt.BrushStyle.NoBrush)
        self._arrow = QGraphicsPolygonItem(self)
        self._arrow.setPen(Qt.PenStyle.NoPen)
        self._label_bg = QGraphicsPathItem(self)
        self._label_bg.setPen(Qt.PenStyle.NoPen)
        self._label_text = QGraphicsSimpleTextItem(self)
        self._hit = HitBand(self)
        self._stroker = QPainterPathStroker()
        self._stroker.setWidth(HIT_WIDTH)
        for child in (self._arrow, self._label_bg, self._label_text):  # clicks fall through
            child.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        src.edges.append(self)
        dst.edges.append(self)
        self.set_style(style)

    @property
    def key(self) -> tuple[str, str]:
        return (self.src.node_id, self.dst.node_id)

    def detach(self) -> None:
        """Forget the end cards (before the item leaves the scene)."""
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)

    # ------------------------------------------------------------------ look
    def set_style(self, style: CanvasStyle) -> None:
        """Pens, brushes and fonts of this style, made once (never while painting)."""
        self._style = style
        cap = Qt.PenCapStyle.RoundCap
        self._stroker.setWidth(max(HIT_WIDTH, style.line_width * 5))
        self._pens = {
            (False, True): QPen(style.color("edge"), style.line_width, Qt.PenStyle.SolidLine,
                                cap),
            (True, True): QPen(style.color("edge_selected"), style.line_width * 1.8,
                               Qt.PenStyle.SolidLine, cap),
            (False, False): QPen(style.color("edge"), 0),
            (True, False): QPen(style.color("edge_selected"), 0),
        }
        self._font = style.font(0.8)
        self._fm = QFontMetricsF(self._font)
        self._label_text.setFont(self._font)
        self._label_text.setBrush(QBrush(style.color("edge_label")))
        self._label_bg.setBrush(QBrush(style.color("edge_label_background")))
        self._apply_pen()
        self.update_path()

    def _apply_pen(self) -> None:
        pen = self._pens[(self._selected, self._detail)]
        self.setPen(pen)
        self._arrow.setBrush(QBrush(pen.color()))
        self._arrow.setVisible(self._detail)
        visible = self._detail_labels and bool(self._label) and self._label_fits
        self._label_bg.setVisible(visible)
        self._label_text.setVisible(visible)

    @property
    def _detail_labels(self) -> bool:
        return getattr(self, "_labels_on", True)

    def set_detail(self, zoom: float) -> None:
        """Level of detail for the view's zoom: far out, a thin line without label."""
        detail, labels = zoom >= OVERVIEW_ZOOM, zoom >= LABEL_MIN_ZOOM
        if (detail, labels) != (self._detail, self._detail_labels):
            self._detail, self._labels_on = detail, labels
            self._apply_pen()

    def set_selected_edge(self, on: bool) -> None:
        """Highlight as selected (the scene owns edge selection)."""
        if on != self._selected:
            self._selected = on
            self._apply_pen()

    def is_selected_edge(self) -> bool:
        return self._selected

    def set_label(self, text: str) -> None:
        """The tensor shape flowing through this edge."""
        if text != self._label:
            self._label = text
            self._place_label()
            self._apply_pen()

    @property
    def label(self) -> str:
        return self._label

    # ------------------------------------------------------------------ geometry
    def update_path(self) -> None:
        """Re-route the curve between the two ports (the only work done on a node move)."""
        p1 = self.src.port_scene_pos("out")
        p2 = self.dst.port_scene_pos("in") - QPointF(PORT_GAP, 0)
        bend = max(40.0, abs(p2.x() - p1.x()) * 0.5)
        path = QPainterPath(p1)
        path.cubicTo(p1 + QPointF(bend, 0), p2 - QPointF(bend + ARROW, 0),
                     p2 - QPointF(ARROW, 0))
        self.setPath(path)
        self._hit.setPath(self._stroker.createStroke(path))
        self._arrow.setPolygon(QPolygonF([
            p2, p2 + QPointF(-ARROW * 1.4, -ARROW * 0.7), p2 + QPointF(-ARROW * 1.4, ARROW * 0.7)]))
        self._place_label()

    def _place_label(self) -> None:
        shape = f": {self._label}" if self._label else ""
        self._hit.setToolTip(f"{self.src.node_id} → {self.dst.node_id}{shape}")
        if not self._label:
            return
        a, b = self.src.port_scene_pos("out"), self.dst.port_scene_pos("in")
        mid = QPointF((a.x() + b.x()) / 2.0, self.path().pointAtPercent(0.5).y())
        w = self._fm.horizontalAdvance(self._label) + 6
        fits = b.x() - a.x() > w + 8 or abs(b.y() - a.y()) > 60
        if fits != self._label_fits:
            self._label_fits = fits
            self._apply_pen()
        h = self._fm.height() + 2
        rect = QRectF(mid.x() - w / 2, mid.y() - h - 1, w, h)  # just above the line
        background = QPainterPath()
        background.addRoundedRect(rect, 4, 4)
        self._label_bg.setPath(background)
        self._label_text.setText(self._label)
        self._label_text.setPos(rect.left() + 3, rect.top() + 1)

    # ------------------------------------------------------------------ interaction
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene = self.scene()
        if event.button() == Qt.MouseButton.LeftButton and scene is not None:
            additive = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            scene.select_edge(self, additive)
            event.accept()
            return
        super().mousePressEvent(event)



class HitBand(QGraphicsPathItem):
    """An invisible band around the curve that catches clicks for its edge."""

    def __init__(self, edge: EdgeItem) -> None:
        super().__init__(edge)
        self.edge = edge
        self.setPen(Qt.PenStyle.NoPen)
        self.setBrush(Qt.BrushStyle.NoBrush)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.edge.mousePressEvent(event)
