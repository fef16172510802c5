"""Optimizers: update rules on the network's single flat parameter buffer.

Every optimizer keeps its state (velocities, moments) as flat arrays the size of the
parameter buffer and updates it in place with ``out=`` NumPy operations into one
preallocated scratch array, so a training step allocates nothing here.  The rules and
defaults are Keras 3's, so that what a student learned there holds here:

=========  ============================================================================
sgd        ``v = momentum v - lr g``; ``w += v`` (nesterov: ``w += momentum v - lr g``)
rmsprop    ``s = rho s + (1 - rho) g^2``; ``w -= lr g / sqrt(s + eps)``
adagrad    ``a += g^2``; ``w -= lr g / sqrt(a + eps)``
adam       ``m += (1 - b1)(g - m)``; ``v += (1 - b2)(g^2 - v)``;
           ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``
adamw      adam, and first ``w -= lr * weight_decay * w`` on every parameter, as Keras
           (``"decay_kernels_only": true`` decays the kernels alone, not biases nor
           BatchNormalization's gamma and beta)
=========  ============================================================================

Every optimizer also takes Keras' gradient clipping settings (applied by the trainer,
:mod:`core.training.clipping`): ``clipnorm`` limits the norm of each weight array's
gradient on its own, ``global_clipnorm`` the norm of all of them together, and
``clipvalue`` each element; at most one of them may be set.

:meth:`Optimizer.update` does a whole step, optionally copying the weights it changes
into a ``backup`` array on the way (the trainer's last good weights).  The same step in
two halves, :meth:`Optimizer.compute_step` (the step ``d`` in the scratch array) and
:meth:`Optimizer.apply_step` (``w -= d``), lets the trainer look at ``d`` first when
it cannot rule out an overflow from the gradient's norm (``core.training.guard``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

Array = np.ndarray
#: Elements per block of Adam's update: the five arrays' blocks (5 x 1 MB in float32)
#: stay in the last-level cache across its passes; a network of up to 262,144
#: parameters is one block. Measured on 4M parameters: 8.4-10.4 ms a step in blocks of
#: 65,536 or 262,144 against 11.5-11.9 ms in one; on the 235,146 of the benchmark's
#: MLP, 65,536-element blocks cost 5-25 % more than one block (four times the calls).
CHUNK = 1 << 18
#: Every this many steps, state values too small to matter are set to 0 (see
#: :meth:`Optimizer._flush_tiny`).
FLUSH_EVERY = 64

DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"lr": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adagrad": {"lr": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adam": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adamw": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
              "weight_decay": 0.004},
}
"""Every optimizer's settings with Keras 3's defaults (``lr`` is Keras' learning_rate)."""
DEFAULTS["adamw"]["decay_kernels_only"] = False
CLIP_KEYS = ("clipnorm", "global_clipnorm", "clipvalue")
"""Keras' gradient clipping settings, accepted by every optimizer (None: off)."""


def _clipping(config: dict[str, Any]) -> None:
    """Check the clipping settings in place: positive numbers or None, at most one."""
    for key in CLIP_KEYS:
        if config.get(key) is not None:
            config[key] = _number(config, key, 0.0, math.inf, low_open=True,
                                  high_open=True)
    given = [key for key in CLIP_KEYS if config.get(key) is not None]
    if len(given) > 1:
        raise ValueError(f"set only one of {', '.join(given)}: Keras allows one kind of "
                         "gradient clipping per optimizer.")


def _number(config: Mapping[str, Any], key: str, low: float, high: float,
            low_open: bool = False, high_open: bool = False) -> float:
    """``config[key]`` as a float inside the given interval, or a ValueError saying so."""
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"optimizer setting {key!r} must be a number, got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"optimizer setting {key!r} = {value} is out of range; "
                         f"use a value in {lo}{low:g}, {high:g}{hi}")
    return value


def normalize_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config with its defaults filled in and every value checked.

    Accepts Keras' ``learning_rate`` as another name for ``lr``.  Unknown types or keys
    raise a ValueError that names the closest valid choice.
    """
    config = dict(config or {"type": "adam"})
    kind = str(config.pop("type", "adam")).lower()
    if kind not in DEFAULTS:
        near = difflib.get_close_matches(kind, DEFAULTS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown optimizer {kind!r}{hint}. Choose one of "
                         f"{', '.join(DEFAULTS)}.")
    if "learning_rate" in config:
        config.setdefault("lr", config.pop("learning_rate"))
    allowed = (*DEFAULTS[kind], *CLIP_KEYS)
    unknown = set(config) - set(allowed)
    for key in sorted(unknown):
        near = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"optimizer {kind!r} has no setting {key!r}{hint}. Its settings "
                         f"are {', '.join(allowed)}.")
    full = {"type": kind, **DEFAULTS[kind], **config}
    _clipping(full)
    _number(full, "lr", 0.0, math.inf, low_open=True, high_open=True)
    for key in ("momentum", "rho", "beta_1", "beta_2"):
        if key in full:
            full[key] = _number(full, key, 0.0, 1.0, high_open=True)
    for key in ("epsilon",):
        if key in full:
            full[key] = _number(full, key, 0.0, 1.0, low_open=True)
    for key in ("initial_accumulator_value", "weight_decay"):
        if key in full:
            full[key] = _number(full, key, 0.0, math.inf, high_open=True)
    full["lr"] = float(full["lr"])
    for key in ("nesterov", "centered", "decay_kernels_only"):
        if key in full:
            full[key] = bool(full[key])
    return full


def merge_slices(slices: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, stop) ranges sorted with touching ones joined, so loops over them are short."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted((int(a), int(b)) for a, b in slices if b > a):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


class Optimizer:
    """An update rule and its state for a flat parameter buffer of ``size`` values.

    Subclasses name their state arrays in :meth:`state_names` and implement
    :meth:`_compute`, which fills ``self.scratch`` with the amount to subtract from the
    parameters.
    """

    STATE: ClassVar[tuple[str, ...]] = ()

    def state_names(self) -> tuple[str, ...]:
        """The state arrays this configuration needs (unused ones are not allocated)."""
        return self.STATE

    def __init__(self, config: Mapping[str, Any], size: int, dtype: Any = np.float32,
                 decay_slices: Sequence[tuple[int, int]] | None = None) -> None:
        self.config = normalize_config(config)
        self.size = int(size)
        self.dtype = np.dtype(dtype)
        kernels_only = self.config.get("decay_kernels_only") and decay_slices is not None
        self.decay_slices = (merge_slices(decay_slices) if kernels_only
                             else [(0, self.size)])
        self.iterations = 0
        self.scratch = np.zeros(self.size, self.dtype)
        self._work: Array | None = None
        self._backup: Array | None = None
        self.state: dict[str, Array] = {}
        self.reset()

    @property
    def lr(self) -> float:
        """The configured (base) learning rate."""
        return float(self.config["lr"])

    def reset(self) -> None:
        """Forget all history: as freshly made (used after a divergence)."""
        self.iterations = 0
        self._rate = 0.0
        self.state = {}
        for name in self.state_names():
            self.state[name] = np.full(self.size, self._initial(name), self.dtype)

    def _initial(self, name: str) -> float:
        """Initial value of state array ``name``."""
        return 0.0

    def work(self) -> Array:
        """A second scratch array, made on first use (Nesterov, centered, AdamW)."""
        if self._work is None:
            self._work = np.empty(self.size, self.dtype)
        return self._work

    # ---- the update -------------------------------------------------------------------
    def update(self, params: Array, grads: Array, lr: float | None = None,
               backup: Array | None = None) -> None:
        """One step on ``params`` in place from ``grads`` with learning rate ``lr``.

        With ``backup`` (an array like ``params``) the parameters from before the step
        are copied there on the way, block by block while they are in cache: the
        trainer's way back to the last good weights.
        """
        self._check(params, grads)
        self._flush_tiny()
        self.iterations += 1
        self._backup = backup
        self._step(params, grads, self.lr if lr is None else float(lr), params)
        self._backup = None

    def compute_step(self, params: Array, grads: Array, lr: float | None = None) -> Array:
        """Advance the state and return the step ``d`` (``params`` are not changed yet).

        ``d`` is this optimizer's scratch array: apply it with :meth:`apply_step` before
        the next call.
        """
        self._check(params, grads)
        self._flush_tiny()
        self.iterations += 1
        lr = self.lr if lr is None else float(lr)
        self._step(params, grads, lr, None)
        return self.scratch

    def _flush_tiny(self) -> None:
        """Set state values below ``2**40`` times the smallest normal float to 0.

        A parameter whose gradient stays 0 (a dead ReLU unit, an unused input) has its
        velocity or moments multiplied by ``beta < 1`` every step, and after ~800 Adam
        steps they become subnormal floats, which many CPUs compute 10 to 100 times
        slower. Values this small change no step by more than ~1e-20 of the learning
        rate; done every :data:`FLUSH_EVERY` steps, so it costs nothing measurable.
        """
        if self.iterations % FLUSH_EVERY or not self.state:
            return
        limit = np.finfo(self.dtype).tiny * 2.0 ** 40
        keep = self.scratch  # free between steps: the last step has been applied
        for array in self.state.values():
            np.abs(array, out=keep)
            np.greater_equal(keep, limit, out=keep)  # 1 where the value matters, else 0
            np.multiply(array, keep, out=array)

    def apply_step(self, params: Array, step: Array, offset: int = 0) -> None:
        """``params -= step`` in place (AdamW also decays the kernels here).

        ``params`` and ``step`` may be a block of the buffers starting at ``offset``.
        """
        np.subtract(params, step, out=params)

    def _scales(self) -> dict[str, float]:
        """Factors from the stored state arrays to the Keras-named ones (Adam: m', v')."""
        return {}

    def _step(self, params: Array, grads: Array, lr: float, apply_to: Array | None) -> None:
        """Fill ``self.scratch`` with the step; then apply it to ``apply_to`` if given.

        Adam overrides this to apply block by block while the step is still in cache.
        """
        self._compute(params, grads, lr)
        if apply_to is not None:
            if self._backup is not None:
                np.copyto(self._backup, apply_to)
            self.apply_step(apply_to, self.scratch)

    def _compute(self, params: Array, grads: Array, lr: float) -> None:
        raise NotImplementedError

    def _check(self, params: Array, grads: Array) -> None:
        for name, a in (("parameters", params), ("gradients", grads)):
            if a.shape != (self.size,) or a.dtype != self.dtype:
                raise ValueError(f"the optimizer was made for {self.size} {self.dtype} values "
                                 f"but got {name} of shape {a.shape} and type {a.dtype}; "
                                 "make a new optimizer after changing the network")

    # ---- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Array | float | int]:
        """Copies of the state arrays plus ``iterations`` (saved in the project file)."""
        out: dict[str, Array | float | int] = {"iterations": int(self.iterations)}
        scales = self._scales()
        for name, arr in self.state.items():
            out[name] = arr * scales[name] if name in scales else arr.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`; a ValueError if it does not fit this optimizer."""
        missing = [name for name in ("iterations", *self.state_names()) if name not in state]
        if missing:
            raise ValueError(f"saved {self.config['type']} state lacks {', '.join(missing)}; "
                             "it was saved by another optimizer, training restarts its state")
        arrays = {}
        for name in self.state_names():
            arr = np.asarray(state[name])
            if arr.shape != (self.size,):
                raise ValueError(f"saved optimizer state {name!r} has shape {arr.shape} but "
                                 f"the network has {self.size} parameters; the network changed "
                                 "since it was saved, so the optimizer starts afresh")
            if not np.issubdtype(arr.dtype, np.floating):
                raise ValueError(f"saved optimizer state {name!r} is not floating point")
            arrays[name] = arr
        iterations = int(np.asarray(state["iterations"]))
        if iterations < 0:
            raise ValueError("saved optimizer state has a negative iteration count")
        scales = self._scales()
        for name, arr in arrays.items():
            np.copyto(self.state[name], arr / scales[name] if name in scales else arr,
                      casting="same_kind")
        self.iterations = iterations



class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    STATE = ("velocity",)

    def state_names(self) -> tuple[str, ...]:
        return self.STATE if self.config["momentum"] > 0.0 else ()

    def _compute(self, params: Array, grads: Array, lr: float) -> None:
        d, momentum = self.scratch, self.config["momentum"]
        np.multiply(grads, lr, out=d)  # d = lr g
        if momentum == 0.0:
            return
        v = self.state["velocity"]
        v *= momentum
        v -= d  # v = momentum v - lr g
        if self.config["nesterov"]:
            # w += momentum v - lr g, so d = lr g - momentum v
            d -= np.multiply(v, momentum, out=self.work())
        else:
            np.negative(v, out=d)


class RMSprop(Optimizer):
    """Divides each step by a running root mean square of recent gradients."""

    STATE = ("velocity", "momentum", "average_gradient")

    def state_names(self) -> tuple[str, ...]:
        names = ["velocity"]
        if self.config["momentum"] > 0.0:
            names.append("momentum")
        if self.config["centered"]:
            names.append("average_gradient")
        return tuple(names)

    def _compute(self, params: Array, grads: Array, lr: float) -> None:
        d, cfg = self.scratch, self.config
        rho = cfg["rho"]
        s = self.state["velocity"]
        np.multiply(grads, grads, out=d)
        d *= 1.0 - rho
        s *= rho
        s += d
        if cfg["centered"]:
            a = self.state["average_gradient"]
            a *= rho
            a += np.multiply(grads, 1.0 - rho, out=self.work())
            np.multiply(a, a, out=d)
            np.subtract(s, d, out=d)
        else:
            np.copyto(d, s)
        d += cfg["epsilon"]
        np.sqrt(d, out=d)
        np.divide(grads, d, out=d)
        d *= lr
        if cfg["momentum"] > 0.0:
            mom = self.state["momentum"]
            mom *= cfg["momentum"]
            mom += d
            np.copyto(d, mom)


class Adagrad(Optimizer):
    """Divides each step by the root of all squared gradients seen so far."""

    STATE = ("accumulator",)

    def _initial(self, name: str) -> float:
        return float(self.config["initial_accumulator_value"])

    def _compute(self, params: Array, grads: Array, lr: float) -> None:
        d, acc = self.scratch, self.state["accumulator"]
        np.multiply(grads, grads, out=d)
        acc += d
        np.add(acc, self.config["epsilon"], out=d)
        np.sqrt(d, out=d)
        np.divide(grads, d, out=d)
        d *= lr


class Adam(Optimizer):
    """Adaptive moments, Keras' rule, in ten passes over the buffer.

    The moments are kept divided by their EMA weights, ``m' = m / (1 - b1)`` and
    ``v' = v / (1 - b2)``, so that ``m' = b1 m' + g`` and ``v' = b2 v' + g^2`` need no
    scaling pass; the factors are folded into the scalar step size and epsilon.
    :meth:`state_dict` converts back to Keras' ``m`` and ``v``.
    """

    STATE = ("m", "v")

    def _step(self, params: Array, grads: Array, lr: float, apply_to: Array | None) -> None:
        cfg = self.config
        b1, b2, t = cfg["beta_1"], cfg["beta_2"], self.iterations
        root = math.sqrt(1.0 - b2)
        # alpha m / (sqrt(v) + eps) with alpha = lr sqrt(1 - b2^t) / (1 - b1^t), in m', v'
        alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t) * (1.0 - b1) / root
        eps = cfg["epsilon"] / root
        m_all, v_all, d_all = self.state["m"], self.state["v"], self.scratch
        # Blocks small enough that the five arrays' slices stay in cache across passes.
        for s in range(0, self.size, CHUNK):
            m, v, d, g = m_all[s:s + CHUNK], v_all[s:s + CHUNK], d_all[s:s + CHUNK], \
                grads[s:s + CHUNK]
            m *= b1
            m += g
            v *= b2
            v += np.multiply(g, g, out=d)
            np.sqrt(v, out=d)
            d += eps
            np.divide(m, d, out=d)
            d *= alpha
            if apply_to is not None:
                if self._backup is not None:
                    np.copyto(self._backup[s:s + CHUNK], apply_to[s:s + CHUNK])
                self.apply_step(apply_to[s:s + CHUNK], d, s)

    def _scales(self) -> dict[str, float]:
        return {"m": 1.0 - self.config["beta_1"], "v": 1.0 - self.config["beta_2"]}



class AdamW(Adam):
    """Adam with decoupled weight decay, ``w -= lr * weight_decay * w`` first: on every
    parameter (Keras), or on the kernels alone with ``decay_kernels_only``."""

    def _step(self, params: Array, grads: Array, lr: float, apply_to: Array | None) -> None:
        self._rate = lr * self.config["weight_decay"]
        super()._step(params, grads, lr, apply_to)

    def apply_step(self, params: Array, step: Array, offset: int = 0) -> None:
        rate, end = self._rate, offset + len(params)
        if rate:
            for start, stop in self.decay_slices:
                lo, hi = max(start, offset), min(stop, end)
                if lo < hi:
                    params[lo - offset:hi - offset] *= 1.0 - rate
        np.subtract(params, step, out=params)



OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adam": Adam, "adamw": AdamW,
}


def make_optimizer(config: Mapping[str, Any] | None, size: int, dtype: Any = np.float32,
                   decay_slices: Sequence[tuple[int, int]] | None = None) -> Optimizer:
    """The optimizer ``config`` describes, for a flat buffer of ``size`` values.

    ``decay_slices`` are the (start, stop) ranges of the kernels (from
    ``ParamRef.decay``), which AdamW's weight decay keeps to when the config says
    ``decay_kernels_only``; otherwise it decays every parameter, as in Keras.
    """
    full = normalize_config(config)
    return OPTIMIZERS[full["type"]](full, size, dtype, decay_slices)
