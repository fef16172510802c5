"""Overhead of the Trainer's PyTorch engine next to a plain PyTorch training loop.

Prints one JSON object with, for the MLP and the CNN of ``train_throughput.py`` (same
data, batch sizes, Adam lr 1e-3, float32, batches in order):

- ``backend``: our ``Trainer(..., backend="torch", device="cpu")`` (events, metrics,
  divergence guard and all);
- ``torch_cpu``: the plain loop of ``train_throughput.py`` (zero_grad, forward,
  cross-entropy, backward, ``torch.optim.Adam``);
- ``numpy``: the NumPy engine, for reference;
- ``paired_backend_vs_torch``: the median over rounds of backend / plain within each
  round (the figure the target of 0.9 is judged on), and the same for NumPy.

    .venv/bin/python benchmarks/torch_backend.py [--n 10000] [--cnn-n 2048] [--rounds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_throughput as tt  # noqa: E402  (puts the repository on sys.path too)

from core.network import Network  # noqa: E402
from core.training import Trainer  # noqa: E402

TARGET = 0.9


def backend_epoch(spec: dict, X, Y, batch: int, backend: str):
    """One epoch of our Trainer on ``backend`` (batches in order, as the plain loop)."""
    net = Network.from_spec(spec, seed=0)
    trainer = Trainer(net, "categorical_crossentropy", {"type": "adam", "lr": 1e-3},
                      batch_size=batch, seed=0, shuffle=False, backend=backend)
    trainer.prepare(X, Y)
    return trainer.step_epoch


def measure(spec: dict, X, y, batch: int, plain, rounds: int) -> dict:
    Y = tt.one_hot(y)
    out = {"samples": len(X), **tt.compare(
        {"backend": lambda: backend_epoch(spec, X, Y, batch, "torch"),
         "torch_cpu": lambda: plain(X, y),
         "numpy": lambda: backend_epoch(spec, X, Y, batch, "numpy")}, len(X), rounds)}
    out["paired_backend_vs_torch"] = tt.paired(out["backend"], out["torch_cpu"])
    out["paired_numpy_vs_torch"] = tt.paired(out["numpy"], out["torch_cpu"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="MLP samples per epoch")
    ap.add_argument("--cnn-n", type=int, default=2048, help="CNN samples per epoch")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: all)")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "torch": torch.__version__, "threads": torch.get_num_threads(),
                             "load_avg_start": os.getloadavg()}}
    X, y = tt.synthetic(args.n, (tt.D,))
    res["mlp"] = measure(tt.mlp_spec(), X, y, tt.MLP_BATCH, tt.torch_mlp, args.rounds)
    Xc, yc = tt.synthetic(args.cnn_n, (28, 28, 1), seed=1)
    res["cnn"] = measure(tt.cnn_spec(), Xc, yc, tt.CNN_BATCH, tt.torch_cnn, args.rounds)
    res["targets"] = {name: {"target": TARGET,
                             "paired_median": (res[name]["paired_backend_vs_torch"] or {})
                             .get("median")} for name in ("mlp", "cnn")}
    for t in res["targets"].values():
        t["met"] = None if t["paired_median"] is None else t["paired_median"] >= TARGET
    res["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
