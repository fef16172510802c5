"""The lesson tools' screenshots (docs/lesson-tools.md): ``docs/images/lesson-*.png``.

Each setup gets a fresh main window showing the default example (spiral), as in
``tools/screenshots.py``, and arranges it for one feature.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from training_shots import _bottom_heavy, _train_then_pause, _wait


def _lesson_dock(window, title: str, width: int = 560) -> None:
    dock = window.lesson_ui.docks[title]
    dock.show()
    dock.raise_()
    _wait(0.2)
    window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
    _wait(0.2)


def _trained(window, epochs: int) -> None:
    """Train ``epochs`` epochs and wait for the run to end (a kept run)."""
    ui = window.training_ui
    ui.run.train(epochs=epochs)
    while ui.run.is_running:
        _wait(0.05)
    _wait(0.3)


def step_through(window) -> None:
    """A sample stepped back through the neuron view; its delta explained."""
    window.set_neuron_view(True)
    _bottom_heavy(window, ["Output", "Loss curves"], [420, 420], height=330)
    _train_then_pause(window, 60)
    window.training_ui.run.stop()
    _lesson_dock(window, "Step through")
    panel = window.lesson_ui.step
    panel.sample.setValue(12)
    panel.trace_current()
    backward = [i for i, p in enumerate(panel.stops) if p.kind == "backward"]
    panel.go(backward[1])
    panel.values.selectRow(0)
    panel.tabs.setCurrentWidget(panel.explain)
    window.fit_view()
    _wait(0.3)


def explain_weight(window) -> None:
    """One weight: its gradient, Adam's actual step and its path to the loss."""
    window.set_neuron_view(True)
    _bottom_heavy(window, ["Output"], [420], height=330)
    _trained(window, 40)
    _lesson_dock(window, "Step through", 620)
    panel = window.lesson_ui.step
    panel.trace_current()
    updates = [i for i, p in enumerate(panel.stops) if p.kind == "update"
               and p.param == "kernel"]
    panel.go(updates[-1])
    panel.values.selectRow(1)
    panel.tabs.setCurrentWidget(panel.explain)
    window.fit_view()
    _wait(0.3)


def runs(window) -> None:
    """Three runs with other learning rates overlaid; the last one scrubbed back."""
    _bottom_heavy(window, ["Output", "Weights"], [460, 460], height=380)
    ui = window.training_ui
    for lr in (0.003, 0.03, 0.3):
        ui.run.set_learning_rate(lr)
        _trained(window, 60)
    _lesson_dock(window, "Runs", 560)
    panel = window.lesson_ui.runs
    panel.runs.setCurrentRow(panel.runs.count() - 1)
    panel.slider.setValue(4)
    window.fit_view()
    _wait(0.5)


def knockout(window) -> None:
    """A hidden neuron knocked out: zero lines, the boundary without it."""
    window.set_neuron_view(True)
    _bottom_heavy(window, ["Output", "Loss curves"], [420, 420], height=330)
    _trained(window, 80)
    _lesson_dock(window, "Step through")
    panel = window.lesson_ui.step
    panel.trace_current()
    panel.go(0)
    panel.values.selectRow(1)
    panel.knockout_bar.knock_button.click()
    window.lesson_ui.slides.palette_action.setChecked(True)
    window.fit_view()
    _wait(0.5)

SHOTS: list[tuple[str, Callable[[object], None]]] = [
    ("lesson-step-through", step_through),
    ("lesson-explain-weight", explain_weight),
    ("lesson-runs", runs),
    ("lesson-knockout", knockout),
]
