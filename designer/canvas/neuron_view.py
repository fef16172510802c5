"""The neuron view, after TensorFlow Playground: small Dense layers drawn as neurons.

A Dense layer with at most 32 units (fed by at most 32 features) and a small Input are
drawn as a column of neurons; the edge between two such columns becomes one line per
weight, blue for positive and orange for negative, wider for larger |w|. Hovering a
line shows its weight, clicking it opens an editor whose value becomes a SetWeight
command. Weights come from ``session.layer_weights`` (trained, live or freshly
initialised); neurons show ``session.neuron_maps`` images when training provides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.canvas.style import CanvasStyle

if TYPE_CHECKING:
    from designer.canvas.node_item import NodeItem
    from designer.canvas.scene import CanvasScene
    from designer.model.document import Document

MAX_NEURONS = 32
WEIGHTS_Z = 2.0
HIT_TOLERANCE = 5.0


@dataclass(frozen=True)
class ColumnGeometry:
    """Sizes of one neuron column (item coordinates relative to the column's top)."""

    count: int
    pitch: float
    radius: float
    width: float
    square: bool

    @property
    def height(self) -> float:
        return self.count * self.pitch

    def center_y(self, index: int) -> float:
        return (index + 0.5) * self.pitch


@lru_cache(maxsize=256)
def _geometry(count: int, font_size: float, with_maps: bool) -> ColumnGeometry:
    pitch = font_size * (4.2 if with_maps else 2.6)
    radius = pitch * (0.42 if with_maps else 0.34)
    return ColumnGeometry(count, pitch, radius, pitch * 2.8, with_maps)


def column_geometry(count: int, style: CanvasStyle, with_maps: bool = False) -> ColumnGeometry:
    """Geometry of a column of ``count`` neurons in ``style`` (cached)."""
    return _geometry(int(count), float(style.neuron_size), bool(with_maps))


def neuron_count(doc: Document, node_id: str) -> int | None:
    """How many neurons the node shows in the neuron view, or None when it cannot."""
    kind = doc.node_type(node_id)
    shape = doc.shape(node_id)
    if kind == "Input":
        ok = shape is not None and len(shape) == 1 and 1 <= shape[0] <= MAX_NEURONS
        return int(shape[0]) if ok else None
    if kind != "Dense" or shape is None or len(shape) != 1 or shape[0] > MAX_NEURONS:
        return None
    inputs = doc.predecessors(node_id)
    feeding = doc.shape(inputs[0]) if len(inputs) == 1 else None
    if feeding is None or len(feeding) != 1 or feeding[0] > MAX_NEURONS:
        return None
    return int(shape[0])


#: Steps of the heat maps' colour table over [-1, 1]: finer than the 8-bit colours
#: (at most 255 levels each side), so a table lookup gives the colour the formula gives
#: to within one unit of a channel, in one pass instead of ten (19 maps of 100 x 100
#: five times a second are the canvas' own share of a run).
DIVERGING_STEPS = 2048


@lru_cache(maxsize=8)
def _diverging_table(positive: str, negative: str) -> np.ndarray:
    """RGBA for t = -1 .. 1 in ``DIVERGING_STEPS + 1`` steps: orange, white, blue."""
    t = np.linspace(-1.0, 1.0, DIVERGING_STEPS + 1, dtype=np.float32)[:, None]
    white = np.array([255, 255, 255], np.float32)
    pos = np.array(QColor(positive).getRgb()[:3], np.float32)
    neg = np.array(QColor(negative).getRgb()[:3], np.float32)
    rgb = np.where(t >= 0, white + (pos - white) * t, white + (neg - white) * (-t))
    rgba = np.concatenate([rgb, np.full(t.shape, 255, np.float32)], axis=-1)
    return np.ascontiguousarray(rgba.astype(np.uint8))


def diverging_image(values: np.ndarray, style: CanvasStyle) -> QImage:
    """A 2-D map as an image: orange negative, white zero, blue positive (symmetric)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float32))
    limit = float(np.max(np.abs(values))) if values.size else 0.0
    scale = DIVERGING_STEPS / 2 / (limit or 1.0)
    index = np.rint(values * scale + DIVERGING_STEPS / 2)
    np.clip(index, 0, DIVERGING_STEPS, out=index)
    table = _diverging_table(style.weight_positive, style.weight_negative)
    data = table[index.astype(np.intp)]
    h, w = data.shape[:2]
    return QImage(data.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def paint_column(painter: QPainter, geo: ColumnGeometry, top_center: QPointF,
                 style: CanvasStyle, images: list[QImage] | None) -> None:
    """Draw the neurons of one column (circles, or squares holding their heat maps)."""
    painter.setPen(QPen(style.color("neuron_border"), max(1.0, style.border_width)))
    painter.setBrush(style.color("neuron_fill"))
    r = geo.radius
    for i in range(geo.count):
        c = QPointF(top_center.x(), top_center.y() + geo.center_y(i))
        if images and i < len(images):
            rect = QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r)
            painter.drawImage(rect, images[i])
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 2, 2)
            painter.setBrush(style.color("neuron_fill"))
        else:
            painter.drawEllipse(c, r, r)


class WeightLinesItem(QGraphicsItem):
    """Every weight of one Dense kernel as a line between two neuron columns."""

    def __init__(self, scene: CanvasScene, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self._scene = scene
        self.src, self.dst = src, dst
        self.setZValue(WEIGHTS_Z)
        self.setAcceptHoverEvents(True)
        self._kernel = np.zeros((0, 0), np.float32)
        self._a = np.zeros((0, 2))
        self._b = np.zeros((0, 2))
        self._bounds = QRectF()
        self._hot: tuple[int, int] | None = None
        self._shape: QPainterPath | None = None
        src.edges.append(self)
        dst.edges.append(self)
        self.refresh()

    @property
    def key(self) -> tuple[str, str]:
        return (self.src.node_id, self.dst.node_id)

    def detach(self) -> None:
        for item in (self.src, self.dst):
            if self in item.edges:
                item.edges.remove(self)

    def refresh(self) -> None:
        """Re-read the kernel from the session (after training steps or edits)."""
        arrays = self._scene.session.layer_weights(self.dst.node_id) or {}
        kernel = arrays.get("kernel")
        expected = (self.src.neurons or 0, self.dst.neurons or 0)
        if kernel is None or np.shape(kernel) != expected:
            kernel = np.zeros(expected, np.float32)
        resized = np.shape(kernel) != self._kernel.shape
        self._kernel = np.asarray(kernel, dtype=np.float64)
        if resized or not self._a.size:
            self.update_path()
        else:  # new values only (a training step): repaint, the geometry is the same
            self.update()

    def update_path(self) -> None:
        """Endpoints of every line (called when either column moves or resizes)."""
        n_in, n_out = self._kernel.shape
        a = [self.src.neuron_center(i) for i in range(n_in)]
        b = [self.dst.neuron_center(j) for j in range(n_out)]
        self._a = np.array([[p.x(), p.y()] for p in a]).reshape(n_in, 2)
        self._b = np.array([[p.x(), p.y()] for p in b]).reshape(n_out, 2)
        self.prepareGeometryChange()
        self._shape = None
        points = np.vstack([self._a, self._b]) if n_in and n_out else np.zeros((1, 2))
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = self._scene.style.max_weight_width + 2
        self._bounds = QRectF(lo[0] - pad, lo[1] - pad, hi[0] - lo[0] + 2 * pad,
                              hi[1] - lo[1] + 2 * pad)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def contains(self, point: QPointF) -> bool:
        """Only the lines themselves catch the mouse (rubber band works between them)."""
        return self.line_at(point) is not None

    def shape(self) -> QPainterPath:
        """The strokes of all lines, built on demand and cached until they move."""
        if self._shape is None:
            path = QPainterPath()
            for i in range(self._a.shape[0]):
                for j in range(self._b.shape[0]):
                    path.moveTo(*self._a[i])
                    path.lineTo(*self._b[j])
            stroker = QPainterPathStroker()
            stroker.setWidth(2 * HIT_TOLERANCE)
            self._shape = stroker.createStroke(path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        style = self._scene.style
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        limit = float(np.max(np.abs(self._kernel))) if self._kernel.size else 0.0
        limit = limit or 1.0
        pos, neg = style.color("weight_positive"), style.color("weight_negative")
        for (i, j), w in np.ndenumerate(self._kernel):
            strength = min(abs(w) / limit, 1.0)
            color = QColor(pos if w >= 0 else neg)
            color.setAlphaF(0.25 + 0.75 * strength)
            width = 0.6 + style.max_weight_width * strength
            if self._hot == (i, j):
                color, width = style.color("node_selected"), width + 2.0
            painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(QPointF(*self._a[i]), QPointF(*self._b[j]))

    # ------------------------------------------------------------------ interaction
    def line_at(self, point: QPointF) -> tuple[int, int] | None:
        """The (input, unit) pair of the line nearest ``point`` within a few pixels."""
        if not self._kernel.size:
            return None
        p = np.array([point.x(), point.y()])
        a = self._a[:, None, :]
        b = self._b[None, :, :]
        ab = b - a
        t = np.clip(np.sum((p - a) * ab, axis=-1) / np.maximum(np.sum(ab * ab, -1), 1e-9), 0, 1)
        nearest = a + ab * t[..., None]
        dist = np.linalg.norm(nearest - p, axis=-1)
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        return (int(i), int(j)) if dist[i, j] <= HIT_TOLERANCE + 1 else None

    def weight(self, i: int, j: int) -> float:
        return float(self._kernel[i, j])

    def describe(self, i: int, j: int) -> str:
        return (f"{self.src.node_id}[{i}] → {self.dst.node_id}[{j}]: "
                f"w = {self.weight(i, j):.4g} (click to edit)")

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        hot = self.line_at(event.scenePos())
        if hot != self._hot:
            self._hot = hot
            self.setToolTip(self.describe(*hot) if hot else "")
            self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._hot = None
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        hit = self.line_at(event.scenePos())
        if hit is None or event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        self._scene.open_weight_editor(self, hit[0], hit[1], event.scenePos())
        event.accept()
