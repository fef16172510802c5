"""Merge layers: Add (element-wise sum) and Concatenate (along one axis).

The order of the spec's edges into the node is the order of the inputs.
"""

from __future__ import annotations

import numpy as np

from core.layers.base import Layer, ParamSchema, ShapeError


class Add(Layer):
    TYPE = "Add"
    GROUP = "Merge"
    DESCRIPTION = "Adds its inputs element by element (skip connections)."
    FORMULA = "y = x1 + x2 + ..."
    MIN_INPUTS = 2
    MAX_INPUTS = None

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        if any(s != input_shapes[0] for s in input_shapes[1:]):
            shapes = ", ".join(str(s) for s in input_shapes)
            raise ShapeError(f"Add needs inputs of the same shape, got {shapes}.",
                             "Make the branches end in the same shape, e.g. Dense layers "
                             "with the same number of units.", "add_shapes")
        return input_shapes[0]

    def forward(self, inputs, training):
        y = np.add(inputs[0], inputs[1], out=self.buffer("y", inputs[0].shape))
        for x in inputs[2:]:
            y += x
        return y

    def backward(self, dy, need_dx, fused=False):
        return [dy if need else None for need in need_dx]


def concat_axis(axis: int, rank: int) -> int | None:
    """Per-sample axis of Keras' ``axis`` (which counts the batch axis), or None."""
    if not -(rank + 1) <= axis <= rank:
        return None
    full = axis % (rank + 1)
    return full - 1 if full >= 1 else None


class Concatenate(Layer):
    TYPE = "Concatenate"
    GROUP = "Merge"
    DESCRIPTION = "Joins its inputs along one axis (the last by default)."
    FORMULA = "y = [x1, x2, ...]"
    PARAMS = (ParamSchema("axis", "int", -1, -4, 4,
                          description="Axis to join along, counting the batch axis as 0; "
                                      "-1 is the last."),)
    MIN_INPUTS = 2
    MAX_INPUTS = None

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        ranks = {len(s) for s in input_shapes}
        shapes = ", ".join(str(s) for s in input_shapes)
        if len(ranks) > 1:
            raise ShapeError(f"Concatenate needs inputs with the same number of axes, got "
                             f"{shapes}.", "Add a Flatten to the inputs that are images.",
                             "rank")
        rank = ranks.pop()
        ax = concat_axis(int(cfg["axis"]), rank)
        if ax is None:
            raise ShapeError(f"Concatenate cannot join along axis {cfg['axis']} of inputs "
                             f"shaped {shapes}.", "Use -1 to join along the last axis.",
                             "axis")
        first = input_shapes[0]
        for s in input_shapes[1:]:
            if any(a != b for k, (a, b) in enumerate(zip(first, s, strict=True)) if k != ax):
                raise ShapeError(f"Concatenate needs inputs that agree on every axis but "
                                 f"the joined one, got {shapes}.",
                                 "Make the other sizes equal, or Flatten the inputs first.",
                                 "concat_shapes")
        out = list(first)
        out[ax] = sum(s[ax] for s in input_shapes)
        return tuple(out)

    def setup(self):
        self._ax = concat_axis(int(self.config["axis"]), len(self.input_shapes[0])) + 1
        sizes = [s[self._ax - 1] for s in self.input_shapes]
        self._splits = list(np.cumsum(sizes)[:-1])

    def forward(self, inputs, training):
        shape = (inputs[0].shape[0],) + self.output_shape_
        return np.concatenate(inputs, axis=self._ax, out=self.buffer("y", shape))

    def backward(self, dy, need_dx, fused=False):
        parts = np.split(dy, self._splits, axis=self._ax)
        return [p if need else None for p, need in zip(parts, need_dx, strict=True)]
