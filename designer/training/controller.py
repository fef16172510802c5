"""Owns a training run's life: data, network, trainer, thread, lock, results.

One controller per window. Train continues from the document's current weights (and the
optimizer state saved in the project) unless Reset weights was pressed; the canvas is
locked against structural edits while a run is under way; when the run ends, weights,
optimizer state and the curves go back into the project through
``Session.set_trained_state`` (unsaved work, not an undo step). Training runs in a
process of its own (``designer.training.worker``). Stopping is cooperative: the process
returns at the next batch, then the thread that relays its reports is quit and waited
for. The data is loaded again whenever the document's data source changes (an edit,
undo or redo).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from core.network import Network
from core.workflow import make_trainer
from designer.plots.common import ViewContext
from designer.session import Session
from designer.training.child import NetworkRecipe
from designer.training.pipeline import TrainingData, load_training_data
from designer.training.run_loop import RunLoop, TrainingJob
from designer.training.snapshots import SnapshotBuffer
from designer.training.worker import TrainingWorker

LOCK_REASON = "Training is running: press Stop before changing the network's structure."
KERNEL_TYPES = ("Dense", "Conv2D")
DEFAULT_TRAINING = {"loss": "binary_crossentropy", "optimizer": {"type": "adam", "lr": 0.01},
                    "batch_size": 16, "epochs": 50, "seed": 0, "schedule": None,
                    "l1": 0.0, "l2": 0.0, "clipnorm": None}


class TrainingController(QObject):
    """Start/pause/step/stop training of ``session``'s project in a training process."""

    stateChanged = Signal(str)        # "idle", "running", "paused"
    progress = Signal(dict)           # merged counters from the worker (<= ~10/s)
    message = Signal(str)             # readable errors and divergence ("" clears)
    finished = Signal(str)            # stop reason of the run that just ended
    dataChanged = Signal()            # new data loaded (or failed: data is None)
    contextChanged = Signal(object)   # ViewContext for the live views
    historyRestored = Signal()        # curves loaded from the project
    weightsReset = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.document = document = session.document
        self.editor = session.editor
        self.buffer = SnapshotBuffer()
        self.data: TrainingData | None = None
        self.data_error: str | None = None
        self.net: Network | None = None
        self._net_key: str | None = None
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._state = "idle"
        self.last_reason: str | None = None
        self.last_message = ""
        self._run_lr: float | None = None  # the learning rate the running worker uses
        self.pace: float | None = None  # epochs a second at most; None: full speed
        document.projectReplaced.connect(self.project_replaced)
        document.specChanged.connect(self._spec_changed)
        document.dataSourceChanged.connect(self._data_source_changed)
        document.trainingSettingsChanged.connect(self._settings_changed)
        session.aboutToSave.connect(self._before_save)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> str:
        """"idle", "running" or "paused"."""
        return self._state

    @property
    def is_running(self) -> bool:
        """True while a run exists (running or paused)."""
        return self._thread is not None

    @property
    def worker(self) -> TrainingWorker | None:
        """The current run's worker (None when idle)."""
        return self._worker

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    @property
    def settings(self) -> dict:
        """A copy of the project's training settings (change them with
        ``editor.set_training_settings``).

        Missing settings are first filled in with the designer's defaults, silently: a
        project without them trains with exactly what the Training panel shows, in the
        designer and (once saved) on the command line.
        """
        project = self.document.project
        if not isinstance(project.training, dict):
            project.training = {}
        for key, value in DEFAULT_TRAINING.items():
            project.training.setdefault(key, json.loads(json.dumps(value)))
        return copy.deepcopy(project.training)

    def learning_rate(self) -> float | None:
        """The optimizer's learning rate in the settings (None when it has none)."""
        lr = (self.settings.get("optimizer") or {}).get("lr")
        return float(lr) if isinstance(lr, (int, float)) else None

    def _base_dir(self) -> Path | None:
        path = self.session.file_path
        return Path(path).parent if path else None

    # ------------------------------------------------------------------ data
    def load_data(self) -> str | None:
        """(Re)load the project's data; returns the error message, or None."""
        self.data, self.data_error = None, None
        try:
            if self.document.project.data:
                self.data = load_training_data(self.document.project, self._base_dir())
            else:
                self.data_error = "Choose a data set in the Data panel."
        except Exception as exc:  # noqa: BLE001 - every load failure is shown, not raised
            self.data_error = f"Could not load the data: {exc}"
        self.dataChanged.emit()
        self.emit_context()
        return self.data_error

    def layer_ids(self) -> list[str]:
        """Nodes with a kernel, in the spec's order (for the weights views)."""
        return self.document.nodes_of_type(*KERNEL_TYPES)

    def hidden_ids(self) -> list[str]:
        """Dense nodes whose output does not leave the network (for neuron maps)."""
        doc = self.document
        return [n for n in doc.nodes_of_type("Dense") if doc.successors(n)]

    def emit_context(self) -> ViewContext:
        """Tell the views what the data and network look like now."""
        context = (self.data.context(self.layer_ids()) if self.data is not None
                   else ViewContext(layer_ids=self.layer_ids()))
        self.contextChanged.emit(context)
        return context

    # ------------------------------------------------------------------ network
    def _spec_key(self) -> str:
        seed = self.settings.get("seed", 0)
        return json.dumps([self.document.spec, seed], sort_keys=True, default=str)

    def network(self) -> Network:
        """The network to train, with the document's current weights when they fit."""
        key = self._spec_key()
        if self.net is None or key != self._net_key:
            self.net = Network.from_spec(self.document.spec,
                                         seed=int(self.settings.get("seed", 0) or 0))
            self._net_key = key
        weights = self.session.weights
        if weights:
            try:
                self.net.set_weights(weights)
            except Exception:  # noqa: BLE001 - stale weights of another structure: fresh
                self.net = Network.from_spec(self.document.spec,
                                             seed=int(self.settings.get("seed", 0) or 0))
        return self.net

    def _has_errors(self) -> list:
        return [p for p in self.document.problems
                if getattr(p, "severity", "error") == "error"]

    def _spec_changed(self) -> None:
        if not self.is_running:
            self.emit_context()

    def _data_source_changed(self) -> None:
        """A data edit (or its undo): load the data again (edits wait for Stop)."""
        if not self.is_running:
            self.load_data()

    def _before_save(self) -> None:
        """Saving during a run stops it first, so that the file holds what it learned."""
        if self.is_running:
            self.stop()

    def _settings_changed(self) -> None:
        """A learning-rate edit, or its undo, reaches a running trainer at the next batch."""
        lr = self.learning_rate()
        if self._worker is not None and lr is not None and lr != self._run_lr:
            self._run_lr = lr
            self._worker.set_learning_rate(lr)

    # ------------------------------------------------------------------ control
    def train(self, epochs: int | None = None, paused: bool = False,
              allowance: tuple[str, int] | None = None) -> str | None:
        """Start a run (or resume a paused one); returns the reason it cannot start."""
        if self.is_running:
            if self._worker is not None and self._worker.paused:
                self.resume()
            return None
        try:
            job, recipe = self._make_job(epochs, paused, allowance)
        except Exception as exc:  # noqa: BLE001 - a setup failure is a message
            return self._fail(f"Cannot train: {exc}")
        self._start(job, recipe)
        return None

    def _fail(self, text: str) -> str:
        self.last_message = text
        self.message.emit(text)
        return text

    def _make_job(self, epochs: int | None, paused: bool,
                  allowance: tuple[str, int] | None) -> tuple[TrainingJob, NetworkRecipe]:
        """What the training process needs, checked here so that a bad setting is a
        message before any process starts (the process builds its own trainer)."""
        errors = self._has_errors()
        if errors:
            what = "a problem" if len(errors) == 1 else f"{len(errors)} problems"
            first = errors[0].message.rstrip(".")
            raise ValueError(f"the network has {what}. {first}. See the Problems list "
                             "(click one to show its layer).")
        if self.data is None:
            self.load_data()
        if self.data is None:
            raise ValueError(self.data_error or "no data")
        net = self.network()
        project = self.document.project
        make_trainer(project, net)  # bad settings are a message here
        recipe = NetworkRecipe(spec=self.document.spec,
                               seed=int(self.settings.get("seed", 0) or 0),
                               weights=net.get_weights(), training=self.settings,
                               optimizer_state=project.optimizer_state)
        X, Y = self.data.prepared.arrays("train")
        samples = self.data.samples()
        grid = self.data.grid()
        job = TrainingJob(
            trainer=None, net=None, X=X, Y=Y,
            epochs=int(epochs if epochs is not None else self.settings.get("epochs", 10)),
            validation=self.data.prepared.arrays("val"),
            step_offset=self.buffer.last_step, epoch_offset=self.buffer.last_epoch,
            grid=grid, hidden_ids=self.hidden_ids() if grid and grid.shape[0] > 1 else (),
            confusion=self.data.confusion(), samples=None if samples is None else samples[0],
            start_paused=paused, start_allowance=allowance, pace=self.pace)
        return job, recipe

    def _start(self, job: TrainingJob, recipe: NetworkRecipe) -> None:
        self.last_message = ""
        self.message.emit("")
        thread = QThread()
        thread.setObjectName("ann-training")
        worker = TrainingWorker(job, recipe, self.buffer)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.failed.connect(self._fail)
        worker.finished.connect(self._on_finished)
        worker.finished.connect(thread.quit)
        self._thread, self._worker = thread, worker
        self._run_lr = self.learning_rate()
        self.editor.set_structure_lock(LOCK_REASON)
        self.session.mark_modified()  # the weights change from the first batch on
        self._set_state("paused" if job.start_paused else "running")
        thread.start()

    def _on_progress(self, info: dict) -> None:
        """Counters to the panels (UI thread)."""
        state = info.get("state")
        if state in ("running", "paused") and self.is_running:
            self._set_state(state)
        self.progress.emit(info)

    def _on_finished(self, reason: str) -> None:
        """Back on the UI thread: join the thread, store results, unlock."""
        sender = self.sender()
        if isinstance(sender, TrainingWorker) and sender is not self._worker:
            return  # a run already finished by stop()
        self._finish_run(reason)

    def _finish_run(self, reason: str) -> None:
        worker, thread = self._worker, self._thread
        if worker is None:
            return
        if thread is not None:
            thread.quit()
            thread.wait()
        self._worker, self._thread = None, None
        if worker is not None:
            self._store(worker)
        self.editor.set_structure_lock(None)
        self.last_reason = reason
        self._set_state("idle")
        self.finished.emit(reason)

    def _store(self, worker: TrainingWorker) -> None:
        """The run's weights, optimizer state and curves become the project's (unsaved).

        A process that ended without them (killed, crashed) leaves the weights as they
        were before the run; its curves are kept."""
        if worker.result is None:
            project = self.document.project
            self.session.set_trained_state(project.weights, project.optimizer_state,
                                            self.buffer.to_history())
            return
        weights, state = worker.result
        if self.net is not None:
            self.net.set_weights(weights)
        self.session.set_trained_state(weights, state, self.buffer.to_history())

    def pause(self) -> None:
        """Pause after the current batch."""
        if self._worker is not None:
            self._worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        """Go on without limit."""
        if self._worker is not None:
            self._worker.resume()
            self._set_state("running")

    def step(self, batches: int = 1) -> str | None:
        """One batch (starting a paused run when idle)."""
        if self._worker is not None:
            self._worker.step_batches(batches)
            self._set_state("running")
            return None
        return self.train(paused=False, allowance=("batch", batches))

    def step_epoch(self) -> str | None:
        """The rest of the current epoch (a whole epoch when idle)."""
        if self._worker is not None:
            self._worker.step_epoch()
            self._set_state("running")
            return None
        return self.train(paused=False, allowance=("epoch", 1))

    def set_pace(self, epochs_per_s: float | None) -> None:
        """Train at most this many epochs a second (None: full speed), for watching;
        a running trainer keeps the new pace from its next batch. A view setting: not
        saved with the project, and the command line always trains at full speed."""
        self.pace = epochs_per_s if epochs_per_s and epochs_per_s > 0 else None
        if self._worker is not None:
            self._worker.set_pace(self.pace)

    def set_learning_rate(self, lr: float) -> None:
        """Change the learning rate in the settings (an undoable edit); a running trainer
        takes it at the next batch (see ``_settings_changed``)."""
        optimizer = dict(self.settings.get("optimizer") or {"type": "adam"})
        optimizer["lr"] = float(lr)
        self.editor.set_training_settings({"optimizer": optimizer})

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Cooperative stop, then wait for the thread; True when no thread is left."""
        worker, thread = self._worker, self._thread
        if thread is None:
            return True
        if worker is not None:
            worker.request_stop()
        thread.quit()
        done = thread.wait(timeout_ms)
        if not done and worker is not None:  # a batch that never ends: end the process
            worker.kill()
            done = thread.wait(timeout_ms)
        if done and self._thread is thread:
            # The worker's finished signal is still queued for this thread: finish now.
            self._finish_run(worker.reason if worker is not None else "stopped")
        return done

    def shutdown(self) -> None:
        """Closing the window: stop training first (a slot, so it returns nothing)."""
        self.stop()

    def reset_weights(self) -> None:
        """Fresh weights from the seed; forget curves and optimizer state."""
        if self.is_running:
            self.stop()
        self.net = Network.from_spec(self.document.spec,
                                     seed=int(self.settings.get("seed", 0) or 0))
        self._net_key = self._spec_key()
        self.buffer.clear()
        self.session.set_trained_state(self.net.get_weights(), None, {})
        self.session.set_neuron_maps({})
        self.weightsReset.emit()
        self.show_trained_so_far()

    # ------------------------------------------------------------------ projects
    def project_replaced(self) -> None:
        """Another project was opened: stop, load its data and restore its curves."""
        if self.is_running:
            self.stop()
        self.net, self._net_key = None, None
        self.buffer.load_history(getattr(self.document.project, "history", None))
        self.load_data()
        self.historyRestored.emit()
        self.show_trained_so_far()

    def show_trained_so_far(self) -> None:
        """Counters for the panels from the curves alone, between runs: an opened or
        recovered project shows "Epoch 150" and its last loss, not "Epoch 0"."""
        losses = self.buffer.curves().column("loss")
        loss = float(losses[-1]) if len(losses) else math.nan
        self.progress.emit({"state": "idle", "epoch": self.buffer.last_epoch,
                            "step": self.buffer.last_step, "loss": loss,
                            "samples_per_s": math.nan, "time_left_s": math.nan})

    def static_snapshot(self) -> None:
        """Publish a snapshot of the current (not training) network for the views."""
        if self.is_running or self.data is None or self._has_errors():
            return
        try:
            net = self.network()
            samples = self.data.samples()
            grid = self.data.grid()
            job = TrainingJob(trainer=None, net=net, X=self.data.prepared.train.X,
                              Y=np.empty(0), epochs=0, grid=grid,
                              hidden_ids=self.hidden_ids() if grid and grid.shape[0] > 1
                              else (), confusion=self.data.confusion(),
                              samples=None if samples is None else samples[0],
                              step_offset=self.buffer.last_step,
                              epoch_offset=self.buffer.last_epoch)
            RunLoop(job, self.buffer).publish_static()
        except Exception:  # noqa: BLE001 - a preview failing only leaves the views as they are
            return
