"""The Runs panel: every kept run, their loss curves overlaid, and a timeline to scrub.

Tick runs to overlay their loss curves; the legend names what differed between them
(``core.runs.differences``: "lr 0.3" against "lr 0.03", "h1 tanh" against "h1 relu").
Select a run to scrub its timeline: the views (boundary, neuron maps, weight lines,
weights) show the weights of that epoch through ``Session.set_preview_weights``, which
never changes the current weights. "Restore this epoch" makes them the project's weights
in one undo step; "Back to now" (or starting a run) ends the preview.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.runs import differences
from designer.lesson.palette import series_colors
from designer.plots.common import add_plot, make_canvas

TIMELINE_HINT = "Select a run to scrub its epochs."


class RunsPanel(QWidget):
    """The runs list, the overlaid curves and the timeline of the selected run."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.document = self.session.document
        self.runs = QListWidget()
        self.runs.itemChanged.connect(lambda _item: self.draw_curves())
        self.runs.currentRowChanged.connect(self._select)
        self.canvas = make_canvas()  # the live views' look: theme background, no menu
        self.plot = add_plot(self.canvas, 0, 0, "Loss of each run", left="loss",
                             bottom="epoch of the run")
        self.plot.setLogMode(y=True)
        self.plot.vb.enableAutoRange()
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.scrub)
        self.epoch_label = QLabel(TIMELINE_HINT)
        self.now_button = QPushButton("Back to now")
        self.restore_button = QPushButton("Restore this epoch")
        self.remove_button = QPushButton("Remove run")
        self.now_button.clicked.connect(self.back_to_now)
        self.restore_button.clicked.connect(self.restore)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        for b in (self.now_button, self.restore_button, self.remove_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.runs, 1)
        layout.addWidget(self.canvas, 2)
        layout.addWidget(self.epoch_label)
        layout.addWidget(self.slider)
        layout.addLayout(buttons)
        self.document.runsChanged.connect(self.reload)
        self.document.projectReplaced.connect(self.reload)
        run = self._run()
        if run is not None:
            run.stateChanged.connect(self._run_state)
        self.reload()

    def _run(self) -> Any:
        ui = getattr(self.window, "training_ui", None)
        return ui.run if ui is not None else None

    # ------------------------------------------------------------------ list
    def reload(self) -> None:
        """Rebuild the list from the project's runs (the newest ticked)."""
        self.back_to_now()
        runs = self.document.runs
        self.runs.blockSignals(True)
        self.runs.clear()
        for i, run in enumerate(runs):
            losses = [v for v in run["history"].get("loss", []) if v is not None]
            last = f", final loss {losses[-1]:.4g}" if losses else ""
            item = QListWidgetItem(f"{run.get('name') or f'run {i + 1}'}: "
                                   f"{len(losses)} epochs{last}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if i >= len(runs) - 3
                               else Qt.CheckState.Unchecked)
            self.runs.addItem(item)
        self.runs.blockSignals(False)
        self.draw_curves()
        self._select(self.runs.currentRow())

    def checked(self) -> list[int]:
        return [i for i in range(self.runs.count())
                if self.runs.item(i).checkState() == Qt.CheckState.Checked]

    def draw_curves(self) -> list[str]:
        """Overlay the ticked runs' loss curves; returns the legend's labels."""
        self.plot.clear()
        self.legend.clear()
        chosen = self.checked()
        runs = [self.document.runs[i] for i in chosen]
        labels = differences(runs) if len(runs) > 1 else [r.get("name", "") for r in runs]
        for run, label, color in zip(runs, labels, series_colors(len(runs)), strict=False):
            y = np.array([np.nan if v is None else v for v in run["history"].get("loss", [])],
                         float)
            y = np.where(y > 0, y, np.nan)
            self.plot.plot(np.arange(1, len(y) + 1), y, pen=pg.mkPen(color, width=2),
                           name=label)
        return labels

    def remove_selected(self) -> None:
        i = self.runs.currentRow()
        if 0 <= i < len(self.document.runs):
            runs = list(self.document.runs)
            del runs[i]
            self.document.set_runs(runs)
            self.session.mark_modified()

    # ------------------------------------------------------------------ timeline
    def selected_run(self) -> dict | None:
        """The run whose timeline the slider scrubs (the list's current row)."""
        i = self.runs.currentRow()
        return self.document.runs[i] if 0 <= i < len(self.document.runs) else None

    def _select(self, _row: int) -> None:
        run = self.selected_run()
        snaps = run["snapshots"] if run else []
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(snaps) - 1, 0))
        self.slider.setValue(max(len(snaps) - 1, 0))
        self.slider.blockSignals(False)
        self.slider.setEnabled(bool(snaps))
        self.restore_button.setEnabled(False)
        self.epoch_label.setText(f"{len(snaps)} snapshots: drag to scrub" if snaps
                                 else TIMELINE_HINT)

    def scrub(self, index: int) -> None:
        """Show the selected run's snapshot ``index`` in every view (a preview)."""
        run = self.selected_run()
        run_session = self._run()
        if run is None or not run["snapshots"] or (run_session and run_session.is_running):
            return
        snap = run["snapshots"][max(0, min(index, len(run["snapshots"]) - 1))]
        self.session.set_preview_weights(snap["weights"])
        into = snap["epoch"] - run.get("start_epoch", 0)
        self.epoch_label.setText(f"{run.get('name', 'run')}: epoch {into} of the run "
                                 f"({snap['epoch']} in all); a preview, the current "
                                 "weights are unchanged")
        self.restore_button.setEnabled(True)
        self._refresh_views()

    def back_to_now(self) -> None:
        """End the preview: the views show the current weights again."""
        if self.session.previewing:
            self.session.set_preview_weights(None)
            self._refresh_views()
        self.restore_button.setEnabled(False)

    def restore(self) -> None:
        """Make the previewed epoch's weights the project's (one undo step)."""
        run = self.selected_run()
        if run is None or not self.session.previewing:
            return
        snap = run["snapshots"][self.slider.value()]
        why = self.session.editor.restore_weights(
            snap["weights"], f"Restore epoch {snap['epoch']} of {run.get('name', 'a run')}")
        if why is None:
            self.back_to_now()
            self.epoch_label.setText(f"Restored epoch {snap['epoch']} (Undo puts back the "
                                     "weights before).")

    def _run_state(self, state: str) -> None:
        if state != "idle":
            self.back_to_now()
        self.slider.setEnabled(state == "idle" and self.slider.maximum() >= 0
                               and self.selected_run() is not None)

    def _refresh_views(self) -> None:
        ui = getattr(self.window, "training_ui", None)
        if ui is None or ui.run.is_running:
            return
        ui.run.static_snapshot()
        ui.refresher.tick(final=True)
