"""The Trainer: mini-batches, epochs, validation, metrics, pause/step/stop.

A :class:`Trainer` drives a :class:`core.network.Network` with an optimizer from
:mod:`core.optimizers`.  ``run()`` is a plain generator of frozen
:class:`~core.training.events.TrainEvent` objects (one per batch, one per epoch, one at
the end), so the command line, the tests and the designer's training process all train
the same way and none of them needs Qt.

Data binding.  ``run(X, Y, ...)`` and ``fit(X, Y, ...)`` bind their data themselves.  To
train batch by batch, bind it first and then step::

    trainer.prepare(X, Y, validation_data=(Xv, Yv))
    event = trainer.step()          # one batch; a new epoch starts by itself
    event = trainer.step_epoch()    # the rest of the current epoch, then validation

Memory.  The data is never copied as a whole: each epoch draws a permutation of sample
indices from the trainer's own seeded generator and gathers one batch at a time into a
preallocated buffer (``np.take(..., out=)``).  A validation split is a second index array.

Divergence is the :mod:`core.training.guard`'s job: a step hands it the loss, the
gradients and the update, and it raises :class:`TrainingDiverged` with the weights put
back.

Control.  ``request_stop()``, ``pause()``, ``resume()`` and ``set_learning_rate()`` may be
called from another thread (the designer's training process listens for commands on
one); ``run()``, ``step()`` and ``step_epoch()`` look at them before every batch: they
wait while paused, and a stop request makes them end with an "end" event whose
``stop_reason`` is "stopped" (the request is then cleared).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from core.backends import make_engine
from core.losses import get_loss
from core.optimizers import Optimizer, make_optimizer, merge_slices
from core.regularizers import add_penalties, penalty
from core.schedules import Schedule, make_schedule
from core.training.callbacks import Callback, EarlyStopping
from core.training.checks import (
    check_callbacks,
    check_factor,
    check_float,
    check_int,
    check_loss_fits,
    first_bad_row,
)
from core.training.clipping import GradientClip, make_clip
from core.training.events import TrainEvent
from core.training.fast_dense import MAX_STEPS, FastDense
from core.training.guard import Guard, TrainingDiverged
from core.training.history import StepHistory
from core.training.metrics import MetricAccumulator, metric_task

Array = np.ndarray
EVAL_BATCH = 1024




@dataclass
class _Bound:
    """The data a trainer is bound to: arrays plus index arrays, never copies."""

    X: Array
    Y: Array
    train_idx: Array | None  # None: every sample trains
    val_X: Array | None = None
    val_Y: Array | None = None
    val_idx: Array | None = None  # rows of val_X used for validation (None: all)

    @property
    def n_train(self) -> int:
        return len(self.X) if self.train_idx is None else len(self.train_idx)

    @property
    def has_validation(self) -> bool:
        return self.val_X is not None


@dataclass
class _EpochState:
    """Where the current epoch stands: its order of samples and its running sums."""

    order: Array
    position: int = 0
    batch: int = 0
    metrics: MetricAccumulator | None = None


@dataclass
class _StopState:
    """Early-stopping bookkeeping."""

    best: float | None = None
    wait: int = 0
    best_weights: dict[str, dict[str, Array]] | None = None
    best_epoch: int = 0


class Trainer:
    """Trains one network with one loss and optimizer; see the module docstring.

    ``optimizer`` is a config dict (:mod:`core.optimizers`), ``schedule`` a schedule
    config (:mod:`core.schedules`), ``l1``/``l2`` penalties on kernels (loss
    ``+ l1 sum|w| + l2 sum w^2``, as Keras' regularizers), ``clipnorm`` a limit on the
    global norm of the gradient (Keras' ``global_clipnorm``; Keras' per-array
    ``clipnorm`` and ``clipvalue`` go in the optimizer config, see
    :mod:`core.training.clipping`), ``validation_split`` the fraction of samples held out
    (chosen at random with ``seed``, unlike Keras which takes the last ones: data sets
    are often sorted by class), ``early_stopping`` an :class:`EarlyStopping` or its
    config, ``callbacks`` :class:`Callback` objects or callables taking an event,
    ``divergence_factor`` how many times its lowest value the smoothed loss may grow
    before training counts as diverged (> 1; None: only NaN and inf count),
    ``shuffle=False`` the samples in their order every epoch (a time series, or to
    show a class the same batches each epoch; Keras' ``shuffle``), ``backend`` the
    engine that computes the gradients ("numpy", or "torch" with ``device`` "cpu" or
    "cuda" when PyTorch is installed; :mod:`core.backends`), ``task`` the data's task
    ("classification" or "regression"), which picks the metrics: accuracy for classes
    even with a squared-error loss (None: from the loss, mse/mae/huber report MAE and
    R^2).

    Every argument is checked here, with a message naming it, the bad value and what is
    allowed; a loss that does not fit the network's output raises
    :class:`core.spec.SpecError` (warnings are allowed).
    """

    def __init__(self, net: Any, loss: str, optimizer: Mapping[str, Any] | None = None,
                 batch_size: int = 32, seed: int = 0,
                 schedule: Mapping[str, Any] | None = None, l1: float = 0.0,
                 l2: float = 0.0, clipnorm: float | None = None,
                 validation_split: float = 0.0, early_stopping: Any = None,
                 callbacks: Sequence[Callback | Callable[[TrainEvent], Any]] = (),
                 divergence_factor: float | None = 1e4, shuffle: bool = True,
                 backend: str = "numpy", device: str | None = None,
                 task: str | None = None) -> None:
        self.net = net
        self.backend = backend
        self.engine = make_engine(net, backend, device)
        if not isinstance(loss, str):
            raise ValueError(f"loss must be the name of a loss such as 'mse', got {loss!r}")
        self.loss_name = loss
        try:
            self.loss = get_loss(loss)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        check_loss_fits(net, loss)
        self.task = metric_task(loss, task)
        self.dtype = np.dtype(net.params.dtype)
        self.decay_slices = merge_slices(
            (r.offset, r.offset + r.size) for r in net.param_refs if r.decay)
        self.optimizer: Optimizer = make_optimizer(optimizer or {"type": "adam"},
                                                   net.params.size, self.dtype,
                                                   self.decay_slices)
        self.schedule_config = schedule
        self._schedule: Schedule = make_schedule(schedule, self.optimizer.lr)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)
        self.l1 = check_float("l1", l1)
        self.l2 = check_float("l2", l2)
        self.clipnorm = None if clipnorm is None else check_float("clipnorm", clipnorm,
                                                                   positive=True)
        self._clip = self._make_clip()
        self.validation_split = check_float("validation_split", validation_split)
        if self.validation_split >= 1.0:
            raise ValueError("validation_split must be in [0, 1): it is the fraction of "
                             f"samples held out, e.g. 0.2; got {self.validation_split}")
        self.early_stopping = EarlyStopping.from_config(early_stopping)
        self.callbacks = check_callbacks(callbacks)
        self.divergence_factor = check_factor(divergence_factor)
        if not isinstance(shuffle, bool | np.bool_):
            raise ValueError(f"shuffle must be true or false, got {shuffle!r}")
        self.shuffle = bool(shuffle)
        self._guard = Guard(net, self.optimizer, loss, self.divergence_factor)
        self._has_buffers = bool(self._guard.saved.buffers)
        self.history: dict[str, list[float]] = {}
        self._steps = StepHistory(self.history)  # batch_loss/batch_step, bounded
        self.epoch = 0          # completed epochs
        self.global_step = 0    # optimizer steps taken
        self.samples_seen = 0
        self.last_grad_norm = 0.0
        self.last_event: TrainEvent | None = None
        self._rng = np.random.default_rng(self.seed)
        self._data: _Bound | None = None
        self._state: _EpochState | None = None
        self._stopping = _StopState()
        self._scratch: Array | None = None
        self._xbuf: Array | None = None
        self._ybuf: Array | None = None
        self._slices = False
        self._fast: FastDense | None = None
        # False: a run on the compiled path yields one "batch" event per stretch of
        # batches (at most an epoch) instead of one per batch; read before each stretch
        self.batch_events = True
        self._net_lock = getattr(net, "lock", None) or contextlib.nullcontext()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lr_override: float | None = None
        self._lr = self._schedule(0, 0)
        self._clock = time.perf_counter()
        self._elapsed = 0.0

    def _make_clip(self) -> GradientClip:
        """The optimizer config's clipping, with this trainer's ``clipnorm`` as the global
        one (core.training.clipping says why)."""
        return make_clip(self.optimizer.config, self.clipnorm, self.net.param_refs)

    def start_at(self, epochs_done: int, steps_done: int) -> None:
        """Number on after ``epochs_done`` epochs and ``steps_done`` steps of earlier runs
        (a saved project trained again, Keras' ``initial_epoch``).

        The learning-rate schedule, events, the history's step numbers and divergence
        messages then go on from there instead of starting again at epoch 1: a step or
        cosine schedule keeps decaying across runs. The shuffling and the Dropout masks
        draw from streams of their own for that point (seeded by the seed and
        ``steps_done``), so the next epochs do not repeat the first epochs' order and
        masks. Call it before training.
        """
        epochs_done = check_int("epochs_done", epochs_done, 0)
        steps_done = check_int("steps_done", steps_done, 0)
        if self._state is not None and self._state.position:
            raise RuntimeError("start_at() must come before training, not in an epoch")
        self.epoch, self.global_step = epochs_done, steps_done
        self._lr = self._schedule(self.epoch, self.global_step)
        self._rng = np.random.default_rng(
            [self.seed, steps_done] if steps_done else self.seed)
        if steps_done and hasattr(self.net, "reseed"):
            self.net.reseed(int(np.random.SeedSequence([self.seed, steps_done])
                                .generate_state(1)[0]))

    # ---- control from any thread -------------------------------------------------------
    def request_stop(self) -> None:
        """Ask ``run()`` to stop before its next batch (also wakes a paused run)."""
        self._stop.set()

    def pause(self) -> None:
        """Make ``run()`` wait before its next batch until :meth:`resume`."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused ``run()`` go on."""
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def set_learning_rate(self, lr: float) -> None:
        """Use ``lr`` from the next batch on; it replaces the schedule from then on."""
        lr = float(lr)
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"the learning rate must be a positive number, got {lr}")
        self._lr_override = lr

    @property
    def lr(self) -> float:
        """The learning rate of the next batch."""
        if self._lr_override is not None:
            return self._lr_override
        return self._schedule(self.epoch, self.global_step)

    @property
    def last_losses(self) -> np.ndarray:
        """The exact losses (float64) of the last batch, or of the last stretch of
        batches the compiled path trained in one go (``history["batch_loss"]`` is
        thinned out in long runs, see ``core.training.history``)."""
        return self._steps.last_losses

    def record_losses(self, losses: Sequence[float] | np.ndarray) -> None:
        """Record the losses of a stretch that ended at :attr:`global_step`."""
        self._steps.extend(self.global_step, losses)

    # ---- binding data -----------------------------------------------------------------
    def prepare(self, X: Array, Y: Array,
                validation_data: tuple[Array, Array] | None = None) -> None:
        """Bind training (and validation) data for :meth:`step`, :meth:`run` and the rest.

        Arrays are kept by reference, not copied.  ``validation_data`` wins over the
        trainer's ``validation_split``.  Rebinding starts a fresh epoch.
        """
        X, Y = self._check_data(X, Y, "training")
        train_idx = val_X = val_Y = val_idx = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, Y_val)")
            val_X, val_Y = self._check_data(*validation_data, "validation")
        elif self.validation_split > 0:
            n_val = int(round(len(X) * self.validation_split))
            if n_val < 1 or n_val >= len(X):
                raise ValueError(f"validation_split={self.validation_split} leaves no "
                                 f"samples for validation or training out of {len(X)}")
            order = np.random.default_rng([self.seed, 1]).permutation(len(X))
            val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            val_X, val_Y = X, Y
        self._data = _Bound(X, Y, train_idx, val_X, val_Y, val_idx)
        self._state = None
        self._fast = None  # made again below, once the old one's buffers are freed
        self._guard.bind()
        b = min(self.batch_size, self._data.n_train)
        self._xbuf = np.empty((b, *X.shape[1:]), self.dtype)
        self._ybuf = np.empty((b, *Y.shape[1:]), self._target_dtype())
        # in order, batches of arrays already in the training types are slices: no copy
        self._slices = (not self.shuffle and train_idx is None
                        and all(a.dtype == buf.dtype and a.flags.c_contiguous
                                for a, buf in ((X, self._xbuf), (Y, self._ybuf))))
        if not np.isfinite(self.net.params).all():
            raise ValueError("the network's weights contain NaN or infinity; re-initialise "
                             "them before training")
        self._fast = FastDense.for_trainer(self, X, Y)
        if self._fast is not None:
            self._fast.warm_up(self)

    def _target_dtype(self) -> np.dtype:
        if self.loss_name == "sparse_categorical_crossentropy":
            return np.dtype(np.intp)
        return self.dtype

    def _check_data(self, X: Array, Y: Array, what: str) -> tuple[Array, Array]:
        """Arrays as given (no copy) after checking shapes, sizes and finiteness."""
        X, Y = np.asarray(X), np.asarray(Y)
        shape = tuple(self.net.output_shapes[self.net.input_id])
        if X.ndim < 1 or tuple(X.shape[1:]) != shape:
            raise ValueError(f"{what} inputs have shape {X.shape} but the network's input "
                             f"takes (samples, {', '.join(map(str, shape))}); reshape the "
                             "data or change the Input node's shape")
        if len(X) == 0:
            raise ValueError(f"{what} data has no samples")
        if len(Y) != len(X):
            raise ValueError(f"{what} data has {len(X)} inputs but {len(Y)} targets; they "
                             "must have one target per sample")
        for name, a in (("inputs", X), ("targets", Y)):
            real = np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_
            if not real or np.issubdtype(a.dtype, np.complexfloating):
                raise ValueError(f"{what} {name} must be real numbers, not {a.dtype}")
            if np.issubdtype(a.dtype, np.floating):
                row = first_bad_row(a)
                if row is not None:
                    raise ValueError(f"{what} {name} contain NaN or infinity (first in "
                                     f"row {row}); clean or drop those rows")
        return X, Y

    # ---- training ---------------------------------------------------------------------
    def fit(self, X: Array | None = None, Y: Array | None = None, epochs: int = 1,
            validation_data: tuple[Array, Array] | None = None) -> dict[str, list[float]]:
        """Train ``epochs`` epochs and return :attr:`history` (raises TrainingDiverged)."""
        for _ in self.run(X, Y, epochs=epochs, validation_data=validation_data,
                          every_batch=False):
            pass
        return self.history

    def run(self, X: Array | None = None, Y: Array | None = None, epochs: int = 1,
            validation_data: tuple[Array, Array] | None = None,
            every_batch: bool | None = True) -> Iterator[TrainEvent]:
        """Train ``epochs`` more epochs, yielding a TrainEvent per batch and per epoch
        and one "end" event.  Without X and Y it goes on with the data already bound.

        On divergence the "end" event (stop_reason "diverged") is yielded first and the
        next ``next()`` raises :class:`TrainingDiverged`.

        ``every_batch=False`` lets the compiled path for small Dense networks
        (:mod:`core.training.fast_dense`) train up to the rest of an epoch in one go and
        yield a "batch" event for the last batch of each such stretch only; every batch's
        loss is in :attr:`last_losses`, and pause, stop and learning-rate changes
        take effect at the next stretch. ``None`` follows :attr:`batch_events` at each
        stretch. Trainers with callbacks, and networks the compiled path does not take,
        always yield every batch.
        """
        epochs = check_int("epochs", epochs, 0)
        if X is not None or Y is not None:
            if X is None or Y is None:
                raise ValueError("give both X and Y, or neither to go on with bound data")
            self.prepare(X, Y, validation_data)
        self._require_data()
        self._clock = time.perf_counter()
        self._stopping = _StopState()  # patience counts within one run, as Keras' fit
        self._guard.weights_set()  # weights may have been set since the last step
        self._guard.start_run()
        reason, error, done = "completed", None, 0
        try:
            while done < epochs:
                if not self._wait_while_paused():
                    reason = "stopped"
                    break
                per_batch = self.batch_events if every_batch is None else every_batch
                event, epoch_event = self._train_stretch(per_batch)
                yield event
                if epoch_event is not None:
                    yield epoch_event
                    done += 1
                    if epoch_event.stop_reason == "early_stopping":
                        reason = "early_stopping"
                        break
        except TrainingDiverged as exc:
            reason, error = "diverged", exc
        finally:
            self._stop.clear()
        end = self._end_event(reason)
        yield end
        if error is not None:
            raise error

    def step(self) -> TrainEvent:
        """Train one batch of the bound data (see :meth:`prepare`) and return its event.

        When the batch ends an epoch, validation, history, early stopping and epoch
        callbacks run too, as in ``run()``; the epoch event is then :attr:`last_event`.
        Pause and stop work as in ``run()``: while paused it waits (until
        :meth:`resume` or :meth:`request_stop`); after a stop request it trains nothing,
        clears the request and returns an "end" event with stop_reason "stopped".  On
        divergence callbacks get an "end" event with stop_reason "diverged" and
        :class:`TrainingDiverged` is raised.  The blow-up check keeps watching across
        calls; :meth:`prepare` and ``run()`` start it afresh.
        """
        self._require_data()
        stopped = self._stop_before_batch()
        if stopped is not None:
            return stopped
        event, _ = self._train_batch_or_end()
        return event

    def step_epoch(self) -> TrainEvent:
        """Train the rest of the current epoch (a whole one if none is under way) and
        return its "epoch" event.

        Before every batch it honours pause and stop as :meth:`step` does: a stop
        request ends it early with an "end" event (stop_reason "stopped"); the batches
        already trained stay trained and the epoch goes on at the next call.
        """
        self._require_data()
        while True:
            stopped = self._stop_before_batch()
            if stopped is not None:
                return stopped
            _, epoch_event = self._train_batch_or_end()
            if epoch_event is not None:
                return epoch_event

    def evaluate(self, X: Array, Y: Array) -> tuple[float, dict[str, float]]:
        """(loss, metrics) of the network on X, Y in inference mode, in chunks."""
        X, Y = self._check_data(X, Y, "evaluation")
        return self._evaluate(X, Y, None)

    # ---- internals --------------------------------------------------------------------
    def _require_data(self) -> None:
        if self._data is None:
            raise RuntimeError("no data bound: call trainer.prepare(X, Y) first, or pass "
                               "X and Y to run()/fit()")

    def _stop_before_batch(self) -> TrainEvent | None:
        """For step()/step_epoch(): wait while paused; on a stop request clear it and
        return the "end" event, else None."""
        if self._wait_while_paused():
            return None
        self._stop.clear()
        return self._end_event("stopped")

    def _train_batch_or_end(self) -> tuple[TrainEvent, TrainEvent | None]:
        """:meth:`_train_batch`, telling callbacks about a divergence as run() does."""
        try:
            return self._train_stretch(True)
        except TrainingDiverged:
            self._end_event("diverged")
            raise

    def _wait_while_paused(self) -> bool:
        """Block while paused; False when a stop was requested."""
        if not self._running.is_set():
            self._elapsed += time.perf_counter() - self._clock
            while not self._running.wait(0.05):
                if self._stop.is_set():
                    break
            self._clock = time.perf_counter()
        return not self._stop.is_set()

    def _elapsed_s(self) -> float:
        now = time.perf_counter()
        self._elapsed += now - self._clock
        self._clock = now
        return self._elapsed

    def _epoch_state(self) -> _EpochState:
        """The current epoch, or a new one (a new permutation) when the last has ended."""
        data = self._data
        if self._state is None or self._state.position >= data.n_train:
            order = (self._rng.permutation(data.n_train) if self.shuffle
                     else np.arange(data.n_train))
            if data.train_idx is not None:
                order = data.train_idx[order]
            self._state = _EpochState(order, metrics=MetricAccumulator(self.task,
                                                                       self.loss_name))
        return self._state

    def _next_batch(self) -> tuple[Array, Array, int]:
        """Indices of the next batch, starting a new epoch's permutation when needed."""
        data = self._data
        st = self._epoch_state()
        start = st.position
        idx = st.order[start:start + self.batch_size]
        st.position += len(idx)
        st.batch += 1
        n = len(idx)
        if self._slices:  # the network never writes into its input batch
            return data.X[start:start + n], data.Y[start:start + n], n
        xb, yb = self._xbuf[:n], self._ybuf[:n]
        _gather(data.X, idx, xb)
        _gather(data.Y, idx, yb)
        return xb, yb, n

    def _train_batch(self) -> tuple[TrainEvent, TrainEvent | None]:
        """One optimizer step; returns the batch event and, at an epoch's end, its event."""
        lr = self.lr
        xb, yb, n = self._next_batch()
        st = self._state
        # The network's lock keeps views that call predict() from another thread out of
        # the step: they share its work buffers, and the output read for the metrics.
        with self._net_lock:
            try:
                loss = self._step_weights(xb, yb, lr)
            except TrainingDiverged:
                st.position -= n  # the batch was not learned: it comes again next time
                st.batch -= 1
                raise
            metrics = st.metrics.add(loss, self._batch_output(xb), yb, n)
        self._lr = lr
        self.global_step += 1
        self.samples_seen += n
        self._steps.add(self.global_step, loss)
        return self._batch_events(st, loss, metrics)

    def _train_stretch(self, every_batch: bool) -> tuple[TrainEvent, TrainEvent | None]:
        """One batch the general way; on the compiled path one batch, or with
        ``every_batch`` False up to the rest of the epoch (callbacks see every batch)."""
        if self._fast is None:
            return self._train_batch()
        st = self._epoch_state()
        left = -(-(self._data.n_train - st.position) // self.batch_size)
        steps = 1 if every_batch or self.callbacks else min(left, MAX_STEPS)
        done, metrics = self._fast.train(self, st, steps)
        if not done:  # the guard has something to say about the next step
            return self._train_batch()
        return self._batch_events(st, float(self._steps.last_losses[-1]), metrics)

    def _batch_events(self, st: _EpochState, loss: float, metrics: dict[str, float]
                      ) -> tuple[TrainEvent, TrainEvent | None]:
        """The event of the batch just trained and, when it ended the epoch, the epoch's."""
        batches = -(-self._data.n_train // self.batch_size)
        event = TrainEvent("batch", self.epoch + 1, self.global_step, loss,
                           MappingProxyType(metrics), lr=self._lr,
                           samples_seen=self.samples_seen, elapsed_s=self._elapsed_s(),
                           batch=st.batch, batches=batches)
        self._notify(event)
        epoch_event = None
        if st.position >= self._data.n_train:
            epoch_event = self._finish_epoch(st, batches)
        return event, epoch_event

    def _step_weights(self, xb: Array, yb: Array, lr: float) -> float:
        """Gradients, penalties, clipping, the guard's checks and the update; the loss."""
        params, grads, guard = self.net.params, self.net.grads, self._guard
        guard.epoch, guard.step = self.epoch + 1, self.global_step + 1
        if self._has_buffers:
            guard.saved.before_forward()
        with np.errstate(over="ignore", invalid="ignore"):  # the guard judges the result
            loss = float(self.engine.compute_gradients(xb, yb, self.loss_name))
        if self.l1 or self.l2:
            loss += self._add_penalties(params, grads)
        guard.check_loss(loss, lr)
        norm = guard.gradient_norm(grads, lr)
        bound = self._clip(grads, norm) if self._clip.active else norm
        self.last_grad_norm = norm
        guard.update(params, grads, lr, bound)
        return loss

    def _add_penalties(self, params: Array, grads: Array) -> float:
        """Add the L1/L2 gradient on kernels to ``grads``; returns the penalty value."""
        if self._scratch is None:
            self._scratch = np.empty_like(params)
        return add_penalties(params, grads, self.decay_slices, self.l1, self.l2,
                             self._scratch)

    def _penalty(self) -> float:
        """The L1/L2 penalty at the current weights (for validation losses)."""
        return penalty(self.net.params, self.decay_slices, self.l1, self.l2)

    def _batch_output(self, xb: Array) -> Array:
        """The network's output for the batch just trained, for the batch metrics.

        ``net.last_output`` when the network keeps it, else the output layer's kept
        activation; only when neither exists is the batch run again in inference mode.
        """
        out = getattr(self.engine, "last_output", None)
        if out is None:
            out = getattr(self.net.layers.get(self.net.output_id), "_y", None)
        if isinstance(out, np.ndarray) and out.ndim >= 1 and len(out) == len(xb):
            return out
        return self.engine.predict(xb)

    def _finish_epoch(self, st: _EpochState, batches: int) -> TrainEvent:
        loss, metrics = st.metrics.result()
        self.epoch += 1
        val_loss, val_metrics = None, {}
        if self._data.has_validation and self._fast is not None:
            val_loss, val_metrics = self._fast.validate(self)
        elif self._data.has_validation:
            val_loss, val_metrics = self._evaluate(self._data.val_X, self._data.val_Y,
                                                   self._data.val_idx)
        self._record(loss, metrics, val_loss, val_metrics)
        stop = self._check_early_stopping(loss, metrics, val_loss, val_metrics)
        event = TrainEvent("epoch", self.epoch, self.global_step, loss,
                           MappingProxyType(dict(metrics)), val_loss,
                           MappingProxyType(dict(val_metrics)), self._lr, self.samples_seen,
                           self._elapsed_s(), "early_stopping" if stop else None,
                           st.batch, batches)
        self._notify(event)
        return event

    def _record(self, loss: float, metrics: dict[str, float], val_loss: float | None,
                val_metrics: dict[str, float]) -> None:
        h = self.history
        h.setdefault("loss", []).append(loss)
        for k, v in metrics.items():
            h.setdefault(k, []).append(v)
        if val_loss is not None:
            h.setdefault("val_loss", []).append(val_loss)
            for k, v in val_metrics.items():
                h.setdefault("val_" + k, []).append(v)
        h.setdefault("lr", []).append(self._lr)

    def _check_early_stopping(self, loss: float, metrics: dict[str, float],
                              val_loss: float | None, val_metrics: dict[str, float]) -> bool:
        es = self.early_stopping
        if es is None:
            return False
        values = {"loss": loss, **metrics}
        if val_loss is not None:
            values.update({"val_loss": val_loss,
                           **{"val_" + k: v for k, v in val_metrics.items()}})
        monitor = es.monitor if es.monitor in values or val_loss is not None else "loss"
        if monitor not in values:
            raise ValueError(f"early stopping watches {es.monitor!r}, which training does "
                             f"not report; choose one of {', '.join(values)}")
        value, ss = values[monitor], self._stopping
        sign = -1.0 if es.maximize(monitor) else 1.0
        if ss.best is None or sign * value < sign * ss.best - es.min_delta:
            ss.best, ss.wait, ss.best_epoch = value, 0, self.epoch
            if es.restore_best_weights:
                ss.best_weights = self.net.get_weights()
            return False
        ss.wait += 1
        if ss.wait < max(es.patience, 1):
            return False
        if es.restore_best_weights and ss.best_weights is not None:
            self.net.set_weights(ss.best_weights)
            self._guard.weights_set()
        return True

    def _evaluate(self, X: Array, Y: Array, idx: Array | None) -> tuple[float, dict[str, float]]:
        """Loss and metrics in inference mode, EVAL_BATCH samples at a time."""
        acc = MetricAccumulator(self.task, self.loss_name)
        n = len(X) if idx is None else len(idx)
        for s in range(0, n, EVAL_BATCH):
            if idx is None:
                xb, yb = X[s:s + EVAL_BATCH], Y[s:s + EVAL_BATCH]
            else:
                xb, yb = X[idx[s:s + EVAL_BATCH]], Y[idx[s:s + EVAL_BATCH]]
            pred = self.engine.predict(np.asarray(xb, dtype=self.dtype))
            target = yb.astype(self._target_dtype(), copy=False)
            acc.add(self.loss.value(pred, target), pred, target, len(xb))
        loss, metrics = acc.result()
        return loss + self._penalty(), metrics

    def _end_event(self, reason: str) -> TrainEvent:
        h = self.history
        metrics = {k: h[k][-1] for k in h if k not in ("loss", "lr", "batch_loss", "batch_step")
                   and not k.startswith("val_")}
        val_metrics = {k[4:]: h[k][-1] for k in h if k.startswith("val_") and k != "val_loss"}
        loss = h["loss"][-1] if h.get("loss") else (h["batch_loss"][-1]
                                                    if h.get("batch_loss") else math.nan)
        mid_epoch = self._state is not None and 0 < self._state.position < self._data.n_train
        event = TrainEvent("end", self.epoch + 1 if mid_epoch else self.epoch,
                           self.global_step, loss, MappingProxyType(metrics),
                           h["val_loss"][-1] if h.get("val_loss") else None,
                           MappingProxyType(val_metrics), self._lr, self.samples_seen,
                           self._elapsed_s(), reason)
        self._notify(event)
        return event

    def _notify(self, event: TrainEvent) -> None:
        self.last_event = event
        for cb in self.callbacks:
            if isinstance(cb, Callback):
                method = {"batch": cb.on_batch_end, "epoch": cb.on_epoch_end,
                          "end": cb.on_train_end}[event.kind]
                method(self, event)
            else:
                cb(event)


def _gather(src: Array, idx: Array, out: Array) -> None:
    """``out[:] = src[idx]`` without a temporary when the dtypes agree."""
    if src.dtype == out.dtype:
        np.take(src, idx, axis=0, out=out, mode="clip")  # idx is in range by construction
    else:
        out[...] = src[idx]
