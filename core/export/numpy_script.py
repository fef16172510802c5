"""Export as NumPy: an ``.npz`` of weights, optionally with a standalone ``predict.py``.

The ``.npz`` holds every weight under ``"node_id/name"`` (Keras names and shapes: Dense
``kernel (in, units)``, Conv2D ``kernel (kh, kw, in, filters)``, BatchNormalization
``gamma, beta, moving_mean, moving_variance``), the preprocessing as
``"__preprocessing__/offset"`` and ``"__preprocessing__/scale"`` (and the Playground
features computed from raw 2-D points before scaling, as text, in
``"__preprocessing__/transforms"``), and a description of
the network as JSON text in ``"__model__"`` (a plain unicode array, so
``np.load(..., allow_pickle=False)`` reads everything).

``predict.py`` (from ``predict_template.py``) needs only numpy: it carries the graph,
applies the preprocessing and runs every layer type the way the engine does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from core.activations import activation_options
from core.export.model import (
    ExportModel,
    ExportNode,
    concat_axis,
    input_columns,
    pads,
    window,
)
from core.weight_keys import weight_key

TEMPLATE = Path(__file__).with_name("predict_template.py")
WEIGHTS_FORMAT = "ann-designer-weights"


def weight_arrays(model: ExportModel) -> dict[str, np.ndarray]:
    """Everything the .npz holds, by key (see module docstring)."""
    arrays: dict[str, np.ndarray] = {}
    for node in model.nodes:
        for name, value in node.weights.items():
            arrays[weight_key(node.id, name)] = np.asarray(value)
    if model.offset is not None:
        arrays["__preprocessing__/offset"] = np.asarray(model.offset, np.float64)
        arrays["__preprocessing__/scale"] = np.asarray(model.scale, np.float64)
    if model.transforms:
        arrays["__preprocessing__/transforms"] = np.array(model.transforms)
    arrays["__model__"] = np.array(json.dumps(describe(model)))
    return arrays


def describe(model: ExportModel) -> dict[str, Any]:
    """The graph as JSON-ready data: nodes in order with what running them needs."""
    return {
        "format": WEIGHTS_FORMAT, "version": 1, "name": model.name,
        "input_shape": list(model.input_shape), "output_shape": list(model.output_shape),
        "transforms": model.transforms,   # raw (N, 2) points -> these features, then scaling
        "input_id": model.input_id, "output_id": model.output_id,
        "preprocessing": model.preprocessing_method,
        "offset": None if model.offset is None else [float(v) for v in model.offset],
        "scale": None if model.scale is None else [float(v) for v in model.scale],
        "class_names": model.class_names,
        "feature_names": model.feature_names,
        "categories": model.categories,   # one-hot columns: raw CSV text -> inputs
        "input_columns": input_columns(model),
        "target": model.target,
        "nodes": [_describe_node(model, node) for node in model.nodes],
    }


def _describe_node(model: ExportModel, node: ExportNode) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": node.id, "type": node.type, "inputs": list(node.inputs),
                             "shape": list(node.shape)}
    if node.type in ("Dense", "Conv2D", "Activation"):
        entry["activation"] = node.activation
        entry.update(activation_options(node.config))
    if node.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
        size, strides = window(node.config, node.type)
        entry.update(size=list(size), strides=list(strides),
                     pads=list(pads(node.config, node.type, model.input_shapes(node)[0])))
    if node.type == "BatchNormalization":
        entry["epsilon"] = float(node.config.get("epsilon", 1e-3))
    if node.type == "Concatenate":
        entry["axis"] = concat_axis(node.config, len(node.shape) + 1)
    return entry


def write_npz(model: ExportModel, path: Path) -> list[Path]:
    """The weights file alone."""
    from core.atomic_write import write_atomically
    from core.safe_zip import write_npz as stream_npz

    arrays = weight_arrays(model)
    write_atomically(path, lambda handle: stream_npz(handle, arrays))
    return [path]


def script_text(model: ExportModel, weights_name: str) -> str:
    """predict.py's source for ``model``, reading ``weights_name`` beside itself."""
    from core import activations

    text = TEMPLATE.read_text(encoding="utf-8")
    values = {
        "MODEL": f"json.loads({json.dumps(describe(model), separators=(',', ':'))!r})",
        "WEIGHTS_FILE": f"Path(__file__).with_name({weights_name!r})",
        "LEAKY_SLOPE": repr(float(activations.LEAKY_SLOPE)),
        "ELU_ALPHA": repr(float(activations.ELU_ALPHA)),
    }
    for key, value in values.items():
        text, count = re.subn(rf"^{key} = .*  # <<{key}>>$", f"{key} = {value}", text,
                              flags=re.MULTILINE)
        assert count == 1, f"predict template lost its {key} line"
    text, count = re.subn(r"^# <<SPECIAL>>$", _special_source(), text, flags=re.MULTILINE)
    assert count == 1, "predict template lost its SPECIAL line"
    return text.replace("__NAME__", repr(model.name), 1)


def _special_source() -> str:
    """core.special's code (the erf for the exact GELU), without its docstring and
    imports: predict.py imports nothing but NumPy."""
    import core.special as special

    source = Path(special.__file__).read_text(encoding="utf-8")
    return "# The error function, as core/special.py computes it.\n" + \
        source[source.index("Array = np.ndarray"):].rstrip()


def write_numpy(model: ExportModel, path: Path) -> list[Path]:
    """``predict.py`` and its weights: into folder ``path``, or ``path`` itself if .py."""
    from core.atomic_write import write_atomically

    if path.suffix == ".py":
        script, weights = path, path.with_suffix(".npz")
    else:
        path.mkdir(parents=True, exist_ok=True)
        script, weights = path / "predict.py", path / "weights.npz"
    write_npz(model, weights)
    text = script_text(model, weights.name).encode("utf-8")
    write_atomically(script, lambda handle: handle.write(text))
    return [script, weights]
