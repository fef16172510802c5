"""BatchNormalization over the last axis (channels), with Keras' moving statistics.

While training it normalises with the batch's mean and (biased) variance and updates
``moving = momentum * moving + (1 - momentum) * batch``; when predicting it uses the
moving statistics.  As in Keras, ``scale=False`` leaves out ``gamma`` and
``center=False`` leaves out ``beta`` (for a layer followed by one that scales or shifts
anyway): the weights are then not made at all.
"""

from __future__ import annotations

import numpy as np

from core.layers.base import Layer, ParamSchema, WeightSpec


class BatchNormalization(Layer):
    TYPE = "BatchNormalization"
    GROUP = "Regularization"
    DESCRIPTION = "Normalises each channel to zero mean and unit variance, then scales."
    FORMULA = "y = gamma · (x - mean) / sqrt(var + epsilon) + beta"
    PARAMS = (
        ParamSchema("momentum", "float", 0.99, 0.0, 1.0,
                    description="How slowly the moving statistics follow the batches."),
        ParamSchema("epsilon", "float", 0.001, 1e-12, 1.0,
                    description="Added to the variance to avoid dividing by zero."),
        ParamSchema("center", "bool", True, description="Learn an offset beta."),
        ParamSchema("scale", "bool", True, description="Learn a factor gamma."),
    )

    @classmethod
    def weight_specs(cls, cfg, input_shapes):
        c = (input_shapes[0][-1],)
        specs = [WeightSpec("gamma", c, "ones")] if cfg.get("scale", True) else []
        if cfg.get("center", True):
            specs.append(WeightSpec("beta", c, "zeros"))
        return specs + [WeightSpec("moving_mean", c, "zeros", trainable=False),
                        WeightSpec("moving_variance", c, "ones", trainable=False)]

    def forward(self, inputs, training):
        x = inputs[0]
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        eps = self.config["epsilon"]
        self._training = training
        if training:
            mean = x2.mean(axis=0)
            var = x2.var(axis=0)
            m = self.config["momentum"]
            mm, mv = self.state["moving_mean"], self.state["moving_variance"]
            mm *= m
            mm += (1.0 - m) * mean
            mv *= m
            mv += (1.0 - m) * var
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        inv = 1.0 / np.sqrt(var + eps)
        xhat = np.subtract(x2, mean, out=self.buffer("xhat", x2.shape))
        xhat *= inv
        self._xhat, self._inv = xhat, inv
        y = self.buffer("y", x2.shape)
        if "gamma" in self.w:
            np.multiply(xhat, self.w["gamma"], out=y)
        else:
            np.copyto(y, xhat)
        if "beta" in self.w:
            y += self.w["beta"]
        return y.reshape(x.shape)

    def backward(self, dy, need_dx, fused=False):
        c = dy.shape[-1]
        dy2 = dy.reshape(-1, c)
        xhat = self._xhat
        # sum(dy) and sum(dy xhat): the gradients of beta and gamma, and what dx needs
        sum_dy = self.g.get("beta")
        sum_dy = np.sum(dy2, axis=0, out=sum_dy)
        t = np.multiply(dy2, xhat, out=self.buffer("t", dy2.shape))
        sum_dyx = np.sum(t, axis=0, out=self.g.get("gamma"))
        if not need_dx[0]:
            return [None]
        gamma = self.w.get("gamma", 1.0)
        if not self._training:  # inference statistics are constants
            return [np.multiply(dy2, gamma * self._inv, out=t).reshape(dy.shape)]
        m = dy2.shape[0]
        # dx = gamma inv / M (M dy - sum(dy) - xhat sum(dy xhat))
        np.multiply(xhat, sum_dyx, out=t)
        t += sum_dy
        t *= -1.0 / m
        t += dy2
        t *= gamma * self._inv
        return [t.reshape(dy.shape)]
