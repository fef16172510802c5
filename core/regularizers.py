"""L1 and L2 penalties on the kernels, as Keras' ``kernel_regularizer``: the loss gains
``l1 sum|w| + l2 sum w^2`` and the gradient ``l1 sign(w) + 2 l2 w``.

They act on the parameter ranges whose ``ParamRef.decay`` is set (kernels, not biases
or BatchNormalization's gamma and beta), in the flat buffers.  The Trainer and
``Network.loss_and_gradients`` both use these two functions, so what the explain views
print equals what training minimises.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Array = np.ndarray


def penalty(params: Array, slices: Sequence[tuple[int, int]], l1: float, l2: float) -> float:
    """``l1 sum|w| + l2 sum w^2`` over the kernels' ranges of ``params``."""
    if not (l1 or l2):
        return 0.0
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start, stop in slices:
            w = params[start:stop]
            total += l2 * float(np.dot(w, w)) + l1 * float(np.abs(w).sum())
    return total


def add_penalties(params: Array, grads: Array, slices: Sequence[tuple[int, int]],
                  l1: float, l2: float, scratch: Array) -> float:
    """Add the penalties' gradient to ``grads`` in place and return their value.

    ``scratch`` is a work array like ``params`` (so a training step allocates nothing).
    """
    value = 0.0
    for start, stop in slices:  # an overflow makes the loss inf, which the guard reports
        w, g, s = params[start:stop], grads[start:stop], scratch[start:stop]
        with np.errstate(over="ignore", invalid="ignore"):
            if l2:
                value += l2 * float(np.dot(w, w))
                g += np.multiply(w, 2.0 * l2, out=s)
            if l1:
                value += l1 * float(np.abs(w, out=s).sum())
                g += np.multiply(np.sign(w, out=s), l1, out=s)
    return value
