"""Loss functions: value and gradient of the batch mean.

Cross-entropies are fused with the output activation that makes them well behaved
(softmax for the categorical ones, sigmoid for the binary one): then the network hands
the pre-activation ``z`` and the probabilities ``p`` to :meth:`Loss.fused`, which returns
the value computed from ``z`` (log-sum-exp, never log(0)) and the gradient with respect to
``z``, ``(p - y) / N``.  Without the matching activation the cross-entropies follow
Keras 3 exactly: the categorical ones first divide each prediction by its sum over the
classes (so sigmoid or linear outputs become a distribution), and all of them clip the
probabilities to [1e-7, 1 - 1e-7], through which no gradient flows where the clip bites
(a clipped prediction gets a gradient of 0, as ``clip`` gives in Keras and PyTorch).

Targets: one-hot ``(N, k)`` for categorical, class indices ``(N,)`` or ``(N, 1)`` for
sparse, 0/1 ``(N,)`` or ``(N, k)`` for binary, values shaped like the output (or ``(N,)``
for one output) for regression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.activations import row_max, row_sum

Array = np.ndarray
EPSILON = 1e-7
HUBER_DELTA = 1.0


def _like(target: Array, pred: Array) -> Array:
    """Target as an array of pred's shape and dtype (no copy when it already is)."""
    t = np.asarray(target)
    if t.shape != pred.shape:
        if t.size != pred.size:
            raise ValueError(f"targets of shape {t.shape} do not match network outputs of "
                             f"shape {pred.shape}")
        t = t.reshape(pred.shape)
    return t.astype(pred.dtype, copy=False)


def _indices(target: Array, pred: Array) -> Array:
    """Class indices (N,) for sparse categorical cross-entropy, checked against pred."""
    t = np.asarray(target)
    if t.ndim == pred.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != pred.shape[:-1]:
        raise ValueError(f"sparse targets must be class indices of shape {pred.shape[:-1]}, "
                         f"got {t.shape}")
    t = t.astype(np.intp, copy=False)
    k = pred.shape[-1]
    if t.size and (t.min() < 0 or t.max() >= k):
        raise ValueError(f"class indices must lie in 0..{k - 1}, got {t.min()}..{t.max()}")
    return t.reshape(-1)


def _logsumexp_rows(z2: Array) -> Array:
    """log(sum(exp(z))) of each row, (rows,), without overflow."""
    m = row_max(z2)
    return (np.log(row_sum(np.exp(z2 - m))) + m)[:, 0]


def _rows(pred: Array) -> int:
    """Number of distributions (all axes but the last) in a categorical output."""
    return max(pred.size // max(pred.shape[-1], 1), 1)


@dataclass(frozen=True)
class Loss:
    """Base class: ``value``, ``gradient`` and, for cross-entropies, ``fused``."""

    name: str = ""
    fuses_with: str | None = None
    formula: str = ""

    def value(self, pred: Array, target: Array) -> float:
        """Batch-mean loss of predictions ``pred`` against ``target``."""
        return self.value_and_grad(pred, target, need_grad=False)[0]

    def value_and_grad(self, pred: Array, target: Array, need_grad: bool = True,
                       out: Array | None = None) -> tuple[float, Array | None]:
        """(loss, dloss/dpred); the gradient goes into ``out`` when given."""
        raise NotImplementedError

    def fused(self, z: Array, p: Array, target: Array,
              out: Array | None = None) -> tuple[float, Array]:
        """(loss, dloss/dz) when p = activation(z) is the matching activation."""
        raise NotImplementedError(f"{self.name} has no fused form")


class MeanSquaredError(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        t = _like(target, pred)
        d = np.subtract(pred, t, out=out)
        value = float(np.vdot(d, d)) / max(d.size, 1)
        if not need_grad:
            return value, None
        d *= 2.0 / max(d.size, 1)
        return value, d


class MeanAbsoluteError(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        t = _like(target, pred)
        d = np.subtract(pred, t, out=out)
        value = float(np.abs(d).sum()) / max(d.size, 1)
        if not need_grad:
            return value, None
        np.sign(d, out=d)
        d *= 1.0 / max(d.size, 1)
        return value, d


class Huber(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        t = _like(target, pred)
        d = np.subtract(pred, t, out=out)
        a = np.abs(d)
        quad = np.minimum(a, HUBER_DELTA)
        # 0.5 q^2 + delta (|d| - q): quadratic inside delta, linear outside.
        value = float((0.5 * quad * quad + HUBER_DELTA * (a - quad)).sum()) / max(d.size, 1)
        if not need_grad:
            return value, None
        np.clip(d, -HUBER_DELTA, HUBER_DELTA, out=d)
        d *= 1.0 / max(d.size, 1)
        return value, d


def _inside_clip(pred: Array) -> Array:
    """1 where ``clip(pred, EPSILON, 1 - EPSILON)`` passes a gradient, else 0."""
    hi = pred.dtype.type(1.0 - EPSILON)
    return ((pred >= pred.dtype.type(EPSILON)) & (pred <= hi)).astype(pred.dtype)


def _normalized(pred: Array) -> tuple[Array, Array]:
    """(pred / its sum over the last axis, that sum (..., 1)): Keras' first step."""
    k = pred.shape[-1]
    total = row_sum(pred.reshape(-1, k)).reshape(pred.shape[:-1] + (1,))
    return pred / total, total


def _through_normalization(gq: Array, q: Array, total: Array, out: Array | None) -> Array:
    """dL/dpred from dL/dq for q = pred / sum(pred): (gq - sum(gq q)) / sum(pred)."""
    k = q.shape[-1]
    inner = row_sum((gq * q).reshape(-1, k)).reshape(q.shape[:-1] + (1,))
    g = np.subtract(gq, inner, out=out)
    g /= total
    return g


class BinaryCrossentropy(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        t = _like(target, pred)
        p = np.clip(pred, EPSILON, 1.0 - EPSILON)
        n = max(p.size, 1)
        value = -float((t * np.log(p) + (1.0 - t) * np.log1p(-p)).sum()) / n
        if not need_grad:
            return value, None
        g = np.subtract(p, t, out=out)
        g /= p * (1.0 - p) * n
        g *= _inside_clip(pred)
        return value, g

    def fused(self, z, p, target, out=None):
        t = _like(target, z)
        n = max(z.size, 1)
        # max(z, 0) - z t + log(1 + e^-|z|): the stable form of BCE on logits.
        value = float((np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).sum()) / n
        g = np.subtract(p, t, out=out)
        g *= 1.0 / n
        return value, g


def _onehot(target: Array, pred: Array) -> Array:
    t = np.asarray(target)
    if t.shape != pred.shape and t.size * pred.shape[-1] == pred.size:
        raise ValueError(f"categorical_crossentropy needs one-hot targets of shape "
                         f"{pred.shape}, got {t.shape}; for class indices use "
                         "sparse_categorical_crossentropy")
    return _like(t, pred)


class CategoricalCrossentropy(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        t = _onehot(target, pred)
        q, total = _normalized(pred)
        p = np.clip(q, EPSILON, 1.0 - EPSILON)
        n = _rows(pred)
        value = -float((t * np.log(p)).sum()) / n
        if not need_grad:
            return value, None
        gq = np.divide(t, p)
        gq *= _inside_clip(q)
        gq *= -1.0 / n
        return value, _through_normalization(gq, q, total, out)

    def fused(self, z, p, target, out=None):
        t = _onehot(target, z)
        n = _rows(z)
        k = z.shape[-1]
        t2 = t.reshape(-1, k)
        lse = _logsumexp_rows(z.reshape(-1, k))
        # -sum t (z - lse) = sum(t) lse - sum(t z), per row.
        value = float(np.vdot(row_sum(t2)[:, 0], lse) - np.vdot(t, z)) / n
        g = np.subtract(p, t, out=out)
        g *= 1.0 / n
        return value, g


class SparseCategoricalCrossentropy(Loss):
    def value_and_grad(self, pred, target, need_grad=True, out=None):
        idx = _indices(target, pred)
        q, total = _normalized(pred)
        q2 = q.reshape(-1, pred.shape[-1])
        rows = np.arange(q2.shape[0])
        raw = q2[rows, idx]
        picked = np.clip(raw, EPSILON, 1.0 - EPSILON)
        n = q2.shape[0]
        value = -float(np.log(picked).sum()) / max(n, 1)
        if not need_grad:
            return value, None
        gq = np.zeros_like(pred)
        gq.reshape(-1, pred.shape[-1])[rows, idx] = \
            -_inside_clip(raw) / (picked * max(n, 1))
        return value, _through_normalization(gq, q, total, out)

    def fused(self, z, p, target, out=None):
        idx = _indices(target, z)
        z2 = z.reshape(-1, z.shape[-1])
        n = max(z2.shape[0], 1)
        rows = np.arange(z2.shape[0])
        lse = _logsumexp_rows(z2)
        value = float((lse - z2[rows, idx]).sum()) / n
        g = p.copy() if out is None else out
        if g is not p:
            np.copyto(g, p)
        g.reshape(-1, z.shape[-1])[rows, idx] -= 1.0
        g *= 1.0 / n
        return value, g


LOSSES: dict[str, Loss] = {
    "mse": MeanSquaredError("mse", None, "mean((y - t)^2)"),
    "mae": MeanAbsoluteError("mae", None, "mean(|y - t|)"),
    "huber": Huber("huber", None, "mean(0.5 d^2 if |d| <= 1 else |d| - 0.5), d = y - t"),
    "binary_crossentropy": BinaryCrossentropy(
        "binary_crossentropy", "sigmoid", "-mean(t log y + (1 - t) log(1 - y))"),
    "categorical_crossentropy": CategoricalCrossentropy(
        "categorical_crossentropy", "softmax", "-mean over samples of sum_k t_k log y_k"),
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy(
        "sparse_categorical_crossentropy", "softmax", "-mean(log y[class])"),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; KeyError lists the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None
