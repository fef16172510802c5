"""Engines that compute a training step's gradients for the Trainer.

The NumPy engine is the :class:`core.network.Network` itself.  The optional PyTorch
engine (:mod:`core.backends.torch`, needs the ``torch`` extra) runs the same network's
forward and backward passes with PyTorch, on the CPU or a CUDA device, while the
network's flat NumPy buffers stay the one copy of the weights: the Trainer's optimizers,
clipping, penalties, divergence guard, events and early stopping are the same code for
both engines, so both train to the same numbers.

An engine has ``compute_gradients(X, Y, loss) -> float`` (fills ``net.grads``),
``predict(X) -> ndarray`` and ``last_output`` (the output of the latest step).
"""

from __future__ import annotations

import importlib.util
from typing import Any

BACKENDS = ("numpy", "torch")
DEVICES = ("cpu", "cuda")


def torch_available() -> bool:
    """Is PyTorch installed (without importing it, which takes a second)?"""
    return importlib.util.find_spec("torch") is not None


def check_engine(backend: str = "numpy", device: str | None = None) -> None:
    """A ValueError saying why ``backend`` on ``device`` cannot train here, if it cannot."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if device is not None and device not in DEVICES and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}")
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"the NumPy engine runs on the CPU only; for device {device!r} "
                             "choose backend 'torch'")
        return
    if not torch_available():
        raise ValueError("backend 'torch' needs PyTorch, which is not installed; install "
                         "it (pip install torch) or train with the NumPy engine")
    if str(device or "cpu").startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for, but PyTorch sees no CUDA GPU "
                             "here; use device 'cpu'")


def make_engine(net: Any, backend: str = "numpy", device: str | None = None) -> Any:
    """The engine for ``backend`` ("numpy" or "torch") on ``device`` ("cpu" or "cuda")."""
    check_engine(backend, device)
    if backend == "numpy":
        return net
    from core.backends.torch import TorchEngine

    return TorchEngine(net, device or "cpu")
