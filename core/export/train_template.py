"""Train __NAME__ with PyTorch, in one process or several (DistributedDataParallel).

Written by ANN Designer's ``export --format pytorch-train``; it needs only NumPy and
PyTorch.  Beside it: ``data.npz`` (the project's training data, already split, with the
project's feature transforms and scaling applied) and ``initial_weights.npz`` (the
project's weights when it was exported, by ``node_id/name`` in Keras' layout).

    python train.py --epochs 10 --output trained.npz
    torchrun --nproc_per_node 4 train.py --epochs 10 --output trained.npz

Under torchrun every process takes its share of each batch, gradients are averaged by
DistributedDataParallel (gloo on the CPU, nccl on GPUs) and the global batch stays the
project's batch size, so the result does not depend on the number of processes (up to
rounding; BatchNormalization's batch statistics and Dropout masks are per process).
The model follows ANN Designer's (Keras') rules: channels-last data, TensorFlow's "same"
padding, Keras' BatchNormalization, optimizers, clipping and schedules.  The trained
weights are written by node id in Keras' layout; ``ann-designer import-weights
PROJECT.annproj trained.npz`` reads them back into the project.
"""

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

MODEL = json.loads("{}")  # <<MODEL>>
TRAINING = json.loads("{}")  # <<TRAINING>>
HERE = Path(__file__).resolve().parent
EPSILON = 1e-7


# ---- the model ------------------------------------------------------------------------

def _softplus(x):
    return torch.clamp_min(x, 0.0) + torch.log1p(torch.exp(-x.abs()))


def activation(node, x):
    name = node.get("activation") or "linear"
    if name == "leaky_relu":
        return F.leaky_relu(x, node.get("negative_slope", 0.2))
    if name == "gelu":
        return F.gelu(x, approximate="tanh" if node.get("approximate") else "none")
    return {"linear": lambda v: v, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
            "relu": torch.relu, "elu": F.elu, "softplus": _softplus,
            "softmax": lambda v: torch.softmax(v, dim=-1)}[name](x)


def _windows(node, x, fill):
    """NHWC -> padded NCHW (top, bottom, left, right from the node's pads)."""
    top, left, bottom, right = node["pads"]
    x = x.permute(0, 3, 1, 2)
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom), value=fill)
    return x


class Model(torch.nn.Module):
    """The network as a graph of nodes; weights named ``node_id/name`` in ``names``."""

    def __init__(self, weights):
        super().__init__()
        self.names = [k for k in weights if not k.endswith(("/moving_mean",
                                                             "/moving_variance"))]
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.as_tensor(weights[k])) for k in self.names])
        self.stats = [k for k in weights if k not in self.names]
        for i, k in enumerate(self.stats):
            self.register_buffer(f"stat{i}", torch.as_tensor(weights[k]))

    def weight(self, node_id, name):
        key = f"{node_id}/{name}"
        if key in self.names:
            return self.params[self.names.index(key)]
        if key in self.stats:
            return getattr(self, f"stat{self.stats.index(key)}")
        return None

    def state(self):
        """Every weight as a NumPy array by ``node_id/name`` (Keras layout)."""
        out = {k: p.detach().cpu().numpy()
               for k, p in zip(self.names, self.params, strict=True)}
        out.update({k: getattr(self, f"stat{i}").cpu().numpy()
                    for i, k in enumerate(self.stats)})
        return out

    def forward(self, x, logits=False):
        """The output; with ``logits`` the output node's pre-activation instead."""
        values = {}
        for node in MODEL["nodes"]:
            xs = [values[i] for i in node["inputs"]]
            y = x if node["type"] == "Input" else getattr(self, "_" + node["type"])(node, xs)
            is_out = node["id"] == MODEL["output_id"]
            if node["type"] in ("Dense", "Conv2D", "Activation") and not (is_out and logits):
                y = activation(node, y)
            values[node["id"]] = y
        return values[MODEL["output_id"]]

    def _w(self, node, name):
        return self.weight(node["id"], name)

    def _Dense(self, node, xs):
        y = xs[0] @ self._w(node, "kernel")
        bias = self._w(node, "bias")
        return y if bias is None else y + bias

    def _Conv2D(self, node, xs):
        kernel = self._w(node, "kernel").permute(3, 2, 0, 1)
        y = F.conv2d(_windows(node, xs[0], 0.0), kernel, self._w(node, "bias"),
                     stride=tuple(node["strides"]))
        return y.permute(0, 2, 3, 1)

    def _MaxPooling2D(self, node, xs):
        y = F.max_pool2d(_windows(node, xs[0], -math.inf), tuple(node["size"]),
                         tuple(node["strides"]))
        return y.permute(0, 2, 3, 1)

    def _AveragePooling2D(self, node, xs):
        x = xs[0]
        size, strides = tuple(node["size"]), tuple(node["strides"])
        total = F.avg_pool2d(_windows(node, x, 0.0), size, strides)
        ones = torch.ones((1, *x.shape[1:3], 1), dtype=x.dtype, device=x.device)
        count = F.avg_pool2d(_windows(node, ones, 0.0), size, strides)
        return (total / count).permute(0, 2, 3, 1)

    def _BatchNormalization(self, node, xs):
        x = xs[0]
        x2 = x.reshape(-1, x.shape[-1])
        mm, mv = self._w(node, "moving_mean"), self._w(node, "moving_variance")
        if self.training:
            mean = x2.mean(dim=0)
            var = ((x2 - mean) ** 2).mean(dim=0)
            with torch.no_grad():
                m = node["momentum"]
                mm.mul_(m).add_((1.0 - m) * mean)
                mv.mul_(m).add_((1.0 - m) * var)
        else:
            mean, var = mm, mv
        y = (x2 - mean) / torch.sqrt(var + node["epsilon"])
        gamma, beta = self._w(node, "gamma"), self._w(node, "beta")
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta
        return y.reshape(x.shape)

    def _Dropout(self, node, xs):
        rate = node["rate"]
        if not self.training or rate == 0.0:
            return xs[0]
        keep = (torch.rand_like(xs[0]) >= rate).to(xs[0].dtype)
        return xs[0] * keep / (1.0 - rate)

    def _Activation(self, node, xs):
        return xs[0]

    def _Flatten(self, node, xs):
        return xs[0].reshape(len(xs[0]), -1)

    def _Reshape(self, node, xs):
        return xs[0].reshape((len(xs[0]), *node["shape"]))

    def _Add(self, node, xs):
        return sum(xs[1:], xs[0])

    def _Concatenate(self, node, xs):
        return torch.cat(xs, dim=node["axis"])


# ---- loss, optimizer, schedule (ANN Designer's = Keras' rules) ------------------------

def loss_sum(model, x, t):
    """The loss summed over the samples of ``x`` (the caller divides by the batch)."""
    name = TRAINING["loss"]
    fused = MODEL["output_activation"] == {"binary_crossentropy": "sigmoid",
                                           "categorical_crossentropy": "softmax",
                                           "sparse_categorical_crossentropy": "softmax"
                                           }.get(name)
    y = model(x, logits=fused)
    rows = y[0].numel() // y.shape[-1]   # distributions per sample (categorical losses)
    if name == "sparse_categorical_crossentropy":
        idx = t.reshape(-1).long()
        if fused:
            return F.cross_entropy(y.reshape(-1, y.shape[-1]), idx, reduction="sum") / rows
        q = y / y.sum(dim=-1, keepdim=True)
        picked = q.reshape(-1, q.shape[-1]).gather(1, idx[:, None])
        return -torch.log(torch.clamp(picked, EPSILON, 1 - EPSILON)).sum() / rows
    t = t.reshape(y.shape).to(y.dtype)
    per = y[0].numel()   # values per sample: the regression losses average them
    if name == "mse":
        return ((y - t) ** 2).sum() / per
    if name == "mae":
        return (y - t).abs().sum() / per
    if name == "huber":
        a = (y - t).abs()
        q = torch.clamp_max(a, 1.0)
        return (0.5 * q * q + (a - q)).sum() / per
    if name == "binary_crossentropy":
        if fused:
            return F.binary_cross_entropy_with_logits(y, t, reduction="sum") / per
        p = torch.clamp(y, EPSILON, 1 - EPSILON)
        return -(t * torch.log(p) + (1 - t) * torch.log1p(-p)).sum() / per
    rows = y[0].numel() // y.shape[-1]   # categorical: mean over the distributions
    if fused:
        return -(t * torch.log_softmax(y, dim=-1)).sum() / rows
    q = torch.clamp(y / y.sum(dim=-1, keepdim=True), EPSILON, 1 - EPSILON)
    return -(t * torch.log(q)).sum() / rows


def penalty(model):
    """L1/L2 on the kernels, as Keras' kernel_regularizer."""
    l1, l2 = TRAINING["l1"], TRAINING["l2"]
    total = 0.0
    for name, p in zip(model.names, model.params, strict=True):
        if name.endswith("/kernel") and (l1 or l2):
            total = total + l1 * p.abs().sum() + l2 * (p * p).sum()
    return total


def learning_rate(epoch, step):
    cfg, base = TRAINING["schedule"], TRAINING["optimizer"]["lr"]
    t = float(step if cfg.get("per") == "batch" else epoch)
    kind = cfg.get("type", "constant")
    if kind == "step":
        return base * cfg["gamma"] ** math.floor(t / cfg["step_size"])
    if kind == "exponential":
        p = t / cfg["decay_steps"]
        return base * cfg["decay_rate"] ** (math.floor(p) if cfg["staircase"] else p)
    if kind == "cosine":
        frac = min(t, cfg["decay_steps"]) / cfg["decay_steps"]
        return base * ((1 - cfg["alpha"]) * 0.5 * (1 + math.cos(math.pi * frac))
                       + cfg["alpha"])
    return base


class Optimizer:
    """Keras 3's update rules (sgd, rmsprop, adagrad, adam, adamw) and clipping."""

    def __init__(self, model):
        self.cfg = TRAINING["optimizer"]
        self.names = model.names
        self.params = list(model.params)
        self.t = 0
        kind = self.cfg["type"]
        first = self.cfg.get("initial_accumulator_value", 0.0) if kind == "adagrad" else 0.0
        self.slots = [{k: torch.full_like(p, first) for k in self._slot_names()}
                      for p in self.params]

    def _slot_names(self):
        kind = self.cfg["type"]
        if kind == "sgd":
            return ("v",) if self.cfg["momentum"] > 0 else ()
        if kind == "rmsprop":
            return ("s", "mom", "avg")
        if kind == "adagrad":
            return ("acc",)
        return ("m", "v")

    def clip(self, grads):
        cfg = self.cfg
        limit = cfg.get("global_clipnorm") or TRAINING.get("clipnorm")
        if limit:
            norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
            if norm > limit:
                for g in grads:
                    g.mul_(limit / norm)
        if cfg.get("clipnorm"):
            for g in grads:
                n = float(torch.linalg.vector_norm(g))
                if n > cfg["clipnorm"]:
                    g.mul_(cfg["clipnorm"] / n)
        if cfg.get("clipvalue"):
            for g in grads:
                g.clamp_(-cfg["clipvalue"], cfg["clipvalue"])

    @torch.no_grad()
    def step(self, lr):
        grads = [p.grad for p in self.params]
        self.clip(grads)
        self.t += 1
        cfg, kind, t = self.cfg, self.cfg["type"], self.t
        for name, p, g, s in zip(self.names, self.params, grads, self.slots, strict=True):
            if kind == "sgd":
                if cfg["momentum"] > 0:
                    s["v"].mul_(cfg["momentum"]).sub_(lr * g)
                    p.add_(cfg["momentum"] * s["v"] - lr * g if cfg["nesterov"] else s["v"])
                else:
                    p.sub_(lr * g)
            elif kind == "rmsprop":
                rho = cfg["rho"]
                s["s"].mul_(rho).add_((1 - rho) * g * g)
                denom = s["s"]
                if cfg["centered"]:
                    s["avg"].mul_(rho).add_((1 - rho) * g)
                    denom = s["s"] - s["avg"] * s["avg"]
                d = lr * g / torch.sqrt(denom + cfg["epsilon"])
                if cfg["momentum"] > 0:
                    d = s["mom"].mul_(cfg["momentum"]).add_(d)
                p.sub_(d)
            elif kind == "adagrad":
                s["acc"].add_(g * g)
                p.sub_(lr * g / torch.sqrt(s["acc"] + cfg["epsilon"]))
            else:
                if kind == "adamw" and (name.endswith("/kernel")
                                        or not cfg.get("decay_kernels_only")):
                    p.mul_(1 - lr * cfg["weight_decay"])
                b1, b2 = cfg["beta_1"], cfg["beta_2"]
                s["m"].add_((1 - b1) * (g - s["m"]))
                s["v"].add_((1 - b2) * (g * g - s["v"]))
                alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p.sub_(alpha * s["m"] / (torch.sqrt(s["v"]) + cfg["epsilon"]))


# ---- running --------------------------------------------------------------------------

def load_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=TRAINING["epochs"])
    ap.add_argument("--output", default="trained.npz", help="the trained weights (.npz)")
    ap.add_argument("--batch-size", type=int, default=TRAINING["batch_size"],
                    help="the global batch, over all processes")
    ap.add_argument("--no-shuffle", action="store_true", help="batches in the data's order")
    ap.add_argument("--float64", action="store_true", help="train in double precision")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if any)")
    args = ap.parse_args(argv)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available() if args.device is None else args.device == "cuda"
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    dtype = np.float64 if args.float64 else np.float32
    torch.manual_seed(TRAINING["seed"] + rank)

    data = load_npz(HERE / "data.npz")
    X = torch.as_tensor(data["X_train"].astype(dtype))
    Y = torch.as_tensor(data["Y_train"] if data["Y_train"].dtype.kind in "iu"
                        else data["Y_train"].astype(dtype))
    initial = {k: v.astype(dtype) for k, v in load_npz(HERE / "initial_weights.npz").items()}
    model = Model(initial).to(device)
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if cuda else None)
    optimizer = Optimizer(model)
    n, batch = len(X), args.batch_size
    rng = np.random.default_rng(TRAINING["seed"])
    step = 0
    for epoch in range(args.epochs):
        order = np.arange(n) if args.no_shuffle else rng.permutation(n)
        total = torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            mine = np.array_split(rows, world)[rank]   # this process's share
            xb, yb = X[mine].to(device), Y[mine].to(device)
            # DDP averages over processes: scale so that the average is the batch mean
            value = loss_sum(net, xb, yb) * (world / len(rows)) + penalty(model)
            model.zero_grad(set_to_none=False)
            value.backward()
            optimizer.step(learning_rate(epoch, step))
            step += 1
            total += value.detach() * len(rows)   # summed over processes: world x mean
        if world > 1:
            dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {float(total) / (world * n):.4f}",
                  flush=True)
    if rank == 0:
        model.eval()
        np.savez(args.output, **model.state())
        print(f"saved the trained weights to {args.output}")
    if world > 1:
        dist.barrier()  # every rank is done (rank 0 has saved) before the group goes
        dist.destroy_process_group()
        leave_at_once()


def leave_at_once():
    """End a DDP process without the interpreter's shutdown: gloo's threads can still be
    joinable when static objects are destroyed, and C++ then aborts the process ("terminate
    called without an active exception", about one run in 20 with torch 2.13), which
    torchrun reports as a failure after the work was saved."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
