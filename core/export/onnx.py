"""Export to ONNX (opset 17) with the ``onnx`` package's helper API.

Our tensors are channels-last (NHWC) but ONNX's Conv, pooling and BatchNormalization want
channels first (NCHW).  Each node's value is therefore kept in whichever layout it was
made in, and a Transpose is added only when a consumer needs the other one (and then
reused), so a chain Conv -> BN -> ReLU -> Pool stays in NCHW without a transpose between
every pair.  Preprocessing is baked in: the project's Playground features of raw 2-D points
(Gather, Mul, Sin, Concat), then the scaler as Sub and Div; class names, the feature
transforms and the preprocessing method go into ``metadata_props``.  The batch dimension
is dynamic.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from core.export.model import (
    TRANSFORM_OPS,
    ExportError,
    ExportModel,
    ExportNode,
    concat_axis,
    input_columns,
    pads,
    window,
)

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
NHWC, NCHW = "NHWC", "NCHW"
_TO_NCHW, _TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)


def _onnx():
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - onnx is a dependency
        raise ExportError("ONNX export needs the 'onnx' package: pip install onnx") from exc
    return onnx


class _Builder:
    """Collects ONNX nodes and initializers; tracks each value's layout."""

    def __init__(self, model: ExportModel) -> None:
        self.onnx = _onnx()
        self.model = model
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.values: dict[str, dict[str, str]] = {}   # node id -> {layout: tensor name}
        self.rank: dict[str, int] = {}
        self._used: set[str] = {INPUT_NAME, OUTPUT_NAME}

    # ---- names, constants, ops -------------------------------------------------------
    def name(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c in "_./-" else "_" for c in hint) or "t"
        candidate, k = base, 1
        while candidate in self._used:
            k += 1
            candidate = f"{base}_{k}"
        self._used.add(candidate)
        return candidate

    def const(self, hint: str, array: Any, dtype: Any = np.float32) -> str:
        name = self.name(hint)
        value = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        self.initializers.append(self.onnx.numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(
            op_type, inputs, [out], name=self.name(f"{hint}/{op_type}"), **attrs))
        return out

    # ---- layouts ---------------------------------------------------------------------
    def set(self, node_id: str, tensor: str, layout: str, rank: int) -> None:
        self.values[node_id] = {layout: tensor}
        self.rank[node_id] = rank

    def get(self, node_id: str, layout: str = NHWC) -> str:
        """The node's value in ``layout`` (adding and caching one Transpose if needed)."""
        have = self.values[node_id]
        if layout in have:
            return have[layout]
        if self.rank[node_id] != 4:
            return have[NHWC]
        source = have[NCHW] if layout == NHWC else have[NHWC]
        perm = _TO_NHWC if layout == NHWC else _TO_NCHW
        have[layout] = self.op("Transpose", [source], f"{node_id}/to_{layout}", perm=list(perm))
        return have[layout]

    def preferred(self, node_id: str) -> str:
        """A layout the value already has, NCHW first (so element-wise ops stay there)."""
        return NCHW if NCHW in self.values[node_id] else NHWC


# ---- activations ---------------------------------------------------------------------


def _activation(b: _Builder, name: str, x: str, hint: str, layout: str,
                config: dict[str, Any] | None = None) -> str:
    """``name`` applied to ``x``; ``config`` (the node's) holds negative_slope and
    approximate where an Activation node sets them."""
    from core import activations as engine

    options = {**engine.ACTIVATION_OPTIONS, **engine.activation_options(config or {})}

    simple = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus"}
    if name in (None, "linear"):
        return x
    if name in simple:
        return b.op(simple[name], [x], f"{hint}/{name}")
    if name == "leaky_relu":
        return b.op("LeakyRelu", [x], f"{hint}/{name}", alpha=float(options["negative_slope"]))
    if name == "elu":
        return b.op("Elu", [x], f"{hint}/{name}", alpha=float(engine.ELU_ALPHA))
    if name == "softmax":
        return b.op("Softmax", [x], f"{hint}/softmax", axis=1 if layout == NCHW else -1)
    if name == "gelu":
        return _gelu_tanh(b, x, hint) if options["approximate"] else _gelu(b, x, hint)
    raise ExportError(f"Node '{hint}': the activation {name!r} cannot be exported to ONNX.")


def _gelu(b: _Builder, x: str, hint: str) -> str:
    """0.5 x (1 + erf(x / sqrt(2))): the exact GELU (opset 17 has Erf but no Gelu op)."""
    scaled = b.op("Mul", [x, b.const(f"{hint}/gelu_k", 1.0 / math.sqrt(2.0))],
                  f"{hint}/gelu_scaled")
    one_plus = b.op("Add", [b.op("Erf", [scaled], f"{hint}/gelu_erf"),
                            b.const(f"{hint}/gelu_one", 1.0)], f"{hint}/gelu_1p")
    half_x = b.op("Mul", [x, b.const(f"{hint}/gelu_half", 0.5)], f"{hint}/gelu_halfx")
    return b.op("Mul", [half_x, one_plus], f"{hint}/gelu")


def _gelu_tanh(b: _Builder, x: str, hint: str) -> str:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): GELU's tanh form, written out."""
    cube = b.op("Mul", [b.op("Mul", [x, x], f"{hint}/gelu_x2"), x], f"{hint}/gelu_x3")
    inner = b.op("Add", [x, b.op("Mul", [cube, b.const(f"{hint}/gelu_c", 0.044715)],
                                 f"{hint}/gelu_cx3")], f"{hint}/gelu_sum")
    scaled = b.op("Mul", [inner, b.const(f"{hint}/gelu_k", math.sqrt(2.0 / math.pi))],
                  f"{hint}/gelu_inner")
    one_plus = b.op("Add", [b.op("Tanh", [scaled], f"{hint}/gelu_tanh"),
                            b.const(f"{hint}/gelu_one", 1.0)], f"{hint}/gelu_1p")
    half_x = b.op("Mul", [x, b.const(f"{hint}/gelu_half", 0.5)], f"{hint}/gelu_halfx")
    return b.op("Mul", [half_x, one_plus], f"{hint}/gelu")


# ---- layers --------------------------------------------------------------------------


def _features(b: _Builder, x: str, names: list[str]) -> str:
    """Playground features of the (N, 2) points ``x``: one column per name, in order."""
    columns: dict[int, str] = {}

    def column(i: int) -> str:   # (N, 1), gathered once
        if i not in columns:
            index = b.const(f"features/x{i + 1}_index", [i], dtype=np.int64)
            columns[i] = b.op("Gather", [x, index], f"features/x{i + 1}", axis=1)
        return columns[i]

    outputs = []
    for name in names:
        kind, cols = TRANSFORM_OPS[name]
        ins = [column(i) for i in cols]
        outputs.append(ins[0] if kind == "copy" else
                       b.op("Mul" if kind == "mul" else "Sin", ins, f"features/{name}"))
    return b.op("Concat", outputs, "features/concat", axis=1)


def _input(b: _Builder, node: ExportNode) -> None:
    x = INPUT_NAME
    model = b.model
    if model.transforms:
        x = _features(b, x, model.transforms)
    if model.offset is not None:
        x = b.op("Sub", [x, b.const("preprocessing/offset", model.offset)], "preprocessing/sub")
        x = b.op("Div", [x, b.const("preprocessing/scale", model.scale)], "preprocessing/div")
    b.set(node.id, x, NHWC, len(node.shape) + 1)


def _dense(b: _Builder, node: ExportNode) -> None:
    w = node.weights
    inputs = [b.get(node.inputs[0]), b.const(f"{node.id}/kernel", w["kernel"])]
    if "bias" in w:
        inputs.append(b.const(f"{node.id}/bias", w["bias"]))
    y = b.op("Gemm", inputs, f"{node.id}/gemm")
    b.set(node.id, _activation(b, node.activation, y, node.id, NHWC, node.config), NHWC, 2)


def _conv2d(b: _Builder, node: ExportNode) -> None:
    (kh, kw), strides = window(node.config, "Conv2D")
    top, left, bottom, right = pads(node.config, "Conv2D", b.model.input_shapes(node)[0])
    kernel = np.transpose(node.weights["kernel"], (3, 2, 0, 1))  # (out, in, kh, kw)
    inputs = [b.get(node.inputs[0], NCHW), b.const(f"{node.id}/kernel", kernel)]
    if "bias" in node.weights:
        inputs.append(b.const(f"{node.id}/bias", node.weights["bias"]))
    y = b.op("Conv", inputs, f"{node.id}/conv", kernel_shape=[kh, kw], strides=list(strides),
             pads=[top, left, bottom, right])
    b.set(node.id, _activation(b, node.activation, y, node.id, NCHW, node.config), NCHW,
          4)


def _pool(b: _Builder, node: ExportNode) -> None:
    size, strides = window(node.config, node.type)
    top, left, bottom, right = pads(node.config, node.type, b.model.input_shapes(node)[0])
    attrs: dict[str, Any] = {"kernel_shape": list(size), "strides": list(strides),
                             "pads": [top, left, bottom, right]}
    if node.type == "AveragePooling2D":
        attrs["count_include_pad"] = 0   # Keras averages over the real pixels only
    op_type = "MaxPool" if node.type == "MaxPooling2D" else "AveragePool"
    y = b.op(op_type, [b.get(node.inputs[0], NCHW)], f"{node.id}/pool", **attrs)
    b.set(node.id, y, NCHW, 4)


def _batchnorm(b: _Builder, node: ExportNode) -> None:
    """Inference form: BatchNormalization on NCHW (rank 4) or (N, C); else Mul + Add."""
    w, eps = node.weights, float(node.config.get("epsilon", 1e-3))
    channels = node.shape[-1]
    gamma = w.get("gamma", np.ones(channels))
    beta = w.get("beta", np.zeros(channels))
    rank = len(node.shape) + 1
    source = node.inputs[0]
    if rank in (2, 4):
        layout = NCHW if rank == 4 else NHWC
        inputs = [b.get(source, layout)] + [
            b.const(f"{node.id}/{k}", v) for k, v in
            (("gamma", gamma), ("beta", beta), ("moving_mean", w["moving_mean"]),
             ("moving_variance", w["moving_variance"]))]
        y = b.op("BatchNormalization", inputs, f"{node.id}/bn", epsilon=eps)
        b.set(node.id, y, layout, rank)
        return
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(w["moving_variance"]) + eps)
    shift = np.asarray(beta, np.float64) - np.asarray(w["moving_mean"]) * scale
    y = b.op("Mul", [b.get(source), b.const(f"{node.id}/scale", scale)], f"{node.id}/mul")
    b.set(node.id, b.op("Add", [y, b.const(f"{node.id}/shift", shift)], f"{node.id}/add"),
          NHWC, rank)


def _activation_layer(b: _Builder, node: ExportNode) -> None:
    source = node.inputs[0]
    layout = b.preferred(source)
    y = _activation(b, node.activation, b.get(source, layout), node.id, layout, node.config)
    b.set(node.id, y, layout, b.rank[source])


def _identity(b: _Builder, node: ExportNode) -> None:
    """Dropout does nothing at inference: the node shares its input's values."""
    source = node.inputs[0]
    b.values[node.id] = b.values[source]
    b.rank[node.id] = b.rank[source]


def _flatten(b: _Builder, node: ExportNode) -> None:
    y = b.op("Flatten", [b.get(node.inputs[0])], f"{node.id}/flatten", axis=1)
    b.set(node.id, y, NHWC, 2)


def _reshape(b: _Builder, node: ExportNode) -> None:
    shape = b.const(f"{node.id}/shape", [-1, *node.shape], dtype=np.int64)
    y = b.op("Reshape", [b.get(node.inputs[0]), shape], f"{node.id}/reshape")
    b.set(node.id, y, NHWC, len(node.shape) + 1)


def _add(b: _Builder, node: ExportNode) -> None:
    rank = len(node.shape) + 1
    layout = NCHW if rank == 4 and all(NCHW in b.values[i] for i in node.inputs) else NHWC
    inputs = [b.get(i, layout) for i in node.inputs]
    y = inputs[0] if len(inputs) == 1 else b.op(
        "Add" if len(inputs) == 2 else "Sum", inputs, f"{node.id}/add")
    b.set(node.id, y, layout, rank)


def _concatenate(b: _Builder, node: ExportNode) -> None:
    rank = len(node.shape) + 1
    axis = concat_axis(node.config, rank)
    layout = NCHW if rank == 4 and all(NCHW in b.values[i] for i in node.inputs) else NHWC
    if layout == NCHW:
        axis = _TO_NCHW.index(axis)
    y = b.op("Concat", [b.get(i, layout) for i in node.inputs], f"{node.id}/concat",
             axis=axis)
    b.set(node.id, y, layout, rank)


_EMITTERS = {"Input": _input, "Dense": _dense, "Conv2D": _conv2d, "MaxPooling2D": _pool,
             "AveragePooling2D": _pool, "BatchNormalization": _batchnorm,
             "Activation": _activation_layer, "Dropout": _identity, "Flatten": _flatten,
             "Reshape": _reshape, "Add": _add, "Concatenate": _concatenate}


# ---- the model -----------------------------------------------------------------------


def to_onnx(model: ExportModel) -> Any:
    """The ONNX ModelProto for ``model`` (float32, dynamic batch), checked by onnx."""
    onnx = _onnx()
    b = _Builder(model)
    for node in model.nodes:
        _EMITTERS[node.type](b, node)
    b.nodes.append(onnx.helper.make_node("Identity", [b.get(model.output_id)],
                                         [OUTPUT_NAME], name="output/Identity"))
    float32 = onnx.TensorProto.FLOAT
    graph = onnx.helper.make_graph(
        b.nodes, _graph_name(model.name),
        [onnx.helper.make_tensor_value_info(INPUT_NAME, float32,
                                            ["batch", *model.raw_input_shape])],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, float32,
                                            ["batch", *model.output_shape])],
        initializer=b.initializers)
    proto = onnx.helper.make_model(
        graph, producer_name="ANN Designer", doc_string=_doc(model),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 8)   # opset 17 runs on IR 8 everywhere
    onnx.helper.set_model_props(proto, _metadata(model))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:  # a bug here, not the user's fault
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown"
        raise ExportError(f"The ONNX model failed onnx.checker ({first}); please report "
                          "this as a bug.") from exc
    return proto


def _graph_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "model"


def _doc(model: ExportModel) -> str:
    pre = (f"; the input is scaled inside the model ({model.preprocessing_method})"
           if model.offset is not None else "")
    if model.transforms:
        pre = f"; raw 2-D points, features {', '.join(model.transforms)} computed inside{pre}"
    return (f"ANN Designer model '{model.name}': input {list(model.raw_input_shape)} per sample "
            f"(channels last){pre}; output {list(model.output_shape)}.")


def _metadata(model: ExportModel) -> dict[str, str]:
    props = {"producer": "ANN Designer", "input_layout": "channels_last",
             "preprocessing": model.preprocessing_method}
    if model.class_names:
        props["class_names"] = json.dumps(model.class_names)
    if model.transforms:
        props["feature_transforms"] = json.dumps(model.transforms)
    columns = input_columns(model)
    if columns:
        props["input_columns"] = json.dumps(columns)
    if model.categories:
        props["categories"] = json.dumps(model.categories)
    return props


def write_onnx(model: ExportModel, path: Path) -> list[Path]:
    """Write ``model`` to ``path`` (.onnx); returns the paths written."""
    from core.atomic_write import write_atomically

    proto = to_onnx(model)
    data = proto.SerializeToString()
    write_atomically(path, lambda handle: handle.write(data))
    return [path]
