"""Weight initializers (Keras names), seeded through a NumPy Generator.

Fan-in and fan-out follow Keras: for a Dense kernel ``(in, out)`` they are ``in`` and
``out``; for a Conv2D kernel ``(kh, kw, in_c, filters)`` they are ``kh*kw*in_c`` and
``kh*kw*filters``.  Every initializer fills ``out`` (a view into the flat parameter
buffer) in place, so that initialising never allocates a second copy of the weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Initializer = Callable[[np.ndarray, np.random.Generator], None]
CONSTANT_VALUE = 0.0  # "constant" without a value fills zeros, like Keras' Constant()


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape``, as Keras computes them."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _uniform(limit_of: Callable[[int, int], float]) -> Initializer:
    def init(out: np.ndarray, rng: np.random.Generator) -> None:
        limit = limit_of(*fans(out.shape))
        out[...] = rng.uniform(-limit, limit, size=out.shape)
    return init


def _normal(std_of: Callable[[int, int], float]) -> Initializer:
    def init(out: np.ndarray, rng: np.random.Generator) -> None:
        std = std_of(*fans(out.shape))
        # Keras draws from a normal truncated at 2 std, whose std is 0.8796 of the
        # untruncated one; redraw the tails and rescale to keep the variance right.
        x = rng.standard_normal(size=out.shape)
        bad = np.abs(x) > 2.0
        while bad.any():
            x[bad] = rng.standard_normal(size=int(bad.sum()))
            bad = np.abs(x) > 2.0
        out[...] = x * (std / 0.87962566103423978)
    return init


def _fill(value: float) -> Initializer:
    def init(out: np.ndarray, rng: np.random.Generator) -> None:
        out[...] = value
    return init


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": _uniform(lambda i, o: math.sqrt(6.0 / max(i + o, 1))),
    "glorot_normal": _normal(lambda i, o: math.sqrt(2.0 / max(i + o, 1))),
    "he_uniform": _uniform(lambda i, o: math.sqrt(6.0 / max(i, 1))),
    "he_normal": _normal(lambda i, o: math.sqrt(2.0 / max(i, 1))),
    "lecun_uniform": _uniform(lambda i, o: math.sqrt(3.0 / max(i, 1))),
    "lecun_normal": _normal(lambda i, o: math.sqrt(1.0 / max(i, 1))),
    "zeros": _fill(0.0),
    "ones": _fill(1.0),
    "constant": _fill(CONSTANT_VALUE),
}


def initialize(name: str, out: np.ndarray, rng: np.random.Generator,
               value: float | None = None) -> None:
    """Fill ``out`` in place with initializer ``name`` (``value`` for "constant")."""
    if name == "constant" and value is not None:
        out[...] = value
        return
    try:
        INITIALIZERS[name](out, rng)
    except KeyError:
        raise KeyError(f"unknown initializer {name!r}; choose one of "
                       f"{', '.join(INITIALIZERS)}") from None
