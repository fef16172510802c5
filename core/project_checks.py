"""Checks of a project file's content: every field of ``project.json`` and the spec.

A project file is untrusted, so each field is checked for its type before it is used,
the spec's structure and sizes are bounded before anything could allocate them, and saved
weights must fit the network they are loaded into. Each check raises one
:class:`ProjectError` line that names the field and what it should be.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.project_errors import ProjectError
from core.project_format import (
    DATA_DIR,
    MAX_EDGES,
    MAX_NODES,
    MAX_PARAMETERS,
    PROJECT_JSON,
    WEIGHTS_NPZ,
)


def kind_name(value: Any) -> str:
    """What a JSON value is, in words for the message ("an object", "a list")."""
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def typed_field(doc: Mapping[str, Any], key: str, kind: type, default: Any, where: str,
           optional: bool = False) -> Any:
    """``doc[key]`` (or ``default``) when it is a ``kind``; ``optional`` lets null pass."""
    value = doc.get(key, default)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise ProjectError(f"{where}: '{key}' should be {kind_name(kind())}, "
                           f"not {kind_name(value)}.")
    return value


def check_layout(layout: Any, where: str) -> dict[str, list[float]]:
    """The layout as read: node id -> [x, y] with two finite numbers."""
    if not isinstance(layout, dict):
        raise ProjectError(f"{where}: 'layout' should map node ids to [x, y] positions.")
    for node_id, pos in layout.items():
        ok = (isinstance(pos, list) and len(pos) == 2
              and all(_is_number(v) and math.isfinite(v) for v in pos))
        if not ok:
            raise ProjectError(f"{where}: the position of node '{node_id}' should be "
                               f"[x, y] with two finite numbers, not {str(pos)[:40]}.")
    return layout


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_preprocessing(value: Any, where: str) -> dict[str, Any] | None:
    """The scaler's dict, or None; a zero scale is refused (it would divide by zero)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("method"), str):
        raise ProjectError(f"{where}: 'preprocessing' should be an object with a "
                           "'method', 'offset' and 'scale'.")
    for key in ("offset", "scale"):
        try:
            array = np.asarray(value.get(key, []), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{where}: preprocessing '{key}' should be a list of "
                               "numbers.") from exc
        if key == "scale" and np.any(array == 0):
            raise ProjectError(f"{where}: preprocessing 'scale' contains 0, which would "
                               "divide by zero; the file is damaged.")
    return value


def check_history(value: Any, where: str) -> dict[str, list]:
    """The training history: metric name -> list of values."""
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ProjectError(f"{where}: 'history' should map metric names to lists.")
    return value


def check_class_names(value: Any, where: str) -> list[str] | None:
    """The class names (a list of text), or None."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(f"{where}: 'class_names' should be a list of text.")
    return value


def files_table(doc: Mapping[str, Any], members: Mapping[str, zipfile.ZipInfo],
                 where: str) -> dict[str, Any]:
    """Which member holds what; inferred from the members if a hand-made file has no table."""
    if "files" not in doc:
        data = [name for name in members if name.startswith(DATA_DIR)]
        return {"weights": WEIGHTS_NPZ if WEIGHTS_NPZ in members else None,
                "data": data[0] if len(data) == 1 else None}
    files = doc.get("files")
    ok = isinstance(files, dict) and all(v is None or isinstance(v, str)
                                         for v in files.values())
    if not ok:
        raise ProjectError(f"{where}: {PROJECT_JSON} 'files' should map roles to member "
                           "names.")
    data = files.get("data")
    if data is not None and not data.startswith(DATA_DIR):
        raise ProjectError(f"{where}: the embedded data member must be under {DATA_DIR}, "
                           f"not '{data}'.")
    return files




def check_spec_structure(spec: Any, where: str) -> None:
    """The shape of the spec JSON (not its meaning: a half-built design may be saved)."""
    if not isinstance(spec, dict):
        raise ProjectError(f"{where}: 'spec' should be an object with 'nodes' and 'edges'.")
    nodes, edges = spec.get("nodes"), spec.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ProjectError(f"{where}: the network spec needs a 'nodes' list and an "
                           "'edges' list.")
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        raise ProjectError(f"{where}: the network has {len(nodes)} nodes and {len(edges)} "
                           f"edges; at most {MAX_NODES} and {MAX_EDGES} are supported.")
    for index, node in enumerate(nodes):
        if not (isinstance(node, dict) and isinstance(node.get("id"), str)
                and isinstance(node.get("type"), str)):
            raise ProjectError(f"{where}: node number {index + 1} needs a text 'id' and a "
                               "text 'type'.")
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) == 2
                and all(isinstance(end, str) for end in edge)):
            raise ProjectError(f"{where}: every edge should be [source id, target id], "
                               f"not {str(edge)[:40]}.")


def check_spec_size(spec: dict[str, Any], where: str) -> None:
    """Refuse absurd sizes before anything could allocate them.

    Every whole number in a node's settings is bounded first (cheap, and it catches a
    size even behind a broken connection); then ``core.spec.validate`` computes the
    parameter count and per-sample sizes from the shapes alone, without weights, and its
    ``too_large`` problems are refused.  Other problems are not: a half-built design may
    be saved and opened again.
    """
    for node in spec["nodes"]:
        for key, value in node.items():
            if _largest_int(value) > MAX_PARAMETERS:
                raise ProjectError(f"{where}: node '{node['id']}' has {key} = "
                                   f"{short_text(value)}, far larger than any network ANN "
                                   "Designer can hold; the file is damaged or hostile.")
    from core.spec import validate

    try:
        problems = validate(spec)
    except Exception:  # noqa: BLE001 - validate promises not to raise; be safe anyway
        problems = []
    for problem in problems:
        if problem.code == "too_large":
            raise ProjectError(f"{where}: {problem.message} {problem.hint}")


def _largest_int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return abs(value)
    if isinstance(value, list):
        return max((_largest_int(v) for v in value), default=0)
    return 0


def short_text(value: Any, limit: int = 40) -> str:
    """``value`` as text cut to ``limit`` characters, so a hostile value cannot flood a message."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."



def check_weights_fit(net: Any, weights: Mapping[str, Mapping[str, np.ndarray]],
                      where: str) -> None:
    """Saved weights must have a place in ``net``, its shapes and finite values, then they
    are set; a wrong weight is named rather than failing inside the engine."""
    expected = net.get_weights()
    for node_id, named in weights.items():
        for name, array in named.items():
            want = expected.get(node_id, {}).get(name)
            if want is None:
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' has no place in "
                                   "the network; the weights do not belong to this design.")
            if tuple(want.shape) != tuple(np.shape(array)):
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' has shape "
                                   f"{tuple(np.shape(array))} but the network needs "
                                   f"{tuple(want.shape)}; retrain or reset the weights.")
            if not np.isfinite(array).all():
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' contains NaN "
                                   "or infinity, so every prediction would be NaN; reset "
                                   "the weights (Training panel > Reset weights) and train "
                                   "again.")
    net.set_weights({k: dict(v) for k, v in weights.items()})
