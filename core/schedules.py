"""Learning-rate schedules: the learning rate as a function of training progress.

``make_schedule(config, base_lr)`` returns ``lr(epoch, step)`` where ``epoch`` counts
completed epochs (0 during the first) and ``step`` counts completed optimizer steps
(batches).  Schedules count epochs unless the config says ``"per": "batch"``: students
think in epochs, and an epoch-based schedule does not change meaning with the batch size.

===========  ===============================================  =========================
type         lr(t)                                            settings (defaults)
===========  ===============================================  =========================
constant     base                                             -
step         base * gamma ** floor(t / step_size)             step_size=10, gamma=0.5
exponential  base * decay_rate ** (t / decay_steps)           decay_steps=1,
             (floor(t / decay_steps) when staircase)          decay_rate=0.96,
                                                              staircase=false
cosine       base * ((1 - alpha) * (1 + cos(pi * min(t, T)    decay_steps=100 (T),
             / T)) / 2 + alpha)                               alpha=0.0
===========  ===============================================  =========================

The names of exponential and cosine follow Keras' ExponentialDecay and CosineDecay; step
follows PyTorch's StepLR, which Keras has no single class for.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

Schedule = Callable[[int, int], float]

SCHEDULE_DEFAULTS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"step_size": 10, "gamma": 0.5},
    "exponential": {"decay_steps": 1, "decay_rate": 0.96, "staircase": False},
    "cosine": {"decay_steps": 100, "alpha": 0.0},
}
"""Each schedule's settings and defaults; every schedule also takes ``per``."""


def _positive(config: Mapping[str, Any], key: str, allow_zero: bool = False) -> float:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"schedule setting {key!r} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "greater than zero"
        raise ValueError(f"schedule setting {key!r} = {value} must be {need}")
    return value


def normalize_schedule(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The schedule config with defaults filled in and values checked (ValueError)."""
    if config is not None and not isinstance(config, Mapping):
        raise ValueError("schedule must be a dict such as {'type': 'step', 'step_size': 10} "
                         f"or None for a constant learning rate, got {config!r}")
    config = dict(config or {"type": "constant"})
    kind = config.pop("type", "constant")
    if not isinstance(kind, str):
        raise ValueError(f"schedule 'type' must be one of {', '.join(SCHEDULE_DEFAULTS)}, "
                         f"got {kind!r}")
    kind = kind.lower()
    if kind not in SCHEDULE_DEFAULTS:
        near = difflib.get_close_matches(kind, SCHEDULE_DEFAULTS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ValueError(f"unknown learning-rate schedule {kind!r}{hint}. Choose one of "
                         f"{', '.join(SCHEDULE_DEFAULTS)}.")
    allowed = {**SCHEDULE_DEFAULTS[kind], "per": "epoch"}
    for key in config:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"schedule {kind!r} has no setting {key!r}{hint}. Its settings "
                             f"are {', '.join(allowed)}.")
    full = {"type": kind, **allowed, **config}
    if full["per"] not in ("epoch", "batch"):
        raise ValueError(f"schedule setting 'per' must be 'epoch' or 'batch', not "
                         f"{full['per']!r}")
    for key in ("step_size", "decay_steps"):
        if key in full:
            full[key] = _positive(full, key)
    for key in ("gamma", "decay_rate", "alpha"):
        if key in full:
            full[key] = _positive(full, key, allow_zero=True)
    if "alpha" in full and full["alpha"] > 1:
        raise ValueError("cosine schedule 'alpha' is the final fraction of the learning "
                         f"rate and must lie in [0, 1], got {full['alpha']}")
    if "staircase" in full and not isinstance(full["staircase"], bool):  # not bool("no")
        raise ValueError("schedule setting 'staircase' must be true or false, got "
                         f"{full['staircase']!r}")
    return full


def make_schedule(config: Mapping[str, Any] | None, base_lr: float) -> Schedule:
    """``lr(epoch, step)`` for ``config`` (None means constant) starting at ``base_lr``."""
    cfg = normalize_schedule(config)
    base = float(base_lr)
    kind, per_batch = cfg["type"], cfg["per"] == "batch"

    def factor(t: float) -> float:
        if kind == "step":
            return cfg["gamma"] ** math.floor(t / cfg["step_size"])
        if kind == "exponential":
            p = t / cfg["decay_steps"]
            return cfg["decay_rate"] ** (math.floor(p) if cfg["staircase"] else p)
        if kind == "cosine":
            frac = min(t, cfg["decay_steps"]) / cfg["decay_steps"]
            alpha = cfg["alpha"]
            return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * frac)) + alpha
        return 1.0

    def schedule(epoch: int, step: int) -> float:
        return base * factor(float(step if per_batch else epoch))

    schedule.config = cfg  # type: ignore[attr-defined]
    return schedule
