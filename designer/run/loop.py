"""The training run's loop, free of Qt: drives ``core.Trainer.run`` and reports.

It runs in the training process (``designer.run.process``) and, for the views of a
network that is not training, in the designer itself (:meth:`RunLoop.publish_static`).
Everything it has to say goes to one ``report`` callable as ``designer.run.protocol``
reports. After each batch it only appends the loss to a local list (and an epoch's
event to another: the spiral ends ~300 epochs a second, so epochs are reported in one
go at the next flush); every 40 ms (the window's frame) it reports the losses and a
:class:`Snapshot` with copies of the counters and the flat weight and gradient buffers,
and every ~100 ms or more (adapted so that it costs at most ~5% of the time) it
evaluates the network over the 2-D view grid, with the neurons' maps at most every
200 ms (the canvas' rate). At most ~10 merged :class:`Progress` reports a second.

Commands arrive through :meth:`RunLoop.apply` (any thread). Pause and step are done by
not pulling the next event from the trainer's generator, which is exact (the generator
is suspended between batches); stop and learning-rate changes use the trainer's
thread-safe ``request_stop`` and ``set_learning_rate``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from core.training import TrainingDiverged
from core.training.metrics import class_predictions, class_probabilities, confusion_matrix
from designer.run.protocol import (
    SLOW_FIELDS,
    Checkpoint,
    Command,
    Epochs,
    Failed,
    GradNorms,
    Pause,
    Progress,
    Published,
    RecoveryPoint,
    Report,
    Resume,
    SetLearningRate,
    SetPace,
    Snapshot,
    State,
    Step,
    Steps,
    Stop,
    TrainingJob,
)

LIGHT_INTERVAL_S = 0.04  # the window draws 25 times a second (designer.training.live)
PROGRESS_INTERVAL_S = 0.1
HEAVY_MIN_INTERVAL_S = 0.1
HEAVY_MAX_SHARE = 0.05
#: The neurons' maps (every neuron over the grid: 19 maps, 760 kB, for the spiral's
#: 2-8-8-1) are drawn by the canvas only, which takes them at most every 0.2 s
#: (designer.training.live): sending them with every grid sent twice what is drawn.
MAPS_MIN_INTERVAL_S = 0.2
CONFUSION_MIN_INTERVAL_S = 0.5  # a matrix of counts: 2 Hz reads as live
RECOVERY_MAX_SHARE = 0.02


def diverged_message(epoch: int, step: int, lr: float) -> str:
    """The readable message for a loss that became NaN or infinite."""
    return (f"Training diverged at epoch {epoch}, step {step}: the loss became NaN or "
            f"infinite. The learning rate ({lr:g}) is probably too high; lower it (try "
            f"{lr / 10:g}), press Reset weights and train again.")


def diverged_text(exc: TrainingDiverged) -> str:
    """A diverged run in the words of a lesson: what happened, what is on screen, what
    to try (short: it is read on a projector)."""
    shown = ("The Output plane shows the network as it blew up; the weights from before "
             "are back. " if exc.blown_params is not None else
             "The last good weights are back. ")
    return (f"Training diverged in epoch {exc.epoch}, step {exc.step}: the loss exploded; "
            f"learning rate {exc.lr:g} is too high. {shown}Try {exc.suggested_lr:g}.")


class RunLoop:
    """Runs one training job of ``net`` with ``trainer`` (None: previews only, see
    :meth:`publish_static`); :meth:`apply` may be called from any thread.

    ``report`` gets every :data:`~designer.run.protocol.Report` but the last
    (:class:`~designer.run.protocol.Finished` is the process' to send); :meth:`run`
    returns the stop reason.
    """

    def __init__(self, job: TrainingJob, net: Any, trainer: Any,
                 report: Callable[[Report], None],
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.job, self.net, self.trainer = job, net, trainer
        self.report = report
        self.clock = clock  # seconds; every interval below is read on it (tests fake it)
        self._cond = threading.Condition()
        self._paused = False
        self._allowance: tuple[str, int] | None = None
        self._stop = False
        self._event: Any = None
        self._pace: float | None = None
        self._due: float | None = None  # when the next batch may start, while paced
        self._set_pace(job.pace)
        for command in job.commands:  # the first ones (a Step pressed while idle)
            self.apply(command)
        self._control = self._needs_gate()
        self.reason = "stopped"
        self.waiting = False  # True while blocked at a pause (tests and the UI read it)
        self._sent: dict[str, Any] = {}  # the slow snapshot fields last reported
        self._seq = 0
        self._grid_seq = job.grid_seq_offset
        self._keep_grid = False  # the grid shows the blown-up weights of a diverged run
        self._heavy_interval = HEAVY_MIN_INTERVAL_S
        self._pending_y: list[float | np.ndarray] = []  # losses, and stretches of them
        self._pending_epochs: list[Any] = []
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.epoch = self.job.epoch_offset
        self.step = self.job.step_offset
        self.samples_seen = 0
        self.loss = math.nan
        self.lr = math.nan
        self._active_s = 0.0
        self._resumed_at = self.clock()
        self._t_light = self._t_heavy = self._t_progress = self._t_confusion = 0.0
        self._t_maps = -math.inf
        self._t_recovery = self.clock()
        self._recovery_interval = self.job.recovery_every_s
        self._grid: np.ndarray | None = None
        self._maps: dict[str, np.ndarray] = {}
        self._confusion: np.ndarray | None = None
        self._sample_pred: np.ndarray | None = None
        self._sample_prob: np.ndarray | None = None

    # -- control (any thread) ----------------------------------------------------------
    def apply(self, command: Command) -> None:
        """Carry out one command: the one place where commands are interpreted. Pause,
        step, stop and a new learning rate take effect at the next batch; a new pace and
        the end of a pause at once."""
        with self._cond:
            match command:
                case Stop():
                    self._stop = True
                    if self.trainer is not None:
                        self.trainer.request_stop()
                case Pause():
                    self._paused, self._allowance = True, None
                case Resume():
                    self._paused, self._allowance = False, None
                case Step(count, unit):
                    self._paused, self._allowance = False, (unit, count)
                case SetPace(epochs_per_s):
                    self._set_pace(epochs_per_s)
                case SetLearningRate(lr):
                    self.trainer.set_learning_rate(float(lr))
                case _:
                    raise TypeError(f"not a run command: {command!r}")
            self._control = self._needs_gate()
            self._cond.notify_all()  # ends a pause or a paced wait at once

    def _set_pace(self, epochs_per_s: float | None) -> None:
        ok = isinstance(epochs_per_s, (int, float)) and math.isfinite(epochs_per_s) \
            and epochs_per_s > 0
        self._pace = float(epochs_per_s) if ok else None
        self._due = None

    @property
    def _control(self) -> bool:
        """Must the loop look at the controls at every batch? While it need not, the
        trainer may train a stretch of batches in one go (its compiled path for small
        networks), and the loop takes their losses from the trainer's ``last_losses``."""
        return self._gated

    @_control.setter
    def _control(self, value: bool) -> None:
        self._gated = value
        if self.trainer is not None:  # None: previews of a network at rest
            self.trainer.batch_events = value

    def _needs_gate(self) -> bool:
        """Does the loop have to look at the controls at every batch?"""
        return (self._stop or self._paused or self._allowance is not None
                or self._pace is not None)

    @property
    def paused(self) -> bool:
        """True while the run waits for resume/step."""
        return self._paused

    # -- the run (the training process' main thread) ----------------------------------
    def run(self) -> str:
        """Drive the trainer to the end; returns the stop reason (also on failure)."""
        reason = "stopped"
        try:
            with single_threaded_blas():
                reason = self._loop()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            reason = self._failure(exc)
        finally:
            self.reason = reason
            try:
                self._flush(self.clock(), force=True)
            finally:
                self._emit_progress("finished", force=True)
        return reason

    def _loop(self) -> str:
        job = self.job
        self._reset_counters()
        # the trainer numbers on from the earlier runs: schedules continue, and events,
        # curves and messages carry the numbers the Training panel shows
        self.trainer.start_at(job.epoch_offset, job.step_offset)
        self._gate("start")
        if self._stop:
            return "stopped"
        kwargs = {"epochs": job.epochs}
        if job.validation is not None:
            kwargs["validation_data"] = job.validation
        reason = "completed"
        try:
            reason = self._drive(self.trainer.run(job.X, job.Y, every_batch=None, **kwargs))
        except TrainingDiverged as exc:
            self._show_blown(exc)
            self.report(Failed(diverged_text(exc)))
            return "diverged"
        if reason == "diverged":
            self.report(Failed(diverged_message(self.epoch + 1, self.step, self.lr)))
        elif self._stop and reason == "completed":
            reason = "stopped"
        return reason

    def _show_blown(self, exc: TrainingDiverged) -> None:
        """Draw the grid of the weights that blew up (a class should see the boundary
        go wild), then keep it on screen: the run's end does not redraw it from the
        weights that were put back."""
        blown = exc.blown_params
        if blown is None or self.job.grid is None:
            return
        params = self.net.params
        saved = np.array(params, copy=True)
        try:
            np.copyto(params, blown)
            self._update_heavy()
        finally:
            np.copyto(params, saved)
        self._keep_grid = True

    def _drive(self, events: Any) -> str:
        """The hot loop: per batch only two appends, a clock read and two flag checks.

        A "batch" event may close a stretch of several batches (``trainer.run`` with
        ``every_batch=None``): their losses are the trainer's ``last_losses``.
        """
        pend_y, pend_epochs = self._pending_y, self._pending_epochs
        clock = self.clock
        reason = "completed"
        last_step = self.job.step_offset
        for event in events:
            kind = event.kind
            if kind == "batch":
                step = event.step
                if step - last_step > 1:  # the steps are consecutive: only losses pend
                    pend_y.append(self.trainer.last_losses[last_step - step:])
                else:
                    pend_y.append(event.loss)
                last_step = step
                self._event = event
                if clock() - self._t_light >= LIGHT_INTERVAL_S:
                    self._flush(clock())
                if self._control:
                    self._gate("batch")
            elif kind == "epoch":  # recorded at the next flush: tiny epochs come by hundreds
                pend_epochs.append(event)
                self._checkpoint(int(event.epoch))
                if self._control:
                    self._gate("epoch")
            elif kind == "end":
                reason = event.stop_reason or "completed"
        self._take_epochs(clock())
        return reason

    def _checkpoint(self, epoch: int) -> None:
        """The weights at the end of every ``job.checkpoint_every``-th epoch of the run."""
        every = self.job.checkpoint_every
        if every > 0 and (epoch - self.job.epoch_offset) % every == 0:
            self.report(Checkpoint(epoch, np.array(self.net.params, copy=True),
                                   tuple(self.net.param_refs)))

    def _failure(self, exc: Exception) -> str:
        self.report(Failed(f"Training stopped with an error: {exc}. Check the network "
                           "(Problems list) and the data, then train again."))
        return "error"

    def _sync(self) -> None:
        """Counters from the newest batch event (done at flushes, not per batch)."""
        event = self._event
        if event is None:
            return
        # epochs completed: the epoch event may already have counted this one
        self.epoch = max(self.epoch, int(event.epoch) - 1)
        self.step = int(event.step)
        self.samples_seen = int(event.samples_seen)
        self.loss = float(event.loss)
        self.lr = float(event.lr)

    def _take_epochs(self, now: float) -> None:
        """Record the epochs that ended since the last flush (one lock for all of them);
        the confusion matrix follows at most every ``CONFUSION_MIN_INTERVAL_S``."""
        events = self._pending_epochs
        if not events:
            return
        records = [_epoch_record(event, int(event.epoch), int(event.step)) for event in events]
        self.epoch = max(self.epoch, int(events[-1].epoch))
        events.clear()
        self.report(Epochs(tuple(records)))
        _keep_newest_epoch(self.trainer)
        if now - self._t_confusion >= CONFUSION_MIN_INTERVAL_S:
            self._t_confusion = now
            self._update_confusion()

    def _gate(self, kind: str) -> None:
        """Keep the pace; block here while paused; count down a step allowance."""
        if kind == "batch" and self._pace is not None:
            self._keep_pace()
        with self._cond:
            if self._allowance is not None and not self._paused:
                unit, left = self._allowance
                if unit == kind:
                    left -= 1
                    self._allowance = (unit, left) if left > 0 else None
                    if left <= 0:
                        self._paused = True
            if not self._paused or self._stop:
                return
        now = self.clock()
        self._active_s += now - self._resumed_at
        self._flush(now, force=True)
        self._emit_progress("paused", force=True)
        with self._cond:
            self.waiting = True
            while self._paused and not self._stop:
                self._cond.wait(0.2)
            self.waiting = False
        self._resumed_at = self.clock()
        self._emit_progress("running", force=True)

    def _keep_pace(self) -> None:
        """Wait until this batch's slot at the pace (woken early by any control)."""
        event, pace = self._event, self._pace
        if event is None or pace is None:
            return
        now = self.clock()
        interval = 1.0 / (pace * max(1, int(getattr(event, "batches", 1) or 1)))
        due = (now if self._due is None else self._due) + interval
        if due < now - interval:  # batches slower than the pace: no rush to catch up
            due = now
        self._due = due
        if due > now:
            with self._cond:
                if self._pace is not None and not (self._stop or self._paused):
                    self._cond.wait(due - now)

    # -- snapshots ---------------------------------------------------------------------
    def _active_time(self, now: float) -> float:
        return self._active_s + (0.0 if self._paused else now - self._resumed_at)

    def continue_after(self, snapshot: Snapshot | None) -> None:
        """Number snapshots on from ``snapshot`` (the buffer's newest): the views skip a
        snapshot whose numbers they have drawn, so a second static snapshot (another
        epoch on the timeline, a knock-out) would otherwise not be drawn."""
        if snapshot is not None:
            self._seq = max(self._seq, snapshot.seq)
            self._grid_seq = max(self._grid_seq, snapshot.grid_seq)

    def publish_static(self) -> None:
        """One snapshot of a network that is not training (opened or reset project)."""
        self._update_heavy()
        self._update_confusion()
        self._flush(self.clock(), norms=False)

    def _flush(self, now: float, force: bool = False, norms: bool = True) -> None:
        """Push the pending losses and a fresh snapshot; recompute the grid when it is
        due (at most ~10/s and ~5 % of the time) or ``force``d (pause, end of run)."""
        self._t_light = now
        self._take_epochs(now)
        self._sync()
        if self._pending_y:  # the losses of the steps up to the newest one, in order
            losses = _joined(self._pending_y)
            steps = np.arange(self.step - len(losses) + 1, self.step + 1, dtype=np.float64)
            self.report(Steps(steps, losses))
            self._pending_y.clear()
        if self.trainer is not None and (
                force or now - self._t_recovery >= self._recovery_interval):
            self._send_recovery_point()
        net = self.net
        if self._keep_grid:
            pass
        elif force or now - self._t_heavy >= self._heavy_interval:
            self._update_heavy(maps=force or now - self._t_maps >= MAPS_MIN_INTERVAL_S)
            self._t_heavy = self.clock()
            cost = self._t_heavy - now
            self._heavy_interval = max(HEAVY_MIN_INTERVAL_S, cost / HEAVY_MAX_SHARE)
        grads = np.array(net.grads, copy=True)
        refs = tuple(net.param_refs)
        if norms:
            self.report(GradNorms(self.step, _grad_norms(grads, refs)))
        self._seq += 1
        active = self._active_time(now)
        self._publish(Snapshot(
            seq=self._seq, epoch=self.epoch, step=self.step, samples_seen=self.samples_seen,
            samples_per_s=self.samples_seen / active if active > 0 else 0.0,
            elapsed_s=active, lr=self.lr, loss=self.loss,
            params=np.array(net.params, copy=True), grads=grads, refs=refs,
            grid=self._grid, grid_seq=self._grid_seq, neuron_maps=self._maps,
            confusion=self._confusion, sample_predictions=self._sample_pred,
            sample_probabilities=self._sample_prob))
        self._emit_progress("paused" if self._paused else "running")

    def _send_recovery_point(self) -> None:
        """Weights and optimizer state as of the curves reported so far (see
        :class:`~designer.run.protocol.RecoveryPoint`); at most ~2 % of the time."""
        start = self.clock()
        try:
            state = self.trainer.optimizer.state_dict()
        except Exception:  # noqa: BLE001 - without it the optimizer restarts, no more
            state = None
        self.report(RecoveryPoint(self.epoch, self.step, self.net.get_weights(), state))
        self._t_recovery = done = self.clock()
        self._recovery_interval = max(self.job.recovery_every_s,
                                      (done - start) / RECOVERY_MAX_SHARE)

    def _update_heavy(self, maps: bool = True) -> None:
        """Grid predictions, sample predictions and (``maps``) the neurons' maps; the
        caller bounds the rate. Maps left out keep the last ones (and their object, so
        that :meth:`_publish` does not send them again)."""
        job, net = self.job, self.net
        if job.grid is not None:
            out, acts = _forward_capture(net, job.grid.inputs)
            h, w = job.grid.shape
            self._grid = np.asarray(out, dtype=np.float32).reshape(h, w, -1)
            if maps:
                self._maps = {nid: np.ascontiguousarray(
                    np.asarray(acts[nid], dtype=np.float32).reshape(h, w, -1)
                    .transpose(2, 0, 1)) for nid in job.hidden_ids if nid in acts}
                self._t_maps = self.clock()
            self._grid_seq += 1
        if job.samples is not None and len(job.samples):
            prob = class_probabilities(net.predict(job.samples))
            self._sample_prob = prob.astype(np.float32)
            self._sample_pred = prob.argmax(axis=1)

    def _update_confusion(self) -> None:
        if self.job.confusion is None:
            return
        X, y, n_classes = self.job.confusion
        pred = class_predictions(self.net.predict(X))
        self._confusion = confusion_matrix(y, pred, n_classes)

    def _publish(self, snapshot: Snapshot) -> None:
        """Report a snapshot, naming the slow fields that changed since the last one."""
        new = tuple(name for name in SLOW_FIELDS
                    if getattr(snapshot, name) is not self._sent.get(name, ()))
        self._sent.update({name: getattr(snapshot, name) for name in new})
        light = dataclasses.replace(snapshot, **{name: None for name in SLOW_FIELDS
                                                 if name not in new})
        self.report(Published(light, new))

    def _emit_progress(self, state: State, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._t_progress < PROGRESS_INTERVAL_S:
            return
        self._t_progress = now
        active = self._active_time(now)
        rate = self.samples_seen / active if active > 0 else 0.0
        total = self.job.epochs * len(self.job.X)
        left = max(0.0, (total - self.samples_seen) / rate) if rate > 0 else math.nan
        if state == "finished":  # nothing is left of a run that ended early either
            left = 0.0 if self.reason == "completed" else math.nan
        self.report(Progress(state=state, epoch=self.epoch, step=self.step,
                             epochs_total=self.job.epoch_offset + self.job.epochs,
                             loss=self.loss, lr=self.lr, samples_per_s=rate,
                             time_left_s=left, samples_seen=self.samples_seen))


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """One BLAS thread while training: the loop already keeps one core busy, and an
    idle BLAS helper thread spin-waits on the other core, where the window runs.
    The networks drawn here are small; a second BLAS thread gains them nothing.

    Nothing is set when every BLAS pool has one thread already (the fork server's runs,
    see :func:`limit_blas_for_good`): in a process just forked, OpenBLAS answers a
    limit by starting its helper thread, which then spins ~40 ms of a core for nothing.
    """
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # optional: comes with scikit-learn
        yield
        return
    if all(pool.get("num_threads") == 1 for pool in threadpool_info()
           if pool.get("user_api") == "blas"):
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def limit_blas_for_good() -> None:
    """One BLAS thread in this process from now on: the fork server's, before it forks
    the training processes (which inherit the limit; see :func:`single_threaded_blas`)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def _keep_newest_epoch(trainer: Any) -> None:
    """The window keeps the curves (the records just reported); the process' trainer
    keeps only each figure's newest value, so its memory stays flat in a long run."""
    history = getattr(trainer, "history", None) or {}
    for key, values in history.items():
        if key not in ("batch_loss", "batch_step") and len(values) > 1:
            del values[:-1]


def _joined(pending: list[float | np.ndarray]) -> np.ndarray:
    """The pending losses as one array: single batches' floats and compiled
    stretches' arrays, in order."""
    if not any(isinstance(part, np.ndarray) for part in pending):
        return np.asarray(pending, dtype=np.float64)
    return np.concatenate([np.atleast_1d(np.asarray(part, dtype=np.float64))
                           for part in pending])


def _epoch_record(event: Any, epoch: int, step: int) -> dict[str, float]:
    """The buffer's per-epoch record of one "epoch" event."""
    record: dict[str, float] = {"epoch": float(epoch), "step": float(step)}
    for key, value in (("loss", event.loss), ("val_loss", event.val_loss), ("lr", event.lr)):
        if value is not None:
            record[key] = float(value)
    for prefix, metrics in (("", event.metrics), ("val_", event.val_metrics)):
        for name, value in dict(metrics or {}).items():
            if value is not None:
                record[prefix + name] = float(value)
    return record


def _forward_capture(net: Any, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``net.forward(capture=True)`` as (output, activations by node id)."""
    result = net.forward(X, training=False, capture=True)
    if isinstance(result, tuple):
        return result[0], result[1]
    return result[net.output_id], result


def _grad_norms(grads: np.ndarray, refs: Sequence[Any]) -> dict[str, float]:
    """L2 norm of each node's kernel gradient (biases would hide dead layers)."""
    squares: dict[str, float] = {}
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run: inf is fine
        for ref in refs:
            if ref.decay:
                g = grads[ref.offset: ref.offset + ref.size]
                squares[ref.node_id] = squares.get(ref.node_id, 0.0) + float(np.dot(g, g))
    return {k: math.sqrt(v) for k, v in squares.items()}

