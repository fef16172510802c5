"""A compiled training path for small chains of Dense layers (the classroom's networks).

On a 2-8-8-1 network the NumPy engine spends about 70 us per step whatever the batch
size: the arithmetic is a few hundred multiplications, the time is NumPy's per-call cost
(some 40 calls a step) and the per-batch bookkeeping. :class:`FastDense` trains such a
network with :func:`core.training.fast_kernels.train_steps`, compiled by numba, which
takes many steps per call: the batch losses, the epoch's metrics and the divergence
guard's loss watch are kept inside the loop, step by step, exactly as the trainer keeps
them, so every figure the trainer reports is the one the NumPy path reports.

What it accepts (:func:`refusal` says why not, for anything else, and the trainer then
trains the general way, silently): an Input of rank 1 followed by a chain of Dense
layers with linear, sigmoid, tanh, relu, leaky_relu, elu or softplus activations; the
losses mse, mae, huber, and binary_crossentropy on a sigmoid output; the optimizers
sgd (with momentum, Nesterov), adam, rmsprop (not centered) and adagrad; L1/L2, any
learning-rate schedule; no gradient clipping, the NumPy engine (not another backend);
float32 or float64; activations with their default settings; and little enough work per
step (``MAX_WORK`` weights times batch size) that plain loops beat BLAS. numba compiles
the kernel once per dtype and caches it on disk; :meth:`FastDense.warm_up` does it in
the training process before the first batch. ``ANN_DESIGNER_FAST_PATH=0`` turns the
path off.
"""

from __future__ import annotations

import math
import os
from types import SimpleNamespace
from typing import Any

import numpy as np

from core.activations import ACTIVATIONS, ELU_ALPHA, LEAKY_SLOPE
from core.losses import EPSILON, HUBER_DELTA
from core.optimizers import FLUSH_EVERY
from core.training import guard as guard_module
from core.training.metrics import MetricAccumulator

Array = np.ndarray
MAX_WORK = 1 << 16      # weights x batch size: above it BLAS beats plain loops
MAX_STEPS = 4096        # steps per call at most, so stop and pause stay prompt
_kernels: Any = None    # the kernel module once imported; False when numba is missing


def kernels() -> Any:
    """:mod:`core.training.fast_kernels`, or None when numba cannot be imported."""
    global _kernels
    if _kernels is None:
        try:
            from core.training import fast_kernels
        except ImportError:  # numba missing or broken: the NumPy path trains
            _kernels = False
        else:
            _kernels = fast_kernels
    return _kernels or None


def refusal(trainer: Any) -> str | None:
    """Why the compiled path cannot train ``trainer``'s network, or None when it can."""
    if os.environ.get("ANN_DESIGNER_FAST_PATH", "1") == "0":
        return "turned off by ANN_DESIGNER_FAST_PATH=0"
    net = trainer.net
    clip = getattr(trainer, "_clip", None)
    if trainer.clipnorm is not None or (clip is not None and clip.active):
        return "gradient clipping"
    if getattr(trainer, "engine", net) is not net:
        return "another engine (backend) computes the gradients"
    reason = _network_refusal(net)
    if reason is None:
        reason = _settings_refusal(trainer)
    if reason is None and net.params.size * trainer.batch_size > MAX_WORK:
        return "too much work per step for plain loops"
    if reason is None and kernels() is None:
        return "numba is not installed"
    return reason


def _network_refusal(net: Any) -> str | None:
    order = getattr(net, "order", None)
    layers = getattr(net, "layers", None)
    if not order or layers is None or order[0] != getattr(net, "input_id", None):
        return "not a network of this engine"
    if len(net.output_shapes[order[0]]) != 1:
        return "the input is not a flat vector"
    known = codes()
    for i, node in enumerate(order[1:], start=1):
        layer = layers[node]
        if type(layer).TYPE != "Dense" or net._in_pos[i] != [i - 1]:
            return f"{node} is not a Dense layer in a chain"
        name = layer.activation.name if layer.activation is not None else "linear"
        if name not in known["act"] or (layer.activation is not None
                                         and layer.activation is not ACTIVATIONS[name]):
            return f"{node}'s activation {name} (or its settings)"
    if len(order) < 2:
        return "no Dense layer"
    return None


def _settings_refusal(trainer: Any) -> str | None:
    known = codes()
    if trainer.loss_name not in known["loss"]:
        return f"the loss {trainer.loss_name}"
    if trainer.loss_name == "binary_crossentropy" and trainer.net.output_activation != "sigmoid":
        return "binary_crossentropy without a sigmoid output"
    if (trainer.task == "classification" and trainer.loss_name != "binary_crossentropy"
            and trainer.net.output_shape[-1] > 1):  # the kernel thresholds each output
        return "accuracy by argmax over several outputs (mse on one-hot classes)"
    cfg = trainer.optimizer.config
    if cfg["type"] not in known["opt"] or cfg.get("centered"):
        return f"the optimizer {cfg['type']}"
    if trainer.dtype not in (np.float32, np.float64) or trainer._has_buffers:
        return "the dtype or non-trainable state"
    return None


def codes() -> dict[str, dict[str, int]]:
    """The names the kernel knows (without importing numba)."""
    return {"act": {"linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4,
                    "elu": 5, "softplus": 6},
            "loss": {"mse": 0, "mae": 1, "huber": 2, "binary_crossentropy": 3},
            "opt": {"sgd": 0, "adam": 1, "rmsprop": 2, "adagrad": 3}}


class FastDense:
    """The compiled path bound to one trainer and its data (see the module docstring)."""

    def __init__(self, trainer: Any, X: Array, Y: Array) -> None:
        self.k = kernels()
        net, dtype = trainer.net, trainer.dtype
        known = codes()
        seq = [net.layers[n] for n in net.order[1:]]
        rows = []
        for layer in seq:
            refs = {r.name: r for r in net.param_refs if r.node_id == layer.node_id}
            act = layer.activation.name if layer.activation is not None else "linear"
            bias = refs["bias"].offset if "bias" in refs else -1
            rows.append((layer.input_shapes[0][0], layer.output_shape_[0],
                         refs["kernel"].offset, bias, known["act"][act]))
        self.meta = np.array(rows, dtype=np.int64)
        self.units = int(self.meta[-1, 1])
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.Y = np.ascontiguousarray(Y, dtype=dtype).reshape(len(Y), self.units)
        batch = min(trainer.batch_size, len(X))
        # every layer's input, pre-activation and output for one batch, end to end
        widths = [int(self.meta[0, 0]), *(int(u) for u in self.meta[:, 1])]
        self.yo = np.cumsum([0, *widths], dtype=np.int64) * batch
        self.zo = self.yo[1:] - self.yo[1]
        self.ys = np.zeros(int(self.yo[-1]), dtype)
        self.zs = np.zeros(int(self.zo[-1]), dtype)
        self.dy = np.zeros(batch * max(widths[1:]), dtype)
        self.dz = np.zeros(batch * max(widths[1:]), dtype)
        self.tb = np.zeros(batch * self.units, dtype)
        self.cols = np.zeros((3, self.units))  # per-column sums of one batch
        self.C = np.array([0.0, 1.0, 0.5, LEAKY_SLOPE, ELU_ALPHA, HUBER_DELTA, 0.0,
                           EPSILON, 1.0 - EPSILON], dtype)
        self.loss_code = known["loss"][trainer.loss_name]
        cfg = trainer.optimizer.config
        self.opt_code = known["opt"][cfg["type"]]
        self.opt_f = _opt_settings(cfg)
        self.decay = np.array(trainer.decay_slices or [(0, 0)], dtype=np.int64)
        self.flush_limit = float(np.finfo(dtype).tiny) * 2.0 ** 40
        self.empty = np.zeros(0, dtype)
        self._bind_validation(trainer._data, X)

    def _bind_validation(self, data: Any, X: Array) -> None:
        """The validation arrays in the kernel's types (the training ones when split)."""
        self.vX = self.vY = None
        if data is None or data.val_X is None:
            return
        if data.val_X is X:
            self.vX, self.vY = self.X, self.Y
        else:
            self.vX = np.ascontiguousarray(data.val_X, dtype=self.X.dtype)
            self.vY = np.ascontiguousarray(data.val_Y, dtype=self.X.dtype).reshape(
                len(data.val_Y), self.units)
        idx = data.val_idx
        self.vidx = np.zeros(0, np.int64) if idx is None else idx.astype(np.int64)
        self.vn = len(self.vX) if idx is None else len(idx)

    def validate(self, trainer: Any) -> tuple[float, dict[str, float]]:
        """``trainer._evaluate`` on the bound validation data, compiled."""
        from core.training.trainer import EVAL_BATCH

        metrics = MetricAccumulator(trainer.task, trainer.loss_name)
        acc, sq, mean, m2 = _acc_arrays(metrics, self.units)
        with trainer._net_lock:
            self.k.evaluate_rows(self.vX, self.vY, self.vidx, self.vn, EVAL_BATCH,
                                 len(self.tb) // self.units, self.meta, trainer.net.params,
                                 self.loss_code, self.ys, self.yo, self.zs, self.zo,
                                 self.tb, self.C, acc, sq, mean, m2, self.cols)
        _load_acc(metrics, acc, sq, mean, m2)
        loss, values = metrics.result()
        return loss + trainer._penalty(), values

    @classmethod
    def for_trainer(cls, trainer: Any, X: Array, Y: Array) -> FastDense | None:
        """The path for this trainer and data, or None when it does not apply."""
        if refusal(trainer) is not None:
            return None
        units = trainer.net.output_shape[0]
        data = trainer._data
        pairs = [(X, Y)] + ([(data.val_X, data.val_Y)] if data.val_X is not None else [])
        if any(np.asarray(b).size != len(b) * units or not np.issubdtype(a.dtype, np.number)
               for a, b in pairs):
            return None  # the general path explains the mismatch
        return cls(trainer, X, Y)

    def warm_up(self, trainer: Any) -> None:
        """Compile the kernel for this dtype, or load it from numba's cache, now: zero
        steps with the arguments of real ones (seconds the first time on a machine,
        about 0.1 s after that)."""
        probe = SimpleNamespace(order=np.zeros(1, np.int64), position=0, batch=0,
                                metrics=MetricAccumulator(trainer.task, trainer.loss_name))
        self.train(trainer, probe, 0)
        acc, sq, mean, m2 = _acc_arrays(probe.metrics, self.units)
        self.k.evaluate_rows(self.X, self.Y, probe.order, 0, 1, 1, self.meta,
                             trainer.net.params, self.loss_code, self.ys, self.yo, self.zs,
                             self.zo, self.tb, self.C, acc, sq, mean, m2, self.cols)

    def train(self, trainer: Any, st: Any, steps: int) -> tuple[int, dict[str, float]]:
        """Train up to ``steps`` batches of epoch state ``st``; (steps taken, the last
        batch's metrics). Fewer than asked: the next step needs the general path."""
        lrs = _learning_rates(trainer, steps)
        opt, g = trainer.optimizer, trainer._guard
        state = [opt.state[n] for n in opt.state_names()] + [self.empty, self.empty]
        watch = _watch_array(g.watch)
        acc, sq, mean, m2 = _acc_arrays(st.metrics, self.units)
        losses = np.empty(steps)
        norms = np.empty(steps)
        bm = np.zeros((steps, 2))
        flush = FLUSH_EVERY if opt.state else 0
        net = trainer.net
        with trainer._net_lock:
            done, _status, iterations, peak = self.k.train_steps(
                self.X, self.Y, st.order, st.position, steps, trainer.batch_size, self.meta,
                net.params, net.grads, self.loss_code, self.opt_code, self.opt_f, state[0],
                state[1], opt.iterations, lrs, trainer.l1, trainer.l2, self.decay, watch,
                g.saved.best, g.saved.good, g.bound.peak, flush, self.flush_limit, acc, sq,
                mean, m2, self.ys, self.yo, self.zs, self.zo, self.dy, self.dz, self.tb,
                self.C, losses, norms, bm, self.cols)
        if done == 0:
            return 0, {}
        opt.iterations, g.bound.peak = int(iterations), float(peak)
        _load_watch(g, watch)
        g.saved.stepped()
        _load_acc(st.metrics, acc, sq, mean, m2)
        samples = min(done * trainer.batch_size, len(st.order) - st.position)
        st.position += samples
        st.batch += done
        trainer.global_step += done
        trainer.samples_seen += samples
        trainer._lr = float(lrs[done - 1])
        trainer.last_grad_norm = float(norms[done - 1])
        trainer.record_losses(losses[:done])
        last = bm[done - 1]
        if trainer.task == "classification":
            return done, {"accuracy": float(last[0])}
        return done, {"mae": float(last[0]), "r2": float(last[1])}


def _opt_settings(cfg: dict[str, Any]) -> Array:
    """The optimizer's settings as the kernel reads them (see fast_kernels._update)."""
    kind = cfg["type"]
    if kind == "sgd":
        values = [cfg["momentum"], float(cfg["nesterov"])]
    elif kind == "adam":
        root = math.sqrt(1.0 - cfg["beta_2"])
        values = [cfg["beta_1"], cfg["beta_2"], cfg["epsilon"], root, cfg["epsilon"] / root]
    elif kind == "rmsprop":
        values = [cfg["rho"], cfg["epsilon"], cfg["momentum"]]
    else:
        values = [cfg["epsilon"]]
    return np.array(values + [0.0] * (5 - len(values)), dtype=np.float64)


def _learning_rates(trainer: Any, steps: int) -> Array:
    """The learning rate of each of the next ``steps`` batches (the epoch does not end
    inside them, and an override holds for all)."""
    if trainer._lr_override is not None:
        return np.full(steps, trainer._lr_override)
    sched = trainer._schedule
    cfg = getattr(sched, "config", {"type": "constant"})
    if cfg["type"] != "constant" and cfg.get("per") == "batch":
        e, s = trainer.epoch, trainer.global_step
        return np.array([sched(e, s + i) for i in range(steps)], dtype=np.float64)
    return np.full(steps, sched(trainer.epoch, trainer.global_step))


def _watch_array(w: Any) -> Array:
    nan = math.nan
    return np.array([w.n, w.avg, w.weight, w.floor, w.ceiling, w.best, w.saved_loss,
                     w.saved_step, nan if w.factor is None else w.factor,
                     guard_module.STEP_LIMIT,
                     guard_module.SMOOTHING, guard_module.WARMUP_STEPS,
                     guard_module.CHECKPOINT_EVERY, nan, nan, 0.0], dtype=np.float64)


def _load_watch(g: Any, a: Array) -> None:
    w = g.watch
    w.n, w.avg, w.weight, w.floor, w.ceiling, w.best = int(a[0]), *map(float, a[1:6])
    w.saved_loss, w.saved_step, w.checkpoint_due = float(a[6]), int(a[7]), False
    if a[15]:
        g.saved.best_valid = True


def _acc_arrays(m: Any, units: int) -> tuple[Array, Array, Array, Array]:
    acc = np.array([m.n, m.loss_sum, m.correct, m.count, m.abs_sum, m.rows,
                    float(m.task == "classification")], dtype=np.float64)
    if m.sq is None:
        return acc, np.zeros(units), np.zeros(units), np.zeros(units)
    return acc, m.sq.copy(), m.mean.copy(), m.m2.copy()


def _load_acc(m: Any, acc: Array, sq: Array, mean: Array, m2: Array) -> None:
    m.n, m.loss_sum, m.correct = int(acc[0]), float(acc[1]), float(acc[2])
    m.count, m.abs_sum, m.rows = int(acc[3]), float(acc[4]), int(acc[5])
    if m.task != "classification":
        m.sq, m.mean, m.m2 = sq, mean, m2


def compile_ahead() -> None:
    """Compile the kernel for float32 and float64 now, or load it from the cache.

    The designer's fork server calls this once, so that every training process it
    forks starts with the kernel ready. Never raises: without it a run compiles when
    it starts, and without numba the NumPy path trains.
    """
    from core.network import Network
    from core.training.trainer import Trainer

    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [1]},
                      {"id": "out", "type": "Dense", "units": 1}],
            "edges": [["in", "out"]]}
    try:
        for dtype in ("float32", "float64"):
            trainer = Trainer(Network.from_spec(spec, dtype=dtype), loss="mse",
                              optimizer={"type": "sgd"}, batch_size=1)
            trainer.prepare(np.zeros((1, 1)), np.zeros((1, 1)))
    except Exception:  # noqa: BLE001 - an optimisation; the run compiles or falls back
        pass
