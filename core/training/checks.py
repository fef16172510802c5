"""Argument and data checks for the trainer: each error names the argument, the bad
value and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.spec import SpecError, validate

Array = np.ndarray


def first_bad_row(a: Array, chunk: int = 4096) -> int | None:
    """Index of the first row holding NaN or inf, in chunks (no full-size temporary)."""
    for s in range(0, len(a), chunk):
        part = a[s:s + chunk]
        if not np.isfinite(part).all():
            ok = np.isfinite(part.reshape(len(part), -1)).all(axis=1)
            return s + int(np.argmin(ok))
    return None


def check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def check_float(name: str, value: Any, positive: bool = False) -> float:
    need = "a number greater than 0" if positive else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be {need}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {need}, got {value}")
    return value


def check_factor(value: Any) -> float | None:
    """``divergence_factor``: None (blow-up check off) or a finite number above 1."""
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
            or not math.isfinite(float(value)) or float(value) <= 1):
        raise ValueError("divergence_factor must be a number greater than 1 (how many "
                         "times its lowest value the smoothed loss may grow, e.g. 1e4) or "
                         f"None to turn the check off, got {value!r}")
    return float(value)


def check_callbacks(callbacks: Any) -> list[Any]:
    from core.training.callbacks import Callback  # callbacks.py imports this module

    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
        raise ValueError(f"callbacks must be a list of Callback objects or functions, "
                         f"got {callbacks!r}")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback) and not callable(cb):
            raise ValueError(f"callbacks[{i}] must be a Callback or a function taking an "
                             f"event, got {cb!r}")
    return list(callbacks)


def check_loss_fits(net: Any, loss: str) -> None:
    """SpecError when ``loss`` does not fit the network's output (warnings pass)."""
    spec = getattr(net, "spec", None)
    if spec is None:
        return
    errors = [p for p in validate(spec, loss=loss) if p.severity == "error"]
    if errors:
        raise SpecError(errors)
