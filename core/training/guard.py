"""Divergence: every check that stops a run whose numbers blew up, and the way back.

Two kinds are caught, and both raise :class:`TrainingDiverged`.

*Not finite.*  Before touching the weights a step checks that the loss and the gradients
are finite (a scalar test and one BLAS dot over the flat buffer; the dot also gives the
norm for clipping), and the optimizer's step when :class:`StepBound` cannot bound it from
the gradient norm (adaptive optimizers always can).  An accepted step is then finite and
far too small to overflow a finite weight, so the weights themselves never need a scan.
Weights whose loss is not finite are not good weights, though: so every update copies the
weights it changes into a preallocated buffer on the way (Adam does it block by block
while they are in cache), and the guard puts back the weights from before the last
update, the last ones whose loss and gradients were both finite (BatchNormalization's
moving statistics, which live outside the flat buffer, go back with them).

*Blow-up.*  A too-large learning rate often never produces a NaN: the loss swings around
1e12, or the network ends up confidently wrong at chance accuracy.  So a
:class:`LossWatch` follows an exponential moving average of the batch losses (about the
last ten batches) and, after ``WARMUP_STEPS`` batches of a run, declares divergence when

- the smoothed loss exceeds ``divergence_factor`` (default 1e4) times the lowest smoothed
  loss of the run (never compared with less than 1/1000 of the first batch's loss or, for
  classification, of the loss of guessing, nor with less than 1e-12: so a fit that
  reaches a loss of 0, or a converged network whose loss rounds to a hair below 0 and is
  trained again, cannot trip it on float noise), or
- for classification, the smoothed loss exceeds ``CHANCE_RISE`` (4) times the loss of
  guessing (ln 2 per sigmoid unit, ln k for k softmax classes) or of the first batch,
  whichever is larger: training made the network confidently wrong, as plain SGD with
  lr 10 does on the spiral.

The weights then put back are those at the best smoothed loss of the run, kept in a
preallocated buffer that is refreshed at a new best at most every ``CHECKPOINT_EVERY``
steps (sooner when the loss has halved since), so it costs one copy per ~50 batches.
``divergence_factor=None`` turns the blow-up check off (NaN and inf are always caught).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.optimizers import Optimizer

Array = np.ndarray
STEP_LIMIT = 1e18      # steps bounded below this cannot overflow a finite float32 weight
SMOOTHING = 0.9        # weight of the past in the smoothed loss: about the last 10 batches
WARMUP_STEPS = 5       # batches of a run before the blow-up check gives a verdict
CHECKPOINT_EVERY = 50  # steps between copies of the best weights (unless the loss halved)
CHANCE_RISE = 4.0      # classification: smoothed loss this many times guessing's -> diverged
START_FLOOR = 1e-3     # the best loss is never taken below this fraction of the first one
LOSS_FLOOR = 1e-12     # ... nor below this: a loss at 0, or rounded below it, has no ratio


class TrainingDiverged(RuntimeError):
    """The loss, gradients or update stopped being finite numbers, or the loss blew up.

    When something became NaN or infinite the network gets back the weights from before
    the last update, the last ones whose loss and gradients were finite; when the
    smoothed loss blew up (see the module docstring) it gets back the weights at the
    best smoothed loss of the run.  Moving statistics of BatchNormalization go back with
    them, and the optimizer's state is reset.  ``lr`` is the learning rate of the failing
    step and ``suggested_lr`` a ten times smaller one to try.
    """

    def __init__(self, message: str, lr: float, epoch: int, step: int,
                 blown_params: Array | None = None) -> None:
        super().__init__(message)
        self.lr = lr
        self.suggested_lr = lr / 10.0
        self.epoch = epoch
        self.step = step
        #: A copy of the flat weights as they were when the run was stopped, before
        #: they were put back (None when they were not finite): what a teacher shows to
        #: let a class see a network blow up.
        self.blown_params = blown_params


class LossWatch:
    """Watches the smoothed batch loss for a blow-up that stays finite (module docstring).

    Per batch it does a few float operations and no allocation.  ``checkpoint_due`` is
    set when the trainer should copy the current weights as the run's best.
    """

    def __init__(self, factor: float | None, chance: float | None) -> None:
        self.factor, self.chance = factor, chance
        self.reset()

    def reset(self) -> None:
        """Forget the run: the next batch is the first one again."""
        self.n = 0
        self.avg = 0.0       # biased moving average of the losses ...
        self.weight = 0.0    # ... and its total weight: smoothed = avg / weight
        self.floor = 0.0     # START_FLOOR times the first loss
        self.ceiling = math.inf  # classification: CHANCE_RISE times max(chance, first)
        self.best = math.inf
        self.saved_loss = math.inf
        self.saved_step = 0
        self.checkpoint_due = False

    def observe(self, loss: float) -> str | None:
        """Take one finite batch loss; a sentence saying what blew up, or None."""
        self.n += 1
        self.avg = SMOOTHING * self.avg + (1.0 - SMOOTHING) * loss
        self.weight = SMOOTHING * self.weight + (1.0 - SMOOTHING)
        smooth = self.avg / self.weight
        if self.n == 1:  # a converged network may start at 0 or a rounding error below
            scale = max(abs(loss), self.chance or 0.0)
            self.floor = max(START_FLOOR * scale, LOSS_FLOOR)
            if self.chance is not None:
                self.ceiling = CHANCE_RISE * max(self.chance, loss)
        if smooth < self.best:
            self.best = smooth
            self.checkpoint_due = (smooth < 0.5 * self.saved_loss
                                   or self.n - self.saved_step >= CHECKPOINT_EVERY)
        if self.factor is None or self.n < WARMUP_STEPS:
            return None
        if smooth > self.factor * max(self.best, self.floor):
            return (f"the smoothed loss rose to {smooth:.3g}, more than "
                    f"{self.factor:g} times its lowest value {self.best:.3g}")
        if smooth > self.ceiling:
            return (f"the smoothed loss rose to {smooth:.3g}, more than {CHANCE_RISE:g} "
                    f"times the {self.ceiling / CHANCE_RISE:.3g} of guessing or of the "
                    "first batch: the network became confidently wrong")
        return None

    def saved(self) -> None:
        """The trainer copied the weights at the current best."""
        self.checkpoint_due = False
        self.saved_loss, self.saved_step = self.best, self.n


def chance_loss(loss_name: str, net: Any) -> float | None:
    """The loss of guessing (uniform probabilities) for a classification loss."""
    if loss_name == "binary_crossentropy":
        return math.log(2.0)
    if loss_name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        shape = getattr(net, "output_shapes", {}).get(getattr(net, "output_id", None))
        k = int(shape[-1]) if shape else 2
        return math.log(max(k, 2))
    return None


class StepBound:
    """An upper bound on any element of an optimizer's coming step, from a bound on any
    gradient element (the gradient norm will do).

    The trainer inspects the step itself only when this bound is too large to rule out
    an overflow; for the adaptive optimizers it almost never is.  Bounds that depend on
    history (momentum) track the largest step seen in ``peak``; after the optimizer's
    state was loaded from a file, :meth:`sync` derives it from that state.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.opt = optimizer
        self.peak = 0.0

    def reset(self) -> None:
        """The optimizer was reset: no history."""
        self.peak = 0.0

    def sync(self) -> None:
        """Take the peak from the optimizer's state (one pass over a state array)."""
        cfg, state = self.opt.config, self.opt.state
        kind = cfg["type"]
        if kind == "sgd":
            v = state.get("velocity")
            self.peak = 0.0 if v is None or not v.size else \
                float(np.abs(v).max()) * (1.0 - cfg["momentum"])
        elif kind == "rmsprop":
            mom = state.get("momentum")
            self.peak = 0.0 if mom is None or not mom.size else \
                float(np.abs(mom).max()) * (1.0 - cfg["momentum"])
        elif kind in ("adam", "adamw"):
            m = state.get("m")  # stored as m / (1 - beta_1); Keras' m is a mean of g
            self.peak = 0.0 if m is None or not m.size else \
                float(np.abs(m).max()) * (1.0 - cfg["beta_1"])

    def __call__(self, lr: float, grad_bound: float) -> float:
        """The bound for this step; call it once per step, before the update."""
        cfg, kind = self.opt.config, self.opt.config["type"]
        if kind == "sgd":  # |v| <= max(lr |g|) / (1 - momentum); nesterov adds as much
            self.peak = max(self.peak, lr * grad_bound)
            return 2.0 * self.peak / (1.0 - cfg["momentum"])
        if kind == "rmsprop":  # s + eps >= eps; centered subtracts a^2: no bound then
            if cfg["centered"]:
                return math.inf
            self.peak = max(self.peak, lr * grad_bound / math.sqrt(cfg["epsilon"]))
            return self.peak / (1.0 - cfg["momentum"])
        if kind == "adagrad":  # the accumulator holds g^2 already: |g| / sqrt(acc) <= 1
            return lr
        if kind in ("adam", "adamw"):  # |m| <= max |g| and sqrt(v) + eps >= eps
            self.peak = max(self.peak, grad_bound)
            t = self.opt.iterations + 1
            alpha = lr * math.sqrt(1.0 - cfg["beta_2"] ** t) / (1.0 - cfg["beta_1"] ** t)
            bound = alpha * self.peak / cfg["epsilon"]
            if kind == "adamw" and lr * cfg["weight_decay"] > 2.0:
                return math.inf  # w (1 - rate) stays finite only while |1 - rate| <= 1
            return bound
        return math.inf


class SavedWeights:
    """The weights a diverged run goes back to, with their BatchNormalization statistics.

    ``good``: the weights from before the last update (the last ones whose loss and
    gradients were finite); ``best``: the weights at the run's best smoothed loss.
    Non-trainable state (BN moving statistics) is kept as ``(layer.state, name)`` and
    looked up at each use, so a layer that rebinds an array still works.
    """

    def __init__(self, net: Any) -> None:
        self.net = net
        self.buffers = [(layer.state, name) for layer in getattr(net, "layers", {}).values()
                        for name in getattr(layer, "state", {})]
        self.buf_before = self._copies()  # the statistics before this step
        self.buf_good = self._copies()    # ... those that go with self.good
        self.buf_best = self._copies()    # ... those that go with self.best
        self.good: Array | None = None
        self.best: Array | None = None
        self.good_valid = False
        self.best_valid = False

    def bind(self) -> None:
        """(Re)allocate the weight copies for the network's current buffer."""
        params = self.net.params
        self.good = np.empty_like(params)
        self.good_valid = False
        if self.best is None or self.best.shape != params.shape:
            self.best = np.empty_like(params)

    def before_forward(self) -> None:
        """The forward pass moves BN statistics: keep the current ones (tiny)."""
        for (state, name), dst in zip(self.buffers, self.buf_before, strict=True):
            np.copyto(dst, state[name])

    def stepped(self) -> None:
        """An update went through: ``good`` holds the weights from before it."""
        self.good_valid = True
        if self.buffers:
            self.buf_good, self.buf_before = self.buf_before, self.buf_good

    def checkpoint(self) -> None:
        """Copy the weights of this step (before its update) as the run's best."""
        np.copyto(self.best, self.net.params)
        for src, dst in zip(self.buf_before, self.buf_best, strict=True):
            np.copyto(dst, src)
        self.best_valid = True

    def restore_good(self) -> None:
        """Put back the last weights whose loss and gradients were finite."""
        if self.good_valid:
            np.copyto(self.net.params, self.good)
            self._put_back(self.buf_good)
            self.good_valid = False
        else:  # no update of this run yet: the weights are as they came; undo the BN pass
            self._put_back(self.buf_before)

    def restore_best(self) -> None:
        """Put back the weights at the run's best smoothed loss, if one was saved."""
        if self.best_valid:
            np.copyto(self.net.params, self.best)
            self._put_back(self.buf_best)
        self.good_valid = False

    def _copies(self) -> list[Array]:
        return [np.empty_like(state[name]) for state, name in self.buffers]

    def _put_back(self, saved: list[Array]) -> None:
        for (state, name), src in zip(self.buffers, saved, strict=True):
            np.copyto(state[name], src)


class Guard:
    """What a training step asks before and after it changes the weights.

    ``epoch`` and ``step`` (1-based, of the step under way) name the place in the
    message of :class:`TrainingDiverged`; the trainer sets them before each step.
    """

    def __init__(self, net: Any, optimizer: Optimizer, loss_name: str,
                 factor: float | None) -> None:
        self.optimizer = optimizer
        self.watch = LossWatch(factor, chance_loss(loss_name, net))
        self.bound = StepBound(optimizer)
        self.saved = SavedWeights(net)
        self.epoch = self.step = 1
        self._blown: Array | None = None

    def bind(self) -> None:
        """New data: allocate the copies and judge the run afresh."""
        self.saved.bind()
        self.start_run()

    def start_run(self) -> None:
        """The blow-up check judges each run on its own."""
        self.watch.reset()
        self.saved.best_valid = False
        self.bound.sync()

    def weights_set(self) -> None:
        """The weights were replaced from outside: ``good`` no longer goes with them."""
        self.saved.good_valid = False

    def check_loss(self, loss: float, lr: float) -> None:
        """A finite loss that did not blow up, or TrainingDiverged (weights put back)."""
        if not math.isfinite(loss):
            self._diverged("loss", loss, lr)
        watch = self.watch
        blown = watch.observe(loss)
        if watch.checkpoint_due:
            self.saved.checkpoint()
            watch.saved()
        if blown is not None:
            self._keep_blown()
            self.saved.restore_best()
            self._raise(blown, lr, "The weights from the lowest loss of this run were "
                                   "put back.")

    def gradient_norm(self, grads: Array, lr: float) -> float:
        """The gradient's norm, or TrainingDiverged when it is not finite."""
        with np.errstate(over="ignore", invalid="ignore"):  # inf is the answer below
            sq = float(np.dot(grads, grads))
        if not math.isfinite(sq):
            self._diverged("gradient", sq, lr)
        return math.sqrt(sq)

    def update(self, params: Array, grads: Array, lr: float, grad_bound: float) -> None:
        """The optimizer's step, looked at first only when it cannot be bounded."""
        opt, saved = self.optimizer, self.saved
        if self.bound(lr, grad_bound) <= STEP_LIMIT:
            opt.update(params, grads, lr, backup=saved.good)
        else:  # the step may overflow: that is what is checked, so NumPy need not warn
            with np.errstate(over="ignore", invalid="ignore"):
                d = opt.compute_step(params, grads, lr)
                size = float(np.dot(d, d))
            if not math.isfinite(size):
                self._diverged("weight update", size, lr)
            np.copyto(saved.good, params)
            opt.apply_step(params, d)
        saved.stepped()

    def _keep_blown(self) -> None:
        """Copy the weights as they blew up (once per divergence, so never hot)."""
        params = self.saved.net.params
        with np.errstate(over="ignore", invalid="ignore"):
            finite = math.isfinite(float(np.dot(params, params)))
        self._blown = np.array(params, copy=True) if finite else None

    def _diverged(self, what: str, value: float, lr: float) -> None:
        self._keep_blown()
        self.saved.restore_good()
        kind = "NaN" if math.isnan(value) else "infinite"
        self._raise(f"the {what} became {kind}", lr,
                    "The last weights with a finite loss were put back.")

    def _raise(self, what: str, lr: float, restored: str) -> None:
        self.optimizer.reset()
        self.bound.reset()
        self.watch.reset()
        self.saved.best_valid = False
        raise TrainingDiverged(
            f"Training diverged in epoch {self.epoch}, step {self.step}: {what}. "
            f"The learning rate {lr:g} is probably too high; try {lr / 10:g}. {restored}",
            lr, self.epoch, self.step, self._blown)
