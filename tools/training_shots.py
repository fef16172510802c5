"""The training UI's README screenshots: training in progress, paused for the picture.

``screenshots.py`` in this folder calls each setup with a
fresh main window that shows the default example; the setup trains for a moment, pauses
and arranges the docks. Files: ``docs/images/training*.png``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QDeadlineTimer, QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QDockWidget


def _wait(seconds: float) -> None:
    app = QApplication.instance()
    deadline = QDeadlineTimer(int(seconds * 1000))
    while not deadline.hasExpired():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def _train_then_pause(window, until_epoch: int, seconds: float = 20.0) -> None:
    """Train with the project's settings until ``until_epoch``, then pause."""
    ui = window.training_ui
    ui.run.train()
    start = time.perf_counter()
    while ui.run.is_running and time.perf_counter() - start < seconds:
        snapshot = ui.run.buffer.latest()
        if snapshot is not None and snapshot.epoch >= until_epoch:
            break
        _wait(0.01)
    if ui.run.is_running:
        ui.run.pause()
        while ui.run.is_running and not ui.run.waiting:
            _wait(0.02)
    _wait(0.3)
    ui.refresher.tick(final=True)


def _bottom_heavy(window, names: list[str], widths: list[int], height: int = 430) -> None:
    """Show only the live views ``names``, side by side with these widths."""
    ui = window.training_ui
    docks = [ui.docks[n] for n in names]
    for name in ("Output", "Loss curves", "Weights", "Confusion", "Images"):
        if name not in names:
            window.removeDockWidget(ui.docks[name])
    problems = window.findChild(QDockWidget, "problemsDock")
    if problems is not None:
        problems.hide()
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks[0])
    for left, right in zip(docks, docks[1:], strict=False):
        window.splitDockWidget(left, right, Qt.Orientation.Horizontal)
    for dock in docks:
        dock.show()
    _wait(0.2)
    window.resizeDocks(docks[:1], [height], Qt.Orientation.Vertical)
    window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)
    _wait(0.2)


def training(window) -> None:
    """Spiral in progress: decision boundary, loss curves and weights side by side."""
    _bottom_heavy(window, ["Output", "Loss curves", "Weights"], [420, 430, 430])
    window.fit_view()
    _train_then_pause(window, 110)


def training_boundary(window) -> None:
    """The decision boundary large, as in TensorFlow Playground."""
    _bottom_heavy(window, ["Output", "Loss curves"], [640, 640], height=600)
    _train_then_pause(window, 140)


def training_digits(window) -> None:
    """Digits: sample guesses, first-layer weights as images, confusion matrix."""
    from core.examples import load_example

    window.session.new_project(load_example("digits-mlp"))
    _wait(0.3)
    _bottom_heavy(window, ["Images", "Confusion", "Loss curves"], [520, 380, 380],
                  height=520)
    window.fit_view()
    _train_then_pause(window, 4)


SHOTS: list[tuple[str, Callable[[object], None]]] = [
    ("training", training),
    ("training-boundary", training_boundary),
    ("training-digits", training_digits),
]
