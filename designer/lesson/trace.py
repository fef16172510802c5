"""What one sample does to a network: forward, loss, backward and one optimizer step.

Qt-free, so that the numbers a lesson view shows can be tested alone. Every value comes
from the engine: ``a`` from ``Network.forward(capture=True)``, ``dL/da`` and the
gradients from ``Network.loss_and_gradients(capture=True)``, the update from
``core.optimizers`` (the optimizer's real rule and state, Adam's moments included).
``z`` and ``f'(z)`` are recomputed from the engine's inputs and weights with the engine's
own activation functions, because a layer overwrites ``z`` with ``a`` when it can.

A step through the sample is a list of :class:`Phase` objects (one per layer forward,
the loss, one per layer backward, one per weight array updated); a view shows
``phases[i]`` and moves ``i``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.activations import ACTIVATIONS, Activation
from core.network import Network
from core.optimizers import make_optimizer, merge_slices, normalize_config
from core.schedules import make_schedule
from core.training.clipping import make_clip
from core.workflow import trained_so_far

Array = np.ndarray
#: Activations whose derivative is a full Jacobian, not one number per neuron.
JACOBIAN_ACTIVATIONS = ("softmax",)
#: Dropout's random stream for a traced sample, so that a trace can be repeated.
DROPOUT_SEED = 0


@dataclass(frozen=True)
class BatchNormValues:
    """The normalisation of one sample in training mode, and what inference would do.

    A batch of one sample is its own mean: ``x_hat`` is 0, the output is ``beta`` and
    no gradient reaches the layers before. That is what the engine computes; the view
    says so and shows the inference value (moving statistics) beside it.
    """

    mean: Array
    var: Array
    epsilon: float
    x_hat: Array
    gamma: Array
    beta: Array
    moving_mean: Array
    moving_variance: Array
    inference_output: Array


@dataclass(frozen=True)
class NodeValues:
    """One node's numbers for the sample (flat 1-D arrays, one value per unit)."""

    node_id: str
    type: str
    inputs: tuple[str, ...]
    activation: str | None
    a: Array
    z: Array | None = None
    fprime: Array | None = None
    dl_da: Array | None = None
    delta: Array | None = None
    batch_norm: BatchNormValues | None = None

    @property
    def units(self) -> int:
        return int(self.a.size)


@dataclass(frozen=True)
class ParamStep:
    """One weight array before and after the optimizer's step: ``new = old - step``."""

    node_id: str
    name: str
    old: Array
    grad: Array
    step: Array
    new: Array
    state: Mapping[str, Array] = field(default_factory=dict)  # the optimizer's, after
    clipped: Array | None = None  # the gradient the optimizer took, when clipping changed it


@dataclass(frozen=True)
class Phase:
    """One stop of a step-through: ``kind`` is forward, loss, backward or update."""

    kind: str
    node_id: str | None
    title: str
    param: str | None = None


@dataclass(frozen=True)
class SampleTrace:
    """Everything one sample does to the network, with the engine's numbers."""

    x: Array
    target: Array
    loss_name: str
    loss: float
    order: tuple[str, ...]
    nodes: Mapping[str, NodeValues]
    params: Mapping[tuple[str, str], ParamStep]
    optimizer: Mapping[str, Any]
    iteration: int
    notes: tuple[str, ...] = ()
    optimizer_state: Mapping[str, Any] | None = None  # after the step (to apply it)
    penalties: tuple[float, float] = (0.0, 0.0)  # the kernels' l1 and l2, in the gradients
    lr: float | None = None  # the learning rate of this step (the schedule's)

    def stepped_weights(self) -> dict[str, dict[str, Array]]:
        """Every trainable array after the optimizer's step, by node id."""
        out: dict[str, dict[str, Array]] = {}
        for (node, name), step in self.params.items():
            out.setdefault(node, {})[name] = step.new
        return out

    @property
    def output_id(self) -> str:
        return self.order[-1]

    @property
    def prediction(self) -> Array:
        return self.nodes[self.output_id].a

    def weight_path(self, node_id: str, i: int, j: int) -> list[str]:
        """The nodes the weight ``node_id.kernel[i, j]`` influences, in order (its path
        to the loss): its own layer and every node downstream of it."""
        downstream = {node_id}
        for n in self.order:
            if any(p in downstream for p in self.nodes[n].inputs):
                downstream.add(n)
        return [n for n in self.order if n in downstream]


def _flat(a: Array | None) -> Array | None:
    return None if a is None else np.asarray(a).reshape(-1)


def _fprime(act: Activation, z: Array, a: Array) -> Array | None:
    """f'(z) per unit from the layer's own activation backward (None for a Jacobian)."""
    if act.name in JACOBIAN_ACTIVATIONS:
        return None
    zz, aa = z.reshape(1, -1).copy(), a.reshape(1, -1).copy()
    return act.backward(zz, aa, np.ones_like(zz), np.empty_like(zz)).reshape(-1)


def _dense_values(net: Network, node: str, inputs: tuple[str, ...], acts: Mapping[str, Array],
                  weights: Mapping[str, Mapping[str, Array]], dl_da: Array | None,
                  grads: Mapping[str, Mapping[str, Array]]) -> NodeValues:
    layer = net.layers[node]
    function = layer.activation if layer.activation is not None else ACTIVATIONS["linear"]
    act = function.name
    x = acts[inputs[0]].reshape(1, -1)
    w = weights[node]
    z = np.matmul(x, w["kernel"])
    if "bias" in w:
        z = z + w["bias"]
    a = acts[node].reshape(-1)
    fprime = _fprime(function, z, a)
    if "bias" in grads.get(node, {}):
        delta = grads[node]["bias"].reshape(-1)  # dL/db = dL/dz for one sample
    elif dl_da is not None and fprime is not None:
        delta = dl_da * fprime
    else:
        delta = None
    return NodeValues(node, "Dense", inputs, act, a, z.reshape(-1), fprime, dl_da, delta)


def _batch_norm_values(net: Network, node: str, x: Array,
                       weights: Mapping[str, Mapping[str, Array]]) -> BatchNormValues:
    w = weights[node]
    eps = float(net.layers[node].config["epsilon"])
    x2 = x.reshape(-1, x.shape[-1])
    mean, var = x2.mean(axis=0), x2.var(axis=0)
    x_hat = (x2 - mean) / np.sqrt(var + eps)
    mm, mv = w["moving_mean"], w["moving_variance"]
    infer = (x2 - mm) / np.sqrt(mv + eps) * w["gamma"] + w["beta"]
    return BatchNormValues(mean, var, eps, x_hat.reshape(-1), w["gamma"], w["beta"], mm, mv,
                           infer.reshape(-1))


def _inputs_of(spec: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    inputs: dict[str, list[str]] = {n["id"]: [] for n in spec["nodes"]}
    for src, dst in spec["edges"]:
        inputs[dst].append(src)
    return {n: tuple(v) for n, v in inputs.items()}


def _optimizer_step(net: Network, optimizer: Mapping[str, Any],
                    state: Mapping[str, Any] | None, lr: float | None = None,
                    clipnorm: float | None = None
                    ) -> tuple[dict, int, tuple[str, ...], dict[str, Any]]:
    """Apply one step of ``optimizer`` (from ``state``) to a copy of the parameters, with
    the training step's clipping and learning rate."""
    notes: list[str] = []
    decay = merge_slices((r.offset, r.offset + r.size) for r in net.param_refs if r.decay)
    opt = make_optimizer(optimizer, net.param_count, net.dtype, decay)
    if state:
        try:
            opt.load_state_dict(state)
        except ValueError as exc:
            notes.append(f"The saved optimizer state does not fit ({exc}); this is a first "
                         "step from a fresh optimizer.")
    grads = net.grads.copy()
    notes.extend(_clip(make_clip(opt.config, clipnorm, net.param_refs), grads))
    old = net.params.copy()
    new = old.copy()
    opt.update(new, grads, lr)
    after = opt.state_dict()
    steps = {}
    for r in net.param_refs:
        sl = slice(r.offset, r.offset + r.size)
        own = {k: np.asarray(v)[sl].reshape(r.shape) for k, v in after.items()
               if isinstance(v, np.ndarray) and v.shape == (net.param_count,)}
        raw = net.grads[sl].reshape(r.shape).copy()
        used = grads[sl].reshape(r.shape)
        steps[(r.node_id, r.name)] = ParamStep(
            r.node_id, r.name, old[sl].reshape(r.shape), raw,
            (old[sl] - new[sl]).reshape(r.shape), new[sl].reshape(r.shape), own,
            None if np.array_equal(used, raw) else used.copy())
    return steps, int(opt.iterations), tuple(notes), after


def _clip(clip: Any, grads: Array) -> list[str]:
    """Clip ``grads`` in place as the training step does; a note when it changed them."""
    if not clip.active:
        return []
    before = grads.copy()
    norm = float(np.sqrt(np.dot(grads, grads)))
    clip(grads, norm)
    if np.array_equal(before, grads):
        return []
    settings = ", ".join(f"{k} = {v:g}" for k, v in (
        ("global_clipnorm", clip.global_clipnorm), ("clipnorm", clip.clipnorm),
        ("clipvalue", clip.clipvalue)) if v is not None)
    after = float(np.sqrt(np.dot(grads, grads)))
    return [f"The gradient was clipped ({settings}): its norm went from {norm:.4g} to "
            f"{after:.4g}, and the step uses the clipped gradient."]


def next_learning_rate(training: Mapping[str, Any], history: Mapping[str, Any] | None
                       ) -> float:
    """The learning rate the next training step takes: the schedule's, at the epochs and
    steps the project has trained so far (as ``core.workflow`` starts a run)."""
    base = normalize_config(training.get("optimizer") or {"type": "adam"})["lr"]
    return make_schedule(training.get("schedule"), base)(*trained_so_far(history))


def trace_sample(net: Network, x: Any, target: Any, loss: str,
                 optimizer: Mapping[str, Any] | None = None,
                 optimizer_state: Mapping[str, Any] | None = None,
                 l1: float = 0.0, l2: float = 0.0, lr: float | None = None,
                 clipnorm: float | None = None) -> SampleTrace:
    """The forward pass, loss, backward pass and one optimizer step for one sample.

    ``l1``/``l2`` are the training settings' penalties on kernels: they enter the loss
    and the kernels' gradients (as in the Trainer's step), not ``dL/da`` or delta.
    ``lr`` is the step's learning rate (the schedule's; the optimizer's own when None)
    and ``clipnorm`` the settings' global clipping norm; the optimizer config's own
    clipping applies too, as in training.

    ``net`` is not changed: its weights (and BatchNormalization's moving statistics,
    which a training-mode forward pass moves) are put back afterwards.
    """
    x = np.asarray(x, dtype=net.dtype).reshape((1,) + net.input_shape)
    target = np.asarray(target)
    if target.ndim == 0 or target.shape[0] != 1:
        target = target.reshape((1,) + target.shape)
    saved = net.get_weights()
    try:
        net.reseed(DROPOUT_SEED)  # the same Dropout masks in both passes
        _, acts = net.forward(x, training=True, capture=True)
        net.set_weights(saved)  # BatchNormalization's moving statistics moved
        net.reseed(DROPOUT_SEED)
        value, grads, dl_da = net.loss_and_gradients(x, target, loss, l1=l1, l2=l2,
                                                     capture=True)
        steps, iteration, notes, state_after = _optimizer_step(
            net, optimizer or {"type": "adam"}, optimizer_state, lr, clipnorm)
    finally:
        net.set_weights(saved)
    inputs = _inputs_of(net.spec)
    nodes: dict[str, NodeValues] = {}
    for node in net.order:
        kind = type(net.layers[node]).TYPE
        g = _flat(dl_da.get(node))
        if kind == "Dense":
            nodes[node] = _dense_values(net, node, inputs[node], acts, saved, g, grads)
        elif kind == "BatchNormalization":
            bn = _batch_norm_values(net, node, acts[inputs[node][0]], saved)
            nodes[node] = NodeValues(node, kind, inputs[node], None, _flat(acts[node]),
                                     dl_da=g, batch_norm=bn)
        else:
            layer = net.layers[node]
            act = getattr(layer, "activation", None)
            nodes[node] = NodeValues(node, kind, inputs[node],
                                     act.name if act is not None else None,
                                     _flat(acts[node]), dl_da=g)
    config = normalize_config(optimizer or {"type": "adam"})
    return SampleTrace(x.reshape(-1), target.reshape(-1), loss, float(value), tuple(net.order),
                       nodes, steps, config, iteration, notes, state_after,
                       (float(l1), float(l2)), float(config["lr"] if lr is None else lr))


def phases(trace: SampleTrace) -> list[Phase]:
    """The stops of a step-through: forward layer by layer, the loss, backward right to
    left, then each weight array's update."""
    layers = [n for n in trace.order if trace.nodes[n].type != "Input"]
    out: list[Phase] = []
    for n in layers:
        out.append(Phase("forward", n, f"Forward: {n} ({trace.nodes[n].type})"))
    out.append(Phase("loss", trace.output_id, f"Loss: {trace.loss_name} = {trace.loss:.4g}"))
    for n in reversed(layers):
        out.append(Phase("backward", n, f"Backward: {n}"))
    for (node, name) in trace.params:
        out.append(Phase("update", node, f"Update: {node}.{name} "
                         f"({trace.optimizer['type']})", name))
    return out


def layer_rows(trace: SampleTrace) -> list[dict[str, Any]]:
    """Per-layer summary rows for networks too large for the neuron view."""
    rows = []
    for n in trace.order:
        v = trace.nodes[n]
        steps = [s for (node, _), s in trace.params.items() if node == n]
        rows.append({
            "node": n, "type": v.type, "units": v.units,
            "a_min": float(v.a.min()), "a_max": float(v.a.max()),
            "a_mean": float(v.a.mean()),
            "dl_da_norm": None if v.dl_da is None else float(np.linalg.norm(v.dl_da)),
            "grad_norm": (float(np.sqrt(sum(float(np.sum(s.grad ** 2)) for s in steps)))
                          if steps else None),
            "step_norm": (float(np.sqrt(sum(float(np.sum(s.step ** 2)) for s in steps)))
                          if steps else None),
        })
    return rows


def project_step_inputs(project: Any) -> tuple[str, dict, dict | None]:
    """(loss, optimizer config, optimizer state) of a project's training settings."""
    training = copy.deepcopy(getattr(project, "training", None) or {})
    loss = training.get("loss") or "mse"
    return loss, training.get("optimizer") or {"type": "adam"}, \
        getattr(project, "optimizer_state", None)
