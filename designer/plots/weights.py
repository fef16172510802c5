"""Per-layer weights: the kernel as a heatmap, weight and gradient histograms, and the
gradient norm of every layer over time.

Together they show what goes wrong inside: gradients that shrink layer by layer
(vanishing), norms that shoot up (exploding), or a kernel whose columns stop changing
(dead ReLUs). The heatmap uses a diverging map with fixed symmetric levels that only
step up (1, 2, 5 x 10^k) when the weights outgrow them, so colours stay comparable.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from designer.plots.common import (
    NEGATIVE,
    POSITIVE,
    LiveView,
    RangeKeeper,
    add_plot,
    cache_static,
    class_color,
    diverging_lut,
    make_canvas,
    nice_limit,
    steady_label,
)
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

BINS = 40


def kernel_matrix(kernel: np.ndarray) -> np.ndarray:
    """A 2-D view of any kernel: Dense (in, units); Conv2D (kh*kw*in_c, filters)."""
    kernel = np.asarray(kernel)
    if kernel.ndim == 1:
        return kernel.reshape(-1, 1)
    return kernel.reshape(-1, kernel.shape[-1])


def index_ticks(n: int, most: int = 8) -> list[tuple[float, str]]:
    """Ticks at the centres of ``n`` cells, numbered from 0 as the neuron tooltips are,
    every 1, 2, 5, 10, 20, ... cells so that at most ``most`` get a number: rows 0 and 1
    of a two-input kernel, not "0 0.5 1.0 1.5 2.0" on the cell edges."""
    step = next(f * 10 ** k for k in range(12) for f in (1, 2, 5) if n <= most * f * 10 ** k)
    return [(i + 0.5, str(i)) for i in range(0, n, step)]


class DecadeAxis(pg.AxisItem):
    """A log axis with ticks and text on whole decades and unlabelled minor ticks.

    pyqtgraph's own log axis puts the minor ticks (2..9 x 10^k) on the first level, with
    text, when the range spans less than about two decades: in a small plot their labels
    then overwrite each other. Here the first level is always decades, every ``step``-th
    one when they would be closer than ``MIN_GAP_PX`` pixels.
    """

    MIN_GAP_PX = 28

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - Qt's names
        lo, hi = int(np.floor(minVal)), int(np.ceil(maxVal))
        fits = max(1, int(size // self.MIN_GAP_PX))
        step = max(1, -(-(hi - lo) // fits))
        major = [float(v) for v in range(lo - lo % step, hi + 1, step) if minVal <= v <= maxVal]
        minor = [v + np.log10(k) for v in range(lo, hi) for k in range(2, 10)
                 if minVal < v + np.log10(k) < maxVal] if step == 1 else []
        return [(float(step), major), (None, minor)]


def _histogram(plot: pg.PlotItem, color: tuple[int, int, int]) -> pg.PlotCurveItem:
    """A filled step curve (``setData(edges, counts)``)."""
    curve = pg.PlotCurveItem([0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                             brush=(*color, 150), pen=pg.mkPen(color))
    plot.addItem(curve)
    return curve


class WeightsView(LiveView):
    """Heatmap + histograms of the chosen layer, gradient norms of all layers."""

    wants_curves = True
    min_interval_s = 0.1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._shape: tuple[int, ...] | None = None
        self.layer_box = QComboBox()
        self.layer_box.currentIndexChanged.connect(self._layer_changed)
        self.level_label = steady_label("colour range ±0.000", "")
        self.canvas = make_canvas()
        self.heatmap = add_plot(self.canvas, 0, 0, "Kernel", "input", "unit", rowspan=2)
        self.heatmap.showGrid(x=False, y=False)
        self.heatmap.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(diverging_lut())
        self.heatmap.addItem(self.image)
        self.weight_hist = add_plot(self.canvas, 0, 1, "Weights")
        self.grad_hist = add_plot(self.canvas, 1, 1, "Gradients")
        self.weight_curve = _histogram(self.weight_hist, POSITIVE)
        self.grad_curve = _histogram(self.grad_hist, NEGATIVE)
        self.norm_plot = add_plot(self.canvas, 2, 0, "Gradient norm per layer", "|grad|",
                                  "step", colspan=2)
        decades = DecadeAxis("left")
        self.norm_plot.setAxisItems({"left": decades})
        decades.setLabel("|grad|")
        decades.enableAutoSIPrefix(False)
        decades.setLogMode(False, True)
        decades.setStyle(maxTextLevel=0)  # text on the decades only
        cache_static(decades)
        self.norm_keeper = RangeKeeper(self.norm_plot, y_floor=None, log_y=True)
        self.weight_keeper = RangeKeeper(self.weight_hist)
        self.grad_keeper = RangeKeeper(self.grad_hist)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)
        self._norm_curves: dict[str, pg.PlotDataItem] = {}
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layer:"))
        bar.addWidget(self.layer_box, 1)
        bar.addWidget(self.level_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        self.norm_key = QLabel("")
        self.norm_key.setWordWrap(True)
        layout.addWidget(self.norm_key)
        self._limits: dict[str, float] = {}
        self._grad_limits: dict[str, float] = {}
        self._seq = -1
        self._norm_version = -1
        self._last: Snapshot | None = None
        self._pending: ViewContext | None = None  # applied when the view is shown
        self._norms_drawn = False

    # -- LiveView ------------------------------------------------------------------
    def set_context(self, context: ViewContext) -> None:
        """List the layers with a kernel and create one norm curve per layer.

        Every edit of the network sends a context; with hundreds of layers rebuilding the
        curves costs ~0.2 s, so a view that is not on screen only keeps the newest context
        and applies it when it is shown (or asked to draw).
        """
        self._pending = context
        if self.is_shown():
            self._apply_pending()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._apply_pending()

    def _apply_pending(self) -> None:
        context, self._pending = self._pending, None
        if context is None:
            return
        if context.layer_ids == list(self._norm_curves):  # same layers: keep the curves
            self.clear()
            return
        current = self.layer_box.currentText()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(context.layer_ids)
        if current in context.layer_ids:
            self.layer_box.setCurrentText(current)
        self.layer_box.blockSignals(False)
        self._norm_curves = self._curves_for(context.layer_ids)
        # The key under the plot, where it can wrap: in the title it was cut off.
        self.norm_key.setText("Gradient norm: " + "&nbsp; ".join(
            f"<span style='color: {class_color(i).name()}'>&#9644;&nbsp;{nid}</span>"
            for i, nid in enumerate(context.layer_ids)))
        self.clear()

    def _curves_for(self, layer_ids: list[str]) -> dict[str, pg.PlotCurveItem]:
        """One norm curve per layer, reusing those of layers that stay: adding or removing
        a plot item is the costly part (pyqtgraph updates its menus for each)."""
        old, curves = dict(self._norm_curves), {}
        for i, nid in enumerate(layer_ids):
            pen = pg.mkPen(class_color(i), width=2)
            curve = old.pop(nid, None)
            if curve is None:
                curve = pg.PlotCurveItem(pen=pen, name=nid, skipFiniteCheck=True)
                self.norm_plot.addItem(curve)
            else:
                curve.setPen(pen)
            curves[nid] = curve
        for curve in old.values():
            self.norm_plot.removeItem(curve)
        return curves

    def clear(self) -> None:
        """Forget the drawn state and the levels (new weights)."""
        self._limits.clear()
        self._grad_limits.clear()
        self._seq = -1
        self._norm_version = -1
        self._last = None
        self._shape = None
        for keeper in (self.norm_keeper, self.weight_keeper, self.grad_keeper):
            keeper.reset()
        self.image.clear()
        if self._norms_drawn:  # emptying hundreds of empty curves on every edit adds up
            self._norms_drawn = False
            for curve in self._norm_curves.values():
                curve.setData([], [])

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Redraw the chosen layer and the norm curves when new data arrived."""
        self._apply_pending()
        drawn = False
        if curves is not None and curves.version != self._norm_version:
            self._norm_version = curves.version
            lo, hi, x_max = np.inf, -np.inf, 0.0
            for nid, curve in self._norm_curves.items():
                y = curves.grad_norms.get(nid)
                if y is not None and len(y):
                    n = min(len(y), len(curves.grad_norm_x))
                    ok = y[:n] > 0
                    x, y = curves.grad_norm_x[:n][ok], np.log10(y[:n][ok])
                    curve.setData(x, y)  # log10 values on a log axis
                    self._norms_drawn = True
                    if len(y):
                        lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
                        x_max = max(x_max, float(x[-1]))
            if np.isfinite(lo) and np.isfinite(hi):
                self.norm_keeper.fit(x_max, lo, hi)
            drawn = True
        if snapshot is not None and snapshot.seq != self._seq and snapshot.params is not None:
            self._seq = snapshot.seq
            self._last = snapshot
            self._draw_layer(snapshot)
            drawn = True
        return drawn

    # -- drawing -------------------------------------------------------------------
    def _layer_changed(self) -> None:
        if self._last is not None:
            self._draw_layer(self._last)

    def _draw_layer(self, snapshot: Snapshot) -> None:
        node = self.layer_box.currentText()
        for ref in snapshot.refs:
            if ref.node_id == node and ref.name == "kernel":
                w = snapshot.params[ref.offset: ref.offset + ref.size].reshape(ref.shape)
                g = (snapshot.grads[ref.offset: ref.offset + ref.size].reshape(ref.shape)
                     if snapshot.grads is not None else None)
                self._draw_arrays(node, w, g)
                return

    def _draw_arrays(self, node: str, kernel: np.ndarray, grad: np.ndarray | None) -> None:
        matrix = kernel_matrix(kernel)
        peak = float(np.max(np.abs(matrix))) if matrix.size else 0.0
        limit = self._limits.get(node, 0.0)
        if peak > limit:
            limit = self._limits[node] = nice_limit(peak, floor=0.1)
            self.weight_keeper.reset()
        self.level_label.setText(f"colour range ±{limit:g}")
        self.image.setImage(matrix, autoLevels=False, levels=(-limit, limit))
        if matrix.shape != self._shape:
            self._shape = matrix.shape
            self.heatmap.setRange(xRange=(0, matrix.shape[1]), yRange=(0, matrix.shape[0]),
                                  padding=0.02)
            self.heatmap.getAxis("bottom").setTicks([index_ticks(matrix.shape[1])])
            self.heatmap.getAxis("left").setTicks([index_ticks(matrix.shape[0])])
        counts, edges = np.histogram(matrix, bins=BINS, range=(-limit, limit))
        self.weight_curve.setData(edges, counts)
        self.weight_keeper.fit(limit, 0.0, float(counts.max()), fixed_x=(-limit, limit))
        if grad is not None and grad.size:
            gpeak = float(np.max(np.abs(grad)))
            glimit = self._grad_limits.get(node, 0.0)
            if gpeak > glimit or gpeak < glimit / 100:
                glimit = self._grad_limits[node] = nice_limit(gpeak, floor=1e-8)
            counts, edges = np.histogram(grad, bins=BINS, range=(-glimit, glimit))
            self.grad_curve.setData(edges, counts)
            self.grad_keeper.fit(glimit, 0.0, float(counts.max()), fixed_x=(-glimit, glimit))
