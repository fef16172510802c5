"""The error function for arrays, which NumPy lacks (the exact GELU needs it).

W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for
the error function", Math. Comp. 23, 1969, 631-637; his SPECFUN routine CALERF), with
the published coefficients, on three intervals of ``y = |x|``: ``erf`` directly for
``y <= 0.46875``, ``erfc(y) = exp(-y^2) R(y)`` up to 4 and ``exp(-y^2) (1/sqrt(pi) -
R(1/y^2)) / y`` beyond.  ``exp(-y^2)`` is taken as ``exp(-t^2) exp(-(y - t)(y + t))``
with ``t`` = ``y`` rounded down to 1/16, which keeps the rounding of ``y^2`` out of
the result.  In float64 the relative error of ``erfc`` is below 1e-15 wherever it is
above the smallest normal number (tests/core/test_special.py compares a dense grid
with the standard library's ``math.erfc``).  Large tails come from ``erfc`` directly,
never from ``1 - erf``, so ``erfc(10)`` keeps all its digits.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
SMALL, MIDDLE, BIG = 0.46875, 4.0, 26.543  # interval ends; erfc(y) underflows beyond BIG


def _erf_small(y: Array) -> Array:
    """erf on |y| <= 0.46875."""
    z = y * y
    num, den = _A[4] * z, z
    for a, b in zip(_A[:3], _B[:3], strict=True):
        num = (num + a) * z
        den = (den + b) * z
    return y * (num + _A[3]) / (den + _B[3])


def _gauss(y: Array) -> Array:
    """exp(-y^2) without the rounding error of y^2 (Cody's split at 1/16)."""
    t = np.floor(y * 16.0) / 16.0
    return np.exp(-t * t) * np.exp(-(y - t) * (y + t))


def _erfc_middle(y: Array) -> Array:
    """erfc on 0.46875 < y <= 4."""
    num, den = _C[8] * y, y
    for c, d in zip(_C[:7], _D[:7], strict=True):
        num = (num + c) * y
        den = (den + d) * y
    return _gauss(y) * (num + _C[7]) / (den + _D[7])


def _erfc_large(y: Array) -> Array:
    """erfc on 4 < y < 26.543."""
    z = 1.0 / (y * y)
    num, den = _P[5] * z, z
    for p, q in zip(_P[:4], _Q[:4], strict=True):
        num = (num + p) * z
        den = (den + q) * z
    r = z * (num + _P[4]) / (den + _Q[4])
    return _gauss(y) * (_INV_SQRT_PI - r) / y


def erfc(x: Array) -> Array:
    """Complementary error function ``1 - erf(x)`` of every element (float result)."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    y = np.abs(x)
    out = np.zeros_like(y)
    small = y <= SMALL
    out[small] = 1.0 - _erf_small(x[small])
    mid = ~small & (y <= MIDDLE)
    out[mid] = _erfc_middle(y[mid])
    large = (y > MIDDLE) & (y < BIG)
    out[large] = _erfc_large(y[large])
    neg = ~small & (x < 0)  # erfc(-y) = 2 - erfc(y); NaN stays NaN through the masks
    out[neg] = 2.0 - out[neg]
    out[np.isnan(x)] = np.nan
    return out


def erf(x: Array) -> Array:
    """Error function of every element; small arguments go straight to the series."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    out = 1.0 - erfc(x)
    small = np.abs(x) <= SMALL
    out[small] = _erf_small(x[small])
    return out
