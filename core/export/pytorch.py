"""Export as PyTorch: a readable ``.py`` defining ``nn.Module`` ``Model`` plus its ``.npz``.

The module takes the same input as ANN Designer (samples first, channels last) and
applies the preprocessing itself (the project's features of raw 2-D points, then
scaling).  Convolution and pooling run on permuted (NCHW) views;
"same" padding is written out as explicit ``F.pad`` with TensorFlow's rule (the odd
pixel after), which PyTorch's own ``padding="same"`` does not follow for strides > 1.
``load_model()`` reads the weights from the ``.npz`` (``allow_pickle=False``),
transposing Keras-layout kernels into PyTorch's layout.  The generated file imports only
numpy and torch; ANN Designer never imports torch itself.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from pathlib import Path

import numpy as np

from core.export.model import (
    TRANSFORM_OPS,
    ExportModel,
    ExportNode,
    concat_axis,
    input_columns,
    pads,
    window,
)
from core.export.numpy_script import write_npz
from core.weight_keys import weight_key

_RESERVED = {"x", "offset", "scale", "forward", "training", "eval", "train", "to", "cuda",
             "cpu", "float", "double", "half", "apply", "parameters", "modules", "state_dict",
             "load_state_dict", "register_buffer", "type", "zero_grad", "np", "torch", "F",
             "nn", "Path"}

_ACTIVATIONS = {
    "linear": "{x}",
    "sigmoid": "torch.sigmoid({x})",
    "tanh": "torch.tanh({x})",
    "relu": "F.relu({x})",
    "leaky_relu": "F.leaky_relu({x}, {slope})",
    "elu": "F.elu({x}, {alpha})",
    "softplus": "F.softplus({x})",
    "gelu": "F.gelu({x})",
    "softmax": "torch.softmax({x}, dim=-1)",
}

_HELPERS = '''

def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


def _pad(x, pads, value=0.0):
    """Pad an NCHW tensor by (top, left, bottom, right)."""
    top, left, bottom, right = pads
    if not any(pads):
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


def _conv(layer, x, pads):
    return _nhwc(layer(_pad(_nchw(x), pads)))


def _max_pool(x, size, strides, pads):
    return _nhwc(F.max_pool2d(_pad(_nchw(x), pads, float("-inf")), size, strides))


def _avg_pool(x, size, strides, pads):
    """Mean over the real pixels of each window (padding not counted, as in Keras)."""
    x = _nchw(x)
    total = F.avg_pool2d(_pad(x, pads), size, strides)
    count = F.avg_pool2d(_pad(torch.ones_like(x[:1, :1]), pads), size, strides)
    return _nhwc(total / count)


def _batch_norm(layer, x):
    """BatchNorm over the last (channel) axis of channels-last data."""
    if x.dim() == 2:
        return layer(x)
    return layer(x.movedim(-1, 1)).movedim(1, -1)
'''

_LOADER = '''

def load_model(path=None):
    """A Model in eval mode with the exported weights (float32, on the CPU)."""
    model = Model()
    state = {}
    with np.load(path or WEIGHTS_FILE, allow_pickle=False) as archive:
        for key, target, layout in WEIGHTS:
            array = archive[key]
            if layout == "dense":
                array = array.T                      # (in, out) -> (out, in)
            elif layout == "conv":
                array = array.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
            state[target] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    own = model.state_dict()
    missing = [k for k in own if k not in state and k not in ("offset", "scale")
               and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"the weights file lacks {missing}")
    own.update(state)
    model.load_state_dict(own)
    return model.eval()


if __name__ == "__main__":
    net = load_model()
    sample = torch.zeros((1,) + INPUT_SHAPE)
    print(net)
    print("output for a zero sample:", net(sample).detach().numpy())
'''


def _names(model: ExportModel) -> dict[str, str]:
    """A unique Python identifier for every node id."""
    names: dict[str, str] = {}
    used = set(_RESERVED)
    for node in model.nodes:
        base = re.sub(r"\W", "_", node.id).strip("_") or "node"
        if base[0].isdigit() or keyword.iskeyword(base) or base in used:
            base = f"n_{base}"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names[node.id] = name
    return names


def _module(node: ExportNode, in_shape: tuple[int, ...]) -> str | None:
    """The nn.Module constructor for a node, or None if it needs none."""
    if node.type == "Dense":
        return (f"nn.Linear({in_shape[-1]}, {node.shape[-1]}, "
                f"bias={'bias' in node.weights})")
    if node.type == "Conv2D":
        (kh, kw), (sh, sw) = window(node.config, "Conv2D")
        return (f"nn.Conv2d({in_shape[-1]}, {node.shape[-1]}, ({kh}, {kw}), "
                f"stride=({sh}, {sw}), bias={'bias' in node.weights})")
    if node.type == "BatchNormalization":
        kind = "BatchNorm2d" if len(node.shape) == 3 else "BatchNorm1d"
        eps = float(node.config.get("epsilon", 1e-3))
        return f"nn.{kind}({node.shape[-1]}, eps={eps!r})"
    if node.type == "Dropout":
        return f"nn.Dropout(p={float(node.config.get('rate', 0.5))!r})"
    return None


def _expression(model: ExportModel, node: ExportNode, names: dict[str, str]) -> str:
    """The right-hand side computing the node from its inputs' variables."""
    from core import activations

    ins = [f"v_{names[i]}" for i in node.inputs]
    attr = f"self.{names[node.id]}"
    geometry = ""
    if node.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
        size, strides = window(node.config, node.type)
        geometry = str(pads(node.config, node.type, model.input_shapes(node)[0]))
        if node.type != "Conv2D":
            geometry = f"{size}, {strides}, {geometry}"
    body = {
        "Dense": f"{attr}({ins[0]})",
        "Conv2D": f"_conv({attr}, {ins[0]}, {geometry})",
        "MaxPooling2D": f"_max_pool({ins[0]}, {geometry})",
        "AveragePooling2D": f"_avg_pool({ins[0]}, {geometry})",
        "BatchNormalization": f"_batch_norm({attr}, {ins[0]})",
        "Dropout": f"{attr}({ins[0]})",
        "Activation": ins[0],
        "Flatten": f"{ins[0]}.flatten(1)",
        "Reshape": f"{ins[0]}.reshape((-1,) + {tuple(node.shape)})",
        "Add": " + ".join(ins),
    }.get(node.type)
    if node.type == "Concatenate":
        axis = concat_axis(node.config, len(node.shape) + 1)
        body = f"torch.cat([{', '.join(ins)}], dim={axis})"
    if node.type in ("Dense", "Conv2D", "Activation"):
        options = {**activations.ACTIVATION_OPTIONS,
                   **activations.activation_options(node.config)}
        template = _ACTIVATIONS[node.activation]
        if node.activation == "gelu" and options["approximate"]:
            template = "F.gelu({x}, approximate=\"tanh\")"
        body = template.format(x=body, slope=float(options["negative_slope"]),
                               alpha=float(activations.ELU_ALPHA))
    return body


def _weight_table(model: ExportModel, names: dict[str, str]) -> list[tuple[str, str, str]]:
    """(npz key, state_dict key, layout) for every weight."""
    targets = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias",
               "moving_mean": "running_mean", "moving_variance": "running_var"}
    table = []
    for node in model.nodes:
        for name in node.weights:
            layout = {"Dense": "dense", "Conv2D": "conv"}.get(node.type, "") \
                if name == "kernel" else ""
            table.append((weight_key(node.id, name), f"{names[node.id]}.{targets[name]}", layout))
    return table


def _features(names: list[str]) -> str:
    """``torch.cat`` of the Playground features of raw points ``x`` (N, 2), in order."""
    cols = ["x[:, 0:1]", "x[:, 1:2]"]
    terms = []
    for name in names:
        kind, idx = TRANSFORM_OPS[name]
        terms.append({"copy": cols[idx[0]], "sin": f"torch.sin({cols[idx[0]]})",
                      "mul": f"{cols[idx[0]]} * {cols[idx[-1]]}"}[kind])
    return f"torch.cat([{', '.join(terms)}], dim=1)"


def source(model: ExportModel, weights_name: str) -> str:
    """The generated module's source code."""
    names = _names(model)
    lines = [
        f'"""PyTorch version of the ANN Designer model {model.name!r} (generated).',
        "",
        "    from model import load_model",
        f"    net = load_model()   # reads {weights_name} beside this file",
        "    y = net(torch.tensor(X, dtype=torch.float32))",
        "",
        "X is samples first and channels last, as in ANN Designer; the preprocessing",
        "the network was trained with is applied inside forward(), so give raw values.",
        '"""',
        "",
        "from pathlib import Path",
        "",
        "import numpy as np",
        "import torch",
        "import torch.nn.functional as F",
        "from torch import nn",
        "",
        f"WEIGHTS_FILE = Path(__file__).with_name({weights_name!r})",
        f"INPUT_SHAPE = {tuple(model.raw_input_shape)!r}",
        f"TRANSFORMS = {model.transforms!r}  # features of raw 2-D points, before scaling",
        f"INPUT_COLUMNS = {input_columns(model)!r}  # what each input value is (one-hot: "
        "'column=value')",
        f"CLASS_NAMES = {model.class_names!r}",
        "WEIGHTS = [  # (key in the .npz, state_dict key, kernel layout to convert)",
        *[f"    {row!r}," for row in _weight_table(model, names)],
        "]",
    ]
    lines += _HELPERS.splitlines()
    lines += ["", "", "class Model(nn.Module):", "    def __init__(self):",
              "        super().__init__()"]
    if model.offset is not None:
        lines += [f"        self.register_buffer(\"offset\", torch.tensor("
                  f"{[float(v) for v in model.offset]!r}))",
                  f"        self.register_buffer(\"scale\", torch.tensor("
                  f"{[float(v) for v in model.scale]!r}))"]
    for node in model.nodes:
        in_shape = model.input_shapes(node)[0] if node.inputs else node.shape
        module = _module(node, in_shape)
        if module:
            lines.append(f"        self.{names[node.id]} = {module}  # {node.type} {node.id!r}")
    lines += ["", "    def forward(self, x):"]
    for node in model.nodes:
        var = f"v_{names[node.id]}"
        if node.type == "Input" and model.transforms:
            lines.append(f"        x = {_features(model.transforms)}  # input features")
        if node.type == "Input":
            value = "(x - self.offset) / self.scale" if model.offset is not None else "x"
            lines.append(f"        {var} = {value}  # Input {node.id!r}")
        else:
            lines.append(f"        {var} = {_expression(model, node, names)}"
                         f"  # {node.type} {node.id!r}")
    lines.append(f"        return v_{names[model.output_id]}")
    lines += _LOADER.splitlines()
    return "\n".join(lines) + "\n"


def write_pytorch(model: ExportModel, path: Path) -> list[Path]:
    """``model.py`` + ``model.npz`` (or ``path`` and ``path`` with .npz if .py)."""
    from core.atomic_write import write_atomically

    if path.suffix == ".py":
        script = path
    else:
        path.mkdir(parents=True, exist_ok=True)
        script = path / "model.py"
    weights = script.with_suffix(".npz")
    model = _with_affine_batch_norm(model)
    write_npz(model, weights)
    text = source(model, weights.name).encode("utf-8")
    write_atomically(script, lambda handle: handle.write(text))
    return [script, weights]


def _with_affine_batch_norm(model: ExportModel) -> ExportModel:
    """``model`` with gamma = 1 and beta = 0 written out for a BatchNormalization without
    ``scale`` or ``center``: torch's affine BatchNorm then computes the same thing."""
    nodes = []
    for node in model.nodes:
        if node.type == "BatchNormalization":
            c = node.shape[-1]
            filled = {"gamma": np.ones(c, np.float32), "beta": np.zeros(c, np.float32),
                      **node.weights}
            node = dataclasses.replace(node, weights=filled)
        nodes.append(node)
    return dataclasses.replace(model, nodes=nodes)
