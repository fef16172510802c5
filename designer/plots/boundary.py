"""The network's output over the input plane, TensorFlow Playground style.

For 2-D classification the output over a 100x100 grid is a heatmap (orange = class 0,
blue = class 1; several classes blend their colours by probability) under the training
points (white outline) and validation points (black outline). Regression shows the
prediction as a curve over the data for one input and as a heatmap for two. The grid
predictions are computed in the training process; this view only uploads the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from designer.plots.common import (
    CLASS_COLORS,
    LiveView,
    add_plot,
    cache_static,
    class_color,
    diverging_colormap,
    diverging_lut,
    make_canvas,
)
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

TRAIN_OUTLINE = pg.mkPen("w", width=1)
VAL_OUTLINE = pg.mkPen("k", width=1)
PREDICTION_PEN = pg.mkPen((30, 30, 30), width=2)


class BoundaryView(LiveView):
    """Decision boundary / regression surface with the data on top."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = make_canvas()
        self.plot = add_plot(self.canvas, 0, 0, "Output over the inputs")
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.train_scatter = pg.ScatterPlotItem(size=6, pen=TRAIN_OUTLINE)
        self.val_scatter = pg.ScatterPlotItem(size=6, pen=VAL_OUTLINE)
        self.plot.addItem(self.train_scatter)
        self.plot.addItem(self.val_scatter)
        cache_static(self.train_scatter, self.val_scatter)
        self.line = self.plot.plot([], [], pen=PREDICTION_PEN)
        self.note = QLabel("Shown for data with one or two input features.")
        self.note.setWordWrap(True)
        self.show_val_box = QCheckBox("Validation")  # short: a narrow dock at 20 px
        self.show_val_box.setChecked(True)
        self.show_val_box.setToolTip("Show the held-out validation points (black outline), "
                                     "as the Playground's \u201cShow test data\u201d.")
        self.discretize_box = QCheckBox("Discretize")
        self.discretize_box.setToolTip("Each point of the plane in the colour of the class "
                                       "the network picks, without shades of certainty.")
        row = QWidget()
        # the toggles never set the dock's minimum width (a dock briefly squeezed while
        # the layout is rebuilt would otherwise widen the window)
        row.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        toggles = QHBoxLayout(row)
        toggles.setContentsMargins(0, 0, 0, 0)
        toggles.addWidget(self.show_val_box)
        toggles.addWidget(self.discretize_box)
        toggles.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(row)
        layout.addWidget(self.note)
        self.show_val_box.toggled.connect(self.val_scatter.setVisible)
        self.discretize_box.toggled.connect(self._redraw)
        self._last_grid: np.ndarray | None = None
        self._lut = diverging_lut()
        self._ctx = ViewContext()
        self._grid_seq = -1
        self._levels = (-1.0, 1.0)
        self._rect = QRectF(0, 0, 1, 1)

    # -- LiveView ------------------------------------------------------------------
    def set_context(self, context: ViewContext) -> None:
        """Place the grid and draw the data points (once per data set)."""
        self._ctx = context
        self._grid_seq = -1
        self.clear()
        shape, extent = context.grid_shape, context.extent
        active = shape is not None and extent is not None
        self.note.setVisible(not active)
        self.canvas.setVisible(active)
        if not active:
            return
        x0, x1, y0, y1 = extent
        one_d = shape[0] == 1
        self.image.setVisible(not one_d)
        self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self._levels = self._regression_levels(context)
        self.train_scatter.setData(**self._points(context.train_points, context.train_labels,
                                                  one_d))
        self.val_scatter.setData(**self._points(context.val_points, context.val_labels,
                                                one_d))
        item = self.plot
        item.setLabel("bottom", (context.feature_names or ["x1"])[0])
        item.setLabel("left", "target" if one_d else (context.feature_names + ["x1", "x2"])[1])
        if one_d:
            y = np.asarray(context.train_labels if context.train_labels is not None else [0.0],
                           dtype=np.float64)
            pad = 0.1 * (float(y.max() - y.min()) or 1.0)
            item.setRange(xRange=(x0, x1), yRange=(float(y.min()) - pad, float(y.max()) + pad),
                          padding=0)
        else:
            item.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def clear(self) -> None:
        """Remove the output image/curve (the points stay)."""
        self._last_grid = None
        self.image.clear()
        self.line.setData([], [])
        self._grid_seq = -1

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Upload the newest grid prediction, if the training loop made a new one."""
        if snapshot is None or snapshot.grid is None or snapshot.grid_seq == self._grid_seq:
            return False
        if self._ctx.grid_shape is None or snapshot.grid.shape[:2] != self._ctx.grid_shape:
            return False
        self._grid_seq = snapshot.grid_seq
        self.show_grid(snapshot.grid)
        return True

    def set_lookup_table(self, lut: np.ndarray) -> None:
        """Colours for the output map (the colour-blind-safe palette, for instance)."""
        self._lut = lut
        if self.image.lut is not None:
            self.image.setLookupTable(lut)

    def _redraw(self) -> None:
        if self._last_grid is not None:
            self.show_grid(self._last_grid)

    def show_grid(self, grid: np.ndarray) -> None:
        """Draw an output grid (H, W, outputs) from a snapshot (discretized when the box
        says so: classification only)."""
        ctx = self._ctx
        self._last_grid = grid
        if self.discretize_box.isChecked() and ctx.task == "classification":
            grid = _discrete(grid)
        if ctx.extent is None:
            return
        if grid.shape[0] == 1:  # one input feature: a curve
            x0, x1, _, _ = ctx.extent
            self.line.setData(np.linspace(x0, x1, grid.shape[1]), grid[0, :, 0])
            return
        if ctx.task == "classification" and grid.shape[2] > 1:
            self.image.setLookupTable(None)
            self.image.setImage(_blend_classes(grid), autoLevels=False, levels=(0, 255))
        elif ctx.task == "classification":
            self.image.setLookupTable(self._lut)
            self.image.setImage(2.0 * grid[:, :, 0] - 1.0, autoLevels=False,
                                levels=(-1.0, 1.0))
        else:
            self.image.setLookupTable(self._lut)
            self.image.setImage(grid[:, :, 0], autoLevels=False, levels=self._levels)
        self.image.setRect(self._rect)  # after setImage: the scale depends on its size

    # -- helpers -------------------------------------------------------------------
    def _points(self, points: np.ndarray | None, labels: np.ndarray | None,
                one_d: bool) -> dict:
        if points is None or labels is None or len(points) == 0:
            return {"x": [], "y": []}
        points = np.asarray(points, dtype=np.float64)
        if one_d:
            x, y = points[:, 0], np.asarray(labels, dtype=np.float64).reshape(len(points), -1)[:, 0]
            return {"x": x, "y": y, "brush": pg.mkBrush(POSITIVE_BRUSH)}
        if self._ctx.task == "classification":
            brushes = [pg.mkBrush(class_color(i)) for i in range(len(CLASS_COLORS))]
            idx = np.asarray(labels, dtype=np.int64) % len(CLASS_COLORS)
            return {"x": points[:, 0], "y": points[:, 1], "brush": [brushes[i] for i in idx]}
        lo, hi = self._levels
        values = np.asarray(labels, dtype=np.float64).reshape(len(points), -1)[:, 0]
        colors = diverging_colormap().map(np.clip((values - lo) / (hi - lo), 0, 1), "qcolor")
        return {"x": points[:, 0], "y": points[:, 1], "brush": colors}

    @staticmethod
    def _regression_levels(ctx: ViewContext) -> tuple[float, float]:
        if ctx.task == "classification" or ctx.train_labels is None:
            return (-1.0, 1.0)
        y = np.asarray(ctx.train_labels, dtype=np.float64).ravel()
        if not len(y):
            return (-1.0, 1.0)
        mid, half = float((y.max() + y.min()) / 2), float((y.max() - y.min()) / 2) or 1.0
        return (mid - half, mid + half)


POSITIVE_BRUSH = CLASS_COLORS[1]


def _discrete(grid: np.ndarray) -> np.ndarray:
    """Probabilities -> the picked class only: 0/1 for one sigmoid unit, one-hot else."""
    if grid.shape[2] == 1:
        return (grid > 0.5).astype(np.float32)
    return np.eye(grid.shape[2], dtype=np.float32)[grid.argmax(axis=2)]


def _blend_classes(grid: np.ndarray) -> np.ndarray:
    """RGB image: class colours weighted by probability, washed out where unsure."""
    probs = np.clip(grid, 0.0, 1.0)
    colors = np.asarray(CLASS_COLORS[: probs.shape[2]], dtype=np.float32)
    if len(colors) < probs.shape[2]:
        colors = np.resize(colors, (probs.shape[2], 3))
    rgb = probs @ colors
    confidence = probs.max(axis=2, keepdims=True)
    k = probs.shape[2]
    weight = np.clip((confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0) * 0.8 + 0.2
    out = 255.0 * (1.0 - weight) + rgb * weight
    return out.astype(np.uint8)
