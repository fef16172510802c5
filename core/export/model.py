"""What every exporter needs, gathered once: nodes in order, configs, shapes, weights.

An :class:`ExportModel` is a plain, checked description of a trained network (a DAG in
topological order, each node with its full config, input ids in edge order, output
shape and weights), plus the preprocessing to bake in (Playground's feature transforms
of 2-D points, then the scaler) and the class names.  Exporters
only translate it; they never look inside ``Network``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.layers.base import pair, same_padding

SUPPORTED_TYPES = ("Input", "Dense", "Activation", "Dropout", "BatchNormalization",
                   "Flatten", "Reshape", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                   "Add", "Concatenate")


# Playground input features of raw 2-D points as (op, columns): "copy" a column, "mul"
# two columns or "sin" of one; keys are core.data.preprocessing's canonical names.
TRANSFORM_OPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "x1": ("copy", (0,)), "x2": ("copy", (1,)), "x1^2": ("mul", (0, 0)),
    "x2^2": ("mul", (1, 1)), "x1*x2": ("mul", (0, 1)), "sin(x1)": ("sin", (0,)),
    "sin(x2)": ("sin", (1,)),
}


class ExportError(Exception):
    """The model cannot be exported; the message is one line saying what and how to fix."""


@dataclass(frozen=True)
class ExportNode:
    """One node: id, type, config (defaults filled in), inputs, output shape, weights."""

    id: str
    type: str
    config: dict[str, Any]
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def activation(self) -> str:
        """The node's own activation ("linear" when it has none)."""
        return self.config.get("activation") or "linear"


@dataclass
class ExportModel:
    """A network ready to be written in another format (see module docstring)."""

    name: str
    nodes: list[ExportNode]
    input_id: str
    output_id: str
    offset: np.ndarray | None = None   # broadcasts over the input's last axis
    scale: np.ndarray | None = None
    preprocessing_method: str = "none"
    class_names: list[str] | None = None
    feature_names: list[str] | None = None   # raw CSV columns (one-hot ones included)
    categories: dict[str, list[str]] | None = None  # one-hot CSV columns -> their values
    target: str | None = None                # the data's target column (for CSV headers)
    transforms: list[str] | None = None      # features of raw (N, 2) points, before scaling

    def __post_init__(self) -> None:
        self.by_id = {node.id: node for node in self.nodes}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.by_id[self.input_id].shape

    @property
    def raw_input_shape(self) -> tuple[int, ...]:
        """What the exported model takes: 2-D points when it computes the features."""
        return (2,) if self.transforms else self.input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.by_id[self.output_id].shape

    def input_shapes(self, node: ExportNode) -> list[tuple[int, ...]]:
        return [self.by_id[i].shape for i in node.inputs]


def prepare(source: Any, preprocessing: dict | None = None,
            class_names: Sequence[str] | None = None, name: str | None = None) -> ExportModel:
    """An ExportModel from a ``Project`` (trained weights) or a ``Network``.

    For a Network, ``preprocessing`` (a Scaler dict) and ``class_names`` are given here;
    for a Project they come from the project unless given.
    """
    from core.network import Network
    from core.project import Project, ProjectError, build_network

    feature_names, categories, target, transforms = None, None, None, None
    if isinstance(source, Project):
        try:
            net = build_network(source)
        except ProjectError as exc:
            raise ExportError(str(exc)) from exc
        preprocessing = source.preprocessing if preprocessing is None else preprocessing
        class_names = source.class_names if class_names is None else class_names
        name = name or source.name
        feature_names, categories, target = _columns(source)
        transforms = (source.data or {}).get("transforms")
    elif isinstance(source, Network):
        net = source
    else:
        raise ExportError(f"Cannot export a {type(source).__name__}; give a Project or a "
                          "Network.")
    model = ExportModel(name=name or "model", nodes=_nodes(net), input_id=net.input_id,
                        output_id=net.output_id,
                        class_names=list(class_names) if class_names else None,
                        target=target)
    _attach_transforms(model, transforms)
    width = sum(len(categories[f]) if categories and f in categories else 1
                for f in feature_names or [])
    if feature_names and width == size_of(model.raw_input_shape):
        model.feature_names = feature_names
        model.categories = categories or None
    _attach_preprocessing(model, preprocessing)
    return model


def _columns(project: Any) -> tuple[list[str] | None, dict[str, list[str]] | None,
                                   str | None]:
    """(raw feature columns, categories of the one-hot ones, target column) of a project
    trained on a file; the categories are those the training data had, in their order."""
    data = project.data or {}
    target = data.get("target") if isinstance(data.get("target"), str) else None
    features = data.get("features")
    if data.get("kind") != "file" or not features:
        return None, None, target
    features = [str(f) for f in features]
    known = data.get("categories") or {}
    categories = {}
    for column in data.get("categorical") or []:
        if str(column) not in known:  # no record of its values: cannot encode raw rows
            return None, None, target
        categories[str(column)] = [str(c) for c in known[str(column)]]
    if any(column not in features for column in categories):
        return None, None, target
    return features, categories, target


def input_columns(model: ExportModel) -> list[str] | None:
    """What each input value of the network is: the feature columns, with a one-hot
    column ``"color=red"`` per category (None when the raw columns are unknown)."""
    if not model.feature_names or model.transforms:
        return None
    cats = model.categories or {}
    return [name for f in model.feature_names
            for name in ([f"{f}={c}" for c in cats[f]] if f in cats else [f])]


def _nodes(net: Any) -> list[ExportNode]:
    from core.spec import analyze

    analysis = analyze(net.spec)
    weights = net.get_weights()
    nodes = []
    for node_id in net.order:
        kind = analysis.types[node_id]
        if kind not in SUPPORTED_TYPES:
            raise ExportError(f"Node '{node_id}' is a {kind} layer, which the exporters do "
                              "not support yet; replace it or export as a project file.")
        arrays = {k: np.asarray(v) for k, v in weights.get(node_id, {}).items()}
        nodes.append(ExportNode(node_id, kind, dict(analysis.configs[node_id]),
                                tuple(analysis.inputs[node_id]),
                                tuple(int(d) for d in net.output_shapes[node_id]), arrays))
    return nodes


def _attach_transforms(model: ExportModel, names: Sequence[str] | None) -> None:
    """The project's Playground features (canonical names), computed before the scaler.

    As in ``core.workflow.with_transforms`` they only apply to 2-D data, where the Input
    takes one value per feature; otherwise the network was trained on the raw data.
    """
    from core.data.dataset import DataError
    from core.data.preprocessing import canonical_feature

    if not names or model.input_shape != (len(names),):
        return
    try:
        keys = [canonical_feature(str(name)) for name in names]
    except DataError as exc:
        raise ExportError(f"The project's input features cannot be exported: {exc}.") from exc
    unknown = [key for key in keys if key not in TRANSFORM_OPS]
    if unknown:
        raise ExportError(f"The input feature {unknown[0]!r} cannot be exported yet; "
                          "untick it in the Data panel and retrain.")
    model.transforms = keys


def _attach_preprocessing(model: ExportModel, preprocessing: dict | None) -> None:
    """Offset/scale as arrays that broadcast over the raw input (features on last axis)."""
    if not preprocessing or preprocessing.get("method", "none") == "none":
        return
    offset = np.asarray(preprocessing.get("offset") or [], dtype=np.float64)
    scale = np.asarray(preprocessing.get("scale") or [], dtype=np.float64)
    features = model.input_shape[-1]
    if offset.size == 0:
        raise ExportError("The preprocessing has not been fitted yet (no offset/scale); "
                          "train the project once, then export.")
    if offset.shape != (features,) or scale.shape != (features,):
        raise ExportError(f"The preprocessing has {offset.size} offsets and {scale.size} "
                          f"scales but the input has {features} features on its last axis; "
                          "refit the preprocessing on this data.")
    if not (np.isfinite(offset).all() and np.isfinite(scale).all()) or (scale == 0).any():
        raise ExportError("The preprocessing offset/scale must be finite and scale never 0.")
    model.offset, model.scale = offset, scale
    model.preprocessing_method = str(preprocessing.get("method"))


# ---- geometry shared by the exporters ------------------------------------------------


def window(config: dict[str, Any], kind: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(kernel (kh, kw), strides (sh, sw)) of a Conv2D or pooling node's config."""
    if kind == "Conv2D":
        return pair(config["kernel_size"]), pair(config.get("strides", 1))
    size = pair(config.get("pool_size", 2))
    strides = config.get("strides")
    return size, pair(strides) if strides is not None else size


def pads(config: dict[str, Any], kind: str, in_shape: Sequence[int]) -> tuple[int, ...]:
    """(top, left, bottom, right) padding, TensorFlow's "same" rule (odd pixel after)."""
    if config.get("padding", "valid") != "same":
        return (0, 0, 0, 0)
    (kh, kw), (sh, sw) = window(config, kind)
    top, bottom = same_padding(int(in_shape[0]), kh, sh)
    left, right = same_padding(int(in_shape[1]), kw, sw)
    return (top, left, bottom, right)


def concat_axis(config: dict[str, Any], rank: int) -> int:
    """Concatenate's axis as a non-negative axis of the batched tensor (Keras' meaning)."""
    axis = int(config.get("axis", -1))
    axis = axis + rank if axis < 0 else axis
    if not 1 <= axis < rank:
        raise ExportError(f"Concatenate axis {config.get('axis')} is not valid for inputs "
                          f"of rank {rank} (batch included).")
    return axis


def size_of(shape: Sequence[int]) -> int:
    return math.prod(int(d) for d in shape)
