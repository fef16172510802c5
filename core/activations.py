"""Activation functions: name -> Activation with a forward and a backward pass.

Every forward is written so that inputs of +-1e4 give neither overflow warnings nor NaN
(exponentials only ever see non-positive arguments).  ``backward(x, y, dy, out)`` gets the
pre-activation ``x``, the output ``y`` and the incoming gradient ``dy`` and writes the
gradient with respect to ``x`` into ``out`` (which may be ``dy`` only when the caller owns
``dy``).  The registry is what the palette, the inspector and the exporters list.

Activations marked ``from_output`` get their derivative from the output alone (passing
``y`` as ``x`` to ``backward`` is exact), and their forward may write over its input, so
layers apply them in place and keep one array instead of two.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from core.special import erfc

Array = np.ndarray
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715
LEAKY_SLOPE = 0.2   # Keras 3's default negative_slope of the leaky_relu activation
ELU_ALPHA = 1.0
#: Layer settings that shape an activation (Keras' argument names), with defaults.
ACTIVATION_OPTIONS: dict[str, Any] = {"negative_slope": LEAKY_SLOPE, "approximate": False}


@dataclass(frozen=True)
class Activation:
    """One activation: ``forward(x, out)`` and ``backward(x, y, dy, out)``."""

    name: str
    forward_fn: Callable[[Array, Array], Array]
    backward_fn: Callable[[Array, Array, Array, Array], Array]
    formula: str
    description: str
    from_output: bool = False

    def forward(self, x: Array, out: Array | None = None) -> Array:
        """y = f(x), written into ``out`` when given (must not alias ``x`` for gelu)."""
        if out is None:
            out = np.empty_like(x)
        return self.forward_fn(x, out)

    def backward(self, x: Array, y: Array, dy: Array, out: Array | None = None) -> Array:
        """dL/dx given dL/dy; ``out`` receives the result (allocated when None)."""
        if out is None:
            out = np.empty_like(dy)
        return self.backward_fn(x, y, dy, out)


# ---- forward passes -------------------------------------------------------------------

def _linear(x: Array, out: Array) -> Array:
    if out is not x:
        np.copyto(out, x)
    return out


def _sigmoid(x: Array, out: Array) -> Array:
    # exp(-|x|) never overflows; then pick 1/(1+e) or e/(1+e) by sign.
    neg = x < 0
    e = np.exp(-np.abs(x))
    np.divide(1.0, 1.0 + e, out=out)
    np.multiply(e, out, out=e)
    np.copyto(out, e, where=neg)
    return out


def _tanh(x: Array, out: Array) -> Array:
    return np.tanh(x, out=out)


_zero_blocks: dict[np.dtype, Array] = {}


def zeros_like(x: Array) -> Array:
    """A read-only array of zeros shaped like ``x``, a view of one shared block.

    ``np.maximum(x, 0)`` takes NumPy's scalar loop, which is not vectorised: 3x slower
    than against an array of zeros (a ReLU over a 28x28x16 conv output of 64 images,
    0.30 ms against 0.10 ms). The block comes from calloc, so its pages cost no memory
    until written, and they never are.
    """
    block = _zero_blocks.get(x.dtype)
    if block is None or block.size < x.size:
        block = np.zeros(max(x.size, 1 << 16), x.dtype)
        block.flags.writeable = False
        _zero_blocks[x.dtype] = block
    return block[:x.size].reshape(x.shape)


def _relu(x: Array, out: Array) -> Array:
    return np.maximum(x, zeros_like(x), out=out)


def _leaky_relu(x: Array, out: Array, slope: float = LEAKY_SLOPE) -> Array:
    # max(x, a*x) is exact for 0 <= a <= 1 (the range the layer allows).
    return np.maximum(x, x * slope, out=out)


def _elu(x: Array, out: Array) -> Array:
    mask = x <= 0
    neg = np.minimum(x, zeros_like(x))
    np.expm1(neg, out=neg)
    neg *= ELU_ALPHA
    if out is not x:
        np.copyto(out, x)
    np.copyto(out, neg, where=mask)
    return out


def _softplus(x: Array, out: Array) -> Array:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
    t = np.exp(-np.abs(x))
    np.log1p(t, out=t)
    np.maximum(x, zeros_like(x), out=out)
    out += t
    return out


def _gelu(x: Array, out: Array) -> Array:
    # Exact: x Phi(x) = 0.5 x erfc(-x / sqrt(2)) (Keras 3's and PyTorch's default form;
    # erfc keeps the far negative tail accurate where 1 + erf(x) would cancel).
    np.multiply(x, erfc(x * -_INV_SQRT_2), out=out)
    out *= 0.5
    return out


def _gelu_tanh(x: Array, out: Array) -> Array:
    # tanh approximation (Keras' gelu(approximate=True) and PyTorch's tanh variant).
    u = x * x
    u *= _GELU_C
    u += 1.0
    u *= x
    u *= _SQRT_2_OVER_PI
    np.tanh(u, out=u)
    u += 1.0
    u *= 0.5
    np.multiply(x, u, out=out)
    return out


def row_max(x2: Array) -> Array:
    """Max of each row of a 2-D array, shaped (rows, 1).

    NumPy reduces short rows one by one; the maximum over the rows of the transposed
    copy is a handful of vector operations instead (5x faster for 10 classes).
    """
    if x2.shape[1] <= 64:
        return np.ascontiguousarray(x2.T).max(axis=0)[:, None]
    return x2.max(axis=1, keepdims=True)


def row_sum(x2: Array) -> Array:
    """Sum of each row of a 2-D array, shaped (rows, 1), as a matrix-vector product."""
    return np.matmul(x2, np.ones(x2.shape[1], dtype=x2.dtype))[:, None]


def _softmax(x: Array, out: Array) -> Array:
    # Over the last axis; subtracting the row max keeps every exponent <= 0.
    k = x.shape[-1]
    x2, o2 = x.reshape(-1, k), out.reshape(-1, k)
    np.subtract(x2, row_max(x2), out=o2)
    np.exp(o2, out=o2)
    o2 /= row_sum(o2)
    return out


# ---- backward passes ------------------------------------------------------------------

def _d_linear(x: Array, y: Array, dy: Array, out: Array) -> Array:
    if out is not dy:
        np.copyto(out, dy)
    return out


def _d_sigmoid(x: Array, y: Array, dy: Array, out: Array) -> Array:
    t = 1.0 - y
    t *= y
    return np.multiply(dy, t, out=out)


def _d_tanh(x: Array, y: Array, dy: Array, out: Array) -> Array:
    t = y * y
    np.subtract(1.0, t, out=t)
    return np.multiply(dy, t, out=out)


def _d_relu(x: Array, y: Array, dy: Array, out: Array) -> Array:
    if out is dy or out is x:
        return np.multiply(dy, x > 0, out=out)
    # A 0/1 float mask written straight into out: no boolean temporary to cast.
    np.greater(x, 0, out=out, casting="unsafe")
    return np.multiply(out, dy, out=out)


def _d_leaky_relu(x: Array, y: Array, dy: Array, out: Array,
                  slope: float = LEAKY_SLOPE) -> Array:
    if out is not dy:
        np.copyto(out, dy)
    neg = x <= 0
    np.multiply(out, slope, out=out, where=neg)
    return out


def _d_elu(x: Array, y: Array, dy: Array, out: Array) -> Array:
    # For x <= 0: d/dx alpha*(e^x - 1) = y + alpha.
    t = y + ELU_ALPHA
    np.copyto(t, 1.0, where=x > 0)
    return np.multiply(dy, t, out=out)


def _d_softplus(x: Array, y: Array, dy: Array, out: Array) -> Array:
    t = np.empty_like(x)
    _sigmoid(x, t)
    return np.multiply(dy, t, out=out)


def _d_gelu(x: Array, y: Array, dy: Array, out: Array) -> Array:
    # d/dx x Phi(x) = Phi(x) + x phi(x)
    t = x * x
    t *= -0.5
    np.exp(t, out=t)
    t *= _INV_SQRT_2PI
    t *= x
    t += 0.5 * erfc(x * -_INV_SQRT_2)
    return np.multiply(dy, t, out=out)


def _d_gelu_tanh(x: Array, y: Array, dy: Array, out: Array) -> Array:
    x2 = x * x
    inner = x2 * _GELU_C
    inner += 1.0
    inner *= x
    inner *= _SQRT_2_OVER_PI
    th = np.tanh(inner, out=inner)
    # d/dx 0.5 x (1 + th) = 0.5 (1 + th) + 0.5 x (1 - th^2) sqrt(2/pi) (1 + 3c x^2)
    sech2 = 1.0 - th * th
    x2 *= 3.0 * _GELU_C
    x2 += 1.0
    x2 *= _SQRT_2_OVER_PI * 0.5
    x2 *= x
    x2 *= sech2
    th += 1.0
    th *= 0.5
    th += x2
    return np.multiply(dy, th, out=out)


def _d_softmax(x: Array, y: Array, dy: Array, out: Array) -> Array:
    # Jacobian-vector product: y * (dy - sum(dy * y)).
    k = y.shape[-1]
    s = row_sum((dy * y).reshape(-1, k)).reshape(y.shape[:-1] + (1,))
    np.subtract(dy, s, out=out)
    out *= y
    return out


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", _linear, _d_linear, "f(x) = x", "No activation (identity)."),
        Activation("sigmoid", _sigmoid, _d_sigmoid, "f(x) = 1 / (1 + e^-x)",
                   "Squashes to (0, 1); for binary outputs.", True),
        Activation("tanh", _tanh, _d_tanh, "f(x) = tanh(x)", "Squashes to (-1, 1).", True),
        Activation("relu", _relu, _d_relu, "f(x) = max(0, x)",
                   "Rectified linear unit; the usual hidden-layer choice.", True),
        Activation("leaky_relu", _leaky_relu, _d_leaky_relu,
                   f"f(x) = x if x > 0 else {LEAKY_SLOPE} x",
                   "ReLU with a small slope for negative inputs.", True),
        Activation("elu", _elu, _d_elu, "f(x) = x if x > 0 else e^x - 1",
                   "Exponential linear unit; smooth for negative inputs.", True),
        Activation("softplus", _softplus, _d_softplus, "f(x) = log(1 + e^x)",
                   "A smooth ReLU."),
        Activation("gelu", _gelu, _d_gelu, "f(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt(2)))",
                   "Gaussian error linear unit (exact, as Keras and PyTorch)."),
        Activation("softmax", _softmax, _d_softmax, "f(x)_i = e^x_i / sum_j e^x_j",
                   "Turns scores into class probabilities (last axis)."),
    )
}


def activation_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of :data:`ACTIVATION_OPTIONS` that a layer's ``config`` holds."""
    return {k: config[k] for k in ACTIVATION_OPTIONS if k in config}


def get_activation(name: str | None, negative_slope: float = LEAKY_SLOPE,
                   approximate: bool = False) -> Activation:
    """The activation called ``name`` (None means linear); KeyError names the choices.

    ``negative_slope`` shapes leaky_relu and ``approximate`` picks GELU's tanh form, as
    Keras' ``leaky_relu(x, negative_slope=0.2)`` and ``gelu(x, approximate=False)``;
    other activations ignore them.
    """
    key = "linear" if name is None else name
    try:
        base = ACTIVATIONS[key]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; choose one of "
                       f"{', '.join(ACTIVATIONS)}") from None
    if key == "leaky_relu" and float(negative_slope) != LEAKY_SLOPE:
        return _leaky_variant(float(negative_slope))
    if key == "gelu" and approximate:
        return GELU_TANH
    return base


@lru_cache(maxsize=64)
def _leaky_variant(slope: float) -> Activation:
    """leaky_relu with another negative slope (one object per slope)."""
    def forward(x: Array, out: Array) -> Array:
        return _leaky_relu(x, out, slope)

    def backward(x: Array, y: Array, dy: Array, out: Array) -> Array:
        return _d_leaky_relu(x, y, dy, out, slope)

    return replace(ACTIVATIONS["leaky_relu"], forward_fn=forward, backward_fn=backward,
                   formula=f"f(x) = x if x > 0 else {slope:g} x")


GELU_TANH = replace(
    ACTIVATIONS["gelu"], forward_fn=_gelu_tanh, backward_fn=_d_gelu_tanh,
    formula="f(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
    description="Gaussian error linear unit (tanh approximation).")
