"""The Qt bridge to training: one :class:`RunSession` per window.

It loads the project's data, starts a training process (``designer.run.process``) for
each run, relays the process' reports into the :class:`SnapshotBuffer` from a thread of
its own and turns them into signals, and has the one set of control methods (train,
pause, resume, step, pace, learning rate, stop) that the panels call. It builds no view
(``designer.training.docks`` does) and never builds the network it trains: the process
does, from the spec the document has already checked.

Train continues from the document's weights and saved optimizer state unless Reset
weights was pressed; the canvas is locked against structural edits while a run is
under way; when the run ends, weights, optimizer state and curves go back into the
project through ``Session.set_trained_state`` (unsaved work, not an undo step).
Stopping is cooperative: the process returns at the next batch. The Stop button never
waits on the UI thread: a process that has not ended ``STOP_GRACE_MS`` later is killed
from a timer. Saving, closing and opening another project need the run over before they
go on and wait for it, always with a timeout (then the process is killed).

The process sends a :class:`~designer.run.protocol.RecoveryPoint` every second or so. When
it dies or is killed, the project gets the last recovery point's weights and the curves are
trimmed to that step, so curves and weights always belong together; autosave during a
run writes the same pair (``Session.recovery_project``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from core.data import Dataset
from core.network import Network
from designer.run.buffer import SnapshotBuffer
from designer.run.data import (
    KERNEL_TYPES,
    Preparation,
    TrainingData,
    ViewContext,
    load_training_data,
)
from designer.run.loop import RunLoop
from designer.run.process import RunProcess
from designer.run.protocol import (
    Command,
    Failed,
    Finished,
    Pause,
    Progress,
    RecoveryPoint,
    Report,
    Resume,
    SetLearningRate,
    SetPace,
    Step,
    Stop,
    TrainingJob,
)
from designer.session import Session

#: How the Playground's feature transforms read on screen.
FEATURE_LABELS = {"x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2", "sin(x1)": "sin x1",
                  "sin(x2)": "sin x2"}
STOP_GRACE_MS = 3000  # a run that has not stopped by then is killed
STOP_WAIT_MS = 3000  # the longest the UI thread waits for a run to end (then kills it)
LOCK_REASON = "Training is running: press Stop before changing the network's structure."
DEFAULT_TRAINING = {"loss": "binary_crossentropy", "optimizer": {"type": "adam", "lr": 0.01},
                    "batch_size": 16, "epochs": 50, "seed": 0, "schedule": None,
                    "l1": 0.0, "l2": 0.0, "clipnorm": None}


class _Relay(QObject):
    """Lives on the run's QThread: starts the process and copies each report into the
    buffer as soon as it arrives (microseconds, so the window hardly ever waits for the
    interpreter lock); the rest become signals for the UI thread."""

    progress = Signal(object)
    failed = Signal(str)
    finished = Signal(object, str)  # (this relay, stop reason)

    def __init__(self, job: TrainingJob, buffer: SnapshotBuffer) -> None:
        super().__init__()
        self.job, self.buffer = job, buffer
        self.process = RunProcess()
        self.reason = "stopped"
        self.result: tuple[dict, dict | None] | None = None  # (weights, optimizer state)
        self.recovery_point: RecoveryPoint | None = None  # the newest weights that came back
        self.waiting = False  # True while the run waits at a pause

    @Slot()
    def run(self) -> None:
        """Relay until the process is done; always emits ``finished``."""
        try:
            self.process.start(self.job)
            for report in self.process.reports():
                self._relay(report)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            self.reason = "error"
            self.failed.emit(f"Training could not run: {exc}.")
        finally:
            self.process.close()
            self.finished.emit(self, self.reason)

    def _relay(self, report: Report) -> None:
        match report:
            case Progress(state=state):
                if state in ("paused", "running"):
                    self.waiting = state == "paused"
                self.progress.emit(report)
            case Failed(text):
                self.failed.emit(text)
            case RecoveryPoint():
                self.recovery_point = report
            case Finished(reason, weights, state):
                self.reason, self.waiting = reason, False
                if weights is not None:
                    self.result = (dict(weights), state)
            case _:
                self.buffer.apply(report)


class RunSession(QObject):
    """Train ``session``'s project in a training process; see the module docstring."""

    stateChanged = Signal(str)        # "idle", "running", "paused"
    progress = Signal(object)         # protocol.Progress (<= ~10/s, and between runs)
    message = Signal(str)             # readable errors and divergence ("" clears)
    finished = Signal(str)            # stop reason of the run that just ended
    dataChanged = Signal()            # new data loaded (or failed: data is None)
    contextChanged = Signal(object)   # ViewContext for the live views
    historyRestored = Signal()        # curves loaded from the project
    weightsReset = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session  # the open project: its file and trained state
        self.document = document = session.document
        self.editor = session.editor
        self.buffer = SnapshotBuffer()
        self.data: TrainingData | None = None
        self.data_error: str | None = None
        self._offered: tuple[dict, Dataset, Preparation | None] | None = None  # offer_data
        self.net: Network | None = None  # the previews' network (a run builds its own)
        self._net_key: tuple[int, int] | None = None  # (spec revision, seed) of ``net``
        self._thread: QThread | None = None
        self._relay: _Relay | None = None
        self._state = "idle"
        self.last_reason: str | None = None
        self.last_message = ""
        self._run_lr: float | None = None  # the learning rate the running process uses
        self.pace: float | None = None  # epochs a second at most; None: full speed
        self.recovery_every_s = 1.0  # a run's recovery points: what a killed run loses
        #: What training must keep fixed (``TrainingJob.frozen``); the lesson tools set it.
        self.frozen: Callable[[], tuple] | None = None
        #: Weight checkpoints wanted per run (evenly spaced epochs); 0 for none.
        self.checkpoints_per_run = 0
        self._trained_on: tuple | None = None  # _data_key() of the loaded data set
        self.storing = False  # True while a run's results become the project's
        self._start_step = 0  # the curves' last step when the run started
        self._stopping = False  # Stop was pressed; the run has not ended yet
        self._queued: tuple[int | None, tuple[Command, ...]] | None = None  # Train meanwhile
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill_hung)
        session.run_recovery = self.recovery_state
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
    def waiting(self) -> bool:
        """True while the run's process waits at a pause (not just asked to)."""
        return self._relay is not None and self._relay.waiting

    @property
    def process(self) -> RunProcess | None:
        """The current run's process (None when idle)."""
        return None if self._relay is None else self._relay.process

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

    def _seed(self) -> int:
        return self.document.seed

    # ------------------------------------------------------------------ data
    def offer_data(self, source: dict | None, raw: Dataset | None,
                   preparation: Preparation | None = None) -> None:
        """A data set just read for ``source``: loading that source uses it instead of
        reading the file again (a 1 GB CSV takes most of a minute), and ``preparation``,
        made from it on the import's worker thread, instead of preparing it again on the
        UI thread, if the project's settings still give the same (``Preparation.fits``).
        None withdraws it."""
        self._offered = ((source, raw, preparation)
                         if source is not None and raw is not None else None)

    def load_data(self, raw: Dataset | None = None) -> str | None:
        """(Re)load the project's data (or prepare ``raw``, the project's data set already
        read); returns the error message, or None."""
        offered, self._offered = self._offered, None
        project = self.document.project
        preparation = None
        if raw is None and offered is not None and offered[0] == project.data:
            raw, preparation = offered[1], offered[2]
        self.data, self.data_error = None, None
        try:
            if preparation is not None and preparation.fits(project):
                self.data = preparation.adopt(project)
            elif project.data:
                path = self.session.file_path
                self.data = load_training_data(project, Path(path).parent if path else None,
                                               raw)
            else:
                self.data_error = "Choose a data set in the Data panel."
        except Exception as exc:  # noqa: BLE001 - every load failure is shown, not raised
            self.data_error = f"Could not load the data: {exc}"
        self.session.set_input_labels(self._feature_labels())
        self.dataChanged.emit()
        self.emit_context()
        return self.data_error

    def _feature_labels(self) -> list[str]:
        """The network's input features by name (the Playground's x1, x2, x1², ...)."""
        data = self.data
        if data is None:
            return []
        names = data.transforms or list(data.raw.feature_names or [])
        return [FEATURE_LABELS.get(name, name) for name in names]

    def _data_fits_loss(self) -> bool:
        """True when the loaded data's targets are shaped for the settings' loss (or
        there is no data to reshape)."""
        if self.data is None:
            return self.data_error is None or not self.document.project.data
        return self.data.prepared.loss == self.settings.get("loss")

    def emit_context(self) -> ViewContext:
        """Tell the views what the data and network look like now."""
        layers = self.document.nodes_of_type(*KERNEL_TYPES)
        context = (self.data.context(layers) if self.data is not None
                   else ViewContext(layer_ids=layers))
        self.contextChanged.emit(context)
        return context

    def _spec_changed(self) -> None:
        if not self.is_running:
            self.emit_context()

    def _data_source_changed(self) -> None:
        """A data edit (or its undo): load the data again (edits wait for Stop). Another
        data set starts training over, as in the Playground: the spiral's weights and
        curves do not carry on into the circle's run."""
        if self.is_running:
            return
        key = self._data_key()
        if key != self._trained_on and self._trained_on is not None \
                and self.buffer.last_step > 0:
            self._trained_on = key
            self.load_data()
            self.reset_weights()
            return
        self._trained_on = key
        self.load_data()

    def _data_key(self) -> tuple:
        """What identifies a data set (not its noise, size or split)."""
        source = self.document.project.data or {}
        if not isinstance(source, dict):
            return ()
        return tuple(repr(source.get(k)) for k in ("kind", "name", "path", "target",
                                                    "transforms"))

    def _before_save(self) -> None:
        """Saving during a run stops it first, so that the file holds what it learned."""
        if self.is_running:
            self.stop()

    def _settings_changed(self) -> None:
        """A learning-rate edit, or its undo, reaches a running trainer at the next batch;
        a new loss reshapes the targets (one-hot, 0/1, values), so the data is prepared
        again for it, and a refusal that named the old loss is cleared."""
        if not self.is_running and not self._data_fits_loss():
            self.load_data(self.data.raw if self.data is not None else None)
            if self.last_message:
                self.refuse("")
        lr = self.learning_rate()
        if self.is_running and lr is not None and lr != self._run_lr:
            self._run_lr = lr
            self._send(SetLearningRate(lr))

    # ------------------------------------------------------------------ control
    def train(self, epochs: int | None = None,
              commands: tuple[Command, ...] = ()) -> str | None:
        """Start a run (or resume a paused one); returns the reason it cannot start.
        ``commands`` are applied before the first batch."""
        if self.is_running:
            if self._stopping:  # Stop, then Train: the new run starts when the old ends
                self._queued = (epochs, tuple(commands))
            elif self._state == "paused":
                self.resume()
            return None
        try:
            job = self._make_job(epochs, commands)
        except Exception as exc:  # noqa: BLE001 - a setup failure is a message
            return self.refuse(f"Cannot train: {exc}")
        self._start(job)
        return None

    def pause(self) -> None:
        """Pause after the current batch."""
        self._send(Pause(), "paused")

    def resume(self) -> None:
        """Go on without limit."""
        self._send(Resume(), "running")

    def step(self, count: int = 1, unit: Literal["batch", "epoch"] = "batch") -> str | None:
        """``count`` batches, or to the end of ``count`` epochs (the current one first),
        then pause; when idle, a run starts for them."""
        command = Step(count, unit)
        if not self.is_running:
            return self.train(commands=(command,))
        self._send(command, "running")
        return None

    def set_pace(self, epochs_per_s: float | None) -> None:
        """Train at most this many epochs a second (None: full speed), for watching;
        a running trainer keeps the new pace from its next batch. A view setting: not
        saved with the project, and the command line always trains at full speed."""
        self.pace = epochs_per_s if epochs_per_s and epochs_per_s > 0 else None
        self._send(SetPace(self.pace))

    def set_learning_rate(self, lr: float) -> None:
        """Change the learning rate in the settings (an undoable edit); a running trainer
        takes it at the next batch (see ``_settings_changed``)."""
        optimizer = dict(self.settings.get("optimizer") or {"type": "adam"})
        optimizer["lr"] = float(lr)
        self.editor.set_training_settings({"optimizer": optimizer})

    def request_stop(self) -> None:
        """Stop at the next batch without waiting (the Stop button): the run ends when
        the process says so, or is killed ``STOP_GRACE_MS`` later if it hangs."""
        if self._relay is None:
            return
        self._queued = None
        self._stopping = True
        self._relay.process.send(Stop())
        self._kill_timer.start(STOP_GRACE_MS)

    def _kill_hung(self) -> None:
        """The run did not stop in time (a batch that never ends, a stopped process)."""
        if self._relay is not None and self._stopping:
            self._relay.process.kill()  # the relay then reports the end as usual

    def stop(self, timeout_ms: int = STOP_WAIT_MS) -> bool:
        """Stop and wait (at most ``timeout_ms``, then the process is killed and waited
        for as long again), for callers that need the run over: save, close, open,
        reset. True when no run is left."""
        relay, thread = self._relay, self._thread
        if thread is None or relay is None:
            return True
        self._queued = None
        relay.process.send(Stop())
        thread.quit()  # its event loop ends once the relay's run() has returned
        done = thread.wait(timeout_ms)
        if not done:  # a batch that never ends: end the process
            relay.process.kill()
            done = thread.wait(timeout_ms)
        if done and self._thread is thread:
            # The relay's finished signal is still queued for this thread: finish now.
            self._finish_run(relay, relay.reason)
        return done

    def shutdown(self) -> None:
        """Closing the window: stop training first (a slot, so it returns nothing)."""
        self.stop()

    def _send(self, command: Command, state: str | None = None) -> None:
        """Deliver ``command`` to the running process and show ``state`` meanwhile."""
        if self._relay is None:
            return
        self._relay.process.send(command)
        if state is not None:
            self._set_state(state)

    def refuse(self, text: str) -> str:
        """Say why a run cannot start or went wrong (the Training panel and the status
        bar show it); returns ``text``."""
        self.last_message = text
        self.message.emit(text)
        return text

    # ------------------------------------------------------------------ a run
    def _make_job(self, epochs: int | None, commands: tuple[Command, ...]) -> TrainingJob:
        """What the training process needs. The spec was checked by the document (all
        of ``core.spec.validate``'s problems); the process builds the network."""
        errors = [p for p in self.document.problems if p.severity == "error"]
        if errors:
            what = "a problem" if len(errors) == 1 else f"{len(errors)} problems"
            first = errors[0].message.rstrip(".")
            raise ValueError(f"the network has {what}. {first}. See the Problems list "
                             "(click one to show its layer).")
        if self.data is None or not self._data_fits_loss():
            self.load_data()
        if self.data is None:
            raise ValueError(self.data_error or "no data")
        project, settings, data = self.document.project, self.settings, self.data
        X, Y = data.prepared.arrays("train")
        return TrainingJob(
            spec=copy.deepcopy(project.spec), training=settings, seed=self._seed(),
            weights=self.session.trained_weights or None, optimizer_state=project.optimizer_state,
            X=X, Y=Y, epochs=int(epochs if epochs is not None else settings.get("epochs", 10)),
            validation=data.prepared.arrays("val"), pace=self.pace, commands=commands,
            step_offset=self.buffer.last_step, epoch_offset=self.buffer.last_epoch,
            frozen=self.frozen() if self.frozen is not None else (),
            checkpoint_every=self._checkpoint_every(epochs, settings), task=data.task,
            recovery_every_s=self.recovery_every_s,
            grid_seq_offset=self._grid_seq(), **self._view_fields())

    def _grid_seq(self) -> int:
        """The number of the last grid the views were given (a run's grids number on)."""
        latest = self.buffer.latest()
        return 0 if latest is None else int(latest.grid_seq)

    def _checkpoint_every(self, epochs: int | None, settings: dict) -> int:
        """Epochs between checkpoints so that a run reports ``checkpoints_per_run``."""
        if self.checkpoints_per_run <= 0:
            return 0
        total = int(epochs if epochs is not None else settings.get("epochs", 10))
        return max(1, -(-total // self.checkpoints_per_run))

    def _view_fields(self) -> dict[str, Any]:
        """The job's fields for the live views: grid, neuron maps, confusion, samples."""
        data = self.data
        grid = data.grid()
        samples = data.samples()
        doc = self.document
        # Every neuron of the neuron view gets a map, as in the Playground: the inputs'
        # (x1, x2, x1^2, ... over the plane), the hidden layers' and the output's.
        mapped = [n for n in doc.nodes_of_type("Input", "Dense")
                  if len(doc.shape(n) or ()) == 1]
        return {"grid": grid,
                "hidden_ids": tuple(mapped) if grid and grid.shape[0] > 1 else (),
                "confusion": data.confusion(),
                "samples": None if samples is None else samples[0]}

    def _start(self, job: TrainingJob) -> None:
        self.last_message = ""
        self.message.emit("")
        thread = QThread()
        thread.setObjectName("ann-training")
        relay = _Relay(job, self.buffer)
        relay.moveToThread(thread)
        thread.started.connect(relay.run)
        relay.progress.connect(self._on_progress)
        relay.failed.connect(self.refuse)
        # the signal names its relay: a finished that arrives after the next run started
        # (Stop and Train in one turn) must not end that run
        relay.finished.connect(self._on_finished)
        relay.finished.connect(thread.quit)
        self._thread, self._relay = thread, relay
        self._start_step = job.step_offset
        self._stopping = False
        self._run_lr = self.learning_rate()
        self.editor.set_structure_lock(LOCK_REASON)
        self.session.mark_modified()  # the weights change from the first batch on
        self._set_state("running")
        thread.start()

    def _on_progress(self, progress: Progress) -> None:
        """Counters to the panels (UI thread); reports still queued from a run that was
        stopped (Reset during a run) would put its old counters back: they are dropped."""
        if not self.is_running:  # queued behind a stop(): that run is over
            return
        if progress.state in ("running", "paused") and self.is_running:
            self._set_state(progress.state)
        self.progress.emit(progress)

    def _on_finished(self, relay: _Relay, reason: str) -> None:
        """Back on the UI thread: join the thread, store results, unlock."""
        if relay is not self._relay:
            return  # a run already finished by stop()
        self._finish_run(relay, reason)

    def _finish_run(self, relay: _Relay, reason: str) -> None:
        thread = self._thread
        if relay is not self._relay or thread is None:
            return
        self._kill_timer.stop()
        thread.quit()
        thread.wait(STOP_WAIT_MS)  # it has emitted its last signal: returns at once
        self._relay, self._thread, self._stopping = None, None, False
        self._store(relay.result, relay.recovery_point)
        self.editor.set_structure_lock(None)
        self.last_reason = reason
        self._set_state("idle")
        self.finished.emit(reason)
        queued, self._queued = self._queued, None
        if queued is not None:
            self.train(*queued)

    def recovery_state(self) -> tuple[dict | None, dict | None, dict] | None:
        """(weights, optimizer state, history) of the running run that belong together:
        the last recovery point and the curves up to its step (before the first one,
        the weights from before the run); None when no run is under way."""
        relay = self._relay
        if relay is None:
            return None
        checkpoint = relay.recovery_point
        if checkpoint is None:
            project = self.document.project
            return (project.weights, project.optimizer_state,
                    self.buffer.to_history(self._start_step))
        return (dict(checkpoint.weights), checkpoint.optimizer_state,
                self.buffer.to_history(checkpoint.step))

    def _store(self, result: tuple[dict, dict | None] | None,
               checkpoint: RecoveryPoint | None = None) -> None:
        """The run's weights, optimizer state and curves become the project's (unsaved).

        A process that ended without them (killed, crashed, hung) leaves the weights of
        its last recovery point (those from before the run when none came), and the curves
        are trimmed to the same step: they never show epochs the weights never reached.
        """
        if result is None:
            if checkpoint is None:
                project = self.document.project
                weights, state, step = (project.weights, project.optimizer_state,
                                        self._start_step)
            else:
                weights, state, step = (dict(checkpoint.weights),
                                        checkpoint.optimizer_state, checkpoint.step)
            self.buffer.trim(step)
            if weights and self.net is not None and self._net_key == self._spec_key():
                self.net.set_weights(weights)
            self.session.set_trained_state(weights, state, self.buffer.to_history())
            self.show_trained_so_far()
            return
        weights, state = result
        self.storing = True  # the views already show the run's end: no static redraw
        try:
            self._store_weights(weights, state)
        finally:
            self.storing = False

    def _store_weights(self, weights: dict, state: dict | None) -> None:
        if self.net is not None and self._net_key == self._spec_key():
            self.net.set_weights(weights)
        self.session.set_trained_state(weights, state, self.buffer.to_history())

    # ------------------------------------------------------------------ between runs
    def _spec_key(self) -> tuple[int, int]:
        return self.document.revision, self._seed()

    def network(self) -> Network:
        """The previews' network with the document's current weights when they fit
        (what the views show between runs)."""
        key = self._spec_key()
        if self.net is None or key != self._net_key:
            self.net = Network.from_spec(self.document.spec, seed=self._seed())
            self._net_key = key
        weights = self.session.weights
        if weights:
            try:
                self.net.set_weights(weights)
            except Exception:  # noqa: BLE001 - stale weights of another structure: fresh
                self.net = Network.from_spec(self.document.spec, seed=self._seed())
        return self.net

    def reset_weights(self) -> None:
        """Fresh weights from the seed; forget curves and optimizer state."""
        if self.is_running:
            self.stop()
        self.net = Network.from_spec(self.document.spec, seed=self._seed())
        self._net_key = self._spec_key()
        self.buffer.clear()
        self.session.set_trained_state(self.net.get_weights(), None, {})
        self.session.set_neuron_maps({})
        self.weightsReset.emit()
        self.show_trained_so_far()

    def project_replaced(self) -> None:
        """Another project was opened: stop, load its data and restore its curves."""
        if self.is_running:
            self.stop()
        self.net, self._net_key = None, None
        self.buffer.load_history(getattr(self.document.project, "history", None))
        self._trained_on = self._data_key()
        self.load_data()
        self.historyRestored.emit()
        self.show_trained_so_far()

    def show_trained_so_far(self) -> None:
        """Counters for the panels from the curves alone, between runs: an opened or
        recovered project shows "Epoch 150" and its last loss, not "Epoch 0"."""
        losses = self.buffer.curves().column("loss")
        self.progress.emit(Progress(
            state="idle", epoch=self.buffer.last_epoch, step=self.buffer.last_step,
            loss=float(losses[-1]) if len(losses) else math.nan))

    def static_snapshot(self) -> None:
        """Publish a snapshot of the current (not training) network for the views."""
        if self.is_running or self.data is None or not self.document.is_valid:
            return
        try:
            job = TrainingJob(spec=self.document.spec, training={},
                              X=self.data.prepared.train.X, Y=None, epochs=0,
                              step_offset=self.buffer.last_step,
                              epoch_offset=self.buffer.last_epoch, **self._view_fields())
            loop = RunLoop(job, self.network(), None, self.buffer.apply)
            loop.continue_after(self.buffer.latest())
            loop.publish_static()
        except Exception:  # noqa: BLE001 - a preview failing only leaves the views as they are
            return
