"""Does a network fit its data, and which edits make it fit ("Fix the network").

One rule for the designer's Data panel (its Fix button, and the refusal to start a run
that would fail at once) and for ``ann-designer new --example NAME --data FILE``, which
puts an example's network on a person's own data:

- every Input takes the data's sample shape;
- the loss fits the task: kept when it already does, else binary cross-entropy stays only
  for two classes, categorical cross-entropy for more, mse for values. A squared-error
  loss (mse, mae, huber) fits classes too, as in the TensorFlow Playground and Keras:
  it trains on a 0/1 target for two classes and one-hot rows for more;
- each output Dense layer has the units the loss needs: one per class (one sigmoid unit
  for binary cross-entropy, one unit for a squared-error loss on two classes) or one
  per target value;
- its activation goes with the loss: softmax for the categorical losses, sigmoid for
  binary cross-entropy; a squared-error loss on classes keeps any activation but
  softmax on one unit (always 1), which becomes sigmoid; for regression softmax becomes
  linear, and so does a bounded activation (sigmoid, tanh, relu ...) that cannot reach
  the targets' range.

Each difference is a :class:`Mismatch` carrying the edit that fixes it, so the designer
can push it as an undoable edit and the command line can apply it to the spec directly.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CATEGORICAL_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
REGRESSION_LOSSES = ("mse", "mae", "huber")
#: (lowest, highest) value an output activation can produce; others are unbounded.
ACTIVATION_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, math.inf),
    "softplus": (0.0, math.inf), "elu": (-1.0, math.inf)}


@dataclass(frozen=True)
class DataShape:
    """What a network must fit: the shape of one sample, the task, classes or targets.

    ``target_range`` is the (min, max) of regression targets, when known, so that a
    bounded output activation that cannot reach them is replaced.
    """

    input_shape: tuple[int, ...]
    task: str  # "classification" | "regression"
    n_classes: int = 0
    n_outputs: int = 1
    target_range: tuple[float, float] | None = None

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray, task: str, n_classes: int,
           with_range: bool = True) -> DataShape:
        """From the features and targets a network trains on (``with_range``: note the
        regression targets' range)."""
        n_outputs = int(np.prod(y.shape[1:])) if task == "regression" else 1
        target_range = None
        if with_range and task == "regression" and y.size:
            values = np.asarray(y, dtype=np.float64)
            target_range = (float(np.nanmin(values)), float(np.nanmax(values)))
        return cls(tuple(int(s) for s in X.shape[1:]), task, n_classes, n_outputs,
                   target_range)

    def words(self) -> str:
        """"3 classes" or "values to predict (regression)", for messages."""
        return (f"{self.n_classes} classes" if self.task == "classification"
                else "values to predict (regression)")


@dataclass(frozen=True)
class Mismatch:
    """A difference between the network and the data, with the edit that fixes it:
    set ``param`` of ``node_id`` (now ``current``) to ``value``."""

    node_id: str
    message: str
    param: str
    value: Any
    current: Any = None


@dataclass(frozen=True)
class Fit:
    """The loss the data needs (``loss``, which was ``old_loss``) and the layer edits."""

    loss: str
    old_loss: str
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def loss_changed(self) -> bool:
        return self.loss != self.old_loss

    @property
    def fits(self) -> bool:
        """Nothing to change."""
        return not self.loss_changed and not self.mismatches


def fitting_loss(task: str, n_classes: int, loss: str) -> str:
    """The loss for this data: ``loss`` itself when it fits, else the usual one
    (binary cross-entropy only for two classes, categorical for more, mse for values).
    mse, mae and huber fit classes as well (0/1 or one-hot targets)."""
    if task == "regression":
        return loss if loss in REGRESSION_LOSSES else "mse"
    if loss in CATEGORICAL_LOSSES + REGRESSION_LOSSES or (
            loss == "binary_crossentropy" and n_classes == 2):
        return loss
    return "categorical_crossentropy"


def fitting_activation(loss: str, activation: str,
                       target_range: tuple[float, float] | None = None,
                       task: str = "regression", units: int = 1) -> str:
    """The output activation that goes with ``loss``: softmax for the categorical
    losses, sigmoid for binary cross-entropy. A squared-error loss on classes
    (``task`` "classification") keeps the activation (sigmoid, tanh and linear all
    train on 0/1 or one-hot targets; softmax over several units too) except softmax on
    one unit (``units``), whose output is always 1: sigmoid then. For regression softmax
    (whose outputs always add up to 1) becomes linear; any other is kept (values in
    [0, 1] may want a sigmoid) unless ``target_range`` is known and the activation
    cannot reach it."""
    if loss in CATEGORICAL_LOSSES:
        return "softmax"
    if loss == "binary_crossentropy":
        return "sigmoid"
    if task == "classification":
        return "sigmoid" if activation == "softmax" and units == 1 else activation
    if activation == "softmax":
        return "linear"
    bounds = ACTIVATION_RANGES.get(activation)
    if bounds is not None and target_range is not None:
        low, high = target_range
        if low < bounds[0] or high > bounds[1]:
            return "linear"
    return activation


def expected_units(loss: str, task: str, n_classes: int, n_outputs: int) -> int:
    """Output units the data and loss need: one sigmoid unit for binary cross-entropy,
    one for a squared-error loss on two classes (its 0/1 target, as
    ``Dataset.targets`` gives it), else one per class."""
    if task == "regression":
        return max(1, n_outputs)
    if loss == "binary_crossentropy" or (loss in REGRESSION_LOSSES and n_classes <= 2):
        return 1
    return n_classes


def _nodes(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {n.get("id"): n for n in spec.get("nodes", []) if isinstance(n, dict)}


def _edges(spec: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return [(e[0], e[1]) for e in spec.get("edges", [])
            if isinstance(e, list | tuple) and len(e) == 2]


def output_ids(spec: Mapping[str, Any]) -> list[str]:
    """Nodes that edges lead into and none lead out of: the network's outputs."""
    edges = _edges(spec)
    targets, sources = {dst for _, dst in edges}, {src for src, _ in edges}
    return [nid for nid in _nodes(spec) if nid in targets and nid not in sources]


def shape_mismatches(spec: Mapping[str, Any], shapes: Mapping[str, Any], data: DataShape,
                     loss: str) -> list[Mismatch]:
    """Input shapes and output units against the data (``shapes``: the nodes' output
    shapes, for an output layer that has no ``units`` of its own)."""
    nodes = _nodes(spec)
    found: list[Mismatch] = []
    want_in = list(data.input_shape)
    for nid, node in nodes.items():
        if node.get("type") != "Input":
            continue
        have = [int(s) for s in node.get("shape", [])]
        if have != want_in:
            found.append(Mismatch(nid, f"The input '{nid}' takes shape {have} but the data "
                                  f"has {want_in} values per sample.", "shape", want_in,
                                  have))
    want_out = expected_units(loss, data.task, data.n_classes, data.n_outputs)
    for nid in output_ids(spec):
        node = nodes[nid]
        have_shape = shapes.get(nid)
        have = int(node["units"]) if "units" in node else (
            int(have_shape[-1]) if have_shape else None)
        if node.get("type") == "Dense" and have is not None and have != want_out:
            what = (f"{data.n_classes} classes" if data.task == "classification"
                    else f"{data.n_outputs} target value(s)")
            found.append(Mismatch(nid, f"The output layer '{nid}' has {have} units but the "
                                  f"data has {what} and the loss is {loss} (needs "
                                  f"{want_out}).", "units", want_out, have))
    return found


def activation_mismatches(spec: Mapping[str, Any], data: DataShape,
                          loss: str) -> list[Mismatch]:
    """Output Dense layers (no edge leaves them) whose activation does not go with
    ``loss`` (or cannot reach the regression targets)."""
    sources = {src for src, _ in _edges(spec)}
    units = expected_units(loss, data.task, data.n_classes, data.n_outputs)  # after Fix
    found = []
    for nid, node in _nodes(spec).items():
        if node.get("type") != "Dense" or nid in sources:
            continue
        have = str(node.get("activation", "linear"))
        want = fitting_activation(loss, have, data.target_range, data.task, units)
        if want != have:
            found.append(Mismatch(nid, f"The output layer '{nid}' uses {have}; "
                                  f"{data.words()} with {loss} need {want}.", "activation",
                                  want, have))
    return found


def network_fit(spec: Mapping[str, Any], shapes: Mapping[str, Any], data: DataShape,
                loss: str) -> Fit:
    """Everything "Fix the network" would change: the loss, then the layers for it."""
    want = fitting_loss(data.task, data.n_classes, loss)
    return Fit(want, loss, shape_mismatches(spec, shapes, data, want)
               + activation_mismatches(spec, data, want))


def fitted_spec(spec: Mapping[str, Any], mismatches: list[Mismatch]) -> dict[str, Any]:
    """A copy of ``spec`` with every mismatch's edit applied."""
    fixed = copy.deepcopy(dict(spec))
    nodes = _nodes(fixed)
    for m in mismatches:
        nodes[m.node_id][m.param] = copy.deepcopy(m.value)
    return fixed


def change_text(fit: Fit) -> list[str]:
    """What a fit changes, one short phrase per edit ("shape of 'in': [4] -> [13]")."""
    changes = [f"loss {fit.old_loss} -> {fit.loss}"] if fit.loss_changed else []
    return changes + [f"{m.param} of {m.node_id!r}: {m.current} -> {m.value}"
                      for m in fit.mismatches]
