"""Kept training runs in the project file: settings, curves and a few weight snapshots.

A run is a plain dict (so ``Project.runs`` stays a list of JSON-like records)::

    {"name": "run 3", "settings": {...training settings...}, "start_epoch": 200,
     "history": {"loss": [...], "val_loss": [...], ...},
     "snapshots": [{"epoch": 200, "weights": {node_id: {name: ndarray}}}, ...]}

In the file the records go to ``project.json`` under ``"runs"`` with each snapshot's
arrays replaced by generated keys (``"s0"``, ``"s1"``...) into the member ``runs.npz``, so
node ids never have to be parsed out of array names. Both are optional: files without
them load with no runs, and the loader checks every count and shape before it keeps
anything (a project file is untrusted input).

The size budget (see docs/lesson-tools.md): at most :data:`MAX_SNAPSHOTS` snapshots a
run and :data:`SNAPSHOT_BUDGET_BYTES` for the snapshots of all runs; the designer thins a
run's snapshots (every other one) and then drops the oldest runs' snapshots to stay
within it, keeping their curves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

RUNS_NPZ = "runs.npz"
MAX_RUNS = 50                      # runs kept in a project (the oldest go first)
MAX_SNAPSHOTS = 21                 # weight snapshots a run keeps
SNAPSHOT_BUDGET_BYTES = 16 * 1024**2  # all snapshots of all runs together
MAX_CURVE_POINTS = 1_000_000       # values of one curve


class RunsError(ValueError):
    """A damaged ``runs`` record; the message is one line for people."""


def snapshot_bytes(runs: list[dict[str, Any]]) -> int:
    """Bytes the runs' snapshots take (what the budget counts)."""
    return sum(int(np.asarray(a).nbytes) for run in runs for snap in run.get("snapshots", ())
               for arrays in snap["weights"].values() for a in arrays.values())


def thin(snapshots: list[dict[str, Any]], limit: int = MAX_SNAPSHOTS) -> list[dict[str, Any]]:
    """Every other snapshot (the first and the last always kept) until ``limit`` fit."""
    while len(snapshots) > limit:
        kept = snapshots[:-1:2]
        snapshots = kept + [snapshots[-1]]
    return snapshots


def fit_budget(runs: list[dict[str, Any]], budget: int = SNAPSHOT_BUDGET_BYTES
               ) -> list[dict[str, Any]]:
    """The runs (newest last) with the oldest runs' snapshots dropped until they fit."""
    runs = [dict(r) for r in runs[-MAX_RUNS:]]
    for run in runs:
        run["snapshots"] = thin(list(run.get("snapshots", [])))
    i = 0
    while snapshot_bytes(runs) > budget and i < len(runs):
        runs[i]["snapshots"] = []
        i += 1
    return runs


def runs_to_file(runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """(JSON records, arrays for runs.npz) of ``runs``."""
    records, arrays = [], {}
    for run in runs:
        snaps = []
        for snap in run.get("snapshots", ()):
            keys: dict[str, dict[str, str]] = {}
            for node, named in snap["weights"].items():
                for name, array in named.items():
                    key = f"s{len(arrays)}"
                    arrays[key] = np.asarray(array)
                    keys.setdefault(node, {})[name] = key
            snaps.append({"epoch": int(snap["epoch"]), "arrays": keys})
        record = {k: v for k, v in run.items() if k != "snapshots"}
        record["snapshots"] = snaps
        records.append(record)
    return records, arrays


def runs_from_file(records: Any, arrays: Mapping[str, np.ndarray], where: str
                   ) -> list[dict[str, Any]]:
    """Checked runs from the JSON records and runs.npz's arrays; RunsError if damaged."""
    if records is None:
        return []
    if not isinstance(records, list) or len(records) > MAX_RUNS:
        raise RunsError(f"{where}: 'runs' should be a list of at most {MAX_RUNS} runs.")
    return [_run(r, arrays, f"{where}: run {i + 1}") for i, r in enumerate(records)]


def _run(record: Any, arrays: Mapping[str, np.ndarray], where: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RunsError(f"{where} is not a record.")
    settings = record.get("settings", {})
    history = record.get("history", {})
    snaps = record.get("snapshots", [])
    if not isinstance(settings, dict) or not isinstance(history, dict):
        raise RunsError(f"{where}: settings and history must be records.")
    if not isinstance(snaps, list) or len(snaps) > MAX_SNAPSHOTS:
        raise RunsError(f"{where}: at most {MAX_SNAPSHOTS} weight snapshots are allowed.")
    for key, values in history.items():
        if (not isinstance(values, list) or len(values) > MAX_CURVE_POINTS
                or not all(_number(v) for v in values)):
            raise RunsError(f"{where}: the curve {key!r} is not a list of numbers.")
    start = record.get("start_epoch", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise RunsError(f"{where}: start_epoch must be a whole number >= 0.")
    return {"name": str(record.get("name", "")), "settings": settings, "history": history,
            "start_epoch": start, "snapshots": [_snapshot(s, arrays, where) for s in snaps]}


def _snapshot(snap: Any, arrays: Mapping[str, np.ndarray], where: str) -> dict[str, Any]:
    epoch = snap.get("epoch") if isinstance(snap, dict) else None
    keys = snap.get("arrays") if isinstance(snap, dict) else None
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0 \
            or not isinstance(keys, dict):
        raise RunsError(f"{where}: a weight snapshot is damaged.")
    weights: dict[str, dict[str, np.ndarray]] = {}
    for node, named in keys.items():
        if not isinstance(named, dict):
            raise RunsError(f"{where}: the snapshot of epoch {epoch} is damaged.")
        for name, key in named.items():
            array = arrays.get(key) if isinstance(key, str) else None
            if array is None or array.dtype.kind != "f":
                raise RunsError(f"{where}: the snapshot of epoch {epoch} lacks the "
                                f"weights {node}.{name} in {RUNS_NPZ}.")
            weights.setdefault(str(node), {})[str(name)] = array
    return {"epoch": epoch, "weights": weights}


def _number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                             and (math.isfinite(value) or math.isnan(value)
                                  or math.isinf(value)))


def differences(runs: list[dict[str, Any]]) -> list[str]:
    """A legend label per run naming the settings that differ between them
    ("lr 0.3", "lr 0.03"), or the run's name when nothing differs."""
    flat = [_flatten(r.get("settings", {})) for r in runs]
    keys = sorted({k for f in flat for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1
               and k not in ("epochs",)]
    labels = []
    for run, f in zip(runs, flat, strict=True):
        parts = [f"{k.split('.')[-1]} {f.get(k)}" for k in varying]
        labels.append(", ".join(parts) or run.get("name", "run"))
    return labels


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
