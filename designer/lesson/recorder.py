"""Keeps every training run: its settings, its curves and weight snapshots at some epochs.

The recorder listens to the run session: when a run starts it notes the settings, the
epoch it starts from and the weights it starts with; the training process reports the
weights at evenly spaced epochs (``TrainingJob.checkpoint_every``, so that a run gives at
most ``core.runs.MAX_SNAPSHOTS``); when it ends the recorder adds those, the final
weights and the run's part of the curves, and stores the record in the project
(``Document.set_runs``, within ``core.runs``' size budget). Recording is not an undo step;
it is unsaved work like the training results.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from core.runs import MAX_SNAPSHOTS, fit_budget, thin

Weights = dict[str, dict[str, np.ndarray]]


class RunRecorder(QObject):
    """Turns each run of ``run`` (a RunSession) into a record of the project's runs."""

    def __init__(self, run: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.session = run.session
        self.document = run.session.document
        self._current: dict[str, Any] | None = None
        self._epochs_before = 0
        run.checkpoints_per_run = MAX_SNAPSHOTS - 2  # and the first and the last weights
        run.stateChanged.connect(self._state_changed)
        run.finished.connect(self._finished)

    @property
    def recording(self) -> bool:
        return self._current is not None

    def _state_changed(self, state: str) -> None:
        if state != "idle" and self._current is None:
            self._begin()

    def _begin(self) -> None:
        spec = self.document.spec
        activations = {n["id"]: n.get("activation", "linear") for n in spec["nodes"]
                       if n.get("type") == "Dense"}
        settings = {**self.document.training, "activation": activations}
        start = self.run.buffer.last_epoch
        self._epochs_before = len(self.run.buffer.curves().column("loss"))
        self.run.buffer.take_checkpoints()  # none from before this run
        self._current = {"name": f"run {len(self.document.runs) + 1}",
                         "settings": settings, "start_epoch": start, "history": {},
                         "snapshots": []}
        # what the process starts from: the current weights, else the seed's fresh ones
        weights = self.session.trained_weights or self.session.initial_weights()
        if weights:
            self._add(start, weights)

    def _add(self, epoch: int, weights: Weights) -> None:
        current = self._current
        assert current is not None
        snaps = current["snapshots"]
        copied = {n: {k: np.array(v, copy=True) for k, v in arrays.items()}
                  for n, arrays in weights.items()}
        if snaps and snaps[-1]["epoch"] == epoch:
            snaps[-1] = {"epoch": int(epoch), "weights": copied}
        else:
            snaps.append({"epoch": int(epoch), "weights": copied})

    def _finished(self, _reason: str) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        epochs = self.run.buffer.last_epoch
        weights = self.session.trained_weights
        self._current = current
        for checkpoint in self.run.buffer.take_checkpoints():
            if checkpoint.epoch > current["start_epoch"]:
                self._add(checkpoint.epoch, checkpoint.weights())
        if weights and epochs > current["start_epoch"]:
            self._add(epochs, weights)
        self._current = None
        current["snapshots"] = thin(current["snapshots"])
        history = self.run.buffer.to_history()
        current["history"] = {k: v[self._epochs_before:] for k, v in history.items()
                              if not k.startswith("batch_")}
        if epochs <= current["start_epoch"]:
            return  # nothing trained (failed to start): no run to keep
        runs = _continued(list(self.document.runs), current)
        runs = fit_budget(runs)
        self.document.set_runs(runs)
        self.session.mark_modified()


def _continued(runs: list[dict[str, Any]], current: dict[str, Any]) -> list[dict[str, Any]]:
    """``runs`` plus ``current``; a run that goes on where the last one stopped with the
    same settings (Step epoch by epoch, Train again) extends it instead."""
    last = runs[-1] if runs else None
    if last is not None and last["settings"] == current["settings"]:
        end = last["start_epoch"] + len(last["history"].get("loss", []))
        if end == current["start_epoch"]:
            history = {k: list(last["history"].get(k, [])) + list(v)
                       for k, v in current["history"].items()}
            snaps = list(last["snapshots"])
            snaps += [s for s in current["snapshots"]
                      if not snaps or s["epoch"] > snaps[-1]["epoch"]]
            runs[-1] = {**last, "history": history, "snapshots": thin(snaps)}
            return runs
    current["name"] = f"run {len(runs) + 1}"
    return [*runs, current]
