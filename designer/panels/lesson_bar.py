"""The lesson bar: the Playground's one-click controls in a row above the canvas.

Data set thumbnails, problem type (loss and output activation together), hidden layers
(- / +), one activation for every hidden layer, sliders for noise, validation share and batch size
that act when released, and the last epoch's training and validation loss in large
type (shown above the Output plane). Every control goes through the same edits as the
panels (``designer.quick_edits``, the Data and Training panels' boxes), so undo, the
lock and the refusals are the same.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QToolBar, QToolButton, QWidget

from designer import quick_edits as quick
from designer.panels.dataset_thumbnails import DatasetThumbnails

if TYPE_CHECKING:
    from designer.training.docks import TrainingUI

HIDDEN_ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "gelu"]


class LessonBar(QToolBar):
    """One row of lesson controls for a window's training UI."""

    def __init__(self, ui: TrainingUI, parent: QWidget | None = None) -> None:
        super().__init__("Lesson", parent)
        self.setObjectName("LessonBar")
        self.ui, self.run = ui, ui.run
        self.document, self.editor = ui.run.document, ui.run.editor
        self._loading = False
        self._build()
        self._connect()
        self.refresh()
        self.show_losses()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.problem_box = QComboBox()
        self.problem_box.addItems([p.capitalize() for p in quick.PROBLEM_TYPES])
        self.problem_box.setToolTip("Sets the loss and the output layer's activation.")
        self.remove_layer_button = _tool("−", "Remove the last hidden layer.")
        self.add_layer_button = _tool("+", "Add a hidden layer like the last one.")
        self.layers_label = QLabel("")
        self.activation_box = QComboBox()
        self.activation_box.addItems(HIDDEN_ACTIVATIONS)
        self.activation_box.setToolTip("The activation of every hidden layer.")
        self.noise_slider = _slider(0, 50, "Noise (0 to 0.5); acts when released.")
        self.val_slider = _slider(10, 90, "Share of the samples held out for validation.")
        self.batch_slider = _slider(1, 64, "Batch size; acts when released.")
        self.loss_label = QLabel("")
        # 1.5 times the font, bold: a rule of the theme's stylesheet (designer.themes),
        # so that it follows every switch of presentation mode
        self.loss_label.setObjectName("lessonLosses")
        self.loss_label.setWordWrap(True)  # a narrow Output dock wraps, never widens
        for text, widget in (("Problem", self.problem_box), ("Hidden layers", None),
                             ("Activation", self.activation_box),
                             ("Noise", self.noise_slider), ("Validation", self.val_slider),
                             ("Batch", self.batch_slider)):
            self.addWidget(QLabel(f" {text} "))
            if widget is None:
                for w in (self.remove_layer_button, self.layers_label,
                          self.add_layer_button):
                    self.addWidget(w)
            else:
                self.addWidget(widget)
        self.addSeparator()
        self.thumbnails = DatasetThumbnails(self.ui, self)
        self.addWidget(self.thumbnails)

    def _connect(self) -> None:
        self.problem_box.currentIndexChanged.connect(self._problem_changed)
        self.add_layer_button.clicked.connect(lambda: self._report(
            quick.add_hidden_layer(self.editor)))
        self.remove_layer_button.clicked.connect(lambda: self._report(
            quick.remove_hidden_layer(self.editor)))
        self.activation_box.currentTextChanged.connect(self._activation_changed)
        for slider in (self.noise_slider, self.val_slider, self.batch_slider):
            slider.sliderReleased.connect(self._slider_moved)
            slider.valueChanged.connect(
                lambda _v, s=slider: None if s.isSliderDown() else self._slider_moved())
        doc = self.document
        for signal in (doc.specChanged, doc.trainingSettingsChanged, doc.dataSourceChanged,
                       doc.projectReplaced, self.run.dataChanged):
            signal.connect(self.refresh)
        self.run.progress.connect(lambda _p: self.show_losses())
        self.run.weightsReset.connect(self.show_losses)
        self.run.historyRestored.connect(self.show_losses)

    # ------------------------------------------------------------------ edits
    def _report(self, reason: str | None) -> None:
        if reason:
            self.run.refuse(reason)

    def _problem_changed(self) -> None:
        if self._loading:
            return
        kind = quick.PROBLEM_TYPES[self.problem_box.currentIndex()]
        data = self.run.data
        classes = data.n_classes if data is not None and data.task == "classification" else 2
        self._report(quick.set_problem_type(self.editor, kind, classes))

    def _activation_changed(self, activation: str) -> None:
        if not self._loading:
            self._report(quick.set_hidden_activation(self.editor, activation))

    def _slider_moved(self) -> None:
        """Hand the slider's value to the panel box it stands for (one code path)."""
        if self._loading:
            return
        data_panel, training_panel = self.ui.data_panel, self.ui.training_panel
        data_panel.noise_box.setValue(self.noise_slider.value() / 100.0)
        data_panel.val_box.setValue(self.val_slider.value() / 100.0)
        training_panel.batch_box.setValue(self.batch_slider.value())

    # ------------------------------------------------------------------ display
    def refresh(self) -> None:
        """Show the project's values in the controls."""
        doc = self.document
        hidden = quick.hidden_layers(doc)
        data_panel, training_panel = self.ui.data_panel, self.ui.training_panel
        self._loading = True
        try:
            data = self.run.data
            self.problem_box.setCurrentIndex(quick.PROBLEM_TYPES.index(
                quick.problem_type(doc, data.task if data is not None else None)))
            self.layers_label.setText(f" {len(hidden)} " if hidden is not None else " - ")
            chain = hidden is not None
            for w in (self.add_layer_button, self.activation_box):
                w.setEnabled(chain)
            self.remove_layer_button.setEnabled(bool(hidden))
            if hidden:
                self.activation_box.setCurrentText(
                    str(doc.param(hidden[-1], "activation", "linear")))
            self.noise_slider.setEnabled(data_panel.noise_box.isEnabled())
            self.noise_slider.setValue(round(data_panel.noise_box.value() * 100))
            self.val_slider.setValue(round(data_panel.val_box.value() * 100))
            self.batch_slider.setValue(min(training_panel.batch_box.value(), 64))
        finally:
            self._loading = False

    def show_losses(self) -> None:
        """The last epoch's training and validation loss, large (Playground's corner)."""
        curves = self.run.buffer.curves()
        parts = []
        for name, key in (("Train loss", "loss"), ("Validation loss", "val_loss")):
            col = curves.column(key)
            value = float(col[-1]) if len(col) else math.nan
            parts.append(f"{name} {value:.3f}" if math.isfinite(value) else f"{name} -")
        self.loss_label.setText("   ".join(parts) + " ")


def _tool(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button


def _slider(low: int, high: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setFixedWidth(110)
    slider.setToolTip(tip)
    return slider


def install_lesson_bar(window: Any, ui: TrainingUI) -> LessonBar:
    """Put the lesson bar at the top of ``window`` and the losses above the Output
    plane (where the Playground shows them)."""
    bar = LessonBar(ui, window)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    ui.when_built("boundary", lambda view: view.layout().insertWidget(0, bar.loss_label))
    return bar
