"""The step-through drawn on the neuron view: numbers beside neurons, the layer's edges lit.

One item above the canvas that reads the neuron positions from the scene's node items
(``NodeItem.neuron_center``) and paints the current :class:`~designer.lesson.trace.Phase`:
forward shows ``z`` and ``a``, backward ``dL/da`` and ``δ`` coloured by sign, an update the
weights' steps. A click on a traced neuron asks the panel to explain it; only the
neurons catch the mouse. It holds no state the project needs and edits nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.lesson.explain import num
from designer.lesson.trace import Phase, SampleTrace

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene

OVERLAY_Z = 50.0


class StepOverlay(QGraphicsItem):
    """Paints one phase of a traced sample over the neuron view (nothing when unset)."""

    def __init__(self, scene: CanvasScene,
                 on_click: Callable[[str, int], None] | None = None) -> None:
        super().__init__()
        self._scene = scene
        self.on_click = on_click  # a traced neuron was clicked: (node id, unit)
        self.trace: SampleTrace | None = None
        self.phase: Phase | None = None
        self._bounds = QRectF()
        self.setZValue(OVERLAY_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        scene.addItem(self)

    def show_phase(self, trace: SampleTrace | None, phase: Phase | None) -> None:
        self.prepareGeometryChange()
        self.trace, self.phase = trace, phase
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton if trace is not None
                                     else Qt.MouseButton.NoButton)
        bounds = QRectF()
        for item in self._scene.node_items():  # labels stick out to the right of a column
            bounds = bounds.united(item.sceneBoundingRect())
        self._bounds = bounds.adjusted(-50, -50, 400, 50)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def _neurons(self) -> list[tuple[str, int, QPointF, float]]:
        """(node id, unit, centre, radius) of every traced neuron on the canvas."""
        out = []
        for node_id in self.trace.nodes if self.trace is not None else ():
            item = self._scene.node_item(node_id)
            if item is None or item.neurons is None:
                continue
            r = item.neuron_radius()
            units = min(item.neurons, self.trace.nodes[node_id].units)
            out += [(node_id, u, item.neuron_center(u), r) for u in range(units)]
        return out

    def neuron_at(self, point: QPointF) -> tuple[str, int] | None:
        """The traced neuron under ``point`` (scene coordinates), if any."""
        for node_id, unit, c, r in self._neurons():
            if (c.x() - point.x()) ** 2 + (c.y() - point.y()) ** 2 <= r * r:
                return node_id, unit
        return None

    def shape(self) -> QPainterPath:
        """Only the traced neurons catch the mouse (the canvas works around them)."""
        path = QPainterPath()
        for _node, _unit, c, r in self._neurons():
            path.addEllipse(c, r, r)
        return path

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        hit = self.neuron_at(event.scenePos())
        if hit is None or self.on_click is None:
            event.ignore()
            return
        self.on_click(*hit)
        event.accept()

    def labels(self) -> list[tuple[str, int, str, float]]:
        """(node id, unit, text, signed value for the colour) for the current phase."""
        trace, phase = self.trace, self.phase
        if trace is None or phase is None or phase.node_id is None:
            return []
        v = trace.nodes[phase.node_id]
        out = []
        for u in range(v.units):
            if phase.kind == "forward":
                text = f"a={num(v.a[u])}" if v.z is None else \
                    f"z={num(v.z[u])}  a={num(v.a[u])}"
                out.append((v.node_id, u, text, float(v.a[u])))
            elif phase.kind in ("backward", "loss") and v.dl_da is not None:
                text = f"∂L/∂a={num(v.dl_da[u])}"
                value = float(v.dl_da[u])
                if v.delta is not None:
                    text += f"  δ={num(v.delta[u])}"
                    value = float(v.delta[u])
                out.append((v.node_id, u, text, value))
            elif phase.kind == "update" and phase.param == "bias":
                step = trace.params[(v.node_id, "bias")]
                out.append((v.node_id, u, f"b: {num(step.old[u])}→{num(step.new[u])}",
                            -float(step.step[u])))
        return out

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self.trace is None or self.phase is None:
            return
        style = self._scene.style
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_edges(painter)
        font = QFont(painter.font())
        font.setPointSizeF(style.font_size * 0.9)
        painter.setFont(font)
        for node_id, unit, text, value in self.labels():
            item = self._scene.node_item(node_id)
            if item is None or item.neurons is None or unit >= item.neurons:
                continue
            c = item.neuron_center(unit)
            r = item.neuron_radius()
            color = style.color("weight_positive" if value >= 0 else "weight_negative")
            painter.setPen(QPen(color, 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(c, r + 2, r + 2)
            rect = QRectF(c.x() + r + 6, c.y() - style.font_size, 1000, 2 * style.font_size)
            back = QColor(style.color("background"))
            back.setAlphaF(0.8)
            box = painter.fontMetrics().boundingRect(text)
            painter.fillRect(QRectF(rect.x() - 2, rect.y(), box.width() + 6, rect.height()),
                             back)
            painter.setPen(style.color("text"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             text)

    def _paint_edges(self, painter: QPainter) -> None:
        """Light up the edges into the current Dense layer (by |dL/dw| going back)."""
        trace, phase = self.trace, self.phase
        if trace is None or phase is None or phase.node_id is None:
            return
        v = trace.nodes[phase.node_id]
        if v.type != "Dense" or (phase.kind == "update" and phase.param != "kernel"):
            return
        src_item = self._scene.node_item(v.inputs[0])
        dst_item = self._scene.node_item(v.node_id)
        if src_item is None or dst_item is None or None in (src_item.neurons,
                                                            dst_item.neurons):
            return
        step = trace.params.get((v.node_id, "kernel"))
        if step is None:
            return
        values = step.old if phase.kind == "forward" else (
            step.grad if phase.kind == "backward" else -step.step)
        limit = float(np.max(np.abs(values))) or 1.0
        style = self._scene.style
        for (i, j), w in np.ndenumerate(values):
            if i >= src_item.neurons or j >= dst_item.neurons:
                continue
            color = QColor(style.color("node_selected") if phase.kind == "forward" else
                           style.color("weight_positive" if w >= 0 else "weight_negative"))
            strength = min(abs(w) / limit, 1.0)
            color.setAlphaF(0.35 + 0.65 * strength)
            painter.setPen(QPen(color, 1.0 + style.max_weight_width * strength))
            painter.drawLine(QPointF(src_item.neuron_center(i)),
                             QPointF(dst_item.neuron_center(j)))
