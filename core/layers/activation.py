"""Activation layer: applies an activation function on its own node."""

from __future__ import annotations

from core.activations import LEAKY_SLOPE
from core.layers.base import ACTIVATION_PARAM, Layer, ParamSchema


class Activation(Layer):
    TYPE = "Activation"
    GROUP = "Core"
    DESCRIPTION = "Applies an activation function element-wise (softmax: last axis)."
    FORMULA = "y = f(x)"
    PARAMS = (
        ParamSchema("activation", "choice", "relu", choices=ACTIVATION_PARAM.choices,
                    description="Function to apply."),
        ParamSchema("negative_slope", "float", LEAKY_SLOPE, 0.0, 1.0,
                    description="leaky_relu only: the slope for negative inputs "
                                "(Keras' negative_slope)."),
        ParamSchema("approximate", "bool", False,
                    description="gelu only: the tanh approximation instead of the exact "
                                "erf form (Keras' approximate)."),
    )

    def forward(self, inputs, training):
        self._z = inputs[0]
        self._y = self.activate(self._z, owned=False)
        return self._y

    def backward(self, dy, need_dx, fused=False):
        if not need_dx[0]:
            return [None]
        return [self.activation_backward(self._z, self._y, dy, fused)]
