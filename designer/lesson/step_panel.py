"""The Step through panel: one sample through the network, stop by stop, and explained.

Pick a training sample (its row number, or a point clicked on the Output plane); the
panel traces it with :func:`designer.lesson.trace.trace_sample` on the weights the views
show and steps through the phases with Previous / Next (the arrow keys) or Play. The
Values tab lists the current stop's numbers per neuron (or per weight), the Layers tab a
summary per layer for networks too large for the neuron view, and Explain writes out the
selected row's computation. The canvas' neuron view shows the same stop (``overlay.py``).
Nothing here changes the project's weights: the update is shown, not applied.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.network import Network
from designer.lesson import explain, knockout
from designer.lesson.explain import num
from designer.lesson.knockout_bar import KnockoutBar, Knockouts
from designer.lesson.overlay import StepOverlay
from designer.lesson.trace import (
    Phase,
    SampleTrace,
    layer_rows,
    next_learning_rate,
    phases,
    trace_sample,
)

DEFAULT_SPEED = 1.5  # stops per second while playing
MAX_ROWS = 2000  # rows of the Values table (a big kernel has 100,000 weights)


class StepThroughPanel(QWidget):
    """Controls, the current stop's values, a per-layer table and the explain text."""

    phaseChanged = Signal(int)

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.trace: SampleTrace | None = None
        self.stops: list[Phase] = []
        self.index = 0
        self._rows: list[tuple] = []
        self._last: tuple[np.ndarray, np.ndarray, str] | None = None
        self._overlay: StepOverlay | None = None
        self._build()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        for key, slot in ((Qt.Key.Key_Right, self.next), (Qt.Key.Key_Left, self.previous)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.session.document.specChanged.connect(self.forget)
        self.session.document.projectReplaced.connect(self.forget)

    def forget(self) -> None:
        """Drop the trace: the network it was made on is gone."""
        self.play(False)
        self.trace, self.stops, self._rows, self._last = None, [], [], None
        if self._overlay is not None and shiboken6.isValid(self._overlay):
            self._overlay.show_phase(None, None)
        self.values.setRowCount(0)
        self.layers.setRowCount(0)
        self.title.setText("Pick a sample and press Trace.")
        self._enable()

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        self.sample = QSpinBox()
        self.sample.setPrefix("sample ")
        self.sample.setToolTip("Row of the training data to step through")
        self.trace_button = QPushButton("Trace")
        self.trace_button.setToolTip("Run this sample through the network as it is now")
        self.trace_button.clicked.connect(self.trace_current)
        self.typed = QLineEdit()
        self.typed.setPlaceholderText("or type features; target (e.g. 1.5, -2; 1), Enter")
        self.typed.setToolTip("Raw feature values as in the data, optionally ';' and the "
                              "target (a class number or values); without a target the "
                              "nearest training sample's is used")
        self.typed.returnPressed.connect(lambda: self.trace_typed(self.typed.text()))
        self.sample_label = QLabel()
        self.sample_label.setWordWrap(True)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.apply_button = QPushButton("Apply this step")
        self.apply_button.setToolTip("Make this sample's update the network's weights "
                                     "(one undo step): the boundary moves")
        self.apply_button.clicked.connect(self.apply_step)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.2, 20.0)
        self.speed.setValue(DEFAULT_SPEED)
        self.speed.setSuffix(" stops/s")
        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.play_button.toggled.connect(self.play)
        self.speed.valueChanged.connect(self._set_interval)
        self.title = QLabel("Pick a sample and press Trace.")
        self.title.setWordWrap(True)
        self.values = QTableWidget()
        self.values.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.values.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.values.itemSelectionChanged.connect(self._explain_selected)
        self.layers = QTableWidget()
        self.layers.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.explain = QTextBrowser()
        self.knockouts = Knockouts(self.window, self)
        self.knockout_bar = KnockoutBar(self.knockouts, self.selected_entry)
        self.knockouts.document.extraChanged.connect(self._retrace)
        self.knockouts.document.weightsChanged.connect(self._retrace)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.values, "Values")
        self.tabs.addTab(self.layers, "Layers")
        self.tabs.addTab(self.explain, "Explain")
        top = QHBoxLayout()
        for w in (self.sample, self.trace_button, self.apply_button):
            top.addWidget(w)
        controls = QHBoxLayout()
        for w in (self.prev_button, self.next_button, self.play_button, self.speed):
            controls.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.typed)
        layout.addWidget(self.sample_label)
        layout.addLayout(controls)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.knockout_bar)
        self._enable()

    def _enable(self) -> None:
        has = bool(self.stops)
        for w in (self.prev_button, self.next_button, self.play_button, self.apply_button):
            w.setEnabled(has)

    @property
    def overlay(self) -> StepOverlay:
        """The canvas item showing the current stop (made again after the scene is
        rebuilt, which deletes every item)."""
        if self._overlay is None or not shiboken6.isValid(self._overlay):
            self._overlay = StepOverlay(self.window.scene, self.explain_neuron)
        return self._overlay

    # ------------------------------------------------------------------ data
    def _run(self) -> Any:
        ui = getattr(self.window, "training_ui", None)
        return ui.run if ui is not None else None

    def sample_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(network inputs, targets for the loss, raw features) of the training data."""
        run = self._run()
        data = getattr(run, "data", None)
        if data is None:
            return None
        loss = self.session.document.training.get("loss") or "mse"
        train = data.prepared.train
        return train.X, train.targets(loss), data.raw_train.X

    def network(self) -> Network:
        """The network with the weights the views show (live, trained or fresh)."""
        doc = self.session.document
        net = Network.from_spec(doc.spec, seed=doc.seed)
        for node in net.order:
            arrays = self.session.layer_weights(node)
            if arrays:
                with contextlib.suppress(ValueError):  # a changed layer keeps fresh ones
                    net.set_weights({node: arrays})
        return net

    def trace_current(self) -> str | None:
        """Trace the chosen sample; returns why not, or None."""
        samples = self.sample_data()
        if samples is None:
            return self._refuse("Load data in the Data panel first.")
        X, Y, raw = samples
        self.sample.setMaximum(max(len(X) - 1, 0))
        i = min(self.sample.value(), len(X) - 1)
        return self._trace(X[i], Y[i], f"Sample {i}: features "
                           f"[{', '.join(num(v) for v in np.ravel(raw[i])[:8])}]")

    def trace_typed(self, text: str) -> str | None:
        """Trace typed raw features ("x1, x2; target"); returns why not, or None."""
        samples = self.sample_data()
        run = self._run()
        if samples is None or run is None or run.data is None:
            return self._refuse("Load data in the Data panel first.")
        features, _, target = text.partition(";")
        try:
            values = [float(v) for v in features.replace(",", " ").split()]
            wanted = [float(v) for v in target.replace(",", " ").split()]
        except ValueError:
            return self._refuse("Type numbers: features separated by commas, then "
                                "';' and the target.")
        if len(values) != run.data.n_raw_features:
            return self._refuse(f"The data has {run.data.n_raw_features} features; "
                                f"{len(values)} were typed.")
        X, Y, raw = samples
        nearest = int(np.argmin(np.sum((raw.reshape(len(raw), -1) - values) ** 2, axis=1)))
        y = self._typed_target(wanted, Y[nearest])
        if y is None:
            return self._refuse(f"The target should look like {np.ravel(Y[nearest])}.")
        note = "" if wanted else f" (target of the nearest sample, {nearest})"
        return self._trace(run.data.to_inputs(np.array([values]))[0], y,
                           f"Typed: features [{', '.join(num(v) for v in values)}]{note}")

    def _typed_target(self, wanted: list[float], like: np.ndarray) -> np.ndarray | None:
        """The typed target in the shape the loss takes (a class number becomes one-hot
        where the targets are one-hot)."""
        like = np.asarray(like)
        if not wanted:
            return like
        if like.size > 1 and len(wanted) == 1:  # a class number for one-hot targets
            k = int(wanted[0])
            if not (0 <= k < like.size and k == wanted[0]):
                return None
            return np.eye(like.size, dtype=like.dtype)[k]
        if len(wanted) != like.size:
            return None
        return np.array(wanted, dtype=like.dtype).reshape(like.shape)

    def _trace(self, x: np.ndarray, y: np.ndarray, label: str) -> str | None:
        self._last = (x, y, label)
        doc = self.session.document
        if not doc.is_valid:
            return self._refuse("Fix the network's problems first (see Problems).")
        training = doc.training
        try:
            self.trace = trace_sample(self.network(), x, y, training.get("loss", "mse"),
                                      training.get("optimizer"), doc.project.optimizer_state,
                                      float(training.get("l1") or 0.0),
                                      float(training.get("l2") or 0.0),
                                      next_learning_rate(training, doc.project.history),
                                      training.get("clipnorm"))
        except (ValueError, KeyError) as exc:
            return self._refuse(f"Cannot trace this sample: {exc}")
        self.sample_label.setText(f"{label}, target "
                                  f"[{', '.join(num(v) for v in np.ravel(y))}]")
        self.stops = phases(self.trace)
        self._fill_layers()
        self._enable()
        self.go(0)
        return None

    def trace_point(self, raw_features: np.ndarray) -> str | None:
        """Trace the training sample nearest to a point (raw features), e.g. a click."""
        samples = self.sample_data()
        if samples is None:
            return self._refuse("Load data in the Data panel first.")
        raw = samples[2].reshape(len(samples[2]), -1)
        point = np.ravel(raw_features)
        dist = np.sum((raw[:, :point.size] - point) ** 2, axis=1)
        self.sample.setValue(int(np.argmin(dist)))
        return self.trace_current()

    def _refuse(self, text: str) -> str:
        self.title.setText(text)
        return text

    # ------------------------------------------------------------------ stepping
    def go(self, index: int) -> None:
        """Show stop ``index`` (clamped) in the tables, the overlay and the explain text."""
        if not self.stops:
            return
        self.index = max(0, min(index, len(self.stops) - 1))
        phase = self.stops[self.index]
        self.title.setText(f"{self.index + 1}/{len(self.stops)}  {phase.title}")
        self._fill_values(phase)
        self.overlay.show_phase(self.trace, phase)
        if phase.kind == "loss" and self.trace is not None:
            self.explain.setHtml(explain.explain_loss(self.trace))
        self.phaseChanged.emit(self.index)

    def apply_step(self) -> str | None:
        """Apply the traced update (weights and optimizer state) as one undo step; the
        trace follows the new weights, so Next goes on with the next update."""
        if self.trace is None:
            return self._refuse("Trace a sample first.")
        label = self.sample_label.text().split(",")[0]
        why = self.session.editor.apply_step(self.trace.stepped_weights(),
                                             self.trace.optimizer_state,
                                             f"Apply one {self.trace.optimizer['type']} "
                                             f"step of {label.lower()}")
        if why:
            return self._refuse(why)
        self._retrace()  # the optimizer state changed after the weights (no signal)
        ui = getattr(self.window, "training_ui", None)
        if ui is not None and not ui.run.is_running:
            ui.run.static_snapshot()
            ui.refresher.tick(final=True)
        return None

    def next(self) -> None:
        self.go(self.index + 1)

    def previous(self) -> None:
        self.go(self.index - 1)

    def play(self, on: bool) -> None:
        """Step on by itself at the chosen speed; stops at the last stop."""
        if on and self.stops:
            self._set_interval()
            self.timer.start()
        else:
            self.timer.stop()
            self.play_button.setChecked(False)

    def _set_interval(self) -> None:
        self.timer.setInterval(int(1000 / self.speed.value()))

    def _tick(self) -> None:
        if self.index >= len(self.stops) - 1:
            self.play(False)
        else:
            self.next()

    # ------------------------------------------------------------------ tables
    def _fill_values(self, phase: Phase) -> None:
        """The current stop's numbers, one row per neuron or weight (at most MAX_ROWS)."""
        trace = self.trace
        assert trace is not None
        if phase.kind == "update":
            header, rows, total = self._update_rows(trace, phase)
        else:
            header, rows, total = self._unit_rows(trace, phase)
        self._rows = [key for key, _ in rows]
        _fill(self.values, header, [cells for _, cells in rows])
        if total > len(rows):
            self.title.setText(f"{self.title.text()}  (the first {len(rows):,} of "
                               f"{total:,} values; the Layers tab sums up all)")

    @staticmethod
    def _update_rows(trace: SampleTrace, phase: Phase) -> tuple[list[str], list, int]:
        step = trace.params[(phase.node_id, phase.param)]
        rows = [(("param", phase.node_id, phase.param, idx),
                 [str(list(idx)), step.old[idx], step.grad[idx], step.step[idx],
                  step.new[idx]])
                for idx in itertools.islice(np.ndindex(step.old.shape), MAX_ROWS)]
        return ["weight", "old", "∂L/∂w", "step", "new"], rows, step.old.size

    @staticmethod
    def _unit_rows(trace: SampleTrace, phase: Phase) -> tuple[list[str], list, int]:
        v = trace.nodes[phase.node_id]
        units = range(min(v.units, MAX_ROWS))
        if phase.kind == "forward":
            header = ["unit", "z", "a = f(z)"] if v.z is not None else ["unit", "a"]
            rows = [(("neuron", v.node_id, u),
                     [u, v.z[u], v.a[u]] if v.z is not None else [u, v.a[u]]) for u in units]
        elif phase.kind == "loss":
            header = ["output", "a", "target", "∂L/∂a"]
            t = np.asarray(trace.target, float)
            rows = [(("loss",), [u, v.a[u], t[u] if u < t.size else "",
                                 v.dl_da[u] if v.dl_da is not None else ""]) for u in units]
        else:
            header = ["unit", "∂L/∂a", "f′(z)", "δ = ∂L/∂z"]
            rows = [(("neuron", v.node_id, u),
                     [u, *(arr[u] if arr is not None else "" for arr in
                           (v.dl_da, v.fprime, v.delta))]) for u in units]
        return header, rows, v.units

    def _fill_layers(self) -> None:
        rows = layer_rows(self.trace) if self.trace is not None else []
        header = ["node", "type", "units", "a min", "a mean", "a max", "|∂L/∂a|", "|∂L/∂w|",
                  "|step|"]
        keys = ["node", "type", "units", "a_min", "a_mean", "a_max", "dl_da_norm",
                "grad_norm", "step_norm"]
        _fill(self.layers, header, [[r[k] if r[k] is not None else "" for k in keys]
                                    for r in rows])

    def _explain_selected(self) -> None:
        rows = self.values.selectionModel().selectedRows()
        if not rows or self.trace is None or rows[0].row() >= len(self._rows):
            return
        key = self._rows[rows[0].row()]
        self.explain.setHtml(self.explain_html(key))

    def selected_entry(self) -> dict | None:
        """A knock-out record for the selected Values row (a neuron or a weight)."""
        rows = self.values.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._rows):
            return None
        key = self._rows[rows[0].row()]
        if key[0] == "neuron" and self.trace is not None \
                and self.trace.nodes[key[1]].type == "Dense":
            return knockout.neuron(key[1], key[2])
        if key[0] == "param":
            return knockout.weight(key[1], key[2], key[3])
        return None

    def _retrace(self, _key: str = "") -> None:
        """After a knock-out or an applied step: the same sample and stop again, with
        the new weights and optimizer state."""
        if self.trace is not None and self._last is not None:
            index = self.index
            self._trace(*self._last)
            self.go(index)

    def explain_neuron(self, node_id: str, unit: int) -> None:
        """Show a neuron's computation (a click on it in the neuron view)."""
        if self.trace is not None and node_id in self.trace.nodes:
            self.explain.setHtml(self.explain_html(("neuron", node_id, unit)))
            self.tabs.setCurrentWidget(self.explain)

    def explain_html(self, key: tuple) -> str:
        """The explain text for a Values row key (a neuron, a weight entry, the loss)."""
        trace = self.trace
        assert trace is not None
        if key[0] == "neuron":
            return explain.explain_neuron(trace, key[1], key[2])
        if key[0] == "param":
            node, name, idx = key[1], key[2], key[3]
            if name == "kernel" and len(idx) == 2 and trace.nodes[node].type == "Dense":
                return explain.explain_weight(trace, node, idx[0], idx[1])
            return explain.explain_param(trace, node, name, idx)
        return explain.explain_loss(trace)


def _fill(table: QTableWidget, header: list[str], rows: list[list]) -> None:
    table.clear()
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels(header)
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            text = num(value) if isinstance(value, (float, np.floating)) else str(value)
            item = QTableWidgetItem(text)
            if isinstance(value, (float, np.floating)):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
