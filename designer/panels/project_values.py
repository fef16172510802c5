"""Values read from a project file for the panels' widgets, tolerant of hand-edited files.

`core.project.load_project` keeps the training and data sections as they were written, so a
damaged or hand-edited file may hold ``"batch_size": "x"`` or ``"optimizer": 5``. The
panels show the default for such a value instead of failing half way through filling their
widgets; training with it then fails with core's message naming the bad setting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    """`value` as a dict ({} unless it is a mapping)."""
    return dict(value) if isinstance(value, Mapping) else {}


def as_float(value: Any, default: float) -> float:
    """`value` as a finite float, else `default` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return float(default)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return float(default)
    return number if math.isfinite(number) else float(default)


def as_int(value: Any, default: int) -> int:
    """`value` as an int within a spin box's 32-bit range, else `default`."""
    number = as_float(value, math.nan)
    if not math.isfinite(number) or abs(number) >= 2**31:
        return int(default)
    return int(number)
