"""Loss and metric curves, train and validation, per step and per epoch.

The per-step loss comes decimated from the snapshot buffer (at most a few thousand
points however long the run); the per-epoch figures are drawn with markers. The x axis
is in epochs (steps map to fractions of an epoch) or in steps. A log-scale toggle shows
the late, small improvements; a read-out under the mouse names the nearest values.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout

from designer.plots.common import (
    NEGATIVE,
    POSITIVE,
    LiveView,
    RangeKeeper,
    add_plot,
    cache_static,
    make_canvas,
    set_title,
    steady_label,
)
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

MAX_SYMBOLS = 100
MAX_POINTS = 400  # about one point per pixel of a docked plot
#: Epochs that end faster than this (the spiral: ~300 a second) are drawn at this pace;
#: the per-step curve still follows every tick, and the end of a run draws them all.
EPOCH_MIN_INTERVAL_S = 0.2
EMPTY_EPOCHS = 10  # the x range of an empty plot
STEP_COLOR = (150, 150, 150)
STEP_PEN = pg.mkPen(STEP_COLOR, width=1)
TRAIN_PEN = pg.mkPen(POSITIVE, width=2)
VAL_PEN = pg.mkPen(NEGATIVE, width=2)


def _key(keys: list[tuple[str, tuple[int, int, int]]]) -> str:
    """"▬ per step  ▬ train  ▬ validation", each key in its curve's colour (rich text)."""
    return "&nbsp;&nbsp; ".join(f"<span style='color: rgb{color}'>&#9644;&nbsp;{name}</span>"
                                for name, color in keys)


def _curve(plot: pg.PlotItem, pen: QPen, name: str) -> pg.PlotCurveItem:
    """A bare PlotCurveItem: far less work per ``setData`` than a PlotDataItem."""
    curve = pg.PlotCurveItem(pen=pen, name=name, skipFiniteCheck=True)
    plot.addItem(curve)
    return curve


def _marks(plot: pg.PlotItem, color: tuple[int, int, int]) -> pg.ScatterPlotItem:
    marks = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(color))
    plot.addItem(marks)
    return marks


def _set(curve: pg.PlotCurveItem, x: np.ndarray, y: np.ndarray,
         log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Finite points only; log10 of the positive ones on a log axis."""
    ok = np.isfinite(x) & np.isfinite(y)
    if log:
        ok &= y > 0
    x, y = x[ok], y[ok]
    if log:
        y = np.log10(y)
    if len(x) > MAX_POINTS:  # keep every k-th point and the newest one
        stride = -(-len(x) // MAX_POINTS)
        x, y = np.append(x[:-1:stride], x[-1]), np.append(y[:-1:stride], y[-1])
    curve.setData(x, y)
    return x, y


class CurvesView(LiveView):
    """Two stacked plots: loss (step + epoch, train + val) and the task's metric."""

    wants_curves = True

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = make_canvas()
        self.loss_plot = add_plot(self.canvas, 0, 0, "", "loss")
        self.metric_plot = add_plot(self.canvas, 1, 0, "", "accuracy", "epoch")
        self.metric_plot.setXLink(self.loss_plot)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self.loss_keeper = RangeKeeper(self.loss_plot)
        self.metric_keeper = RangeKeeper(self.metric_plot)
        # A coloured key above the plots instead of legends (a legend on top of the
        # curves would be repainted with them on every refresh) and not in the titles,
        # where a narrow dock or presentation fonts cut it off: a label can wrap.
        set_title(self.loss_plot, "Loss")
        self.key_label = QLabel(_key([("per step", STEP_COLOR), ("train", POSITIVE),
                                      ("validation", NEGATIVE)]))
        self.key_label.setWordWrap(True)
        self.step_curve = _curve(self.loss_plot, STEP_PEN, "train (per step)")
        self.train_curve = _curve(self.loss_plot, TRAIN_PEN, "train")
        self.val_curve = _curve(self.loss_plot, VAL_PEN, "validation")
        self.train_marks = _marks(self.loss_plot, POSITIVE)
        self.val_marks = _marks(self.loss_plot, NEGATIVE)
        self.metric_train = _curve(self.metric_plot, TRAIN_PEN, "train")
        self.metric_val = _curve(self.metric_plot, VAL_PEN, "validation")
        # The per-epoch items change at most 5 times a second, but the per-step curve
        # under them is redrawn every tick: as cached pixmaps they are blitted, not
        # stroked again (their 2 px lines are the slowest thing in the view to draw).
        cache_static(self.train_curve, self.val_curve, self.train_marks, self.val_marks,
                     self.metric_train, self.metric_val)
        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self._set_log)
        self.axis_box = QComboBox()
        self.axis_box.addItems(["per epoch", "per step"])
        self.axis_box.currentIndexChanged.connect(self._axis_changed)
        self.readout = steady_label("epoch 0000   loss 0.0000   val loss 0.0000")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("x axis:"))
        bar.addWidget(self.axis_box)
        bar.addWidget(self.log_box)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.key_label)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        self._metric = "accuracy"
        self._version = -1
        self._epoch_key: tuple | None = None
        self._epochs_drawn = 0.0
        self._data: CurveData | None = None
        self._proxy = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=20,
                                     slot=self._mouse_moved)
        self._empty_range()

    def _empty_range(self) -> None:
        """Before the first point: whole epochs (0 to 10), not "0.2 0.4 0.6 0.8"."""
        self.loss_plot.setRange(xRange=(0, EMPTY_EPOCHS), yRange=(0, 1), padding=0.02)
        self.metric_plot.setYRange(0, 1, padding=0.02)

    # -- LiveView ------------------------------------------------------------------
    def set_context(self, context: ViewContext) -> None:
        """Pick the metric to plot: accuracy for classifiers, mae for regression."""
        self._metric = context.metric or (
            "accuracy" if context.task == "classification" else "mae")
        set_title(self.metric_plot, self._metric.replace("_", " ").capitalize())
        self.metric_plot.setLabel("left", self._metric)
        self._version = -1
        self._epoch_key = None
        self.loss_keeper.reset()
        self.metric_keeper.reset()

    def clear(self) -> None:
        """Empty every curve."""
        for curve in self._curves():
            curve.setData([], [])
        for marks in (self.train_marks, self.val_marks):
            marks.setData([], [])
        self._data = None
        self._version = -1
        self._epoch_key = None
        self.loss_keeper.reset()
        self.metric_keeper.reset()
        self.readout.setText(" ")
        self._empty_range()

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Redraw when the buffer has new points."""
        if curves is None or curves.version == self._version:
            return False
        self._version = curves.version
        self._data = curves
        self._draw(curves)
        return True

    # -- drawing -------------------------------------------------------------------
    def _curves(self) -> list[pg.PlotCurveItem]:
        return [self.step_curve, self.train_curve, self.val_curve, self.metric_train,
                self.metric_val]

    def per_epoch(self) -> bool:
        """True when the x axis counts epochs (steps become fractions of an epoch)."""
        return self.axis_box.currentIndex() == 0

    def _epoch_axis(self, curves: CurveData) -> tuple[np.ndarray, np.ndarray]:
        epochs = curves.column("epoch")
        if not np.isfinite(epochs).all():
            epochs = np.arange(1, curves.n_epochs + 1, dtype=np.float64)
        return epochs, curves.column("step")

    def _step_x(self, curves: CurveData) -> np.ndarray:
        """The per-step curve's x: steps, or epochs interpolated through the epoch ends."""
        if not self.per_epoch():
            return curves.step_x
        epochs, steps = self._epoch_axis(curves)
        ok = np.isfinite(steps)
        if ok.sum() == 0:
            return curves.step_x
        xp = np.concatenate([[0.0], steps[ok]])
        fp = np.concatenate([[epochs[ok][0] - 1.0], epochs[ok]])
        x = np.interp(curves.step_x, xp, fp)
        beyond = curves.step_x > xp[-1]
        if beyond.any() and len(xp) > 2:  # the epoch in progress: extrapolate
            per_epoch = (xp[-1] - xp[1]) / max(fp[-1] - fp[1], 1.0)
            x[beyond] = fp[-1] + (curves.step_x[beyond] - xp[-1]) / max(per_epoch, 1.0)
        elif beyond.any():
            x[beyond] = fp[-1] + (curves.step_x[beyond] - xp[-1]) / max(xp[-1], 1.0)
        return x

    def _draw(self, curves: CurveData) -> None:
        epochs, steps = self._epoch_axis(curves)
        ex = epochs if self.per_epoch() else steps
        step_x = self._step_x(curves)
        log = self.log_box.isChecked()
        _set(self.step_curve, step_x, curves.step_loss, log)
        # The per-epoch items change only when an epoch ends: on a slow data set most
        # ticks then touch (and repaint) the per-step curve alone.
        epoch_key = (curves.n_epochs, self.per_epoch(), log, self._metric)
        if epoch_key != self._epoch_key:
            now = time.perf_counter()
            if (self._epoch_key is None or epoch_key[1:] != self._epoch_key[1:]
                    or now - self._epochs_drawn >= EPOCH_MIN_INTERVAL_S):
                self._epoch_key, self._epochs_drawn = epoch_key, now
                self._draw_epochs(curves, ex, log)
        self._fit_ranges(curves, step_x, ex)

    def finish(self) -> None:
        """End of a run: draw the epochs that the pacing above held back."""
        data = self._data
        if data is not None and self._epoch_key != (data.n_epochs, self.per_epoch(),
                                                    self.log_box.isChecked(), self._metric):
            self._epoch_key = None
            self._draw(data)

    def _draw_epochs(self, curves: CurveData, ex: np.ndarray, log: bool) -> None:
        markers = curves.n_epochs <= MAX_SYMBOLS  # only while they can be told apart
        for curve, marks, key in ((self.train_curve, self.train_marks, "loss"),
                                  (self.val_curve, self.val_marks, "val_loss"),
                                  (self.metric_train, None, self._metric),
                                  (self.metric_val, None, "val_" + self._metric)):
            x, y = _set(curve, ex, curves.column(key), log and marks is not None)
            if marks is not None:
                marks.setVisible(markers)
                if markers:
                    marks.setData(x, y)

    def _fit_ranges(self, curves: CurveData, step_x: np.ndarray, ex: np.ndarray) -> None:
        """Keep every point in view; ranges move in coarse steps (see RangeKeeper)."""
        losses = [curves.step_loss, curves.column("loss"), curves.column("val_loss")]
        values = np.concatenate(losses) if losses else np.zeros(0)
        values = values[np.isfinite(values)]
        xs = np.concatenate([step_x[-1:], ex[np.isfinite(ex)][-1:]]) if len(step_x) or len(
            ex) else np.zeros(0)
        if not len(values) or not len(xs):
            return
        x_max = float(xs.max())
        if self.log_box.isChecked():
            positive = values[values > 0]
            if len(positive):
                self.loss_keeper.fit(x_max, float(np.log10(positive.min())),
                                     float(np.log10(positive.max())))
        else:
            self.loss_keeper.fit(x_max, float(values.min()), float(values.max()))
        metric = np.concatenate([curves.column(self._metric),
                                 curves.column("val_" + self._metric)])
        metric = metric[np.isfinite(metric)]
        if len(metric) and self._metric == "accuracy":  # a share: always 0 to 1
            self.metric_keeper.fit(x_max, 0.0, 0.9)
        elif len(metric):
            self.metric_keeper.fit(x_max, float(metric.min()), float(metric.max()))

    def _set_log(self, on: bool) -> None:
        self.loss_plot.getAxis("left").setLogMode(False, on)
        self.loss_keeper.log_y = on
        self.loss_keeper.y_floor = None if on else 0.0
        self.loss_keeper.reset()
        if self._data is not None:
            self._draw(self._data)

    def _axis_changed(self) -> None:
        label = "epoch" if self.per_epoch() else "step"
        self.metric_plot.setLabel("bottom", label)
        self.loss_keeper.reset()
        self.metric_keeper.reset()
        if self._data is not None:
            self._draw(self._data)

    # -- read-out ------------------------------------------------------------------
    def _mouse_moved(self, event) -> None:
        pos = event[0]
        for plot in (self.loss_plot, self.metric_plot):
            if self._data is not None and plot.sceneBoundingRect().contains(pos):
                self.readout.setText(self.readout_at(plot.vb.mapSceneToView(pos).x()))
                return

    def readout_at(self, x: float) -> str:
        """Text of the values nearest to ``x`` (in the current axis unit)."""
        data = self._data
        if data is None or not data.n_epochs:
            return " "
        epochs, steps = self._epoch_axis(data)
        ex = epochs if self.per_epoch() else steps
        i = int(np.nanargmin(np.abs(ex - x))) if np.isfinite(ex).any() else 0
        record = {k: float(c[i]) for k, c in data.columns.items() if np.isfinite(c[i])}
        parts = [f"epoch {int(record.get('epoch', i + 1))}"]
        for key in ("loss", "val_loss", self._metric, "val_" + self._metric, "lr"):
            if key in record:
                parts.append(f"{key.replace('_', ' ')} {record[key]:.4g}")
        return "   ".join(parts)
