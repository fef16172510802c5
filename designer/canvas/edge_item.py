"""A connection between two cards: a smooth curve with an arrow, labelled with its shape.

The path is rebuilt only when an end moves (``update_path``); the hit-test shape is
built lazily and cached, and the label is skipped when zoomed far out, so hundreds of
edges repaint within a frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas.style import CanvasStyle

if TYPE_CHECKING:
    from designer.canvas.node_item import NodeItem

EDGE_Z = 1.0
LABEL_MIN_ZOOM = 0.45
OVERVIEW_ZOOM = 0.3
ARROW = 7.0
PORT_GAP = 6.0  # the arrow tip stops just before the input port


class EdgeItem(QGraphicsItem):
    """The edge ``src -> dst``; ``key`` is the (src, dst) pair of the spec."""

    def __init__(self, src: NodeItem, dst: NodeItem, style: CanvasStyle) -> None:
        super().__init__()
        self.src, self.dst = src, dst
        self._style = style
        self._label = ""
        self._path = QPainterPath()
        self._arrow = QPainterPath()
        self._shape: QPainterPath | None = None
        self._bounds = QRectF()
        self._label_rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(EDGE_Z)
        src.edges.append(self)
        dst.edges.append(self)
        self._fonts()
        self.update_path()

    @property
    def key(self) -> tuple[str, str]:
        return (self.src.node_id, self.dst.node_id)

    def detach(self) -> None:
        """Forget the end cards (before the item leaves the scene)."""
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)

    def set_style(self, style: CanvasStyle) -> None:
        self._style = style
        self._fonts()
        self.update_path()

    def _fonts(self) -> None:
        """Fonts, pens and brushes of this style, made once (not in every paint)."""
        s = self._style
        self._font = s.font(0.85)
        self._fm = QFontMetricsF(self._font)
        cap = Qt.PenCapStyle.RoundCap
        self._pens = {
            False: QPen(s.color("edge"), s.line_width, Qt.PenStyle.SolidLine, cap),
            True: QPen(s.color("edge_selected"), s.line_width * 1.8, Qt.PenStyle.SolidLine, cap)}
        self._thin_pens = {False: QPen(s.color("edge"), 0), True: QPen(s.color("edge_selected"), 0)}
        self._label_brush = QBrush(s.color("edge_label_background"))
        self._label_pen = QPen(s.color("edge_label"))

    def set_label(self, text: str) -> None:
        """The tensor shape flowing through this edge."""
        if text != self._label:
            self._label = text
            self.update_path()

    @property
    def label(self) -> str:
        return self._label

    def update_path(self) -> None:
        """Re-route the curve between the two ports (the only work done on a node move)."""
        p1 = self.src.port_scene_pos("out")
        p2 = self.dst.port_scene_pos("in") - QPointF(PORT_GAP, 0)
        bend = max(40.0, abs(p2.x() - p1.x()) * 0.5)
        path = QPainterPath(p1)
        path.cubicTo(p1 + QPointF(bend, 0), p2 - QPointF(bend + ARROW, 0),
                     p2 - QPointF(ARROW, 0))
        arrow = QPainterPath(p2)
        arrow.lineTo(p2 + QPointF(-ARROW * 1.4, -ARROW * 0.7))
        arrow.lineTo(p2 + QPointF(-ARROW * 1.4, ARROW * 0.7))
        arrow.closeSubpath()
        self.prepareGeometryChange()
        self._path, self._arrow, self._shape = path, arrow, None
        mid = path.pointAtPercent(0.5)
        w = self._fm.horizontalAdvance(self._label) + 8 if self._label else 0.0
        h = self._fm.height() + 2
        self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        pad = self._style.line_width * 2 + ARROW
        self._bounds = path.controlPointRect().united(arrow.boundingRect()).adjusted(
            -pad, -pad, pad, pad).united(self._label_rect)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(max(8.0, self._style.line_width * 4))
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        selected = self.isSelected()
        zoom = painter.worldTransform().m11()
        if zoom < OVERVIEW_ZOOM:  # far out: a thin crisp curve is all one can see
            painter.setPen(self._thin_pens[selected])
            painter.drawPath(self._path)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pens[selected])
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._pens[selected].color())
        painter.drawPath(self._arrow)
        if self._label and zoom >= LABEL_MIN_ZOOM:
            painter.setBrush(self._label_brush)
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setPen(self._label_pen)
            painter.setFont(self._font)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self._label)
