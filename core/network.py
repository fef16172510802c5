"""Network: a spec compiled into an executable DAG of layers over flat buffers.

All trainable parameters live in one 1-D array ``params`` and their gradients in
``grads`` of the same size; each layer's ``kernel``/``bias``/... are views into them, so
an optimizer updates the whole network with a few vector operations and a training step
writes gradients in place without building dictionaries.  ``param_refs`` says where each
array sits.  Nodes run in a topological order; the edge order of the spec is the input
order of merge nodes.

Layers keep their work arrays and the last batch's activations between calls, so the
public methods hold a lock: a view may call ``predict`` from the UI thread while a
Trainer steps in another thread, and each call sees a consistent network.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from core.fusion import FusionPlan
from core.initializers import initialize
from core.layers import LAYER_TYPES, Layer
from core.layers.conv import planar_to_nhwc
from core.losses import LOSSES, Loss
from core.regularizers import add_penalties
from core.spec import SpecError, analyze

Array = np.ndarray
PREDICT_VALUES_BUDGET = 16_000_000  # floats held per predict batch (~64 MB in float32)


@dataclass(frozen=True)
class ParamRef:
    """Where one trainable array sits in the flat buffers."""

    node_id: str
    name: str
    offset: int
    size: int
    shape: tuple[int, ...]
    decay: bool


class SummaryRow(NamedTuple):
    """One line of ``Network.summary()``."""

    node_id: str
    type: str
    output_shape: tuple[int, ...]
    params: int


def _seed(seed: Any) -> int:
    """``seed`` as an int >= 0 (NumPy's generators refuse negative seeds obscurely)."""
    whole = isinstance(seed, (int, np.integer)) or (isinstance(seed, float)
                                                    and seed.is_integer())
    if isinstance(seed, bool) or not whole or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


class Network:
    """An executable network; build it with :meth:`from_spec`."""

    def __init__(self, spec: dict, seed: int | None = 0, dtype: Any = "float32") -> None:
        analysis = analyze(spec)
        if analysis.errors:
            raise SpecError(analysis.errors)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype}")
        self.spec = copy.deepcopy(spec)
        if seed is None:  # still reproducible afterwards: the drawn seed is kept
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = _seed(seed)
        self.lock = threading.RLock()
        self.order: list[str] = list(analysis.order)
        self.input_id: str = analysis.input_id  # type: ignore[assignment]
        self.output_id: str = analysis.output_id  # type: ignore[assignment]
        self.output_shapes = {n: analysis.shapes[n] for n in self.order}
        self._counts = dict(analysis.counts)
        # Output of the latest forward pass or training step: a work array, valid until
        # the next call (the Trainer reads it for batch metrics without a copy).
        self.last_output: Array | None = None
        self._build_layers(analysis)
        self._allocate(self.seed)
        self._plan(analysis)

    @classmethod
    def from_spec(cls, spec: dict, seed: int | None = 0, dtype: Any = "float32") -> Network:
        """Check ``spec`` (SpecError lists every problem), then build and initialise."""
        return cls(spec, seed=seed, dtype=dtype)

    # ---- construction -----------------------------------------------------------------
    def _build_layers(self, a) -> None:
        self.layers: dict[str, Layer] = {}
        for i, n in enumerate(self.order):
            cls = LAYER_TYPES[a.types[n]]
            in_shapes = [a.shapes[j] for j in a.inputs[n]]
            layer = cls(n, dict(a.configs[n]), in_shapes, self.dtype)
            layer.rng = np.random.default_rng([self.seed, i + 1])
            self.layers[n] = layer

    def _allocate(self, seed: int) -> None:
        """One flat buffer for every trainable array, filled in topological order."""
        specs = []
        for n, layer in self.layers.items():
            for ws in type(layer).weight_specs(layer.config, layer.input_shapes):
                specs.append((n, ws))
        size = sum(math.prod(ws.shape) for _, ws in specs if ws.trainable)
        self.params = np.zeros(size, dtype=self.dtype)
        self.grads = np.zeros(size, dtype=self.dtype)
        self.param_refs: list[ParamRef] = []
        rng = np.random.default_rng(seed)
        offset = 0
        for n, ws in specs:
            layer = self.layers[n]
            k = math.prod(ws.shape)
            if ws.trainable:
                view = self.params[offset:offset + k].reshape(ws.shape)
                layer.w[ws.name] = view
                layer.g[ws.name] = self.grads[offset:offset + k].reshape(ws.shape)
                self.param_refs.append(ParamRef(n, ws.name, offset, k, ws.shape, ws.decay))
                offset += k
            else:
                view = np.zeros(ws.shape, dtype=self.dtype)
                layer.state[ws.name] = view
            initialize(ws.initializer, view, rng)
        self.param_count = size

    def _plan(self, a) -> None:
        """Positions, input positions and which inputs need a gradient."""
        pos = {n: i for i, n in enumerate(self.order)}
        self._seq: list[Layer] = [self.layers[n] for n in self.order]
        self._in_pos: list[list[int]] = [[pos[j] for j in a.inputs[n]] for n in self.order]
        needs = [False] * len(self.order)
        for i, n in enumerate(self.order):
            needs[i] = bool(self.layers[n].w) or any(needs[j] for j in self._in_pos[i])
        self._needs_grad = needs
        self._need_dx = [[needs[j] for j in ins] for ins in self._in_pos]
        self._out_pos = pos[self.output_id]
        self._in_pos_input = pos[self.input_id]
        self.apply_fusion(FusionPlan.for_graph(self._seq, self._in_pos, self._out_pos,
                                               self._in_pos_input))
        per_sample = sum(math.prod(s) for s in self.output_shapes.values())
        per_sample += sum(type(lay).work_size(lay.config, lay.input_shapes)
                          for lay in self._seq)
        self._values_per_sample = max(per_sample, 1)

    def apply_fusion(self, plan: FusionPlan) -> None:
        """Hand every layer its part of ``plan`` (tests compare a plan with none)."""
        self.fusion_plan = plan
        for layer, fusion in zip(self._seq, plan.layers, strict=True):
            layer.fusion = fusion
        self._preact = [f.gradient_before_activation for f in plan.layers]

    def reseed(self, seed: int) -> None:
        """Restart the random streams of Dropout layers (a Trainer's seed, for instance)."""
        with self.lock:
            for i, layer in enumerate(self._seq):
                layer.rng = np.random.default_rng([int(seed), i + 1])

    # ---- properties -------------------------------------------------------------------
    @property
    def output_activation(self) -> str:
        """Name of the output node's activation ("linear" when it has none)."""
        act = self.layers[self.output_id].activation
        return act.name if act is not None else "linear"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.output_shapes[self.input_id]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.output_shapes[self.output_id]

    # ---- running ----------------------------------------------------------------------
    def _checked_input(self, X: Any) -> Array:
        """``X`` as an array of samples of the Input's shape, or a ValueError that says
        which shape was expected (never a broadcasting error from deep inside a layer)."""
        X = np.asarray(X)
        shape = self.input_shape
        if X.dtype.kind not in "biuf":
            raise ValueError(f"the network's input must hold numbers, not {X.dtype} values; "
                             "convert the data to floats first")
        if X.shape[1:] == shape:
            return X
        if X.ndim == 1 and shape == (1,):
            return X.reshape(-1, 1)
        expected = f"(n_samples, {', '.join(map(str, shape))})"
        hint = "pass an array of samples, samples first"
        if X.shape == shape:
            hint = f"for a single sample use X.reshape(1, {', '.join(map(str, shape))})"
        raise ValueError(f"Input node {self.input_id!r} expects data of shape {expected}, "
                         f"got shape {X.shape}; {hint}")

    def _as_input(self, X: Any) -> Array:
        X = self._checked_input(X)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        return X

    def _forward(self, X: Array, training: bool) -> list[Array]:
        outs: list[Array] = [X] * len(self._seq)
        for i, layer in enumerate(self._seq):
            if i != self._in_pos_input:
                outs[i] = layer.forward([outs[j] for j in self._in_pos[i]], training)
        self.last_output = outs[self._out_pos]
        return outs

    def forward(self, X: Any, training: bool = False, capture: bool = False):
        """The output for ``X``; with ``capture`` also every node's output by id."""
        X = self._as_input(X)
        with self.lock:
            outs = self._forward(X, training)
            y = outs[self._out_pos].copy()
            if not capture:
                return y
            return y, {n: np.array(planar_to_nhwc(outs[i])) for i, n in enumerate(self.order)}

    def predict(self, X: Any, batch_size: int | None = None) -> Array:
        """Outputs for ``X`` in inference mode, in batches that fit in memory."""
        X = self._checked_input(X)
        n = len(X)
        if batch_size is None:
            batch_size = max(1, min(1024, PREDICT_VALUES_BUDGET // self._values_per_sample))
        result = np.empty((n,) + self.output_shape, dtype=self.dtype)
        for s in range(0, n, batch_size):
            xb = self._as_input(X[s:s + batch_size])
            with self.lock:
                result[s:s + len(xb)] = self._forward(xb, False)[self._out_pos]
        return result

    def _loss(self, loss: str | Loss) -> Loss:
        if isinstance(loss, Loss):
            return loss
        try:
            return LOSSES[loss]
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose one of "
                             f"{', '.join(LOSSES)}") from None

    def compute_gradients(self, X: Any, Y: Any, loss: str | Loss,
                          training: bool = True) -> float:
        """Batch-mean loss of (X, Y); fills ``self.grads``. The training hot path.

        ``training=False`` runs the layers as when predicting (Dropout passes all,
        BatchNormalization uses and keeps its moving statistics).
        """
        return self._gradients(X, Y, loss, training)

    def _gradients(self, X: Any, Y: Any, loss: str | Loss, training: bool,
                   keep: dict[str, Array] | None = None) -> float:
        lossf = self._loss(loss)
        X = self._as_input(X)
        Y = np.asarray(Y)
        if Y.dtype.kind == "f" and Y.dtype != self.dtype:
            Y = Y.astype(self.dtype)
        with self.lock:
            return self._step(X, Y, lossf, training, keep)

    def _step(self, X: Array, Y: Array, lossf: Loss, training: bool = True,
              keep: dict[str, Array] | None = None) -> float:
        outs = self._forward(X, training)
        out_layer = self._seq[self._out_pos]
        y = outs[self._out_pos]
        act = out_layer.activation
        fused = act is not None and act.name == lossf.fuses_with
        if keep is not None:  # dL/dy of the output itself, also where the loss is fused
            keep[self.output_id] = np.array(lossf.value_and_grad(y, Y)[1])
        gbuf = out_layer.buffer("loss_grad", y.shape)
        if fused:
            value, g = lossf.fused(out_layer._z, y, Y, out=gbuf)
        else:
            value, g = lossf.value_and_grad(y, Y, out=gbuf)
        self._backward(g, fused, keep)
        return value

    def _backward(self, g: Array, fused: bool, keep: dict[str, Array] | None = None) -> None:
        n = len(self._seq)
        dys: list[Array | None] = [None] * n
        owned = [False] * n
        dys[self._out_pos] = g
        for i in range(n - 1, -1, -1):
            dy = dys[i]
            if keep is not None and dy is not None and self.order[i] not in keep:
                keep[self.order[i]] = np.array(planar_to_nhwc(dy))
            if dy is None or i == self._in_pos_input:
                continue
            dxs = self._seq[i].backward(dy, self._need_dx[i], fused=self._preact[i]
                                        or (fused and i == self._out_pos))
            for j, dx in zip(self._in_pos[i], dxs, strict=True):
                if dx is None:
                    continue
                if dys[j] is None:
                    dys[j] = dx
                elif owned[j]:
                    dys[j] += dx
                else:  # a branch point: sum into a fresh array, never into a shared one
                    dys[j] = dys[j] + dx
                    owned[j] = True

    def loss_and_gradients(self, X: Any, Y: Any, loss: str | Loss, training: bool = True,
                           l1: float = 0.0, l2: float = 0.0, capture: bool = False):
        """(batch-mean loss, gradients by node id and weight name, as copies).

        ``training`` as in :meth:`compute_gradients` (True: the batch statistics of
        BatchNormalization, which it then moves, and Dropout masks, as a training step
        sees them); ``l1``/``l2`` add the kernels' penalties as the Trainer does
        (:mod:`core.regularizers`). With ``capture`` a third item:
        ``{node_id: dL/d(the node's output)}``, what the backward pass hands each node
        (the explain and step-through views show it; penalties do not enter it). A node
        whose activation's derivative a later layer applies (``core.fusion``: a ReLU
        before a max pooling) gets dL/dz there instead.
        """
        keep: dict[str, Array] | None = {} if capture else None
        with self.lock:
            value = self._gradients(X, Y, loss, training, keep)
            if l1 or l2:
                slices = [(r.offset, r.offset + r.size) for r in self.param_refs if r.decay]
                value += add_penalties(self.params, self.grads, slices, float(l1),
                                       float(l2), np.empty_like(self.params))
            grads = self.last_gradients()
        return (value, grads, keep) if keep is not None else (value, grads)

    def evaluate_loss(self, X: Any, Y: Any, loss: str | Loss) -> float:
        """Batch-mean loss in inference mode, computed from the outputs."""
        return self._loss(loss).value(self.predict(X), np.asarray(Y))

    def last_gradients(self) -> dict[str, dict[str, Array]]:
        """Copies of the last step's gradients, {node_id: {name: array}}."""
        out: dict[str, dict[str, Array]] = {}
        with self.lock:
            for r in self.param_refs:
                out.setdefault(r.node_id, {})[r.name] = \
                    self.grads[r.offset:r.offset + r.size].reshape(r.shape).copy()
        return out

    # ---- weights ----------------------------------------------------------------------
    def get_weights(self) -> dict[str, dict[str, Array]]:
        """Copies of every weight, trainable or not, {node_id: {name: array}}."""
        out: dict[str, dict[str, Array]] = {}
        with self.lock:
            for n in self.order:
                layer = self.layers[n]
                arrays = {**layer.w, **layer.state}
                if arrays:
                    out[n] = {k: v.copy() for k, v in arrays.items()}
        return out

    def set_weights(self, weights: dict[str, dict[str, Any]]) -> None:
        """Copy ``weights`` (all or some nodes) into the network; shapes must match."""
        targets = []
        for n, arrays in weights.items():
            layer = self.layers.get(n)
            if layer is None:
                raise ValueError(f"set_weights: the network has no node {n!r}")
            for name, value in arrays.items():
                dst = layer.w.get(name, layer.state.get(name))
                if dst is None:
                    have = ", ".join([*layer.w, *layer.state]) or "no weights"
                    raise ValueError(f"set_weights: node {n!r} has no weight {name!r} "
                                     f"(it has {have})")
                value = np.asarray(value)
                if value.shape != dst.shape:
                    raise ValueError(f"set_weights: {n}.{name} must have shape {dst.shape}, "
                                     f"got {value.shape}")
                targets.append((dst, value))
        with self.lock:  # all checked first: no half-applied update
            for dst, value in targets:
                np.copyto(dst, value, casting="unsafe")

    # ---- description ------------------------------------------------------------------
    def summary(self) -> list[SummaryRow]:
        """One row per node in topological order: id, type, output shape, parameters."""
        return [SummaryRow(n, type(self.layers[n]).TYPE, self.output_shapes[n],
                           self._counts.get(n, 0)) for n in self.order]

    def summary_text(self) -> str:
        """The summary as an aligned plain-text table with a total line."""
        rows = [("Node", "Type", "Output shape", "Params")]
        rows += [(r.node_id, r.type, str(r.output_shape), f"{r.params:,}")
                 for r in self.summary()]
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = ["  ".join(r[c].ljust(widths[c]) if c < 3 else r[c].rjust(widths[c])
                           for c in range(4)) for r in rows]
        total = sum(self._counts.values())
        lines.append(f"Total parameters: {total:,} (trainable: {self.param_count:,})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Network({len(self.order)} nodes, {self.param_count:,} parameters, "
                f"{self.dtype.name})")
