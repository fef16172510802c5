"""How weights are named in ``.npz`` files: one array per ``"node_id/name"`` key.

Project files (``weights.npz``), the npz and PyTorch exports and the weights an exported
``train.py`` writes all use this naming; joining and splitting a key live here so that
every reader and writer agrees on it (a node id may hold ``/``, so a key splits at the
last one).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class WeightKeyError(ValueError):
    """An array's key is not ``"node_id/name"``; ``key`` is the key, for the message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def weight_key(node_id: str, name: str) -> str:
    """The key of weight ``name`` of node ``node_id``."""
    return f"{node_id}/{name}"


def weights_by_node(arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """``{"node_id/name": array}`` as ``{node_id: {name: array}}``; WeightKeyError for a key
    without a node id or a name."""
    weights: dict[str, dict[str, np.ndarray]] = {}
    for key, array in arrays.items():
        node_id, sep, name = key.rpartition("/")
        if not sep or not node_id or not name:
            raise WeightKeyError(key)
        weights.setdefault(node_id, {})[name] = array
    return weights
