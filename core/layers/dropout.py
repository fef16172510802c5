"""Dropout: zeroes a random fraction of values while training (inverted dropout)."""

from __future__ import annotations

import numpy as np

from core.layers.base import Layer, ParamSchema


class Dropout(Layer):
    TYPE = "Dropout"
    GROUP = "Regularization"
    DESCRIPTION = "While training, sets a random fraction of values to 0 and scales the rest."
    FORMULA = "y = x · m / (1 - rate), m ~ Bernoulli(1 - rate); y = x when predicting"
    PARAMS = (ParamSchema("rate", "float", 0.5, 0.0, 0.99,
                          description="Fraction of values dropped while training."),)

    def forward(self, inputs, training):
        x = inputs[0]
        rate = float(self.config["rate"])
        self._mask = None
        if not training or rate == 0.0:
            return x
        mask = self.buffer("mask", x.shape)
        self.rng.random(out=mask, dtype=mask.dtype)
        # Keep where u >= rate; the kept values are scaled so the expected sum is unchanged.
        np.multiply(mask >= rate, mask.dtype.type(1.0 / (1.0 - rate)), out=mask)
        self._mask = mask
        return np.multiply(x, mask, out=self.buffer("y", x.shape))

    def backward(self, dy, need_dx, fused=False):
        if not need_dx[0]:
            return [None]
        if self._mask is None:
            return [dy]
        return [np.multiply(dy, self._mask, out=self.buffer("dx", dy.shape))]
