"""Knock-outs: a neuron or a weight set to zero (or just frozen) and kept so in training.

Qt-free. A knock-out is a small JSON record kept in the project's designer extras
(``project.extra["knockouts"]``), so files stay loadable by every version::

    {"node": "h1", "unit": 3, "zero": true}                      # a whole neuron
    {"node": "h1", "name": "kernel", "index": [0, 3], "zero": false}  # one weight

A neuron's knock-out covers its incoming weights and bias and its outgoing weights into
Dense layers, so it neither computes nor passes anything on. ``zero`` sets the values to
0 (with the same undo step that records the knock-out); without it the weights are only
frozen at their current values. Training keeps every covered value where it was at the
start of the run (``designer.run`` restores them after each batch). Exports need no
special case: the zeros are ordinary weights, so an exported model has the neuron
knocked out too (the export says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

EXTRA_KEY = "knockouts"
Weights = Mapping[str, Mapping[str, np.ndarray]]
#: (node id, weight name, indices into the flattened array)
Frozen = tuple[str, str, tuple[int, ...]]


def neuron(node_id: str, unit: int, zero: bool = True) -> dict[str, Any]:
    return {"node": node_id, "unit": int(unit), "zero": bool(zero)}


def weight(node_id: str, name: str, index: tuple[int, ...], zero: bool = True
           ) -> dict[str, Any]:
    return {"node": node_id, "name": name, "index": [int(i) for i in index],
            "zero": bool(zero)}


def describe(entry: Mapping[str, Any]) -> str:
    """"h1[3] (neuron, zero)" and the like, for lists and undo texts."""
    what = "zero" if entry.get("zero") else "frozen"
    if "unit" in entry:
        return f"{entry['node']}[{entry['unit']}] (neuron, {what})"
    return f"{entry['node']}.{entry['name']}{entry['index']} ({what})"


def covered(entry: Mapping[str, Any], successors: Callable[[str], list[str]],
            weights_of: Callable[[str], Mapping[str, np.ndarray] | None]
            ) -> list[tuple[str, str, tuple]]:
    """(node, name, index) of every value ``entry`` covers (indices may be slices);
    empty when the entry no longer fits the network."""
    node = entry.get("node")
    arrays = weights_of(node) if isinstance(node, str) else None
    if not arrays:
        return []
    if "unit" in entry:
        unit = entry["unit"]
        kernel = arrays.get("kernel")
        if kernel is None or kernel.ndim != 2 or not 0 <= unit < kernel.shape[1]:
            return []
        out = [(node, "kernel", (slice(None), unit))]
        if "bias" in arrays:
            out.append((node, "bias", (unit,)))
        for nxt in successors(node):
            k = (weights_of(nxt) or {}).get("kernel")
            if k is not None and k.ndim == 2 and k.shape[0] == kernel.shape[1]:
                out.append((nxt, "kernel", (unit, slice(None))))
        return out
    name, index = entry.get("name"), tuple(entry.get("index", ()))
    array = arrays.get(name) if isinstance(name, str) else None
    if array is None or len(index) != array.ndim or not all(
            0 <= i < n for i, n in zip(index, array.shape, strict=True)):
        return []
    return [(node, name, index)]


def zeroed(entries: list[Mapping[str, Any]], successors: Callable[[str], list[str]],
           weights_of: Callable[[str], Mapping[str, np.ndarray] | None]
           ) -> dict[str, dict[str, np.ndarray]]:
    """The arrays of every node ``entries`` touch, with their zeroing entries applied."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for entry in entries:
        if not entry.get("zero"):
            continue
        for node, name, index in covered(entry, successors, weights_of):
            arrays = out.setdefault(node, {k: np.array(v, copy=True)
                                           for k, v in (weights_of(node) or {}).items()})
            arrays[name][index] = 0.0
    return out


def frozen(entries: list[Mapping[str, Any]], successors: Callable[[str], list[str]],
           weights_of: Callable[[str], Mapping[str, np.ndarray] | None]) -> tuple[Frozen, ...]:
    """Flat indices per (node, weight) that training must keep where they are."""
    flat: dict[tuple[str, str], set[int]] = {}
    for entry in entries:
        for node, name, index in covered(entry, successors, weights_of):
            shape = np.shape((weights_of(node) or {})[name])
            ids = np.arange(int(np.prod(shape))).reshape(shape)[index]
            flat.setdefault((node, name), set()).update(int(i) for i in np.ravel(ids))
    return tuple((node, name, tuple(sorted(ids))) for (node, name), ids in flat.items())


def valid_entries(extra: Any) -> list[dict[str, Any]]:
    """The knock-outs in a project's extras, malformed ones left out (untrusted file)."""
    entries = extra.get(EXTRA_KEY, []) if isinstance(extra, Mapping) else []
    ok = []
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict) or not isinstance(e.get("node"), str):
            continue
        if isinstance(e.get("unit"), int) or (isinstance(e.get("name"), str) and isinstance(
                e.get("index"), list) and all(isinstance(i, int) for i in e["index"])):
            ok.append(dict(e))
    return ok
