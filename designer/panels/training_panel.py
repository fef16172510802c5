"""The training panel: settings (loss, optimizer and its parameters, learning rate,
schedule, batch size, epochs, L1/L2, seed, and the engine where PyTorch is installed),
the run buttons and the live counters.

Each edited setting goes to ``Editor.set_training_settings`` as one undoable edit
(consecutive edits of one field merge) and lands in the project's ``training`` dict, which
is what the command line trains with too; the panel shows the settings again whenever
they change (undo, redo, another project). The learning rate may be changed during a
run: it reaches the trainer before its next batch. Errors (a diverging run, a network
that cannot train) appear in red under the buttons.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.backends import torch_available
from designer.panels.project_values import as_dict, as_float, as_int
from designer.plots.common import steady_label
from designer.presentation import emphasize
from designer.run.data import check_fit
from designer.run.protocol import Progress

if TYPE_CHECKING:  # the panels use the run session's public methods only
    from designer.training.session import RunSession

LOSSES = ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
          "mse", "mae", "huber"]
OPTIMIZERS = ["sgd", "rmsprop", "adagrad", "adam", "adamw"]
SCHEDULES = ["constant", "step", "exponential", "cosine"]
# optimizer -> (parameter, label, minimum, maximum, default)
OPTIMIZER_PARAMS: dict[str, list[tuple[str, str, float, float, float]]] = {
    "sgd": [("momentum", "Momentum", 0.0, 0.999, 0.0)],
    "rmsprop": [("rho", "Rho", 0.0, 0.999, 0.9), ("momentum", "Momentum", 0.0, 0.999, 0.0)],
    "adagrad": [],
    "adam": [("beta_1", "Beta 1", 0.0, 0.9999, 0.9), ("beta_2", "Beta 2", 0.0, 0.9999, 0.999)],
    "adamw": [("beta_1", "Beta 1", 0.0, 0.9999, 0.9), ("beta_2", "Beta 2", 0.0, 0.9999, 0.999),
              ("weight_decay", "Weight decay", 0.0, 1.0, 0.004)],
}

#: The Engine choices: (label, (backend, device)); shown only where PyTorch is installed.
ENGINES = [("NumPy", ("numpy", None)), ("PyTorch, CPU", ("torch", "cpu")),
           ("PyTorch, GPU (CUDA)", ("torch", "cuda"))]

#: The Speed choices: (label, epochs a second at most; None is full speed).
SPEEDS = [("Full speed", None), ("100 epochs/s", 100.0), ("30 epochs/s", 30.0),
          ("10 epochs/s", 10.0), ("3 epochs/s", 3.0), ("1 epoch/s", 1.0)]
#: The speed a window starts with: the spiral's 150 epochs take 15 s, long enough for a
#: class to watch the boundary bend (full speed ends it in about a second).
DEFAULT_SPEED = 10.0
#: Shown until the first run: how to start, with the keys.
START_HINT = ("Press <b>Train</b> (or Space) to start. Right arrow trains one batch, "
              "R resets the weights; Speed sets how fast it learns.")


def format_duration(seconds: float) -> str:
    """"1 h 02 min", "3 min 05 s", "12 s", "< 1 s" (not yet done) or "-" when unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    if 0 < seconds < 0.5:
        return "< 1 s"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def _spin(low: float, high: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setKeyboardTracking(False)
    return box


class TrainingPanel(QWidget):
    """Settings, buttons and counters for one :class:`RunSession`."""

    def __init__(self, run: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self._loading = False
        self._build()
        self._connect()
        self.load_settings()
        self.speed_box.setCurrentIndex(self.speed_box.findData(DEFAULT_SPEED))
        self._state_changed(run.state)
        self.show_progress(Progress(state="idle"))

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.loss_box = QComboBox()
        self.loss_box.addItems(LOSSES)
        self.optimizer_box = QComboBox()
        self.optimizer_box.addItems(OPTIMIZERS)
        self.lr_box = _spin(1e-6, 10.0, 6, 0.001)
        self.lr_box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_box.setToolTip("Changes take effect at the next batch, also while training.")
        self.param_boxes: dict[str, QDoubleSpinBox] = {}
        self.param_labels: dict[str, QLabel] = {}
        self.nesterov_box = QCheckBox("Nesterov")
        self.schedule_box = QComboBox()
        self.schedule_box.addItems(SCHEDULES)
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 1_000_000)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1_000_000)
        self.l1_box = _spin(0.0, 1.0, 6, 1e-4)
        self.l2_box = _spin(0.0, 1.0, 6, 1e-4)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.shuffle_box = QCheckBox("Shuffle each epoch")
        self.shuffle_box.setToolTip("Off: the samples come in their order every epoch (a "
                                    "time series, or the same batches to compare).")
        self.speed_box = QComboBox()
        for text, pace in SPEEDS:
            self.speed_box.addItem(text, pace)
        self.speed_box.setToolTip("Slow training down to watch it learn (a small network "
                                  "finishes in a second at full speed). Changes take "
                                  "effect at once, also while training.")
        self.engine_box = QComboBox()
        for text, engine in ENGINES:
            self.engine_box.addItem(text, engine)
        self.engine_box.setToolTip("Which library trains the network: the same settings, "
                                   "optimizers and live views either way; PyTorch pays off "
                                   "for large networks, on a GPU most of all.")
        self.engine_label = QLabel("Engine")
        # no PyTorch, no choice to make (a project that asks for it says so when it runs)
        self.engine_box.setVisible(torch_available())
        self.engine_label.setVisible(torch_available())
        for name, label, low, high, _ in {p[0]: p for ps in OPTIMIZER_PARAMS.values()
                                          for p in ps}.values():
            self.param_boxes[name] = _spin(low, high, 4, 0.01)
            self.param_labels[name] = QLabel(label)
        self._wide = [(QLabel("Speed"), self.speed_box), (self.engine_label, self.engine_box),
                      (QLabel("Loss"), self.loss_box), (QLabel("Learning rate"), self.lr_box)]
        # Two to a row, Speed and Engine share one (the Engine row appears with PyTorch).
        self._shared_first_row = 2
        self._pairs = [(QLabel("Optimizer"), self.optimizer_box),
                       (QLabel("Schedule"), self.schedule_box),
                       *[(self.param_labels[n], self.param_boxes[n]) for n in self.param_boxes],
                       (QLabel(""), self.nesterov_box),
                       (QLabel("Batch size"), self.batch_box),
                       (QLabel("Epochs"), self.epochs_box),
                       (QLabel("L1"), self.l1_box), (QLabel("L2"), self.l2_box),
                       (QLabel("Seed"), self.seed_box), (QLabel(""), self.shuffle_box)]
        self.settings_grid = QGridLayout()
        self.settings_grid.setVerticalSpacing(4)  # one to a row, they fit at 1600x1000 too
        self.settings_columns = 0
        self._arrange_settings(2)
        settings = QGroupBox("Settings")
        settings.setLayout(self.settings_grid)

        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Train one batch, then pause.")
        self.epoch_button = QPushButton("Step epoch")
        self.epoch_button.setToolTip("Train to the end of the epoch, then pause.")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setToolTip("New random weights from the seed; clears the curves.")
        self._buttons = [self.train_button, self.pause_button, self.stop_button,
                         self.step_button, self.epoch_button, self.reset_button]
        buttons = self.button_grid = QGridLayout()
        self.button_columns = 0
        self._arrange_buttons(3)

        self.epoch_label = steady_label("Epoch 00000 / 00000", "Epoch 0")
        self.step_label = steady_label("Step 0000000", "Step 0")
        self.rate_label = steady_label("0,000,000 samples/s", "- samples/s")
        self.left_label = steady_label("Time left 00 min 00 s", "Time left -")
        self.loss_label = steady_label("Loss 0.00000", "Loss -")
        for figure in (self.epoch_label, self.loss_label):  # what a class watches
            emphasize(figure, "value")
        self.counters = QWidget()
        counters = QVBoxLayout(self.counters)
        counters.setContentsMargins(0, 0, 0, 0)
        # epoch and loss on a row of their own: emphasised in presentation mode, they
        # and the three others on one grid were wider than the panel at 1920x1080
        for row in ((self.epoch_label, self.loss_label),
                    (self.step_label, self.rate_label, self.left_label)):
            line = QHBoxLayout()
            for label in row:
                line.addWidget(label, 1)
            counters.addLayout(line)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #c62828;")
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.hint_label = QLabel(START_HINT)
        self.hint_label.setObjectName("hint")
        self.hint_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.hint_label)  # in the counters' place until the first run
        layout.addWidget(self.counters)
        layout.addWidget(self.message_label)
        layout.addWidget(settings)
        layout.addStretch(1)

    def _arrange_settings(self, columns: int) -> None:
        """The settings one or two to a row: two where they pair up (batch size and
        epochs, L1 and L2, ...) so that they fit without scrolling on a 1920x1080
        projector, one where the dock is too narrow for two (see ``resizeEvent``)."""
        if columns == self.settings_columns:
            return
        grid = self.settings_grid
        for label, box in (*self._wide, *self._pairs):
            grid.removeWidget(label)
            grid.removeWidget(box)
        span = 2 * columns - 1
        shared = self._shared_first_row if columns == 2 else 0
        for i, (label, box) in enumerate(self._wide[:shared]):
            grid.addWidget(label, 0, 2 * i)
            grid.addWidget(box, 0, 2 * i + 1)
        first = 1 if shared else 0
        for row, (label, box) in enumerate(self._wide[shared:], start=first):
            grid.addWidget(label, row, 0)
            grid.addWidget(box, row, 1, 1, span)
        row = first + len(self._wide) - shared - 1
        col = 2 * columns
        for label, box in self._pairs:
            if not label.text():  # a check box: no label of its own to take space
                label.hide()
            if col >= 2 * columns:
                row, col = row + 1, 0
            if label.text():
                grid.addWidget(label, row, col)
            grid.addWidget(box, row, col + 1)
            col += 2
        for col in (1, 3):
            grid.setColumnStretch(col, 1 if col < 2 * columns else 0)
        # one to a row the rows are many: closer, so they fit at 1600x1000 with Engine too
        grid.setVerticalSpacing(4 if columns == 2 else 2)
        self.settings_columns = columns
        grid.invalidate()
        self.updateGeometry()  # the scroll area asks for the new height

    def _arrange_buttons(self, columns: int) -> None:
        """The run buttons in one row where they fit (6), else in two rows of 3."""
        if columns == self.button_columns:
            return
        for button in self._buttons:
            self.button_grid.removeWidget(button)
        for i, button in enumerate(self._buttons):
            self.button_grid.addWidget(button, i // columns, i % columns)
        self.button_columns = columns
        self.button_grid.invalidate()
        self.updateGeometry()

    def _one_row_width(self) -> int:
        spacing = max(self.button_grid.horizontalSpacing(), 6)
        return sum(b.sizeHint().width() for b in self._buttons) + 5 * spacing + 24

    def _two_columns_width(self) -> int:
        """The width the settings need two to a row (labels and fields side by side)."""
        columns = [self._pairs[0::2], self._pairs[1::2]]
        widths = [max(label.sizeHint().width() for label, _ in col)
                  + max(box.minimumSizeHint().width() for _, box in col) for col in columns]
        return sum(widths) + 3 * max(self.settings_grid.horizontalSpacing(), 6) + 40

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Reflow the settings for the width the dock gives."""
        super().resizeEvent(event)
        self._arrange_settings(2 if self.width() >= self._two_columns_width() else 1)
        self._arrange_buttons(6 if self.width() >= self._one_row_width() else 3)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Wide enough for two settings a row (what the dock layout asks for)."""
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), self._two_columns_width()))
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As narrow as one setting a row needs: the dock decides on two."""
        hint = super().minimumSizeHint()
        if self.settings_columns == 2:
            hint.setWidth(min(hint.width(), self._one_column_width()))
        return hint

    def _one_column_width(self) -> int:
        labels = max(label.sizeHint().width() for label, _ in (*self._wide, *self._pairs))
        fields = max(box.minimumSizeHint().width() for _, box in (*self._wide, *self._pairs))
        return labels + fields + 4 * self.settings_grid.horizontalSpacing() + 40

    def _connect(self) -> None:
        c = self.run
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button.clicked.connect(self.step)
        self.epoch_button.clicked.connect(self.step_epoch)
        self.stop_button.clicked.connect(self.stop)
        self.reset_button.clicked.connect(self.reset_weights)
        c.stateChanged.connect(self._state_changed)
        c.progress.connect(self.show_progress)
        c.message.connect(self.show_message)
        c.historyRestored.connect(self.load_settings)
        c.document.trainingSettingsChanged.connect(self.load_settings)
        c.document.problemsChanged.connect(self._clear_stale_refusal)
        c.dataChanged.connect(self._clear_stale_refusal)
        self.lr_box.valueChanged.connect(self._lr_changed)
        self.speed_box.currentIndexChanged.connect(
            lambda _index: self.run.set_pace(self.speed_box.currentData()))
        self.optimizer_box.currentTextChanged.connect(self._optimizer_changed)
        self.loss_box.currentTextChanged.connect(lambda text: self._store({"loss": text}))
        self.schedule_box.currentTextChanged.connect(
            lambda text: self._store({"schedule": None if text == "constant"
                                      else {"type": text}}))
        for key, box in (("batch_size", self.batch_box), ("epochs", self.epochs_box),
                         ("seed", self.seed_box)):
            box.valueChanged.connect(lambda value, key=key: self._store({key: int(value)}))
        for key, box in (("l1", self.l1_box), ("l2", self.l2_box)):
            box.valueChanged.connect(lambda value, key=key: self._store({key: float(value)}))
        for name, box in self.param_boxes.items():
            box.valueChanged.connect(
                lambda value, name=name: self._store_optimizer({name: float(value)}))
        self.nesterov_box.toggled.connect(
            lambda checked: self._store_optimizer({"nesterov": bool(checked)}))
        self.shuffle_box.toggled.connect(
            lambda checked: self._store({"shuffle": bool(checked)}))
        self.engine_box.currentIndexChanged.connect(self._engine_changed)

    # ------------------------------------------------------------------ settings
    def load_settings(self) -> None:
        """Show the project's training settings."""
        s = as_dict(self.run.settings)
        optimizer = as_dict(s.get("optimizer")) or {"type": "adam", "lr": 0.001}
        self._loading = True
        try:
            self.loss_box.setCurrentText(str(s.get("loss", "mse")))
            self.optimizer_box.setCurrentText(str(optimizer.get("type", "adam")))
            self.lr_box.setValue(as_float(optimizer.get("lr"), 0.001))
            for kind, params in OPTIMIZER_PARAMS.items():
                if kind == optimizer.get("type"):
                    for name, _, _, _, default in params:
                        self.param_boxes[name].setValue(as_float(optimizer.get(name), default))
            self.nesterov_box.setChecked(optimizer.get("nesterov") is True)
            schedule = as_dict(s.get("schedule"))
            self.schedule_box.setCurrentText(str(schedule.get("type", "constant")))
            self.batch_box.setValue(as_int(s.get("batch_size"), 32))
            self.epochs_box.setValue(as_int(s.get("epochs"), 10))
            self.l1_box.setValue(as_float(s.get("l1"), 0.0))
            self.l2_box.setValue(as_float(s.get("l2"), 0.0))
            self.seed_box.setValue(as_int(s.get("seed"), 0))
            self.shuffle_box.setChecked(s.get("shuffle") is not False)
            engine = (str(s.get("backend") or "numpy"),
                      None if s.get("backend") in (None, "numpy") else
                      str(s.get("device") or "cpu"))
            index = self.engine_box.findData(engine)
            self.engine_box.setCurrentIndex(max(index, 0))
        finally:
            self._loading = False
        self._show_optimizer_params()

    def _store(self, changes: dict[str, Any]) -> None:
        """One edited setting -> one undoable document edit (not while showing settings)."""
        if not self._loading:
            self.run.editor.set_training_settings(changes)

    def _engine_changed(self) -> None:
        backend, device = self.engine_box.currentData()
        self._store({"backend": backend, "device": device})

    def _store_optimizer(self, changes: dict[str, Any]) -> None:
        """An optimizer parameter (momentum, beta, Nesterov) of the current optimizer."""
        optimizer = dict(self.run.settings.get("optimizer") or {})
        self._store({"optimizer": {**optimizer, **changes}})

    def _optimizer_changed(self) -> None:
        """A new optimizer type: its parameters as the boxes show them (the saved
        optimizer state no longer fits and is dropped by the document)."""
        self._show_optimizer_params()
        if self._loading:
            return
        kind = self.optimizer_box.currentText()
        optimizer: dict[str, Any] = {"type": kind, "lr": float(self.lr_box.value())}
        for name, _, _, _, _ in OPTIMIZER_PARAMS[kind]:
            optimizer[name] = float(self.param_boxes[name].value())
        if kind == "sgd":
            optimizer["nesterov"] = self.nesterov_box.isChecked()
        self._store({"optimizer": optimizer})

    def _show_optimizer_params(self) -> None:
        kind = self.optimizer_box.currentText()
        wanted = {p[0] for p in OPTIMIZER_PARAMS.get(kind, [])}
        for name, box in self.param_boxes.items():
            box.setVisible(name in wanted)
            self.param_labels[name].setVisible(name in wanted)
        self.nesterov_box.setVisible(kind == "sgd")

    def _lr_changed(self, value: float) -> None:
        if not self._loading:
            self.run.set_learning_rate(float(value))

    # ------------------------------------------------------------------ actions
    def train(self) -> None:
        """Train (or resume) with the settings shown."""
        self._report(self._fit_refusal() or self.run.train())

    def step(self) -> None:
        """One batch, then pause."""
        self._report(self._fit_refusal() or self.run.step())

    def step_epoch(self) -> None:
        """To the end of the epoch, then pause."""
        self._report(self._fit_refusal() or self.run.step(unit="epoch"))

    def _fit_refusal(self) -> str | None:
        """Why a new run cannot start: a valid network whose Input shape or output units
        do not fit the data (the run would fail at once, pointing at an empty Problems
        list). The Data panel names the same mismatch and fixes it in one click."""
        run = self.run
        document = run.document
        if run.state != "idle" or not document.is_valid:
            return None  # resuming, or the run session names the network's problems
        if run.data is None and document.project.data:
            run.load_data()
        if run.data is None:
            return None  # the run session says what is wrong with the data
        loss = str(run.settings.get("loss", "mse"))
        mismatches = check_fit(document.spec, document.shapes, run.data, loss)
        if not mismatches:
            return None
        text = ("Cannot train: the network does not fit the data. "
                + " ".join(m.message for m in mismatches)
                + " Click “Fix the network” in the Data panel, or change the layers.")
        return run.refuse(text)

    def stop(self) -> None:
        """Stop the run at the next batch (never waits: a hung run is killed later)."""
        self.run.request_stop()

    def toggle_pause(self) -> None:
        """Pause a running run, resume a paused one."""
        if self.run.state == "paused":
            self.run.resume()
        else:
            self.run.pause()

    def reset_weights(self) -> None:
        """New random weights; the counters start again."""
        self.run.reset_weights()
        self.show_progress(Progress(state="idle"))
        self.show_message("")

    def _clear_stale_refusal(self) -> None:
        """A red "Cannot train" goes as soon as what it named is fixed (the network, the
        data or the loss), not at the next press of Train."""
        run = self.run
        if not self.message_label.text().startswith("Cannot train") or run.state != "idle":
            return
        errors = any(p.severity == "error" for p in run.document.problems)
        if not errors and run.data is not None:
            self.show_message("")

    def _report(self, error: str | None) -> None:
        if error:
            self.show_message(error)

    # ------------------------------------------------------------------ display
    def _state_changed(self, state: str) -> None:
        running = state in ("running", "paused")
        self.train_button.setEnabled(state == "idle")
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.stop_button.setEnabled(running)
        self.step_button.setEnabled(state != "running")
        self.epoch_button.setEnabled(state != "running")
        for widget in (self.loss_box, self.optimizer_box, self.batch_box, self.seed_box,
                       self.schedule_box, self.l1_box, self.l2_box, self.nesterov_box,
                       self.shuffle_box, self.engine_box,
                       *self.param_boxes.values()):
            widget.setEnabled(not running)

    def show_progress(self, progress: Progress) -> None:
        """Counters from the run session's merged progress signal (<= ~10 per second);
        the start hint shows while nothing has been trained."""
        fresh = progress.state == "idle" and not progress.step
        self.hint_label.setVisible(fresh)
        self.counters.setVisible(not fresh)
        total = progress.epochs_total
        self.epoch_label.setText(f"Epoch {progress.epoch}" + (f" / {total}" if total else ""))
        self.step_label.setText(f"Step {progress.step}")
        rate = progress.samples_per_s
        self.rate_label.setText(f"{rate:,.0f} samples/s" if math.isfinite(rate) and rate > 0
                                else "- samples/s")
        self.left_label.setText(f"Time left {format_duration(progress.time_left_s)}")
        loss = progress.loss
        self.loss_label.setText(f"Loss {loss:.4g}" if math.isfinite(loss) else "Loss -")

    def show_message(self, text: str) -> None:
        """Show (or clear, with "") an error in red."""
        self.message_label.setText(text)
