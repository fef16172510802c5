"""Dense (fully connected) layer: y = f(x W + b) on rank-1 inputs."""

from __future__ import annotations

import numpy as np

from core.layers.base import (
    ACTIVATION_PARAM,
    INITIALIZER_CHOICES,
    Layer,
    ParamSchema,
    ShapeError,
    WeightSpec,
)

#: The most units a Dense layer may have: the one limit for the spec, the inspector and
#: the designer's add/remove-neuron buttons (wide enough for every file the engine reads).
MAX_UNITS = 1_000_000


class Dense(Layer):
    TYPE = "Dense"
    GROUP = "Core"
    DESCRIPTION = "Every input connected to every unit."
    FORMULA = "y = f(x · W + b)"
    PARAMS = (
        ParamSchema("units", "int", 32, 1, MAX_UNITS, description="Number of neurons."),
        ACTIVATION_PARAM,
        ParamSchema("use_bias", "bool", True, description="Add a learned bias."),
        ParamSchema("kernel_initializer", "choice", "glorot_uniform",
                    choices=INITIALIZER_CHOICES, description="How W starts."),
        ParamSchema("bias_initializer", "choice", "zeros", choices=INITIALIZER_CHOICES,
                    description="How b starts."),
    )

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 1:
            raise ShapeError(
                f"Dense expects a flat vector per sample but gets shape {shape}.",
                "Add a Flatten layer before it.", "rank")
        return (int(cfg["units"]),)

    @classmethod
    def weight_specs(cls, cfg, input_shapes):
        n_in, units = input_shapes[0][0], int(cfg["units"])
        specs = [WeightSpec("kernel", (n_in, units), cfg["kernel_initializer"], decay=True)]
        if cfg["use_bias"]:
            specs.append(WeightSpec("bias", (units,), cfg["bias_initializer"]))
        return specs

    def forward(self, inputs, training):
        x = inputs[0]
        kernel = self.w["kernel"]
        z = np.matmul(x, kernel, out=self.buffer("z", (x.shape[0], kernel.shape[1])))
        if "bias" in self.w:
            z += self.w["bias"]
        self._x, self._z = x, z
        self._y = self.activate(z)
        return self._y

    def backward(self, dy, need_dx, fused=False):
        dz = self.activation_backward(self._z, self._y, dy, fused)
        np.matmul(self._x.T, dz, out=self.g["kernel"])
        if "bias" in self.g:
            self.column_sum(dz, self.g["bias"])
        if not need_dx[0]:
            return [None]
        w = self.w["kernel"]
        return [np.matmul(dz, w.T, out=self.buffer("dx", (dz.shape[0], w.shape[0])))]
