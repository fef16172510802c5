"""A sensible first network for a data set, and a left-to-right canvas layout.

``ann-designer new --data FILE.csv --target COLUMN`` uses this so that a person with a CSV
file gets a network that trains out of the box: the input shape comes from the features,
one or two relu layers are sized from the feature count, and the output layer and loss
follow from the target (two classes, several classes, or numbers). With ``--example
NAME`` the example's network and training settings are put on the data instead, adapted
by the designer's "Fix the network" rule (:mod:`core.data_fit`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.data import DataError, Dataset
from core.data_fit import (
    DataShape,
    Fit,
    expected_units,
    fitted_spec,
    network_fit,
    output_ids,
)
from core.graph_depth import longest_path_depths
from core.project import Project, ProjectError
from core.spec import output_shapes, validate

LAYER_X_STEP = 200.0
LAYER_Y_STEP = 140.0
ORIGIN = (80.0, 200.0)


def hidden_sizes(n_features: int) -> list[int]:
    """Widths of the hidden layers: about twice the features, a power of two in [8, 128].

    Small inputs get one layer; eight or more features get a second, half as wide, so
    the network narrows towards the output as most tutorials' first networks do.
    """
    width = 2 ** math.ceil(math.log2(max(2 * n_features, 1)))
    width = min(128, max(8, width))
    return [width] if n_features < 8 else [width, max(8, width // 2)]


def output_head(task: str, n_classes: int, n_outputs: int) -> tuple[int, str, str]:
    """(units, activation, loss) for the output layer of a task.

    Two classes need one sigmoid unit and binary cross-entropy; more classes a softmax
    over all of them with categorical cross-entropy; numbers a linear layer with mse.
    """
    if task == "classification":
        if n_classes < 2:
            raise DataError(f"the target has {n_classes} class; a classifier needs at "
                             "least two different values in the target column")
        if n_classes == 2:
            return 1, "sigmoid", "binary_crossentropy"
        return n_classes, "softmax", "categorical_crossentropy"
    return max(1, n_outputs), "linear", "mse"


def starter_spec(input_shape: Sequence[int], task: str, n_classes: int = 0,
                 n_outputs: int = 1) -> tuple[dict[str, Any], str]:
    """The network spec and loss for flat features of ``input_shape``."""
    n_features = int(math.prod(input_shape))
    nodes: list[dict[str, Any]] = [{"id": "input", "type": "Input",
                                    "shape": [int(s) for s in input_shape]}]
    for i, units in enumerate(hidden_sizes(n_features), start=1):
        nodes.append({"id": f"dense{i}", "type": "Dense", "units": units,
                      "activation": "relu"})
    units, activation, loss = output_head(task, n_classes, n_outputs)
    nodes.append({"id": "output", "type": "Dense", "units": units, "activation": activation})
    edges = [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"nodes": nodes, "edges": edges}, loss


def starter_training(loss: str, n_samples: int) -> dict[str, Any]:
    """Training settings that suit a small tabular data set: Adam, batches of 32."""
    return {"loss": loss, "optimizer": {"type": "adam", "lr": 0.01},
            "batch_size": int(min(32, max(1, n_samples))), "epochs": 50, "seed": 0,
            "schedule": None, "l1": 0.0, "l2": 0.0, "clipnorm": None}


def starter_project(ds: Dataset, source: Mapping[str, Any], name: str) -> Project:
    """A new, untrained project for ``ds``: starting network, layout, settings.

    Inputs are standardized (the scaler is fitted later, on the training split only) and
    20 % of the samples are held out for validation.
    """
    spec, loss = starter_spec(ds.input_shape, ds.task, ds.n_classes, ds.n_outputs)
    target = source.get("target")
    data_name = Path(str(source["path"])).name if source.get("path") else ds.name
    return Project(name=name, description=f"{ds.task.capitalize()} of {target!r} from "
                   f"{data_name or 'the data'}", spec=spec, layout=layered_layout(spec),
                   data=dict(source),
                   preprocessing={"method": "standardize", "offset": [], "scale": []},
                   split={"val": 0.2, "test": 0.0, "seed": 0},
                   training=starter_training(loss, len(ds)), class_names=ds.class_names)


EXAMPLE_ONLY_EXTRAS = ("target", "title")  # the example's own goal and title


def example_for_data(example: Project, example_name: str, ds: Dataset,
                     source: Mapping[str, Any], name: str) -> tuple[Project, Fit]:
    """A new, untrained project: example ``example_name``'s network and training
    settings on ``ds``, and what had to change for it to fit.

    The Input takes the data's shape; the loss, the output units and the output
    activation follow the task as the designer's Fix sets them (a bounded output that
    cannot reach regression targets becomes linear). The example's scaling method and
    split are kept and refitted to the new data. ProjectError, saying why and what to
    do, when the adapted network cannot work (a Conv2D for images given rows of numbers).
    """
    data = DataShape.of(ds.X, ds.y, ds.task, ds.n_classes)
    old_loss = str((example.training or {}).get("loss") or "mse")
    fit = network_fit(example.spec, output_shapes(example.spec), data, old_loss)
    spec = fitted_spec(example.spec, fit.mismatches)
    data_name = Path(str(source["path"])).name if source.get("path") else ds.name
    _check_adapted(spec, fit.loss, data, f"example {example_name!r} cannot take "
                   f"{data_name or 'the data'}")
    method = (example.preprocessing or {}).get("method", "standardize")
    project = Project(
        name=name, description=f"{ds.task.capitalize()} of {source.get('target')!r} from "
        f"{data_name or 'the data'} with the network of example {example_name!r}",
        spec=spec, layout={k: list(v) for k, v in example.layout.items()},
        data=dict(source), preprocessing={"method": method, "offset": [], "scale": []},
        split=dict(example.split), training={**example.training, "loss": fit.loss},
        class_names=ds.class_names,
        extra={k: v for k, v in example.extra.items() if k not in EXAMPLE_ONLY_EXTRAS})
    return project, fit


def _check_adapted(spec: dict[str, Any], loss: str, data: DataShape, what: str) -> None:
    """Refuse an adapted network that is invalid or whose outputs still do not fit."""
    values = "x".join(str(s) for s in data.input_shape)
    fix = (f"choose an example of Dense layers, which take samples of {values} values, "
           "or leave out the example for a network built for the data")
    errors = [p for p in validate(spec, loss=loss) if p.severity == "error"]
    if errors:
        first = errors[0]
        named = [n for n in first.node_ids if n not in first.message]
        where = f"{', '.join(named)}: " if named else ""
        raise ProjectError(f"{what}: {where}{first.message.rstrip('.')}; {fix}")
    want = expected_units(loss, data.task, data.n_classes, data.n_outputs)
    shapes = output_shapes(spec)
    for nid in output_ids(spec):
        shape = shapes.get(nid)
        if shape and int(shape[-1]) != want:
            raise ProjectError(f"{what}: its output {nid!r} gives {int(shape[-1])} values "
                               f"per sample but the data needs {want}; {fix}")


TARGET_SCALE_LIMIT = 100.0  # a linear output starting near 0 reaches about this far


def starter_notes(ds: Dataset) -> list[str]:
    """Advice about the data that the starting network cannot fix by itself.

    Inputs are standardized but regression targets are not: a target in the tens of
    thousands (prices, say) is out of reach of a linear output that starts near zero
    and moves a little per step, so the loss barely falls. Saying so up front beats a
    run that ends with a negative R^2 and no hint why.
    """
    if ds.task != "regression" or len(ds) == 0:
        return []
    notes = []
    for j, name in enumerate(ds.target_names or [f"target {j + 1}"
                                                 for j in range(ds.n_outputs)]):
        column = ds.y[:, j].astype(float)
        mean, spread = float(column.mean()), float(column.std())
        if max(abs(mean), spread) > TARGET_SCALE_LIMIT:
            notes.append(f"note: target {name!r} has mean {mean:.3g} and spread {spread:.3g}; "
                         f"the network learns slowly at that scale: rescale the column "
                         f"(e.g. divide by {_power_of_ten(max(abs(mean), spread))}) so its "
                         "values lie within about -10..10")
    return notes


def _power_of_ten(value: float) -> str:
    return f"{10 ** math.floor(math.log10(value)):,.0f}"


def layered_layout(spec: Mapping[str, Any], origin: tuple[float, float] = ORIGIN,
                   x_step: float = LAYER_X_STEP,
                   y_step: float = LAYER_Y_STEP) -> dict[str, list[float]]:
    """Canvas positions {node_id: [x, y]}: columns by longest path from the input.

    Nodes at the same depth are stacked and centred on the main row, so a plain chain
    reads left to right and a skip connection or second branch sits above or below it.
    """
    ids = [node["id"] for node in spec.get("nodes", [])]
    depth = longest_path_depths(ids, spec.get("edges", []))
    columns: dict[int, list[str]] = {}
    for node_id in ids:
        columns.setdefault(depth[node_id], []).append(node_id)
    layout: dict[str, list[float]] = {}
    for column, members in columns.items():
        for row, node_id in enumerate(members):
            offset = row - (len(members) - 1) / 2
            layout[node_id] = [origin[0] + column * x_step, origin[1] + offset * y_step]
    return layout

