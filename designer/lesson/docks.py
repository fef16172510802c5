"""The lesson docks and their wiring (``designer.lesson.install`` calls this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from designer.lesson.recorder import RunRecorder
from designer.lesson.runs_panel import RunsPanel
from designer.lesson.slides import Slides
from designer.lesson.step_panel import StepThroughPanel

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea


@dataclass
class LessonUI:
    """Everything ``install`` made, for the window and tests."""

    step: StepThroughPanel
    runs: RunsPanel
    recorder: RunRecorder | None
    slides: Slides | None = None
    docks: dict[str, QDockWidget] = field(default_factory=dict)


def install(window: Any) -> LessonUI:
    """Add the Step through and Runs docks and the run recorder; a click on a training
    point of the Output plane picks that sample."""
    training = getattr(window, "training_ui", None)
    recorder = RunRecorder(training.run, window) if training is not None else None
    ui = LessonUI(StepThroughPanel(window), RunsPanel(window), recorder)
    for title, widget in (("Step through", ui.step), ("Runs", ui.runs)):
        dock = QDockWidget(title, window)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        ui.docks[title] = window.add_panel(dock, RIGHT)
    dock = ui.docks["Step through"]
    if training is not None:
        training.when_built("boundary", lambda view: view.train_scatter.sigClicked.connect(
            lambda _item, points, *_: _picked(ui, dock, points)))
    window.lesson_ui = ui
    ui.slides = Slides(window)
    return ui


def _picked(ui: LessonUI, dock: QDockWidget, points: Any) -> None:
    if len(points):
        pos = points[0].pos()
        ui.step.trace_point(np.array([pos.x(), pos.y()]))
        dock.show()
        dock.raise_()
