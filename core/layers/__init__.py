"""Layer families, one module each; LAYER_TYPES maps a spec's type name to its class."""

from __future__ import annotations

from core.layers.activation import Activation
from core.layers.base import Layer, ParamSchema, ShapeError, WeightSpec
from core.layers.conv import Conv2D
from core.layers.dense import Dense
from core.layers.dropout import Dropout
from core.layers.merge import Add, Concatenate
from core.layers.normalization import BatchNormalization
from core.layers.pooling import AveragePooling2D, MaxPooling2D
from core.layers.shape import Flatten, Input, Reshape

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.TYPE: cls for cls in (
        Input, Dense, Activation, Dropout, BatchNormalization, Flatten, Reshape, Conv2D,
        MaxPooling2D, AveragePooling2D, Add, Concatenate)
}

__all__ = ["LAYER_TYPES", "Layer", "ParamSchema", "ShapeError", "WeightSpec"]
