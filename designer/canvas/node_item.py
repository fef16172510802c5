"""A layer on the canvas: a rounded card with a coloured header, ports and a problem badge.

The item only paints what the scene tells it (``set_node``, ``set_derived``) and turns
mouse gestures into requests to the scene; it never keeps state the file would need.
Painting is cheap: geometry and texts are computed when data changes, never in
``paint``, and the card is cached as a device-coordinate pixmap.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.canvas import neuron_view
from designer.canvas.style import CanvasStyle

#: The widest input feature label the input neurons leave room for.
INPUT_LABEL_ROOM = "sin x1 "

if TYPE_CHECKING:
    from designer.canvas.edge_item import EdgeItem
    from designer.canvas.scene import CanvasScene

PORT_RADIUS = 5.5
PORT_HIT = 14.0
NODE_Z = 10.0
OK_COLOR = "#2e9d4f"  # a port where the connection being drawn may end


def format_shape(shape: Any) -> str:
    """``(28, 28, 1)`` -> ``28×28×1``; unknown -> ``?``."""
    if shape is None:
        return "?"
    if isinstance(shape, (int, float)):
        return str(shape)
    try:
        parts = [str(s) for s in shape]
    except TypeError:
        return str(shape)
    return "×".join(parts) if parts else "scalar"


def _pair(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return f"{value}×{value}"


def describe(node: dict[str, Any]) -> str:
    """The key params of a layer in a few words (units, activation, kernel...)."""
    kind = node.get("type", "")
    act = node.get("activation", "linear")
    if kind == "Dense":
        units = node.get("units", "?")
        return f"{units} unit{'' if units == 1 else 's'} · {act}"
    if kind == "Conv2D":
        text = f"{node.get('filters', '?')} × {_pair(node.get('kernel_size', '?'))} · {act}"
        strides = node.get("strides", 1)
        return text + (f" · /{_pair(strides)}" if strides not in (1, [1, 1]) else "")
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return f"pool {_pair(node.get('pool_size', 2))}"
    if kind == "Input":
        return f"shape {format_shape(node.get('shape'))}"
    if kind == "Dropout":
        return f"rate {node.get('rate', '?')}"
    if kind == "Activation":
        return str(node.get("activation", "?"))
    if kind == "Reshape":
        return f"to {format_shape(node.get('target_shape'))}"
    if kind == "Concatenate":
        return f"axis {node.get('axis', -1)}"
    if kind == "BatchNormalization":
        return f"momentum {node.get('momentum', 0.99)}"
    if kind == "Flatten":
        return "to a vector"
    if kind == "Add":
        return "sum of inputs"
    return ""


class BadgeItem(QGraphicsItem):
    """The red circle with "!" on a card with problems; its tooltip lists them."""

    def __init__(self, parent: NodeItem) -> None:
        super().__init__(parent)
        self._radius = 9.0
        self._color = QColor("#d32f2f")
        self._text_color = QColor("#ffffff")
        self._count = 0
        self.setAcceptHoverEvents(True)
        self.setVisible(False)

    def set_style(self, style: CanvasStyle, warning_only: bool) -> None:
        self.prepareGeometryChange()
        self._radius = style.font_size * 1.05
        self._color = style.color("warning_badge" if warning_only else "badge")
        self._text_color = style.color("badge_text")
        self._font = style.font(0.95, bold=True)
        self.update()

    def set_problems(self, problems: list[Any]) -> None:
        self._count = len(problems)
        self.setVisible(bool(problems))
        self.setToolTip("\n".join(_problem_line(p) for p in problems))
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        r = self._radius + 1.5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        painter.setBrush(self._color)
        painter.drawEllipse(QPointF(0, 0), self._radius, self._radius)
        painter.setPen(self._text_color)
        painter.setFont(getattr(self, "_font", painter.font()))
        text = "!" if self._count <= 1 else str(min(self._count, 9))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, text)


def _problem_line(problem: Any) -> str:
    hint = getattr(problem, "hint", "")
    return f"{problem.message} {hint}".strip()


class NodeItem(QGraphicsItem):
    """One layer's card. Position = top-left corner (the document's layout entry)."""

    def __init__(self, node: dict[str, Any], style: CanvasStyle, group: str) -> None:
        super().__init__()
        self.node_id: str = node["id"]
        self.edges: list[EdgeItem] = []  # attached edge / weight-line items to re-route
        self._node = node
        self._group = group
        self._style = style
        self._shape_text = "?"
        self._params_text = ""
        self._problems: list[Any] = []
        self._neurons: int | None = None  # set when drawn as a neuron column
        self._maps_shown = False
        self._hover_port: str | None = None
        self._hover_neuron: int | None = None
        self._drop_hint: tuple[str, bool] | None = None  # (port side, allowed) in a drag
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(NODE_Z)
        self.badge = BadgeItem(self)
        self._relayout()

    # ------------------------------------------------------------------ data from the scene
    @property
    def node(self) -> dict[str, Any]:
        return self._node

    @property
    def neurons(self) -> int | None:
        """Number of neurons drawn (neuron view), or None for the card view."""
        return self._neurons

    @property
    def title(self) -> str:
        """The card's name: the node's free ``name`` label (as in Keras), else its id."""
        name = self._node.get("name")
        return name if isinstance(name, str) and name.strip() else self.node_id

    def set_node(self, node: dict[str, Any], group: str) -> None:
        """New spec entry of this node (after an edit or a rename)."""
        self.node_id = node["id"]
        self._node, self._group = node, group
        self._relayout()

    def set_style(self, style: CanvasStyle) -> None:
        self._style = style
        self._relayout()

    def set_derived(self, shape: Any, params: int | None, problems: list[Any],
                    neurons: int | None) -> bool:
        """Shape, parameter count, problems and neuron mode; True when anything changed."""
        shape_text = format_shape(shape)
        params_text = "" if params is None else f"{params:,} params"
        messages = [(p.message, getattr(p, "severity", "error")) for p in problems]
        old = (self._shape_text, self._params_text,
               [(p.message, getattr(p, "severity", "error")) for p in self._problems],
               self._neurons)
        if old == (shape_text, params_text, messages, neurons):
            return False
        resize = neurons != self._neurons
        self._shape_text, self._params_text = shape_text, params_text
        self._problems, self._neurons = list(problems), neurons
        if resize:
            self._relayout()
        else:  # same card size: texts and badge only, the edges stay where they are
            self._refresh_content()
        return True

    # ------------------------------------------------------------------ geometry
    def _relayout(self) -> None:
        """Recompute every size, position and text once (paint only draws)."""
        self.prepareGeometryChange()
        s = self._style
        fm = QFontMetricsF(s.font())
        self._line_h = fm.height() * 1.3
        self._header_h = fm.height() * 1.9
        self._pad = fm.height() * 0.45
        if self._neurons is None:
            self._w = s.node_width
            self._h = self._header_h + 3 * self._line_h + self._pad * 1.5
        else:
            self._maps_shown = self._has_maps()
            geo = neuron_view.column_geometry(self._neurons, s, self._maps_shown)
            self._w = max(geo.width, fm.height() * 5.5)
            if self._node.get("type") == "Input":  # room for "sin x1" left of a neuron
                label = QFontMetricsF(s.font(0.95)).horizontalAdvance(INPUT_LABEL_ROOM)
                self._w = max(self._w, 2 * (label + geo.radius + self._pad))
            self._h = (self._header_h + self._line_h * 2 + geo.height + self._pad * 2)
        self._rect = QRectF(0, 0, self._w, self._h)
        self._bounds = self._rect.adjusted(-PORT_RADIUS - 2, -12, PORT_RADIUS + 5, 5)
        self.badge.setPos(self._w - 4, 0)
        self._refresh_content()
        for edge in self.edges:
            edge.update_path()

    def _refresh_content(self) -> None:
        """Texts, badge and tooltip for the current data (the size is unchanged)."""
        s = self._style
        self._texts()
        only_warnings = all(getattr(p, "severity", "error") == "warning" for p in self._problems)
        self.badge.set_style(s, only_warnings and bool(self._problems))
        self.badge.set_problems(self._problems)
        self.setToolTip(self._tooltip())
        self.update()

    def _texts(self) -> None:
        s = self._style
        self._title_font = s.font(1.0, bold=True)
        self._type_font = s.font(0.85)
        self._body_font = s.font(0.95)
        title_fm = QFontMetricsF(self._title_font)
        type_fm = QFontMetricsF(self._type_font)
        kind = str(self._node.get("type", "?"))
        if self._neurons is None:
            type_w = type_fm.horizontalAdvance(kind) + self._pad
            self._type_text = kind
            self._title = title_fm.elidedText(self.title, Qt.TextElideMode.ElideRight,
                                              self._w - type_w - 2.5 * self._pad)
        else:
            self._type_text = ""
            self._title = title_fm.elidedText(self.title, Qt.TextElideMode.ElideRight,
                                              self._w - 2 * self._pad)
        body_fm = QFontMetricsF(self._body_font)
        width = self._w - 2 * self._pad
        self._lines = [body_fm.elidedText(t, Qt.TextElideMode.ElideRight, width) for t in (
            describe(self._node), f"→ {self._shape_text}", self._params_text)]

    def _tooltip(self) -> str:
        label = html.escape(self.title) + (
            f" [{html.escape(self.node_id)}]" if self.title != self.node_id else "")
        lines = [f"<b>{label}</b> ({html.escape(str(self._node.get('type', '?')))})",
                 *(html.escape(t) for t in (describe(self._node), f"output {self._shape_text}",
                                            self._params_text))]
        lines += [f"<span style='color:#d32f2f'>{html.escape(_problem_line(p))}</span>"
                  for p in self._problems]
        return "<br>".join(line for line in lines if line)

    def refresh_maps(self) -> None:
        """New activation maps: resize only when maps appeared or vanished, else repaint."""
        if self._neurons is not None and self._has_maps() != self._maps_shown:
            self._relayout()
        else:
            self.update()

    def _has_maps(self) -> bool:
        scene = self.scene()
        return bool(scene is not None and self.node_id in scene.session.neuron_maps)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def card_rect(self) -> QRectF:
        return QRectF(self._rect)

    def port_pos(self, side: str) -> QPointF:
        """Port centre in item coordinates: ``"in"`` on the left, ``"out"`` on the right."""
        return QPointF(0.0 if side == "in" else self._w, self._port_y())

    def port_scene_pos(self, side: str) -> QPointF:
        return self.pos() + self.port_pos(side)

    def _port_y(self) -> float:
        if self._neurons is None:
            return self._header_h + (self._h - self._header_h) / 2.0
        return self._h / 2.0

    def has_input_port(self) -> bool:
        return self._node.get("type") != "Input"

    def port_at(self, local: QPointF) -> str | None:
        """Which port is under ``local`` (item coordinates), if any."""
        for side in ("out", "in"):
            if side == "in" and not self.has_input_port():
                continue
            delta = local - self.port_pos(side)
            if delta.x() ** 2 + delta.y() ** 2 <= PORT_HIT ** 2:
                return side
        return None

    # neuron view helpers ---------------------------------------------------------------
    def neuron_center(self, index: int) -> QPointF:
        """Centre of neuron ``index`` in scene coordinates (neuron view only)."""
        geo = neuron_view.column_geometry(self._neurons or 0, self._style, self._has_maps())
        top = self._header_h + self._line_h + self._pad
        return self.pos() + QPointF(self._w / 2.0, top + geo.center_y(index))

    def neuron_radius(self) -> float:
        return neuron_view.column_geometry(self._neurons or 0, self._style,
                                           self._has_maps()).radius

    def button_rects(self) -> dict[int, QRectF]:
        """The -/+ buttons of a Dense layer in neuron view (item coordinates)."""
        if self._neurons is None or self._node.get("type") != "Dense":
            return {}
        size = self._line_h * 0.95
        y = self._header_h + (self._line_h - size) / 2.0
        cx = self._w / 2.0
        return {-1: QRectF(cx - size - 3, y, size, size), +1: QRectF(cx + 3, y, size, size)}

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        s = self._style
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        radius = s.corner_radius
        selected = self.isSelected()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(s.node_shadow))
        painter.drawRoundedRect(self._rect.translated(1.5, 2.5), radius, radius)
        body = s.color("node_body")
        if self._neurons is not None:
            body.setAlpha(110)
        border = QPen(s.color("node_selected") if selected else s.color("node_border"),
                      s.border_width * (2.2 if selected else 1.0))
        painter.setPen(border)
        painter.setBrush(body)
        painter.drawRoundedRect(self._rect, radius, radius)
        self._paint_header(painter, radius)
        if self._neurons is None:
            self._paint_body(painter)
        else:
            self._paint_neurons(painter)
        self._paint_ports(painter)

    def _paint_header(self, painter: QPainter, radius: float) -> None:
        s = self._style
        header = QRectF(0, 0, self._w, self._header_h)
        path = QPainterPath()
        path.addRoundedRect(header, radius, radius)
        square = QPainterPath()
        square.addRect(QRectF(0, self._header_h / 2, self._w, self._header_h / 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(s.group_color(self._group))
        painter.drawPath(path.united(square))
        text_rect = header.adjusted(self._pad, 0, -self._pad, 0)
        painter.setPen(s.color("header_text"))
        painter.setFont(self._title_font)
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(text_rect, align | Qt.AlignmentFlag.AlignLeft, self._title)
        if self._type_text:
            painter.setFont(self._type_font)
            faded = s.color("header_text")
            faded.setAlpha(215)
            painter.setPen(faded)
            room = self._style.font_size * 1.2 if self._problems else 0.0  # for the badge
            painter.drawText(text_rect.adjusted(0, 0, -room, 0),
                             align | Qt.AlignmentFlag.AlignRight, self._type_text)

    def _paint_body(self, painter: QPainter) -> None:
        s = self._style
        painter.setFont(self._body_font)
        colors = (s.color("text"), s.color("text"), s.color("text_muted"))
        y = self._header_h + self._pad * 0.6
        for text, color in zip(self._lines, colors, strict=True):
            painter.setPen(color)
            painter.drawText(QRectF(self._pad, y, self._w - 2 * self._pad, self._line_h),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            y += self._line_h

    def _paint_neurons(self, painter: QPainter) -> None:
        s = self._style
        painter.setFont(self._body_font)
        painter.setPen(s.color("text_muted"))
        bottom = QRectF(self._pad, self._h - self._line_h - self._pad * 0.5,
                        self._w - 2 * self._pad, self._line_h)
        label = (describe(self._node) if self._node.get("type") != "Dense"
                 else str(self._node.get("activation", "linear")))
        painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, label)
        for sign, rect in self.button_rects().items():
            painter.setPen(QPen(s.color("node_border"), 1.0))
            painter.setBrush(s.color("button"))
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(s.color("button_text"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "+" if sign > 0 else "−")
        geo = neuron_view.column_geometry(self._neurons or 0, s, self._has_maps())
        top = self._header_h + self._line_h + self._pad
        scene = self.scene()
        maps = scene.neuron_images(self.node_id) if scene is not None else None
        neuron_view.paint_column(painter, geo, QPointF(self._w / 2.0, top), s, maps)
        if self._node.get("type") == "Input" and scene is not None:
            self._paint_input_labels(painter, geo, top, scene.session.input_labels)

    def _paint_input_labels(self, painter: QPainter, geo: Any, top: float,
                            labels: list[str]) -> None:
        """x1, x2, x1², ... left of the input neurons (when they name every neuron)."""
        if len(labels) != self._neurons:
            return
        painter.setFont(self._body_font)
        painter.setPen(self._style.color("text"))
        right = self._w / 2.0 - geo.radius - self._pad * 0.3
        for i, label in enumerate(labels):
            y = top + geo.center_y(i)
            rect = QRectF(self._pad * 0.3, y - self._line_h / 2, right - self._pad * 0.3,
                          self._line_h)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             label)

    def _paint_ports(self, painter: QPainter) -> None:
        s = self._style
        painter.setPen(QPen(s.color("node_body"), 1.5))
        for side in ("in", "out"):
            if side == "in" and not self.has_input_port():
                continue
            hot = self._hover_port == side
            color = s.color("port_hover") if hot else s.color("port")
            if self._drop_hint is not None and self._drop_hint[0] == side:
                hot, color = True, QColor(OK_COLOR if self._drop_hint[1] else s.badge)
            painter.setBrush(color)
            r = PORT_RADIUS * (1.45 if hot else 1.0)
            painter.drawEllipse(self.port_pos(side), r, r)

    def set_drop_hint(self, side: str | None, allowed: bool = True) -> None:
        """While a connection is drawn: show whether it may end on this card's port."""
        hint = None if side is None else (side, allowed)
        if hint != self._drop_hint:
            self._drop_hint = hint
            self.update()

    def neuron_at(self, local: QPointF) -> int | None:
        """Index of the neuron under ``local`` (item coordinates), neuron view only."""
        if self._neurons is None:
            return None
        radius = self.neuron_radius()
        for i in range(self._neurons):
            delta = self.mapToScene(local) - self.neuron_center(i)
            if delta.x() ** 2 + delta.y() ** 2 <= radius ** 2:
                return i
        return None

    def _neuron_tooltip(self, index: int) -> str:
        scene = self.scene()
        if self._node.get("type") == "Input" or scene is None:
            labels = scene.session.input_labels if scene is not None else []
            name = labels[index] if index < len(labels) else f"feature {index}"
            return f"{self.node_id}: {name}"
        bias = (scene.session.layer_weights(self.node_id) or {}).get("bias")
        value = f"bias = {float(bias[index]):.4g}" if bias is not None and index < len(
            bias) else "no bias"
        return f"{self.node_id}: neuron {index}, {value}"

    # ------------------------------------------------------------------ interaction
    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange:
            scene = self.scene()
            if scene is not None and scene.snap_active:
                grid = scene.style.grid_size
                return QPointF(round(value.x() / grid) * grid, round(value.y() / grid) * grid)
        elif change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        neuron = self.neuron_at(event.pos())
        if neuron != self._hover_neuron:
            self._hover_neuron = neuron
            self.setToolTip(self._tooltip() if neuron is None else self._neuron_tooltip(neuron))
            if self.scene() is not None:
                self.scene().show_neuron_map(self.node_id, neuron)
        port = self.port_at(event.pos())
        if port != self._hover_port:
            self._hover_port = port
            self.setCursor(Qt.CursorShape.CrossCursor if port else Qt.CursorShape.ArrowCursor)
            self.update()
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        if self._hover_neuron is not None and self.scene() is not None:
            self._hover_neuron = None
            self.scene().show_neuron_map(self.node_id, None)
        if self._hover_port:
            self._hover_port = None
            self.update()
        super().hoverLeaveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene: CanvasScene | None = self.scene()
        if scene is not None and event.button() == Qt.MouseButton.LeftButton:
            for sign, rect in self.button_rects().items():
                if rect.contains(event.pos()):
                    scene.change_units(self.node_id, sign)
                    event.accept()
                    return
            port = self.port_at(event.pos())
            if port is not None:
                scene.begin_edge_drag(self, port, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene: CanvasScene | None = self.scene()
        if scene is not None and scene.edge_drag_active:
            scene.update_edge_drag(event.scenePos())
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene: CanvasScene | None = self.scene()
        if scene is not None and scene.edge_drag_active:
            scene.finish_edge_drag(event.scenePos())
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene: CanvasScene | None = self.scene()
        if scene is not None:
            scene.nodeActivated.emit(self.node_id)
        super().mouseDoubleClickEvent(event)

