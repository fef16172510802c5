"""The network spec: checking it, inferring shapes and counting parameters.

A spec is plain JSON (``{"nodes": [...], "edges": [[src, dst], ...]}``, see
ARCHITECTURE.md section 2).  :func:`validate` reports every problem at once, each with
the node ids it concerns, a sentence a student understands and a hint; it never raises,
whatever it is given.  Shapes and parameter counts come from the layer classes' static
rules, so a network far too large for memory is refused before anything is allocated.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from core.layers import LAYER_TYPES, Layer, ParamSchema, ShapeError
from core.layers.base import did_you_mean
from core.losses import LOSSES

MAX_PARAMS = 100_000_000
MAX_VALUES_PER_SAMPLE = 250_000_000  # activations + work arrays for one sample (1 GB f32)
IGNORED_KEYS = ("id", "type", "name")  # "name" is a free label, as in Keras


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where, what, how to fix it."""

    node_ids: tuple[str, ...]
    message: str
    hint: str
    code: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"[{', '.join(self.node_ids)}] " if self.node_ids else ""
        return f"{where}{self.message} {self.hint}".strip()


def problem_text(problem: Problem) -> str:
    """A problem as one sentence pair for people: the ids the message does not already
    name, the message, the hint ("d: units = 0 is too small. Use a value from 1 ...")."""
    named = [n for n in problem.node_ids if n not in problem.message]
    where = f"{', '.join(named)}: " if named else ""
    return f"{where}{problem.message} {problem.hint}".strip()


class SpecError(ValueError):
    """The spec cannot be built; ``.problems`` lists why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = [f"- {p}" for p in self.problems]
        super().__init__("The network cannot be built:\n" + "\n".join(lines))


@dataclass(frozen=True)
class LayerSchema:
    """What the palette and the inspector need to know about a layer type."""

    type: str
    group: str
    description: str
    formula: str
    params: tuple[ParamSchema, ...]
    min_inputs: int
    max_inputs: int | None


LAYER_SCHEMAS: dict[str, LayerSchema] = {
    name: LayerSchema(name, cls.GROUP, cls.DESCRIPTION, cls.FORMULA, cls.PARAMS,
                      cls.MIN_INPUTS, cls.MAX_INPUTS)
    for name, cls in LAYER_TYPES.items()
}


# ---- the analysis ---------------------------------------------------------------------

@dataclass
class Analysis:
    """Everything validate learns about a spec; Network builds from it."""

    problems: list[Problem] = field(default_factory=list)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # valid nodes only
    types: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # topological, acyclic part
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    input_id: str | None = None
    output_id: str | None = None

    def add(self, ids, message: str, hint: str, code: str, severity: str = "error") -> None:
        self.problems.append(Problem(tuple(ids), message, hint, code, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _hint(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _read_nodes(spec: Any, a: Analysis) -> list[str]:
    """Check every node's id, type and parameters; fill a.configs and a.types."""
    ids: list[str] = []
    nodes = spec.get("nodes")
    if not isinstance(nodes, list):
        a.add((), "The network has no list of nodes.", 'Give the spec a "nodes" list.',
              "malformed")
        return ids
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) \
                or not node.get("id"):
            a.add((), f"Node number {i + 1} has no id.", "Give every node a unique text id.",
                  "malformed")
            continue
        nid = node["id"]
        if nid in a.types:
            a.add((nid,), f"Two nodes are called {nid!r}.", "Rename one of them.",
                  "duplicate_id")
            continue
        ids.append(nid)
        typ = node.get("type")
        cls = LAYER_TYPES.get(typ) if isinstance(typ, str) else None
        a.types[nid] = typ if cls else ""
        if cls is None:
            a.add((nid,), f"Layer type {typ!r} is not known.",
                  _hint(did_you_mean(typ, LAYER_TYPES),
                        f"Available types: {', '.join(LAYER_TYPES)}."), "unknown_type")
            continue
        cfg = _read_params(nid, cls, node, a)
        if cfg is not None:
            a.configs[nid] = cfg
    return ids


def _read_params(nid: str, cls: type[Layer], node: dict, a: Analysis) -> dict | None:
    """Defaults filled in and every value checked; None when something is wrong."""
    schema = {p.name: p for p in cls.PARAMS}
    cfg: dict[str, Any] = {}
    ok = True
    for key in node:
        if key not in schema and key not in IGNORED_KEYS:
            ok = False
            a.add((nid,), f"{cls.TYPE} has no parameter {key!r}.",
                  _hint(did_you_mean(key, schema),
                        f"Its parameters are: {', '.join(schema) or 'none'}."),
                  "unknown_parameter")
    for name, p in schema.items():
        if name not in node:
            cfg[name] = copy.deepcopy(p.default)
            continue
        value, error = p.check(node[name])
        if error:
            ok = False
            message, hint, code = error
            if name == "activation" and code == "unknown_choice":
                code = "unknown_activation"
            a.add((nid,), f"{nid}: {message}", hint, code)
        cfg[name] = value
    return cfg if ok else None


def _read_edges(spec: dict, ids: list[str], a: Analysis) -> None:
    known = set(ids)
    for nid in ids:
        a.inputs[nid], a.outputs[nid] = [], []
    edges = spec.get("edges", [])
    if not isinstance(edges, list):
        a.add((), "The network's edges are not a list.", 'Give the spec an "edges" list.',
              "malformed")
        return
    seen = set()
    for e in edges:
        if not (isinstance(e, (list, tuple)) and len(e) == 2
                and all(isinstance(x, str) for x in e)):
            a.add((), f"Edge {e!r} is not a pair of node ids.", 'Write edges as ["a", "b"].',
                  "malformed")
            continue
        src, dst = e
        missing = [x for x in (src, dst) if x not in known]
        if missing:
            a.add(tuple(x for x in (src, dst) if x in known),
                  f"An edge connects to {', '.join(map(repr, missing))}, which does not exist.",
                  "Delete the edge or add the missing node.", "unknown_node")
            continue
        if (src, dst) in seen:
            a.add((src, dst), f"{src} is connected to {dst} twice.",
                  "Delete the second connection.", "duplicate_edge")
            continue
        seen.add((src, dst))
        a.inputs[dst].append(src)
        a.outputs[src].append(dst)


def _peel(ids: list[str], succ: dict, pred: dict) -> list[str]:
    """Kahn's algorithm: the nodes that can be ordered (others sit on or after cycles)."""
    indeg = {n: len(pred[n]) for n in ids}
    queue = deque(n for n in ids if indeg[n] == 0)
    order = []
    while queue:
        n = queue.popleft()
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    return order


def _check_graph(ids: list[str], a: Analysis) -> None:
    """Cycles, one input, one output, every node on a path from input to output."""
    order = _peel(ids, a.outputs, a.inputs)
    a.order = order
    if len(order) < len(ids):
        after = set(ids) - set(order)
        before = set(ids) - set(_peel(ids, a.inputs, a.outputs))
        cyc = [n for n in ids if n in after and n in before]
        a.add(tuple(cyc), f"The connections between {', '.join(cyc)} form a loop.",
              "Networks must flow one way: remove one connection of the loop.", "cycle")
    inputs = [n for n in ids if a.types.get(n) == "Input"]
    if not inputs:
        a.add((), "The network has no Input node.", "Add an Input and connect it.",
              "no_input")
    elif len(inputs) > 1:
        a.add(tuple(inputs), f"The network has {len(inputs)} Input nodes; only one is "
              "supported.", "Delete the extra Input nodes.", "several_inputs")
    else:
        a.input_id = inputs[0]
    sinks = [n for n in ids if not a.outputs[n] and a.types.get(n) != "Input"]
    if len(sinks) > 1:
        a.add(tuple(sinks), f"The network has {len(sinks)} outputs ({', '.join(sinks)}); it "
              "must end in exactly one node.", "Connect the loose ends to the output, for "
              "example through an Add or Concatenate, or delete them.", "several_outputs")
    elif len(sinks) == 1:
        a.output_id = sinks[0]
    elif len(order) == len(ids) and inputs:
        a.add(tuple(inputs), "The network has no layer after its input.",
              "Add a layer (for example a Dense) and connect the input to it.", "no_output")
    for n in ids:
        cls = LAYER_TYPES.get(a.types.get(n, ""))
        if cls is None:
            continue
        k = len(a.inputs[n])
        lo, hi = cls.MIN_INPUTS, cls.MAX_INPUTS
        if k < lo or (hi is not None and k > hi):
            want = (f"exactly {lo}" if lo == hi else
                    f"at least {lo}" if hi is None else f"{lo} to {hi}")
            if hi == 0:
                msg, hint = f"{n} is an Input and cannot receive connections.", \
                    "Remove the connections into it."
            else:
                msg = f"{n} ({cls.TYPE}) has {k} input{'s' if k != 1 else ''} but needs {want}."
                hint = ("Connect a layer into it." if k < lo else
                        "Remove the extra connections or merge them with Add or Concatenate.")
            a.add((n,), msg, hint, "input_count")
    _check_paths(ids, a)


def _reach(start: str, step: dict) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for m in step[stack.pop()]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


def _check_paths(ids: list[str], a: Analysis) -> None:
    if a.input_id is None:
        return
    fwd = _reach(a.input_id, a.outputs)
    back = _reach(a.output_id, a.inputs) if a.output_id else set(ids)
    off = [n for n in ids if n not in fwd or n not in back]
    if off and a.output_id is not None:
        a.add(tuple(off), f"{', '.join(off)} {'is' if len(off) == 1 else 'are'} not on a path "
              f"from the input {a.input_id} to the output {a.output_id}.",
              "Connect them between input and output, or delete them.", "disconnected")
    elif off:
        a.add(tuple(off), f"{', '.join(off)} cannot be reached from the input "
              f"{a.input_id}.", "Connect them to the input, or delete them.", "disconnected")


def _infer_shapes(a: Analysis) -> None:
    """Output shape and parameter count of every node whose inputs are known and valid."""
    total_params, total_values = 0, 0
    for n in a.order:
        cfg = a.configs.get(n)
        cls = LAYER_TYPES.get(a.types.get(n, ""))
        if cfg is None or cls is None:
            continue
        ins = a.inputs[n]
        if len(ins) < cls.MIN_INPUTS or (cls.MAX_INPUTS is not None
                                         and len(ins) > cls.MAX_INPUTS):
            continue
        if any(i not in a.shapes for i in ins):
            continue
        in_shapes = [a.shapes[i] for i in ins]
        try:
            shape = tuple(int(d) for d in cls.output_shape(cfg, in_shapes))
        except ShapeError as e:
            a.add((n,), f"{n}: {e.message}", e.hint, e.code)
            continue
        if any(d < 1 for d in shape):
            a.add((n,), f"{n}: its output would be empty (shape {shape}).",
                  "Use a smaller window or stride, or a larger input.", "empty")
            continue
        count = sum(math.prod(w.shape) for w in cls.weight_specs(cfg, in_shapes))
        a.shapes[n], a.counts[n] = shape, count
        total_params += count
        total_values += math.prod(shape) + cls.work_size(cfg, in_shapes)
    if total_params > MAX_PARAMS:
        big = [k for k in sorted(a.counts, key=a.counts.get, reverse=True)[:3] if a.counts[k]]
        a.add(tuple(big), f"The network has {total_params:,} parameters, more than the "
              f"{MAX_PARAMS:,} this program can hold in memory.",
              f"Use fewer units or filters in {', '.join(big)}, or add pooling before them.",
              "too_large")
    if total_values > MAX_VALUES_PER_SAMPLE:
        layers = [k for k in a.shapes if a.types.get(k) != "Input"]
        big = sorted(layers, key=lambda k: math.prod(a.shapes[k]), reverse=True)[:3]
        a.add(tuple(big), f"One sample needs {total_values:,} intermediate values, which "
              "cannot fit in memory.", f"Shrink {', '.join(big)}: fewer filters, more "
              "pooling or larger strides.", "too_large")


def _check_loss(loss: Any, a: Analysis) -> None:
    """Does the loss fit the output layer's units and activation?"""
    if not isinstance(loss, str) or loss not in LOSSES:
        a.add((), f"Loss {loss!r} is not known.",
              _hint(did_you_mean(loss, LOSSES), f"Choose one of: {', '.join(LOSSES)}."),
              "unknown_loss")
        return
    out = a.output_id
    if out is None or out not in a.shapes:
        return
    units = a.shapes[out][-1]
    act = (a.configs.get(out) or {}).get("activation") or "linear"
    if loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if units < 2:
            a.add((out,), f"{loss} needs one output per class, but {out} has 1 unit.",
                  "For two classes use binary_crossentropy with a sigmoid output, or give "
                  f"{out} one unit per class.", "loss_output")
        elif act != "softmax":
            a.add((out,), f"{loss} expects class probabilities, but {out} uses "
                  f"{act!r}.", f"Set {out}'s activation to softmax.", "loss_activation",
                  "warning")
    elif loss == "binary_crossentropy":
        if act == "softmax" and units > 1:
            a.add((out,), f"binary_crossentropy treats each of {out}'s {units} outputs as "
                  "a separate yes/no, but softmax makes them compete.",
                  "Use categorical_crossentropy with softmax, or a sigmoid activation.",
                  "loss_output")
        elif act != "sigmoid":
            a.add((out,), f"binary_crossentropy expects probabilities in (0, 1), but {out} "
                  f"uses {act!r}.", f"Set {out}'s activation to sigmoid.",
                  "loss_activation", "warning")


def _check_softmax(a: Analysis) -> None:
    for n, cfg in a.configs.items():
        if cfg.get("activation") == "softmax" and a.shapes.get(n, (0,))[-1] == 1:
            a.add((n,), f"{n} applies softmax to a single value, which always gives 1.",
                  "Use sigmoid for one output, or more units.", "softmax_one_unit", "warning")


def analyze(spec: Any, loss: Any = None) -> Analysis:
    """Run every check; never raises."""
    a = Analysis()
    if not isinstance(spec, dict):
        a.add((), "The network spec is not a JSON object.",
              'Give it the form {"nodes": [...], "edges": [...]}.', "malformed")
        return a
    ids = _read_nodes(spec, a)
    _read_edges(spec, ids, a)
    _check_graph(ids, a)
    _infer_shapes(a)
    _check_softmax(a)
    if loss is not None:
        _check_loss(loss, a)
    return a


def validate(spec: Any, loss: str | None = None) -> list[Problem]:
    """Every problem of ``spec`` (and of ``loss`` with its output), errors first."""
    problems = analyze(spec, loss).problems
    return sorted(problems, key=lambda p: p.severity != "error")


def output_shapes(spec: Any) -> dict[str, tuple[int, ...]]:
    """Output shape of every node whose inputs are valid, without the batch axis."""
    return dict(analyze(spec).shapes)


def param_counts(spec: Any) -> dict[str, int]:
    """Number of weights of every node whose inputs are valid (nothing allocated)."""
    return dict(analyze(spec).counts)
