"""Shape layers: Input (the data's entry point), Flatten and Reshape."""

from __future__ import annotations

import math

from core.layers.base import Layer, ParamSchema, ShapeError


class Input(Layer):
    TYPE = "Input"
    GROUP = "Core"
    DESCRIPTION = "Where the data enters: the shape of one sample."
    FORMULA = "x"
    PARAMS = (ParamSchema("shape", "shape", [2], 1, 100_000_000,
                          description="Shape of one sample, e.g. [784] or [28, 28, 1]."),)
    MIN_INPUTS = 0
    MAX_INPUTS = 0

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        return tuple(int(d) for d in cfg["shape"])

    def forward(self, inputs, training):
        return inputs[0]

    def backward(self, dy, need_dx, fused=False):
        return []


class Flatten(Layer):
    TYPE = "Flatten"
    GROUP = "Shape"
    DESCRIPTION = "Turns each sample into one flat vector (needed before Dense)."
    FORMULA = "(H, W, C) -> (H·W·C)"

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        return (math.prod(input_shapes[0]),)

    def forward(self, inputs, training):
        x = inputs[0]
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_dx, fused=False):
        return [dy.reshape(self._shape) if need_dx[0] else None]


class Reshape(Layer):
    TYPE = "Reshape"
    GROUP = "Shape"
    DESCRIPTION = "Gives each sample a new shape with the same number of values."
    FORMULA = "x -> x.reshape(target_shape)"
    PARAMS = (ParamSchema("target_shape", "shape", [-1], -1, 100_000_000,
                          description="New shape of one sample; one entry may be -1."),)

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        target = [int(d) for d in cfg["target_shape"]]
        n = math.prod(input_shapes[0])
        if target.count(-1) > 1:
            raise ShapeError("Reshape's target_shape may contain -1 only once.",
                             "Write out all but one of the sizes.", "reshape")
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if known == 0 or n % known:
                raise ShapeError(
                    f"Cannot reshape {n} values into {tuple(target)}.",
                    f"The sizes other than -1 must divide {n}.", "reshape")
            target[target.index(-1)] = n // known
        elif known != n:
            raise ShapeError(
                f"Cannot reshape {input_shapes[0]} ({n} values) into {tuple(target)} "
                f"({known} values).", f"Choose a target_shape whose sizes multiply to {n}.",
                "reshape")
        return tuple(target)

    def forward(self, inputs, training):
        x = inputs[0]
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self.output_shape_)

    def backward(self, dy, need_dx, fused=False):
        return [dy.reshape(self._shape) if need_dx[0] else None]
