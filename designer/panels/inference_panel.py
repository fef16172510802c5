"""The inference panel: type feature values (or draw a digit on an 8x8 grid) and see the
network's output and class probabilities at once, also while it trains.

Inputs go through the same feature transforms and scaler as the training data. While a
run is under way the panel loads a private network with the newest snapshot's weights
(the network being trained is in the training process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.network import Network
from core.training.metrics import class_probabilities
from designer.plots.common import steady_label
from designer.run.protocol import Progress

if TYPE_CHECKING:  # the panels use the run session's public methods only
    from designer.training.session import RunSession

MAX_TYPED_FEATURES = 32
PEN_VALUE = 16.0  # the digits' pixel range is 0-16


class DrawGrid(QWidget):
    """An 8x8 (or H x W) canvas: left button paints, right button erases."""

    changed = Signal()

    def __init__(self, shape: tuple[int, int] = (8, 8), high: float = PEN_VALUE,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros(shape, dtype=np.float32)
        self.high = high
        self.setMinimumSize(160, 160)

    def set_values(self, values: np.ndarray) -> None:
        """Show an image (e.g. a sample from the data)."""
        self.values = np.asarray(values, dtype=np.float32).reshape(self.values.shape).copy()
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        """Blank canvas."""
        self.set_values(np.zeros_like(self.values))

    def _cell_at(self, event: QMouseEvent) -> tuple[int, int] | None:
        h, w = self.values.shape
        side = min(self.width() / w, self.height() / h)
        col, row = int(event.position().x() // side), int(event.position().y() // side)
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def _paint_at(self, event: QMouseEvent) -> None:
        cell = self._cell_at(event)
        if cell is None:
            return
        erase = bool(event.buttons() & Qt.MouseButton.RightButton)
        value = 0.0 if erase else self.high
        if self.values[cell] != value:
            self.values[cell] = value
            self.update()
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._paint_at(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._paint_at(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        h, w = self.values.shape
        side = min(self.width() / w, self.height() / h)
        top = max(float(self.values.max()), self.high)
        for r in range(h):
            for c in range(w):
                shade = int(255 - 255 * min(self.values[r, c] / top, 1.0))
                painter.fillRect(QRectF(c * side, r * side, side - 1, side - 1),
                                 QColor(shade, shade, shade))
        painter.end()


class InferencePanel(QWidget):
    """Inputs, then outputs/probabilities of the current network."""

    def __init__(self, run: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.document = run.document
        self.session = run.session
        self._net: Network | None = None
        self._net_revision: int | None = None
        self._last_seq = -1
        self.inputs_widget = QWidget()
        self.inputs_form = QFormLayout(self.inputs_widget)
        self.spins: list[QDoubleSpinBox] = []
        self.inputs_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inputs_widget)
        self.grid = DrawGrid()
        self.grid.changed.connect(self.update_output)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.grid.clear)
        self.sample_button = QPushButton("Take a sample")
        self.sample_button.clicked.connect(self.take_sample)
        self._sample_index = 0
        draw_row = QHBoxLayout()
        draw_row.addWidget(self.clear_button)
        draw_row.addWidget(self.sample_button)
        self.draw_box = QWidget()
        draw_layout = QVBoxLayout(self.draw_box)
        draw_layout.addWidget(QLabel("Draw with the left button, erase with the right."))
        draw_layout.addWidget(self.grid, 1)
        draw_layout.addLayout(draw_row)
        self.outputs_widget = QWidget()
        self.outputs_form = QFormLayout(self.outputs_widget)
        self.bars: list[QProgressBar] = []
        self.answer = steady_label("Prediction: 0000000000 (100%)", "")
        self.answer.setStyleSheet("font-weight: 600;")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.draw_box, 1)
        layout.addWidget(self.answer)
        layout.addWidget(self.outputs_widget)
        layout.addWidget(self.error)
        run.dataChanged.connect(self.rebuild)
        run.progress.connect(self._training_progress)
        run.finished.connect(lambda _reason: self.update_output())
        run.weightsReset.connect(self.update_output)
        self.session.weightsChanged.connect(self._weights_changed)
        self.rebuild()

    # ------------------------------------------------------------------ inputs
    def rebuild(self) -> None:
        """Inputs and outputs for the current data: spin boxes or the drawing grid."""
        while self.inputs_form.rowCount():
            self.inputs_form.removeRow(0)
        self.spins = []
        data = self.run.data
        image = data.image_shape() if data is not None else None
        self.draw_box.setVisible(image is not None)
        self.inputs_scroll.setVisible(image is None)
        if data is not None and image is not None:
            self.grid.values = np.zeros(image, dtype=np.float32)
            self.grid.high = float(max(np.max(data.raw.X), 1.0))
            self.grid.update()
        elif data is not None and data.n_raw_features <= MAX_TYPED_FEATURES:
            lows, highs, medians = data.feature_summary()
            for j, name in enumerate(data.raw.feature_names[: len(lows)]):
                spin = QDoubleSpinBox()
                lo, hi = float(lows[j]), float(highs[j])
                pad = (hi - lo) or 1.0
                spin.setRange(lo - pad, hi + pad)
                spin.setDecimals(3)
                spin.setSingleStep(pad / 20)
                spin.setValue(float(medians[j]))
                spin.valueChanged.connect(self.update_output)
                self.inputs_form.addRow(name, spin)
                self.spins.append(spin)
        self._build_outputs()
        self.update_output()

    def _build_outputs(self) -> None:
        while self.outputs_form.rowCount():
            self.outputs_form.removeRow(0)
        self.bars = []
        data = self.run.data
        if data is None or data.task != "classification":
            return
        for name in data.class_names:
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("%p%")
            self.outputs_form.addRow(str(name), bar)
            self.bars.append(bar)

    def raw_input(self) -> np.ndarray | None:
        """The typed or drawn sample, in raw feature units (1, features...)."""
        data = self.run.data
        if data is None:
            return None
        if data.image_shape() is not None:
            return self.grid.values.reshape((1,) + data.raw.X.shape[1:])
        if not self.spins:
            return None
        return np.array([[s.value() for s in self.spins]], dtype=np.float32)

    def take_sample(self) -> None:
        """Show the next validation image on the drawing grid."""
        data = self.run.data
        if data is None or data.image_shape() is None:
            return
        _, raw = data.evaluation_set()
        self._sample_index = (self._sample_index + 1) % len(raw.X)
        self.grid.set_values(raw.X[self._sample_index].reshape(data.image_shape()))

    # ------------------------------------------------------------------ outputs
    def _network(self) -> Network | None:
        """A private network with the newest weights (snapshot while training)."""
        revision = self.document.revision
        if self._net is None or revision != self._net_revision:
            self._net = Network.from_spec(self.document.spec, seed=0)
            self._net_revision = revision
        snapshot = self.run.buffer.latest() if self.run.is_running else None
        if snapshot is not None and snapshot.params is not None and \
                snapshot.params.shape == self._net.params.shape:
            self._net.params[...] = snapshot.params
        elif self.session.weights:
            self._net.set_weights(self.session.weights)
        return self._net

    def update_output(self) -> None:
        """Run the network on the input shown and display output and probabilities."""
        data = self.run.data
        raw = self.raw_input()
        if data is None or raw is None:
            self.answer.setText("")
            return
        try:
            net = self._network()
            out = np.asarray(net.predict(data.to_inputs(raw)), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - an unfit network is a message here
            self.error.setText(f"Cannot run the network on this input: {exc}")
            self.answer.setText("")
            return
        self.error.setText("")
        if not np.isfinite(out).all():
            self.error.setText("The network's output is NaN: its weights hold NaN or "
                               "infinity. Press Reset weights and train again.")
            self.answer.setText("")
            for bar in self.bars:
                bar.setValue(0)
                bar.setFormat("–")
            return
        if data.task == "classification":
            probs = class_probabilities(out)[0]
            names = data.class_names
            best = int(np.argmax(probs))
            self.answer.setText(f"Prediction: {names[best] if best < len(names) else best}"
                                f" ({probs[best]:.0%})")
            for bar, p in zip(self.bars, probs, strict=False):
                bar.setValue(int(round(1000 * float(p))))
                bar.setFormat(f"{p:.0%}")  # Qt's own %p% truncates: 14% + 85% for 0.855
        else:
            values = ", ".join(f"{v:.4g}" for v in out.ravel())
            self.answer.setText(f"Output: {values}")

    def _shown(self) -> bool:
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def _training_progress(self, _progress: Progress) -> None:
        snapshot = self.run.buffer.latest()
        if self._shown() and snapshot is not None and snapshot.seq != self._last_seq:
            self._last_seq = snapshot.seq
            self.update_output()

    def _weights_changed(self) -> None:
        if not self.run.is_running and self._shown():
            self.update_output()
