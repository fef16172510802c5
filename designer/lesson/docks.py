"""The lesson docks and their wiring (``designer.lesson.install`` calls this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from designer.lesson.step_panel import StepThroughPanel

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea


@dataclass
class LessonUI:
    """Everything ``install`` made, for the window and tests."""

    step: StepThroughPanel
    docks: dict[str, QDockWidget] = field(default_factory=dict)


def install(window: Any) -> LessonUI:
    """Add the Step through dock; a click on a training point of the Output plane picks
    that sample."""
    ui = LessonUI(StepThroughPanel(window))
    dock = QDockWidget("Step through", window)
    dock.setObjectName("StepthroughDock")
    dock.setWidget(ui.step)
    ui.docks["Step through"] = window.add_panel(dock, RIGHT)
    training = getattr(window, "training_ui", None)
    if training is not None:
        training.boundary.train_scatter.sigClicked.connect(
            lambda _item, points, *_: _picked(ui, dock, points))
    window.lesson_ui = ui
    return ui


def _picked(ui: LessonUI, dock: QDockWidget, points: Any) -> None:
    if len(points):
        pos = points[0].pos()
        ui.step.trace_point(np.array([pos.x(), pos.y()]))
        dock.show()
        dock.raise_()
