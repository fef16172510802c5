"""The PyTorch engine: a network's forward and backward passes run by PyTorch.

:class:`TorchEngine` compiles a :class:`core.network.Network`'s graph into PyTorch
operations with the engine's (Keras') semantics: channels-last tensors throughout
(convolutions and poolings run on permuted views), TensorFlow's "same" padding with the
odd pixel after, poolings that leave padding out, BatchNormalization with the biased
batch variance and Keras' momentum, the exact GELU, leaky_relu's negative_slope, and the
losses of :mod:`core.losses` (fused with softmax/sigmoid on the logits, normalised and
clipped otherwise).

The weights stay in the network's flat NumPy buffers, which the Trainer's optimizer
updates in place: on the CPU the PyTorch tensors share that memory (no copy at all); on
a CUDA device each step uploads the parameters and downloads the gradients, one
contiguous copy each, while the heavy forward and backward work runs on the device.
BatchNormalization's moving statistics are updated on the NumPy side with the same
arithmetic, and Dropout draws its masks from the layer's own NumPy generator, so in
float64 on the CPU the two engines train to the same weights (tests/core/
test_torch_backend.py compares them after 25 steps of every example).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.activations import ACTIVATION_OPTIONS, activation_options
from core.layers.conv import window_geometry
from core.losses import EPSILON, HUBER_DELTA, LOSSES
from core.network import PREDICT_VALUES_BUDGET
from core.spec import analyze

Tensor = torch.Tensor
Weights = dict[str, Tensor]


# ---- activations ----------------------------------------------------------------------

def _softplus(x: Tensor) -> Tensor:
    # the engine's form, max(x, 0) + log1p(e^-|x|) (F.softplus switches to x above 20)
    return torch.clamp_min(x, 0.0) + torch.log1p(torch.exp(-x.abs()))


def activation_fn(name: str | None, config: dict[str, Any]) -> Callable[[Tensor], Tensor]:
    """The activation ``name`` with the node's options (negative_slope, approximate)."""
    options = {**ACTIVATION_OPTIONS, **activation_options(config)}
    slope = float(options["negative_slope"])
    table: dict[str, Callable[[Tensor], Tensor]] = {
        "linear": lambda x: x, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "relu": torch.relu, "leaky_relu": lambda x: F.leaky_relu(x, slope),
        "elu": lambda x: F.elu(x, 1.0), "softplus": _softplus,
        "gelu": (lambda x: F.gelu(x, approximate="tanh")) if options["approximate"]
        else F.gelu,
        "softmax": lambda x: torch.softmax(x, dim=-1),
    }
    return table[name or "linear"]


# ---- losses ---------------------------------------------------------------------------

def _rows(y: Tensor) -> Tensor:
    return y.reshape(-1, y.shape[-1])


def _clipped(p: Tensor) -> Tensor:
    return torch.clamp(p, EPSILON, 1.0 - EPSILON)


def _normalized(y: Tensor) -> Tensor:
    return y / y.sum(dim=-1, keepdim=True)


def loss_value(name: str, y: Tensor, z: Tensor | None, t: Tensor) -> Tensor:
    """The batch-mean loss ``name`` of output ``y``; ``z`` is its pre-activation when the
    loss is fused with the output's activation (else None)."""
    if name == "sparse_categorical_crossentropy":
        idx = t.reshape(-1).long()
        if z is not None:
            return F.cross_entropy(_rows(z), idx)
        picked = _rows(_normalized(y)).gather(1, idx[:, None])
        return -torch.log(_clipped(picked)).mean()
    t = t.reshape(y.shape).to(y.dtype)
    if name == "mse":
        return ((y - t) ** 2).mean()
    if name == "mae":
        return (y - t).abs().mean()
    if name == "huber":
        a = (y - t).abs()
        q = torch.clamp_max(a, HUBER_DELTA)
        return (0.5 * q * q + HUBER_DELTA * (a - q)).mean()
    if name == "binary_crossentropy":
        if z is not None:
            return F.binary_cross_entropy_with_logits(z, t)
        p = _clipped(y)
        return -(t * torch.log(p) + (1.0 - t) * torch.log1p(-p)).mean()
    if name == "categorical_crossentropy":
        if z is not None:   # soft-target cross-entropy: -sum t log softmax(z), row mean
            return F.cross_entropy(_rows(z), _rows(t))
        return -(_rows(t) * torch.log(_clipped(_rows(_normalized(y))))).sum() / \
            _rows(y).shape[0]
    raise ValueError(f"unknown loss {name!r}")


# ---- layers ---------------------------------------------------------------------------

class _Node:
    """One node: its pre-activation function, activation and input positions."""

    def __init__(self, engine: TorchEngine, node_id: str) -> None:
        net = engine.net
        layer = net.layers[node_id]
        self.id = node_id
        self.layer = layer
        self.type = type(layer).TYPE
        self.engine = engine
        act = layer.activation
        self.act_name = act.name if act is not None else None
        self.act = activation_fn(self.act_name, layer.config)
        self.shape = net.output_shapes[node_id]
        self.geometry = None
        if self.type in ("Conv2D", "MaxPooling2D", "AveragePooling2D"):
            key = "kernel_size" if self.type == "Conv2D" else "pool_size"
            self.geometry = window_geometry(self.type, layer.config, layer.input_shapes[0],
                                            key)

    def pre(self, xs: list[Tensor], w: Weights, training: bool) -> Tensor:
        """The node's output before its activation."""
        return getattr(self, "_" + self.type.lower())(xs, w, training)

    # one method per layer type (named after it)
    def _input(self, xs, w, training):
        return xs[0]

    def _dense(self, xs, w, training):
        if "bias" in w:
            return torch.addmm(w["bias"], xs[0], w["kernel"])   # one kernel for x W + b
        return xs[0] @ w["kernel"]

    def _activation(self, xs, w, training):
        return xs[0]

    def _dropout(self, xs, w, training):
        rate = float(self.layer.config["rate"])
        if not training or rate == 0.0:
            return xs[0]
        x = xs[0]
        # the NumPy engine's mask from the layer's own generator: the same draws
        mask = np.empty(tuple(x.shape), self.engine.net.dtype)
        self.layer.rng.random(out=mask, dtype=mask.dtype)
        np.multiply(mask >= rate, mask.dtype.type(1.0 / (1.0 - rate)), out=mask)
        return x * self.engine.tensor(mask)

    def _batchnormalization(self, xs, w, training):
        x = xs[0]
        cfg, state = self.layer.config, self.layer.state
        x2 = x.reshape(-1, x.shape[-1])
        if training:
            mean = x2.mean(dim=0)
            var = ((x2 - mean) ** 2).mean(dim=0)
            m = cfg["momentum"]
            for name, batch in (("moving_mean", mean), ("moving_variance", var)):
                moving = state[name]
                moving *= m
                moving += (1.0 - m) * batch.detach().cpu().numpy()
        else:
            mean = self.engine.tensor(state["moving_mean"])
            var = self.engine.tensor(state["moving_variance"])
        y = (x2 - mean) * (1.0 / torch.sqrt(var + cfg["epsilon"]))
        if "gamma" in w:
            y = y * w["gamma"]
        if "beta" in w:
            y = y + w["beta"]
        return y.reshape(x.shape)

    def _flatten(self, xs, w, training):
        return xs[0].reshape(xs[0].shape[0], -1)

    def _reshape(self, xs, w, training):
        return xs[0].reshape((xs[0].shape[0], *self.shape))

    def _add(self, xs, w, training):
        y = xs[0] + xs[1]
        for x in xs[2:]:
            y = y + x
        return y

    def _concatenate(self, xs, w, training):
        axis = int(self.layer.config["axis"])
        return torch.cat(xs, dim=axis)   # Keras counts the batch axis too, as torch

    def _windows(self, x: Tensor, fill: float) -> Tensor:
        """NHWC -> padded NCHW view for a convolution or pooling."""
        _, _, _, _, _, _, (top, bottom), (left, right) = self.geometry
        x = x.permute(0, 3, 1, 2)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom), value=fill)
        return x

    def _conv2d(self, xs, w, training):
        _, _, sh, sw, *_ = self.geometry
        kernel = w["kernel"].permute(3, 2, 0, 1)   # (kh, kw, in, out) -> (out, in, kh, kw)
        y = F.conv2d(self._windows(xs[0], 0.0), kernel, w.get("bias"), stride=(sh, sw))
        return y.permute(0, 2, 3, 1)

    def _maxpooling2d(self, xs, w, training):
        kh, kw, sh, sw, *_ = self.geometry
        y = F.max_pool2d(self._windows(xs[0], -float("inf")), (kh, kw), (sh, sw))
        return y.permute(0, 2, 3, 1)

    def _averagepooling2d(self, xs, w, training):
        kh, kw, sh, sw, *_ = self.geometry
        x = xs[0]
        total = F.avg_pool2d(self._windows(x, 0.0), (kh, kw), (sh, sw))
        ones = torch.ones((1, *x.shape[1:3], 1), dtype=x.dtype, device=x.device)
        count = F.avg_pool2d(self._windows(ones, 0.0), (kh, kw), (sh, sw))
        return (total / count).permute(0, 2, 3, 1)


# ---- the engine -----------------------------------------------------------------------

class TorchEngine:
    """``compute_gradients``, ``predict`` and ``last_output`` of ``net``, run by PyTorch."""

    def __init__(self, net: Any, device: str = "cpu", share: bool | None = None) -> None:
        """``share`` (default: on the CPU) lets the tensors use the NumPy buffers' memory;
        without it every step copies the weights in and the gradients out, as on a GPU."""
        self.net = net
        self.device = torch.device(device)
        self.dtype = torch.float64 if net.dtype == np.float64 else torch.float32
        self.shared = self.device.type == "cpu" if share is None else bool(share)
        if self.shared:
            self._params = torch.from_numpy(net.params)
            self._grads = torch.from_numpy(net.grads)
        else:
            self._params = torch.empty(net.params.size, dtype=self.dtype, device=self.device)
            self._grads = torch.empty_like(self._params)
        self._refs = [(r.node_id, r.name, r.offset, r.size, tuple(r.shape))
                      for r in net.param_refs]
        pos = {n: i for i, n in enumerate(net.order)}
        inputs = analyze(net.spec).inputs   # in edge order: a merge node's input order
        self._nodes = [_Node(self, n) for n in net.order]
        self._inputs = [[pos[j] for j in inputs[n]] for n in net.order]
        self._out = pos[net.output_id]
        self._in = pos[net.input_id]
        self.last_output: np.ndarray | None = None

    def tensor(self, a: np.ndarray) -> Tensor:
        """A NumPy array as a tensor on the device (no copy on the CPU)."""
        t = torch.from_numpy(np.ascontiguousarray(a))
        return t if self.shared else t.to(self.device)   # a blocking copy: the array is reused

    def _weights(self, grad: bool) -> tuple[dict[str, Weights], list[Tensor]]:
        """The weights as tensors (leaves that collect gradients when ``grad``)."""
        if not self.shared:
            self._params.copy_(torch.from_numpy(self.net.params))
        weights: dict[str, Weights] = {}
        leaves = []
        for node_id, name, offset, size, shape in self._refs:
            t = self._params[offset:offset + size].view(shape)
            if grad:
                t = t.detach().requires_grad_()
                leaves.append(t)
            weights.setdefault(node_id, {})[name] = t
        return weights, leaves

    def _forward(self, x: Tensor, weights: dict[str, Weights], training: bool) -> Tensor:
        """The output node's pre-activation (its activation is left to the caller)."""
        outs: list[Tensor] = [x] * len(self._nodes)
        for i, node in enumerate(self._nodes):
            if i != self._in:
                z = node.pre([outs[j] for j in self._inputs[i]], weights.get(node.id, {}),
                             training)
                outs[i] = z if i == self._out else node.act(z)
        return outs[self._out]

    def compute_gradients(self, X: np.ndarray, Y: np.ndarray, loss: str,
                          training: bool = True) -> float:
        """Batch-mean loss of (X, Y); fills ``net.grads`` (the Trainer's hot path)."""
        X = np.asarray(X, dtype=self.net.dtype)
        Y = np.asarray(Y)
        if Y.dtype.kind == "f" and Y.dtype != self.net.dtype:
            Y = Y.astype(self.net.dtype)
        with self.net.lock:
            weights, leaves = self._weights(grad=True)
            z = self._forward(self.tensor(X), weights, training)
            out = self._nodes[self._out]
            fused = out.act_name is not None and out.act_name == LOSSES[loss].fuses_with
            # a fused loss reads the logits: the output itself is then only for metrics
            y = out.act(z.detach() if fused else z)
            value = loss_value(loss, y, z if fused else None, self.tensor(Y))
            grads = torch.autograd.grad(value, leaves, allow_unused=True)
            for (_, _, offset, size, _), g in zip(self._refs, grads, strict=True):
                if g is None:
                    self._grads[offset:offset + size].zero_()
                else:
                    self._grads[offset:offset + size].copy_(g.reshape(-1))
            if not self.shared:
                np.copyto(self.net.grads, self._grads.cpu().numpy())
            self.last_output = y.detach().cpu().numpy()
            return float(value.detach())

    def predict(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Outputs for ``X`` in inference mode, in batches."""
        X = np.asarray(X)
        n = len(X)
        if batch_size is None:
            batch_size = max(1, min(1024, PREDICT_VALUES_BUDGET
                                    // max(self.net._values_per_sample, 1)))
        result = np.empty((n, *self.net.output_shape), dtype=self.net.dtype)
        with torch.no_grad(), self.net.lock:
            weights, _ = self._weights(grad=False)
            for s in range(0, n, batch_size):
                xb = np.asarray(X[s:s + batch_size], dtype=self.net.dtype)
                y = self._nodes[self._out].act(self._forward(self.tensor(xb), weights, False))
                result[s:s + len(xb)] = y.cpu().numpy()
        return result
