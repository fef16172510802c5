"""What the live views share: colours, the view context and the refresh protocol.

Every view is created once with all of its pyqtgraph items; on each refresh tick it only
calls ``setData``/``setImage`` on them (pyqtgraph's own examples do the same; creating
items per update is what makes plots slow). A view is refreshed only while visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QGraphicsItem, QLabel, QSizePolicy, QWidget

from designer.presentation import FONT_POINTS, PLOT_TEXT_PX
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot
from designer.themes import colors

# TensorFlow Playground's colours: orange for negative / class 0, blue for positive.
NEGATIVE = (245, 147, 34)
POSITIVE = (8, 119, 189)
CLASS_COLORS = [NEGATIVE, POSITIVE, (76, 175, 80), (156, 39, 176), (229, 57, 53),
                (121, 85, 72), (0, 150, 136), (255, 193, 7), (96, 125, 139), (233, 30, 99)]


def diverging_colormap() -> pg.ColorMap:
    """Orange - white - blue, symmetric around zero (negative orange, positive blue)."""
    return pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, (250, 250, 250), POSITIVE])


def diverging_lut() -> np.ndarray:
    """The diverging map as a 256-entry lookup table for ``ImageItem.setLookupTable``."""
    return diverging_colormap().getLookupTable(0.0, 1.0, 256)


def class_color(index: int, alpha: int = 255) -> QColor:
    """Colour of class ``index`` (cycles after ten)."""
    r, g, b = CLASS_COLORS[index % len(CLASS_COLORS)]
    return QColor(r, g, b, alpha)


def nice_limit(value: float, floor: float = 1e-3) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``value``: a stable symmetric level.

    Levels that follow every new maximum would make colours flicker and hide growth, so
    levels only move to the next "nice" step when the data outgrows them.
    """
    value = max(float(value), floor)
    if not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for mant in (1.0, 2.0, 5.0, 10.0):
        limit = mant * 10.0 ** exp
        if limit >= value * (1 - 1e-9):
            return limit
    return 10.0 ** (exp + 1)


@dataclass(frozen=True)
class PlotStyle:
    """The colour and sizes of every text in the plots (axes, titles, labels): they
    follow the theme, and presentation mode makes them readable from the back of a room
    (18 px at least on a 1920x1080 projector)."""

    text: str = "#5f6670"
    font_px: int = 12
    title_px: int = 13




def plot_style_for(theme: str, presentation: bool = False) -> PlotStyle:
    """The plot style of a theme: muted text normally, full contrast and 20 px text on a
    projector."""
    c = colors(theme, presentation)
    font_px, title_px = PLOT_TEXT_PX[bool(presentation)]
    return PlotStyle(c.text if presentation else c.muted, font_px, title_px)


#: The style plots are drawn with now; views created later pick it up too.
_current = [PlotStyle()]


def plot_style() -> PlotStyle:
    """The current plot style (set by :func:`apply_plot_style`)."""
    return _current[0]


def plot_font(scale: float = 1.0, bold: bool = False) -> QFont:
    """The application font at the plots' pixel size (times ``scale``)."""
    font = QFont(QApplication.font())
    font.setPixelSize(max(1, round(plot_style().font_px * scale)))
    font.setBold(bold)
    return font


TITLE_MIN_PX = 48


def set_title(item: pg.PlotItem, text: str) -> None:
    """A plot title in the current style (``text`` may hold coloured spans)."""
    style = plot_style()
    item.setTitle(text, size=f"{style.title_px}px", color=style.text)
    _let_title_shrink(item.titleLabel)


def _let_title_shrink(label: pg.LabelItem) -> None:
    """Let a title be narrower than its text, which is then clipped.

    pyqtgraph makes a title's text width its minimum width, so a long title (or a large
    presentation font) widened its plot's column beyond a narrow dock, and Qt then cut off
    the whole right side of the view (the Weights view lost its histograms at 1920x1080).
    """
    if getattr(label, "_shrinks", False):
        label.updateMin()
        return
    label._shrinks = True  # noqa: SLF001 - a mark on pyqtgraph's item
    label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
    natural = label.updateMin

    def update_min() -> None:
        natural()
        if label.item.boundingRect().width() > label.width() > 0:  # cut: keep its start
            label.item.setPos(0, label.item.pos().y())
        width = min(label.minimumWidth(), TITLE_MIN_PX)
        label.setMinimumWidth(width)
        label._sizeHint[Qt.SizeHint.MinimumSize] = (width, label.minimumHeight())  # noqa: SLF001
        label.updateGeometry()

    label.updateMin = update_min
    update_min()


def style_plot_item(item: pg.PlotItem) -> None:
    """Axes, axis names and the title of one plot in the current style."""
    style = plot_style()
    font = plot_font()
    for axis in item.axes.values():
        axis = axis["item"]
        axis.setPen(style.text)
        axis.setTextPen(style.text)
        axis.setTickFont(font)
        axis.labelStyle = {"color": style.text, "font-size": f"{style.font_px}px"}
        axis._updateLabel()  # noqa: SLF001 - pyqtgraph's own refresh of the label
    title = item.titleLabel
    if title.isVisible() and title.text:
        set_title(item, title.text)


def apply_plot_style(style: PlotStyle, roots: list[QWidget]) -> None:
    """Make ``style`` current and restyle every plot below ``roots`` (a theme change)."""
    _current[0] = style
    for root in roots:
        views = [root] if isinstance(root, pg.GraphicsView) else []
        for view in views + root.findChildren(pg.GraphicsView):
            for graphics_item in view.scene().items():
                if isinstance(graphics_item, pg.PlotItem):
                    style_plot_item(graphics_item)
                elif isinstance(graphics_item, pg.TextItem):
                    graphics_item.setFont(plot_font())
        for view in root.findChildren(LiveView):
            view.restyle()


class LiveView(QWidget):
    """Base of the live views: context on data change, refresh on the UI timer."""

    #: True when the view draws from the curve history rather than the snapshot.
    wants_curves = False
    #: Shortest time between two refreshes: the main views follow every tick (25 Hz),
    #: the detail views ~10 Hz, which keeps the window's share of the CPU small.
    min_interval_s = 0.0

    def set_context(self, context: ViewContext) -> None:
        """New data or network: rebuild what depends on it (not per tick)."""

    def clear(self) -> None:
        """Forget the drawn training state (reset weights)."""

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Draw the newest state; return True when something was redrawn."""
        return False

    def finish(self) -> None:
        """Training ended: draw anything that was held back to save time while it ran."""

    def restyle(self) -> None:
        """The plot style changed (theme, presentation mode): views with text of their
        own beyond axes and titles update it here."""

    def is_shown(self) -> bool:
        """Visible on screen (a hidden dock or a background tab is not refreshed)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()


class SteadyLabel(QLabel):
    """A QLabel whose text changes often without re-laying out the window.

    A plain QLabel asks its layout for a new size on every ``setText``; in a dock that
    ripples up to the main window, which re-lays out (and animates) every dock. This one
    asks for the width of its template, whatever its text: the same size hint for every
    text. The hint follows the font (presentation mode, a stylesheet's emphasis); the
    minimum stays the template's width at the normal font, so that larger text never
    forces the window wider than the screen (the text is cut in a narrow dock instead).
    """

    def __init__(self, template: str = "", text: str = " ") -> None:
        super().__init__(text)
        self._template = template
        wide = QSizePolicy.Policy.Preferred if template else QSizePolicy.Policy.Ignored
        self.setSizePolicy(wide, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The template's size in the current font (the text's, without a template)."""
        if not self._template:
            return super().sizeHint()
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        return QSize(metrics.horizontalAdvance(self._template) + margins.left()
                     + margins.right() + 2 * self.margin(),
                     metrics.height() + margins.top() + margins.bottom() + 2 * self.margin())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As high as a line; as wide as the template at the normal font at most."""
        if not self._template:
            return super().minimumSizeHint()
        hint = self.sizeHint()
        points = self.font().pointSizeF()
        shrink = min(1.0, FONT_POINTS[0] / points) if points > 0 else 1.0
        return QSize(int(hint.width() * shrink), hint.height())


def steady_label(template: str = "", text: str = " ") -> QLabel:
    """A :class:`SteadyLabel` reserving the width of ``template``, showing ``text``."""
    return SteadyLabel(template, text)


def make_canvas() -> pg.GraphicsLayoutWidget:
    """One QGraphicsView for all plots of a view: one paint event per refresh, not one
    per plot (each paint event costs Python time on the UI thread)."""
    canvas = pg.GraphicsLayoutWidget()
    canvas.setBackground(None)
    canvas.ci.setContentsMargins(2, 2, 2, 2)
    return canvas


class ReadableAxis(pg.AxisItem):
    """An axis that labels no more ticks than its font leaves room for.

    pyqtgraph picks at least 2.25 intervals whatever the font: in a plot 60 px high with
    presentation mode's 15 pt labels, "1.0 0.8 0.6 0.4 0.2" were drawn on top of each
    other. Here the major step grows (1, 2, 5 x 10^k) until its labels fit, with no
    finer level; pyqtgraph's choice (and its own rules for the finer levels' labels)
    stands wherever its major labels already fit.
    """

    GAP = 1.6  # label pitch along a vertical axis, in label heights

    def _fits(self, lo: float, hi: float, size: float, spacing: float) -> bool:
        """Do labels every ``spacing`` fit along ``size`` pixels?"""
        metrics = QFontMetrics(self.style.get("tickFont") or QApplication.font())
        if self.orientation in ("left", "right"):
            pitch = self.GAP * metrics.height()
        else:  # as wide as the widest label, plus about a character between two
            texts = self.tickStrings([lo, hi], self.scale, spacing)
            pitch = max(metrics.horizontalAdvance(t) for t in texts) + metrics.height()
        return abs(hi - lo) / spacing <= max(1.0, size / pitch)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        levels = super().tickSpacing(minVal, maxVal, size)
        dif = abs(maxVal - minVal)
        if not levels or self.logMode or dif == 0 or not math.isfinite(dif):
            return levels
        spacing = levels[0][0]
        if self._fits(minVal, maxVal, size, spacing):
            return levels
        unit = 10.0 ** math.floor(math.log10(spacing))
        steps = [f * unit * 10.0 ** k for k in range(8) for f in (1, 2, 5)]
        major = next((s for s in steps if s > spacing and self._fits(minVal, maxVal, size, s)),
                     steps[-1])
        return [(major, 0.0)]  # one level: no finer labels squeezed in between


def add_plot(canvas: pg.GraphicsLayoutWidget, row: int, col: int, title: str = "",
             left: str = "", bottom: str = "", rowspan: int = 1,
             colspan: int = 1) -> pg.PlotItem:
    """A PlotItem with the settings every live plot uses: no menu, no SI prefixes, and
    auto-range off (ranges are set by :class:`RangeKeeper`, so axes rarely redraw)."""
    item = canvas.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan,
                          axisItems={"left": ReadableAxis("left"),
                                     "bottom": ReadableAxis("bottom")})
    if title:
        set_title(item, title)
    if left:
        item.setLabel("left", left)
    if bottom:
        item.setLabel("bottom", bottom)
    style_plot_item(item)
    # No grid lines: an axis that draws them spans the whole plot, so every curve
    # update would repaint both axes (about 8 ms of Python per frame instead of 0.5 ms).
    item.setMenuEnabled(False)
    item.hideButtons()
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)
    item.vb.disableAutoRange()
    cache_static(item.getAxis("left"), item.getAxis("bottom"), item.titleLabel)
    return item


def cache_static(*items: QGraphicsItem) -> None:
    """Let Qt keep these items as pixmaps: when a curve next to them is redrawn, Qt
    blits the pixmap instead of calling their Python ``paint`` again. They are redrawn
    when they change."""
    for graphics_item in items:
        graphics_item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class RangeKeeper:
    """Moves a plot's view range in coarse steps only when the data leaves it.

    Auto-range on every update makes pyqtgraph re-layout and redraw the axes each time;
    keeping the range until the data outgrows it (then jumping to a "nice" bound with
    head room) makes most refreshes touch only the curves.
    """

    def __init__(self, plot: pg.PlotItem, x_floor: float = 0.0, y_floor: float | None = 0.0,
                 log_y: bool = False) -> None:
        self.plot = plot
        self.x_floor = x_floor
        self.y_floor = y_floor
        self.log_y = log_y
        self.reset()

    def reset(self) -> None:
        """Forget the range (new data)."""
        self.x = (0.0, 1.0)
        self.y = (0.0, 1.0)
        self._set = False

    def fit(self, x_max: float, y_min: float, y_max: float,
            fixed_x: tuple[float, float] | None = None) -> None:
        """Make sure [x_floor, x_max] x [y_min, y_max] is in view (log10 values if log_y);
        ``fixed_x`` gives the exact x range instead (histograms)."""
        if not all(np.isfinite(v) for v in (x_max, y_min, y_max)):
            return
        x_lo = self.x_floor
        changed = not self._set
        x = self.x
        if fixed_x is not None:
            if fixed_x != x:
                x, changed = fixed_x, True
        elif changed or x_max > x[1] or x_lo < x[0]:
            x = (x_lo, x_lo + nice_limit(max(x_max - x_lo, 1e-9) * 1.25, floor=1e-9))
            changed = True
        y = self.y
        if changed or y_max > y[1] or y_min < y[0] or (y[1] - y[0]) > 8 * max(
                y_max - y_min, 1e-12):
            y = self._y_range(y_min, y_max)
            changed = True
        if changed:
            self.x, self.y, self._set = x, y, True
            self.plot.vb.setRange(xRange=x, yRange=y, padding=0.02)

    def _y_range(self, lo: float, hi: float) -> tuple[float, float]:
        if self.log_y:
            return (np.floor(lo), np.ceil(hi) if np.ceil(hi) > np.floor(lo) else np.floor(lo) + 1)
        span = max(hi - lo, 1e-9)
        base = self.y_floor if self.y_floor is not None and lo >= self.y_floor else lo - 0.1 * span
        return (base, base + nice_limit((hi - base) * 1.1, floor=1e-9))
