"""Small pictures of each layer type, drawn with QPainter at run time.

Drawing them in code keeps them sharp at every size (presentation mode doubles them) and
keeps one colour per palette group, so a student learns "orange means merge" at a glance.
Every glyph is drawn on a 64 x 64 grid and scaled to the requested size.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from designer.canvas.style import LIGHT_GROUPS

#: The same colours as the node headers on the canvas, so palette and canvas agree.
GROUP_COLORS = dict(LIGHT_GROUPS)
_FALLBACK_COLOR = GROUP_COLORS.get("Other", "#546e7a")
_cache: dict[tuple[str, str, int], QIcon] = {}

Painter = Callable[[QPainter, QColor], None]


def group_color(group: str) -> QColor:
    """The colour of a palette group (grey for groups this module does not know)."""
    return QColor(GROUP_COLORS.get(group, _FALLBACK_COLOR))


def layer_icon(type_name: str, group: str = "Core", size: int = 64) -> QIcon:
    """An icon for `type_name` drawn in its group's colour (cached per type and size)."""
    key = (type_name, group, size)
    if key not in _cache:
        _cache[key] = QIcon(layer_pixmap(type_name, group, size))
    return _cache[key]


def layer_pixmap(type_name: str, group: str = "Core", size: int = 64) -> QPixmap:
    """The glyph of `type_name` on a tinted rounded tile, `size` pixels square."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    color = group_color("Input" if type_name == "Input" else group)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 64.0, size / 64.0)
    tile = QColor(color)
    tile.setAlpha(38)
    p.setPen(QPen(color, 2.5))
    p.setBrush(tile)
    p.drawRoundedRect(QRectF(3, 3, 58, 58), 11, 11)
    _GLYPHS.get(type_name, _letter(type_name))(p, color)
    p.end()
    return pixmap


def _pen(p: QPainter, color: QColor, width: float = 3.0) -> None:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)


def _dots(p: QPainter, color: QColor, points: list[tuple[float, float]], r: float) -> None:
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    for x, y in points:
        p.drawEllipse(QPointF(x, y), r, r)


def _input(p: QPainter, color: QColor) -> None:
    _pen(p, color)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(30, 16, 20, 32), 4, 4)
    p.drawLine(QPointF(12, 32), QPointF(36, 32))
    p.drawPolyline([QPointF(29, 25), QPointF(37, 32), QPointF(29, 39)])


def _dense(p: QPainter, color: QColor) -> None:
    left = [(18, 18), (18, 32), (18, 46)]
    right = [(46, 24), (46, 40)]
    _pen(p, color, 1.6)
    for a in left:
        for b in right:
            p.drawLine(QPointF(*a), QPointF(*b))
    _dots(p, color, left + right, 5.5)


def _neuron(p: QPainter, color: QColor) -> None:
    _pen(p, color, 2.0)
    for y in (16, 32, 48):
        p.drawLine(QPointF(10, y), QPointF(34, 32))
    p.drawLine(QPointF(34, 32), QPointF(56, 32))
    _dots(p, color, [(36, 32)], 11)
    p.setPen(QPen(QColor("white"), 3))
    p.drawLine(QPointF(31, 32), QPointF(41, 32))
    p.drawLine(QPointF(36, 27), QPointF(36, 37))


def _activation(p: QPainter, color: QColor) -> None:
    _pen(p, color, 1.5)
    p.drawLine(QPointF(12, 32), QPointF(52, 32))
    p.drawLine(QPointF(32, 12), QPointF(32, 52))
    path = QPainterPath()
    for i in range(41):
        x = -4 + 8 * i / 40
        point = QPointF(12 + 40 * i / 40, 32 - 18 * math.tanh(1.3 * x))
        path.moveTo(point) if i == 0 else path.lineTo(point)
    _pen(p, color, 3.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def _grid(p: QPainter, color: QColor, x0: float, y0: float, n: int, cell: float) -> None:
    _pen(p, color, 1.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for i in range(n + 1):
        p.drawLine(QPointF(x0 + i * cell, y0), QPointF(x0 + i * cell, y0 + n * cell))
        p.drawLine(QPointF(x0, y0 + i * cell), QPointF(x0 + n * cell, y0 + i * cell))


def _conv(p: QPainter, color: QColor) -> None:
    _grid(p, color, 12, 12, 4, 10)
    fill = QColor(color)
    fill.setAlpha(110)
    p.setBrush(fill)
    _pen(p, color, 3.5)
    p.drawRect(QRectF(22, 22, 20, 20))


def _pool(filled_cells: tuple[int, ...], alpha: int) -> Painter:
    def draw(p: QPainter, color: QColor) -> None:
        fill = QColor(color)
        fill.setAlpha(alpha)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        for cell in filled_cells:
            p.drawRect(QRectF(10 + 13 * (cell % 2), 19 + 13 * (cell // 2), 13, 13))
        _grid(p, color, 10, 19, 2, 13)
        _pen(p, color, 2.5)
        p.drawLine(QPointF(39, 32), QPointF(45, 32))
        p.drawPolyline([QPointF(42, 28), QPointF(46, 32), QPointF(42, 36)])
        p.setBrush(fill if alpha < 255 else color)
        p.drawRect(QRectF(48, 26, 10, 12))
    return draw


def _add(p: QPainter, color: QColor) -> None:
    _pen(p, color)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(32, 32), 17, 17)
    _pen(p, color, 4)
    p.drawLine(QPointF(32, 22), QPointF(32, 42))
    p.drawLine(QPointF(22, 32), QPointF(42, 32))


def _concat(p: QPainter, color: QColor) -> None:
    fill = QColor(color)
    fill.setAlpha(120)
    _pen(p, color, 2.5)
    p.setBrush(fill)
    p.drawRect(QRectF(12, 14, 9, 16))
    p.drawRect(QRectF(12, 36, 9, 14))
    p.setBrush(color)
    p.drawRect(QRectF(42, 14, 9, 16))
    p.setBrush(fill)
    p.drawRect(QRectF(42, 30, 9, 20))
    p.drawLine(QPointF(24, 22), QPointF(38, 22))
    p.drawLine(QPointF(24, 43), QPointF(38, 40))


def _flatten(p: QPainter, color: QColor) -> None:
    _grid(p, color, 10, 20, 3, 8)
    _pen(p, color, 2.5)
    p.drawLine(QPointF(37, 32), QPointF(44, 32))
    p.drawPolyline([QPointF(41, 28), QPointF(45, 32), QPointF(41, 36)])
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(48, 10, 7, 44))


def _reshape(p: QPainter, color: QColor) -> None:
    _pen(p, color, 2.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(10, 24, 22, 14))
    p.drawRect(QRectF(42, 14, 12, 36))
    p.drawLine(QPointF(33, 31), QPointF(40, 31))
    p.drawPolyline([QPointF(37, 27), QPointF(41, 31), QPointF(37, 35)])


def _dropout(p: QPainter, color: QColor) -> None:
    points = [(18, 18), (32, 18), (46, 18), (18, 32), (32, 32), (46, 32),
              (18, 46), (32, 46), (46, 46)]
    dropped = {1, 3, 8}
    _dots(p, color, [pt for i, pt in enumerate(points) if i not in dropped], 5)
    _pen(p, color, 2)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for i in dropped:
        x, y = points[i]
        p.drawEllipse(QPointF(x, y), 5, 5)
        p.drawLine(QPointF(x - 4, y - 4), QPointF(x + 4, y + 4))


def _batchnorm(p: QPainter, color: QColor) -> None:
    _pen(p, color, 1.5)
    p.drawLine(QPointF(10, 48), QPointF(54, 48))
    path = QPainterPath()
    for i in range(41):
        x = -2.5 + 5 * i / 40
        point = QPointF(12 + 40 * i / 40, 48 - 32 * math.exp(-x * x))
        path.moveTo(point) if i == 0 else path.lineTo(point)
    _pen(p, color, 3.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    _pen(p, color, 1.5)
    p.drawLine(QPointF(32, 14), QPointF(32, 48))


def _letter(type_name: str) -> Painter:
    def draw(p: QPainter, color: QColor) -> None:
        font = p.font()
        font.setPixelSize(30)
        font.setBold(True)
        p.setFont(font)
        p.setPen(color)
        p.drawText(QRectF(0, 0, 64, 64), Qt.AlignmentFlag.AlignCenter, (type_name or "?")[:2])
    return draw


_GLYPHS: dict[str, Painter] = {
    "Input": _input,
    "Dense": _dense,
    "Neuron": _neuron,
    "Activation": _activation,
    "Conv2D": _conv,
    "MaxPooling2D": _pool((1,), 255),
    "AveragePooling2D": _pool((0, 1, 2, 3), 90),
    "GlobalAveragePooling2D": _pool((0, 1, 2, 3), 90),
    "Add": _add,
    "Concatenate": _concat,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dropout": _dropout,
    "BatchNormalization": _batchnorm,
}
