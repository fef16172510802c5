"""The open project: the single source of truth that the canvas and the panels mirror.

The :class:`Document` owns a ``core.project.Project`` and the ``QUndoStack``. It is the
only writer of the network spec: every edit the user makes goes through a public method
that pushes one QUndoCommand (see ``designer.commands``), whose redo/undo call the raw
mutators below. Each raw mutator changes the spec, emits its signal and re-runs
``core.validate`` so problems, output shapes and parameter counts are always current.
Nothing is ever read back from the canvas items.
"""

from __future__ import annotations

import copy
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from designer import commands as cmd

#: Layer types that accept any number of inputs (edge order = input order).
MERGE_TYPES = frozenset({"Add", "Concatenate"})
#: Params the user can never edit through ``set_param``.
FIXED_KEYS = frozenset({"id", "type"})
#: Sensible starting values for required params whose schema has no default.
FALLBACK_PARAMS: dict[str, dict[str, Any]] = {
    "Input": {"shape": [2]},
    "Dense": {"units": 8},
    "Conv2D": {"filters": 8, "kernel_size": 3},
    "Reshape": {"target_shape": [-1]},
    "Dropout": {"rate": 0.5},
    "Activation": {"activation": "relu"},
}
MAX_FRAGMENT_NODES = 5000
MAX_UNITS = 4096
#: A node id: a letter first, then letters, digits, "_", "-" or "." (safe in every export).
NODE_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
MAX_ID_LENGTH = 40
#: Connected cards closer than this (left edge to left edge) leave no room for the shape
#: label on their edge; such a layout is spread out when a project is opened.
MIN_EDGE_SPAN = 230.0
SPREAD_SPAN = 240.0  # what the closest connected pair is stretched to
CARD_CLEARANCE = 200.0  # a new card closer than this (sideways) to another would cover it
#: Project fields edited through ``set_project_fields`` (the data ones reload the data).
DATA_FIELDS = frozenset({"data", "split", "preprocessing"})
PROJECT_FIELDS = DATA_FIELDS | {"training", "optimizer_state"}

def snake_case(type_name: str) -> str:
    """Keras-style id stem of a layer type: ``MaxPooling2D`` -> ``max_pooling2d``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", type_name).lower() or "node"


def _schema_defaults(type_name: str) -> dict[str, Any]:
    """Default params of a new node: the schema's defaults plus fallbacks for required ones."""
    params: dict[str, Any] = {}
    schema = _layer_schemas().get(type_name)
    for param in _schema_params(schema):
        name = getattr(param, "name", None)
        default = getattr(param, "default", None)
        if name and default is not None:
            params[name] = copy.deepcopy(list(default) if isinstance(default, tuple) else default)
    for name, value in FALLBACK_PARAMS.get(type_name, {}).items():
        params.setdefault(name, copy.deepcopy(value))
    return params


def _schema_params(schema: Any) -> list[Any]:
    """The parameter list of a LayerSchema, whatever the container is called."""
    if schema is None:
        return []
    params = getattr(schema, "params", None) or getattr(schema, "parameters", None) or []
    return list(params.values()) if isinstance(params, Mapping) else list(params)


def _layer_schemas() -> Mapping[str, Any]:
    """``core.spec.LAYER_SCHEMAS`` (imported late so the engine loads only when needed)."""
    from core.spec import LAYER_SCHEMAS

    return LAYER_SCHEMAS


def layer_group(type_name: str) -> str:
    """Palette group of a layer type ("Core", "Merge", ...); Input gets its own colour."""
    if type_name == "Input":
        return "Input"
    schema = _layer_schemas().get(type_name)
    return str(getattr(schema, "group", "Other")) if schema is not None else "Other"


def _empty_project() -> Any:
    """A new, empty ``core.project.Project``."""
    from core.project import Project

    return Project(name="Untitled", spec={"nodes": [], "edges": []}, layout={})


class UndoStack(QUndoStack):
    """The document's QUndoStack; ``setClean()`` means "the project now equals its file"
    (a save), so it also tells the document that its training results are saved: every
    caller of ``setClean``, the document's ``save`` or a script's, leaves nothing unsaved.
    """

    cleared = Signal()

    def setClean(self) -> None:  # noqa: N802 - Qt's name
        super().setClean()
        self.cleared.emit()


class Document(QObject):
    """One open project, its undo history and everything derived from its spec."""

    nodeAdded = Signal(str)
    nodeRemoved = Signal(str)
    nodeChanged = Signal(str)
    nodeMoved = Signal(str)
    edgeAdded = Signal(str, str)
    edgeRemoved = Signal(str, str)
    specChanged = Signal()
    problemsChanged = Signal()
    weightsChanged = Signal()
    projectReplaced = Signal()
    lockChanged = Signal(str)
    # Additions to the contract (names may grow):
    neuronMapsChanged = Signal()
    filePathChanged = Signal(str)
    nodeRenamed = Signal(str, str)  # (old id, new id): items keep their place and selection
    refused = Signal(str)  # the reason of any refused public edit, for the status bar
    trainingSettingsChanged = Signal()  # project.training replaced (an edit, undo or redo)
    dataSourceChanged = Signal()  # project.data, split or preprocessing replaced
    trainedStateChanged = Signal()  # weights, optimizer state and history from training
    modifiedChanged = Signal(bool)  # is_modified flipped: the title's "*", the close prompt
    aboutToSave = Signal()  # a running training stores its results before the file is written

    def __init__(self, project: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = UndoStack(self)
        self._file_path: Path | None = None
        self._lock: str | None = None
        self._live_weights: dict[str, dict[str, np.ndarray]] | None = None
        self._neuron_maps: dict[str, np.ndarray] = {}
        self._initial: tuple[int, dict[str, dict[str, np.ndarray]]] | None = None
        self._batch_depth = 0
        self._dirty = False
        self._unsaved_results = False  # training results since the last save/open
        self._shown_modified = False
        self._revision = 0
        self._problems: list[Any] = []
        self._shapes: dict[str, tuple] = {}
        self._param_counts: dict[str, int] = {}
        self._install(project if project is not None else _empty_project())
        self.undo_stack.cleanChanged.connect(self._update_modified)
        self.undo_stack.cleared.connect(self._results_saved)

    # ------------------------------------------------------------------ project / files
    def _install(self, project: Any) -> None:
        """Adopt ``project``: normalise its spec and layout, index it, validate it."""
        spec = project.spec if isinstance(project.spec, dict) else {}
        if not isinstance(spec.get("nodes"), list):
            spec["nodes"] = []
        raw_edges = spec.get("edges") if isinstance(spec.get("edges"), list) else []
        spec["edges"] = [[str(e[0]), str(e[1])] for e in raw_edges  # loaders report junk
                         if isinstance(e, (list, tuple)) and len(e) == 2]
        project.spec = spec
        self._project = project
        self._spec: dict[str, Any] = spec
        self._by_id: dict[str, dict[str, Any]] = {
            n["id"]: n for n in spec["nodes"]
            if isinstance(n, dict) and isinstance(n.get("id"), str)}
        layout = project.layout if isinstance(project.layout, dict) else {}
        project.layout = layout
        self._layout: dict[str, list[float]] = layout
        missing = [nid for nid in self._by_id if nid not in layout]
        if missing:
            self._place_missing(missing)
        self._spread_cramped_layout()
        self._live_weights = None
        self._neuron_maps = {}
        self._initial = None
        self._revalidate(emit=False)

    def _place_missing(self, missing: list[str]) -> None:
        """Give nodes without a saved position one from the automatic layout."""
        from designer.canvas.layout import layered_layout

        positions = layered_layout(list(self._by_id), self.edges())
        for nid in missing:
            self._layout[nid] = list(positions.get(nid, (0.0, 0.0)))

    def _spread_cramped_layout(self) -> None:
        """Stretch a layout whose connected cards stand too close for their edge labels.

        Older examples and projects made by the command line place layers 200 units apart,
        which leaves the shape label on an edge no room between two cards. The x positions
        are scaled about the leftmost card (the arrangement is kept) so that the closest
        pair of connected cards in a row is ``SPREAD_SPAN`` apart. Not an undo step.
        """
        spans = []
        for src, dst in self.edges():
            if src in self._layout and dst in self._layout:
                (x1, y1), (x2, y2) = self._layout[src], self._layout[dst]
                if x2 > x1 and abs(y2 - y1) < 60.0:
                    spans.append(x2 - x1)
        if not spans or min(spans) >= MIN_EDGE_SPAN:
            return
        factor = SPREAD_SPAN / min(spans)
        left = min(p[0] for p in self._layout.values())
        for pos in self._layout.values():
            pos[0] = round(left + (pos[0] - left) * factor, 1)

    def new_project(self, project: Any) -> None:
        """Replace the open project (no undo across projects); the scene rebuilds itself."""
        self.undo_stack.clear()
        self._install(project)
        self._set_file_path(None)
        self.mark_clean()
        self.projectReplaced.emit()
        self.problemsChanged.emit()
        self.weightsChanged.emit()

    def open(self, path: str | Path) -> None:
        """Open a ``.annproj`` file; raises ``core.project.ProjectError`` with a clear line."""
        from core.project import load_project

        project = load_project(path)
        self.new_project(project)
        self._set_file_path(Path(path))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project (spec, layout, weights, ...) and mark the history clean."""
        from core.project import save_project

        target = Path(path) if path is not None else self._file_path
        if target is None:
            raise ValueError("This project has no file yet: choose a file name to save to.")
        self.aboutToSave.emit()
        save_project(self._project, target)
        self._set_file_path(target)
        self.mark_clean()
        return target

    def _set_file_path(self, path: Path | None) -> None:
        self._file_path = path
        self.filePathChanged.emit(str(path) if path else "")

    def set_file_path(self, path: str | Path | None) -> None:
        """Where Save writes without asking: e.g. the file a recovered project came from.

        Changes neither the project nor the clean state (recovered work stays unsaved)."""
        self._set_file_path(Path(path) if path else None)

    @property
    def file_path(self) -> Path | None:
        """Where the project was opened from or last saved to (None for a new one)."""
        return self._file_path

    @property
    def is_modified(self) -> bool:
        """True when the project differs from its file: undoable edits since the last save
        or open (the stack's clean state), or training results, which are not undoable."""
        return self._unsaved_results or not self.undo_stack.isClean()

    def mark_modified(self) -> None:
        """Record a change that is no undo step (training results) as unsaved work."""
        self._unsaved_results = True
        self._update_modified()

    def mark_clean(self) -> None:
        """The project equals its file now (after a save): nothing is unsaved."""
        self.undo_stack.setClean()

    def _results_saved(self) -> None:
        self._unsaved_results = False
        self._update_modified()

    def _update_modified(self, _clean: bool | None = None) -> None:
        """Emit ``modifiedChanged`` when ``is_modified`` flips (from either source)."""
        modified = self.is_modified
        if modified != self._shown_modified:
            self._shown_modified = modified
            self.modifiedChanged.emit(modified)

    @property
    def project(self) -> Any:
        """The ``core.project.Project``, spec and layout always in step with the canvas."""
        return self._project

    # ------------------------------------------------------------------ read access
    @property
    def spec(self) -> dict[str, Any]:
        """A deep copy of the network spec (edit it only through the public edits)."""
        return copy.deepcopy(self._spec)

    @property
    def revision(self) -> int:
        """Grows by one on every validated change of the spec (for caches)."""
        return self._revision

    def node_ids(self) -> list[str]:
        """Node ids in spec order (undo puts a deleted node back at its old index)."""
        return list(dict.fromkeys(
            n["id"] for n in self._spec["nodes"]
            if isinstance(n, dict) and isinstance(n.get("id"), str) and n["id"] in self._by_id))

    def has_node(self, node_id: str) -> bool:
        return node_id in self._by_id

    def node(self, node_id: str) -> dict[str, Any]:
        """A copy of one node's spec entry (``id``, ``type`` and its params)."""
        return copy.deepcopy(self._by_id[node_id])

    def node_type(self, node_id: str) -> str:
        return str(self._by_id[node_id].get("type", ""))

    def node_index(self, node_id: str) -> int:
        return self._spec["nodes"].index(self._by_id[node_id])

    def edges(self) -> list[tuple[str, str]]:
        """Edges in spec order (which is the input order of merge layers)."""
        return [(str(e[0]), str(e[1])) for e in self._spec["edges"]]

    def predecessors(self, node_id: str) -> list[str]:
        return [s for s, d in self.edges() if d == node_id]

    def successors(self, node_id: str) -> list[str]:
        return [d for s, d in self.edges() if s == node_id]

    def position(self, node_id: str) -> tuple[float, float]:
        """Top-left corner of the node's card in scene coordinates."""
        x, y = self._layout.get(node_id, (0.0, 0.0))
        return float(x), float(y)

    @property
    def problems(self) -> list[Any]:
        """``core.spec.Problem`` list from the last validation."""
        return list(self._problems)

    def problems_for(self, node_id: str) -> list[Any]:
        return [p for p in self._problems if node_id in p.node_ids]

    @property
    def shapes(self) -> dict[str, tuple]:
        """Output shape of every node whose inputs are valid (no batch dimension)."""
        return dict(self._shapes)

    def shape(self, node_id: str) -> tuple | None:
        return self._shapes.get(node_id)

    @property
    def param_counts(self) -> dict[str, int]:
        return dict(self._param_counts)

    @property
    def total_params(self) -> int:
        return int(sum(self._param_counts.values()))

    @property
    def is_valid(self) -> bool:
        """True when validation found no error (warnings allowed)."""
        return not any(getattr(p, "severity", "error") == "error" for p in self._problems)

    # ------------------------------------------------------------------ validation
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run several raw mutations and validate once at the end (used by big commands)."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._dirty:
                self._revalidate()

    def revalidate(self) -> None:
        """Validate again, e.g. after the training settings (loss) changed."""
        self._revalidate()

    def _revalidate(self, emit: bool = True) -> None:
        """Re-run ``core.validate`` and the shape/parameter inference on the spec."""
        if self._batch_depth:
            self._dirty = True
            return
        self._dirty = False
        training = getattr(self._project, "training", None)
        loss = training.get("loss") if isinstance(training, dict) else None
        self._problems, self._shapes, self._param_counts = _analyze(self._spec, loss)
        self._revision += 1
        if emit:
            self.specChanged.emit()
            self.problemsChanged.emit()

    # ------------------------------------------------------------------ raw mutators
    # Called only by the QUndoCommands in designer.commands.
    def insert_node(self, node: dict[str, Any], pos: tuple[float, float],
                    index: int | None = None) -> None:
        """Add a node (with its id) at ``pos``; ``index`` restores its place in the spec."""
        node = copy.deepcopy(node)
        nodes = self._spec["nodes"]
        nodes.insert(len(nodes) if index is None else index, node)
        self._by_id[node["id"]] = node
        self._layout[node["id"]] = [float(pos[0]), float(pos[1])]
        self.nodeAdded.emit(node["id"])
        self._revalidate()

    def delete_node(self, node_id: str) -> int:
        """Remove a node that has no edges left; returns its index in the spec."""
        if any(node_id in e for e in self.edges()):
            raise ValueError(f"Node {node_id!r} still has edges; remove them first.")
        node = self._by_id.pop(node_id)
        index = self._spec["nodes"].index(node)
        del self._spec["nodes"][index]
        self._layout.pop(node_id, None)
        self._neuron_maps.pop(node_id, None)
        self.nodeRemoved.emit(node_id)
        self._revalidate()
        return index

    def insert_edge(self, src: str, dst: str, index: int | None = None) -> None:
        """Add the edge ``src -> dst``; ``index`` restores its place in the edge list."""
        edges = self._spec["edges"]
        edges.insert(len(edges) if index is None else index, [src, dst])
        self.edgeAdded.emit(src, dst)
        self._revalidate()

    def delete_edge(self, src: str, dst: str) -> int:
        """Remove the edge ``src -> dst``; returns its index in the edge list."""
        index = self.edges().index((src, dst))
        del self._spec["edges"][index]
        self.edgeRemoved.emit(src, dst)
        self._revalidate()
        return index

    def set_node_params(self, node_id: str, params: Mapping[str, Any]) -> None:
        """Set params of one node; a value of None removes the key (back to the default)."""
        node = self._by_id[node_id]
        for name, value in params.items():
            if name in FIXED_KEYS:
                continue
            if value is None:
                node.pop(name, None)
            else:
                node[name] = copy.deepcopy(value)
        self.nodeChanged.emit(node_id)
        self._revalidate()

    def replace_node_id(self, old: str, new: str) -> None:
        """Give node ``old`` the id ``new`` everywhere: spec, edges, layout, weights.

        The node keeps its place in the spec and its edges their order (merge inputs).
        Emits ``nodeRenamed(old, new)`` so the canvas re-keys its items in place."""
        if old not in self._by_id or new in self._by_id:
            raise ValueError(f"Cannot rename {old!r} to {new!r}.")
        self._by_id[old]["id"] = new
        self._by_id = {n["id"]: n for n in self._spec["nodes"]  # spec order, as in _install
                       if isinstance(n, dict) and isinstance(n.get("id"), str)}
        for edge in self._spec["edges"]:
            edge[0], edge[1] = (new if e == old else e for e in edge)
        if old in self._layout:
            self._layout[new] = self._layout.pop(old)
        for weights in (self._project.weights, self._live_weights, self._neuron_maps):
            if weights and old in weights:
                weights[new] = weights.pop(old)
        self.nodeRenamed.emit(old, new)
        self.nodeChanged.emit(new)
        self._revalidate()

    def set_node_pos(self, node_id: str, pos: tuple[float, float]) -> None:
        """Move a node's card. Positions are not part of the spec: no re-validation."""
        self._layout[node_id] = [float(pos[0]), float(pos[1])]
        self.nodeMoved.emit(node_id)

    def set_weight_value(self, node_id: str, name: str, index: tuple[int, ...],
                         value: float) -> None:
        """Write one weight into ``project.weights`` (materialised on first edit)."""
        arrays = self._materialize(node_id)
        if arrays is None or name not in arrays:
            raise KeyError(f"Layer {node_id!r} has no weight array {name!r}.")
        arrays[name][tuple(index)] = value
        self.weightsChanged.emit()

    def set_node_weights(self, node_id: str, arrays: Mapping[str, np.ndarray] | None) -> None:
        """Replace (or, with None, drop) one node's weight arrays in ``project.weights``."""
        weights = self._project.weights
        if arrays is None:
            if weights:
                weights.pop(node_id, None)
        else:
            if weights is None:
                weights = self._project.weights = {}
            weights[node_id] = {k: np.array(v, copy=True) for k, v in arrays.items()}
        self.weightsChanged.emit()

    # ------------------------------------------------------------------ public edits
    def _refuse(self, reason: str) -> str:
        self.refused.emit(reason)
        return reason

    def _check_lock(self) -> str | None:
        if self._lock:
            return self._refuse(lock_message(self._lock))
        return None

    def new_id(self, type_name: str, taken: Iterable[str] = ()) -> str:
        """A fresh id such as ``dense_3``: the smallest free number for that stem."""
        stem = snake_case(type_name)
        used = set(self._by_id) | set(taken)
        n = 1
        while f"{stem}_{n}" in used:
            n += 1
        return f"{stem}_{n}"

    def add_node(self, type_name: str, params: Mapping[str, Any] | None = None,
                 pos: tuple[float, float] = (0.0, 0.0)) -> str:
        """Add a layer of ``type_name``; returns its new id, or "" when refused."""
        if self._check_lock():
            return ""
        if type_name not in _layer_schemas():
            self._refuse(f"Unknown layer type {type_name!r}: pick one from the palette.")
            return ""
        extra = {k: v for k, v in copy.deepcopy(dict(params or {})).items()
                 if k not in FIXED_KEYS}
        node = {"id": self.new_id(type_name), "type": type_name,
                **_schema_defaults(type_name), **extra}
        self.undo_stack.push(cmd.AddNode(self, node, pos))
        return node["id"]

    def add_node_after(self, type_name: str, after_id: str | None,
                       params: Mapping[str, Any] | None = None) -> str:
        """Add a layer right of ``after_id`` and wire it, as one undo step."""
        if self._check_lock():
            return ""
        if after_id is None or after_id not in self._by_id:
            return self.add_node(type_name, params, self._free_spot())
        x, y = self.position(after_id)
        self.undo_stack.beginMacro(f"Add {type_name} after {after_id}")
        try:
            new = self.add_node(type_name, params, self._free_spot_near(x + 260.0, y))
            if new:
                self.connect(after_id, new)
        finally:
            self.undo_stack.endMacro()
        return new

    def _free_spot_near(self, x: float, y: float) -> tuple[float, float]:
        """``(x, y)``, or the first spot below it that no card covers (cards never stack)."""
        from designer.canvas.layout import NODE_HEIGHT, ROW_GAP

        step = NODE_HEIGHT + ROW_GAP
        taken = list(self._layout.values())
        while any(abs(px - x) < CARD_CLEARANCE and abs(py - y) < step for px, py in taken):
            y += step
        return (x, y)

    def _free_spot(self) -> tuple[float, float]:
        """A position right of every existing card."""
        if not self._layout:
            return (0.0, 0.0)
        right = max(p[0] for p in self._layout.values())
        return (right + 260.0, min(p[1] for p in self._layout.values()))

    def remove_nodes(self, ids: Iterable[str]) -> str | None:
        """Remove nodes and every edge touching them, as one undo step."""
        ids = [i for i in dict.fromkeys(ids) if i in self._by_id]
        if not ids:
            return None
        if self._check_lock():
            return self._lock
        self.undo_stack.push(cmd.RemoveNodes(self, ids))
        return None

    def edge_refusal(self, src: str, dst: str) -> str | None:
        """Why the edge ``src -> dst`` may not be drawn, or None when it may."""
        if src not in self._by_id or dst not in self._by_id:
            return "Both ends of a connection must be layers on the canvas."
        if src == dst:
            return f"A layer cannot feed itself ({src})."
        if (src, dst) in self.edges():
            return f"{src} is already connected to {dst}."
        if self.node_type(dst) == "Input":
            return f"{dst} is an Input layer: it takes data, not another layer's output."
        if self.node_type(dst) not in MERGE_TYPES and self.predecessors(dst):
            return (f"{dst} ({self.node_type(dst)}) takes a single input and already has one "
                    f"({self.predecessors(dst)[0]}); use an Add or Concatenate layer to merge.")
        if self._reaches(dst, src):
            return f"Connecting {src} to {dst} would make a cycle: {dst} already feeds {src}."
        return None

    def _reaches(self, start: str, goal: str) -> bool:
        """True when there is a path ``start -> ... -> goal``."""
        out: dict[str, list[str]] = {}
        for s, d in self.edges():
            out.setdefault(s, []).append(d)
        stack, seen = [start], {start}
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            for nxt in out.get(current, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def connect(self, src: str, dst: str) -> str | None:
        """Draw the edge ``src -> dst``; returns the reason when it is not allowed."""
        if self._check_lock():
            return self._lock
        reason = self.edge_refusal(src, dst)
        if reason:
            return self._refuse(reason)
        self.undo_stack.push(cmd.Connect(self, src, dst))
        return None

    def disconnect(self, src: str, dst: str) -> str | None:
        """Remove the edge ``src -> dst``."""
        if (src, dst) not in self.edges():
            return self._refuse(f"There is no connection from {src} to {dst}.")
        if self._check_lock():
            return self._lock
        self.undo_stack.push(cmd.Disconnect(self, src, dst))
        return None

    def id_refusal(self, node_id: str, new_id: Any) -> str | None:
        """Why ``node_id`` may not be renamed to ``new_id``, or None when it may."""
        if node_id not in self._by_id:
            return f"There is no layer {node_id!r} to rename."
        if not isinstance(new_id, str) or not new_id.strip():
            return "A layer needs an id: type a name such as hidden1."
        if len(new_id) > MAX_ID_LENGTH:
            return f"An id has at most {MAX_ID_LENGTH} characters."
        if not NODE_ID_PATTERN.fullmatch(new_id):
            return (f"{new_id!r} is not a valid id: start with a letter and use only "
                    "letters, digits, '_', '-' or '.'.")
        if new_id != node_id and new_id in self._by_id:
            return f"Another layer is already called {new_id}: pick a different id."
        return None

    def rename_node(self, node_id: str, new_id: str) -> str | None:
        """Rename a layer (edges, positions, weights follow); returns the reason if refused."""
        reason = self.id_refusal(node_id, new_id)
        if reason:
            return self._refuse(reason)
        if new_id == node_id:
            return None
        if self._check_lock():
            return self._lock
        self.undo_stack.push(cmd.RenameNode(self, node_id, new_id))
        return None

    def refuse_if_locked(self) -> str | None:
        """The refusal (also sent to ``refused``) when training locks the structure."""
        return self._check_lock()

    def move_nodes(self, positions: Mapping[str, tuple[float, float]]) -> None:
        """Move cards (one undo step for a whole drag); unchanged ones are skipped."""
        new = {i: (float(p[0]), float(p[1])) for i, p in positions.items()
               if i in self._by_id and self.position(i) != (float(p[0]), float(p[1]))}
        if new:
            old = {i: self.position(i) for i in new}
            self.undo_stack.push(cmd.MoveNodes(self, old, new))

    def set_param(self, ids: Iterable[str], name: str, value: Any) -> str | None:
        """Set one param on one or more nodes; consecutive edits of a field merge."""
        ids = [i for i in ids if i in self._by_id]
        if name in FIXED_KEYS:
            return self._refuse(f"The {name} of a layer cannot be edited.")
        if self._check_lock():
            return self._lock
        changed = [i for i in ids if self._by_id[i].get(name) != value]
        if changed:
            self.undo_stack.push(cmd.SetParam(self, changed, name, value))
        return None

    def copy_fragment(self, ids: Iterable[str]) -> dict[str, Any]:
        """Nodes, the edges between them and their positions, ready for ``paste``."""
        keep = [i for i in self._by_id if i in set(ids)]
        inside = set(keep)
        return {"nodes": [self.node(i) for i in keep],
                "edges": [[s, d] for s, d in self.edges() if s in inside and d in inside],
                "layout": {i: list(self.position(i)) for i in keep}}

    def paste(self, fragment: Mapping[str, Any],
              offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Insert a copied fragment with new ids, keeping its inner edges; returns new ids."""
        if self._check_lock():
            return []
        nodes, edges, layout = _check_fragment(fragment)
        if not nodes:
            return []
        mapping: dict[str, str] = {}
        placed: list[tuple[dict[str, Any], tuple[float, float]]] = []
        for node in nodes:
            new_id = self.new_id(str(node["type"]), taken=mapping.values())
            mapping[str(node["id"])] = new_id
            x, y = layout.get(str(node["id"]), (0.0, 0.0))
            placed.append(({**node, "id": new_id}, (x + offset[0], y + offset[1])))
        new_edges = [(mapping[s], mapping[d]) for s, d in edges]
        self.undo_stack.push(cmd.Paste(self, placed, new_edges))
        return [n["id"] for n, _ in placed]

    def auto_layout(self, heights: Mapping[str, float] | None = None) -> None:
        """Arrange every card left to right by layers with few crossings (one undo step);
        ``heights`` are the cards' heights on the canvas, when known."""
        from designer.canvas.layout import layered_layout

        positions = layered_layout(list(self._by_id), self.edges(), heights)
        new = {i: p for i, p in positions.items() if self.position(i) != tuple(p)}
        if new:
            old = {i: self.position(i) for i in new}
            self.undo_stack.push(cmd.AutoLayout(self, old, new))

    def change_units(self, node_id: str, delta: int) -> str | None:
        """Add (delta > 0) or remove neurons of a Dense layer, keeping the other weights."""
        if node_id not in self._by_id or self.node_type(node_id) != "Dense":
            return self._refuse("Neurons can only be added to or removed from a Dense layer.")
        if self._check_lock():
            return self._lock
        units = self._by_id[node_id].get("units", 1)
        new_units = int(units) + int(delta) if isinstance(units, int) else 0
        if not 1 <= new_units <= MAX_UNITS:
            return self._refuse(f"{node_id} must keep between 1 and {MAX_UNITS} units.")
        self.undo_stack.push(cmd.ChangeUnits(self, node_id, int(units), new_units))
        return None

    def set_weight(self, node_id: str, name: str, index: tuple[int, ...],
                   value: float) -> str | None:
        """Type a new value for one weight (undoable)."""
        if self._check_lock():
            return self._lock
        arrays = self.layer_weights(node_id)
        if not arrays or name not in arrays:
            return self._refuse(f"{node_id} has no weight {name!r} to edit.")
        try:
            old = float(arrays[name][tuple(index)])
            value = float(value)
        except (IndexError, TypeError, ValueError):
            return self._refuse(f"{name}{list(index)} is not a weight of {node_id}.")
        if not np.isfinite(value):
            return self._refuse("A weight must be a finite number.")
        self.undo_stack.push(cmd.SetWeight(self, node_id, name, tuple(index), old, value))
        return None

    # ------------------------------------------------------------------ data, training, results
    def set_training_settings(self, changes: Mapping[str, Any]) -> None:
        """Change training settings (loss, optimizer, batch size, ...) as one undo step.

        ``changes`` holds only the keys that change (``{"optimizer": {...}}`` replaces the
        whole optimizer dict). Consecutive edits of the same field merge (typing a learning
        rate is one step). A new optimizer type drops the saved optimizer state, restored
        on undo. Allowed while training: the learning rate may change during a run.
        """
        old = copy.deepcopy(self._project.training or {})
        new = {**old, **copy.deepcopy(dict(changes))}
        fields = changed_fields(old, new)
        if not fields:
            return
        before: dict[str, Any] = {"training": old}
        after: dict[str, Any] = {"training": new}
        if (old.get("optimizer") or {}).get("type") != (new.get("optimizer") or {}).get("type"):
            before["optimizer_state"] = self._project.optimizer_state
            after["optimizer_state"] = None
        label = ", ".join(sorted(fields))
        self.undo_stack.push(cmd.SetProjectFields(
            self, f"Set {label}", before, after, "training:" + label, structural=False))

    def set_data_source(self, source: Mapping[str, Any], split: Mapping[str, Any] | None = None,
                        preprocessing: Mapping[str, Any] | None = None) -> str | None:
        """Use another data set, file or feature transforms (one undo step).

        ``split`` None keeps the split. ``preprocessing`` None keeps the scaling method but
        forgets its fitted statistics, so that it is fitted again on the new data. The
        optimizer state is dropped (restored on undo). Refused while training runs.
        """
        if self._lock:
            return self._refuse("Stop training before changing the data.")
        after: dict[str, Any] = {"data": copy.deepcopy(dict(source))}
        if split is not None:
            after["split"] = copy.deepcopy(dict(split))
        if preprocessing is not None:
            after["preprocessing"] = copy.deepcopy(dict(preprocessing))
        else:
            after["preprocessing"] = unfitted(self._project.preprocessing)
        self._push_data_edit(after, reset_state=True)
        return None

    def set_split(self, split: Mapping[str, Any]) -> str | None:
        """Change the train/validation/test split (``{"val": 0.25, ...}``), one undo step."""
        if self._lock:
            return self._refuse("Stop training before changing the data split.")
        self._push_data_edit({"split": {**(self._project.split or {}),
                                        **copy.deepcopy(dict(split))}})
        return None

    def _push_data_edit(self, after: dict[str, Any], reset_state: bool = False) -> None:
        before = {key: copy.deepcopy(getattr(self._project, key)) for key in after}
        fields = sorted(f"{key}:{f}" for key in after
                        for f in changed_fields(_as_dict(before[key]), _as_dict(after[key])))
        if not fields:
            return
        if reset_state and self._project.optimizer_state is not None:
            before["optimizer_state"] = self._project.optimizer_state
            after["optimizer_state"] = None
        what = "data split" if list(after) == ["split"] else "data"
        self.undo_stack.push(cmd.SetProjectFields(self, f"Change the {what}", before, after,
                                                  "data:" + ",".join(fields)))

    def set_project_fields(self, values: Mapping[str, Any]) -> None:
        """Raw mutator (commands only): replace whole ``Project`` fields and tell the views.

        ``training`` emits ``trainingSettingsChanged`` (and re-validates when the loss
        changed, which decides some problems); ``data``, ``split`` and ``preprocessing``
        emit ``dataSourceChanged``; ``optimizer_state`` is stored silently.
        """
        old_loss = (self._project.training or {}).get("loss")
        for key, value in values.items():
            if key not in PROJECT_FIELDS:
                raise KeyError(f"{key!r} is not a project field the document edits.")
            setattr(self._project, key, value if key == "optimizer_state"
                    else copy.deepcopy(value))
        if "training" in values:
            if (self._project.training or {}).get("loss") != old_loss:
                self._revalidate()
            self.trainingSettingsChanged.emit()
        if DATA_FIELDS & set(values):
            self.dataSourceChanged.emit()

    def set_trained_state(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None,
                          optimizer_state: Mapping[str, Any] | None,
                          history: Mapping[str, list] | None) -> None:
        """Store the results of training (or of Reset weights): weights, optimizer state and
        curves. Not an undo step (training cannot be undone) but unsaved work: the title
        shows it and closing asks to save."""
        self._project.weights = None if weights is None else {
            k: dict(v) for k, v in weights.items()}
        self._project.optimizer_state = None if optimizer_state is None else dict(
            optimizer_state)
        self._project.history = {k: list(v) for k, v in (history or {}).items()}
        self._live_weights = None
        self.mark_modified()
        self.weightsChanged.emit()
        self.trainedStateChanged.emit()

    # ------------------------------------------------------------------ undo with the lock
    def undo(self) -> str | None:
        """Undo one step unless the training lock forbids changing the structure."""
        return self._step(self.undo_stack.index() - 1, self.undo_stack.undo)

    def redo(self) -> str | None:
        """Redo one step unless the training lock forbids changing the structure."""
        return self._step(self.undo_stack.index(), self.undo_stack.redo)

    def _step(self, index: int, action: Any) -> str | None:
        if not 0 <= index < self.undo_stack.count():
            return None
        command = self.undo_stack.command(index)
        if self._lock and getattr(command, "structural", True):
            return self._check_lock()
        action()
        return None

    # ------------------------------------------------------------------ lock, live data
    def set_structure_lock(self, reason: str | None) -> None:
        """While set (training runs), structural edits are refused with this reason."""
        self._lock = reason or None
        self.lockChanged.emit(self._lock or "")

    @property
    def structure_lock(self) -> str | None:
        return self._lock

    def set_live_weights(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None) -> None:
        """Weights of the running training for the views (not undoable, not saved)."""
        self._live_weights = None if weights is None else {
            k: dict(v) for k, v in weights.items()}
        self.weightsChanged.emit()

    @property
    def weights(self) -> dict[str, dict[str, np.ndarray]] | None:
        """Live weights while training shows them, else the project's weights (or None)."""
        return self._live_weights if self._live_weights is not None else self._project.weights

    @property
    def neuron_maps(self) -> dict[str, np.ndarray]:
        """``{node_id: (units, H, W)}`` activation maps set by the training views."""
        return self._neuron_maps

    def set_neuron_maps(self, maps: Mapping[str, np.ndarray] | None) -> None:
        self._neuron_maps = dict(maps or {})
        self.neuronMapsChanged.emit()

    def initial_weights(self) -> dict[str, dict[str, np.ndarray]]:
        """Weights of a fresh ``Network.from_spec(spec, seed)``, cached per spec revision."""
        if self._initial is None or self._initial[0] != self._revision:
            self._initial = (self._revision, self._build_initial())
        return self._initial[1]

    def _build_initial(self) -> dict[str, dict[str, np.ndarray]]:
        if not self.is_valid or not self._by_id:
            return {}
        from core.network import Network

        try:
            return Network.from_spec(self._spec, seed=self._seed()).get_weights()
        except Exception:  # noqa: BLE001 - an engine refusal only means "no preview"
            return {}

    def layer_weights(self, node_id: str) -> dict[str, np.ndarray] | None:
        """Weights of one layer for display: trained/live ones when their shapes still fit
        the spec, else a fresh initialisation; None when the layer has none."""
        fresh = self.initial_weights().get(node_id) or self._fallback_dense(node_id)
        current = (self.weights or {}).get(node_id)
        if current and (fresh is None or all(
                k in current and np.shape(current[k]) == np.shape(v) for k, v in fresh.items())):
            return current
        return fresh

    def _fallback_dense(self, node_id: str) -> dict[str, np.ndarray] | None:
        """Fresh Dense weights when the whole network cannot be built yet (other layers
        have problems), so the neuron view still works on the valid part."""
        node = self._by_id.get(node_id)
        inputs = self.predecessors(node_id)
        if node is None or node.get("type") != "Dense" or len(inputs) != 1:
            return None
        feeding, units = self._shapes.get(inputs[0]), node.get("units")
        if not feeding or len(feeding) != 1 or not isinstance(units, int) or units < 1:
            return None
        from core.initializers import initialize

        rng = np.random.default_rng([self._seed(), zlib.crc32(node_id.encode())])
        kernel = np.empty((int(feeding[0]), units), np.float32)
        try:
            initialize(str(node.get("kernel_initializer", "glorot_uniform")), kernel, rng)
        except (KeyError, ValueError):
            initialize("glorot_uniform", kernel, rng)
        return {"kernel": kernel, "bias": np.zeros(units, np.float32)}

    def _seed(self) -> int:
        training = getattr(self._project, "training", None) or {}
        seed = training.get("seed", 0) if isinstance(training, dict) else 0
        ok = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
        return int(seed) if ok else 0  # numpy refuses negative seeds (hand-edited files)

    def _materialize(self, node_id: str) -> dict[str, np.ndarray] | None:
        """Make sure ``project.weights[node_id]`` holds the arrays shown, and return it."""
        shown = self.layer_weights(node_id)
        if shown is None:
            return None
        if self._live_weights is not None:
            self._project.weights = {k: {n: np.array(a) for n, a in v.items()}
                                     for k, v in self._live_weights.items()}
            self._live_weights = None
        weights = self._project.weights
        if weights is None:
            weights = self._project.weights = {}
        if weights.get(node_id) is not shown:
            weights[node_id] = {k: np.array(v, copy=True) for k, v in shown.items()}
        return weights[node_id]

    def node_weights(self, node_id: str) -> dict[str, np.ndarray] | None:
        """A copy of ``project.weights[node_id]`` (for undo snapshots), or None."""
        arrays = (self._project.weights or {}).get(node_id)
        return None if arrays is None else {k: np.array(v, copy=True) for k, v in arrays.items()}


def lock_message(reason: str) -> str:
    """The refusal shown while training locks the structure (one final full stop)."""
    return f"The network cannot be changed now: {reason.rstrip().rstrip('.')}."


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """Names of the settings that differ: top-level keys, and ``key.sub`` inside dicts
    (``optimizer.lr``), so that only edits of the same field merge into one undo step."""
    fields: set[str] = set()
    for key in set(old) | set(new):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping) and a.get("type") == b.get(
                "type"):
            fields.update(f"{key}.{sub}" for sub in set(a) | set(b) if a.get(sub) != b.get(sub))
        else:
            fields.add(str(key))
    return fields


def unfitted(preprocessing: Any) -> dict[str, Any] | None:
    """The same scaling method without fitted statistics (fitted again on new data)."""
    if not isinstance(preprocessing, Mapping):
        return None
    return {"method": preprocessing.get("method", "standardize"), "offset": [], "scale": []}


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {"value": value}


def _analyze(spec: dict[str, Any], loss: str | None) -> tuple[list[Any], dict, dict]:
    """Problems, output shapes and parameter counts of ``spec``.

    ``core.spec.analyze`` gives all three from one pass (a 300-node edit re-validates in
    one go); the contract functions are the fallback.
    """
    import core.spec as spec_module

    analyze = getattr(spec_module, "analyze", None)
    if analyze is not None:
        result = analyze(spec, loss)
        problems = sorted(result.problems, key=lambda p: p.severity != "error")
        return problems, dict(result.shapes), dict(result.counts)
    problems = list(spec_module.validate(spec, loss=loss))
    return (problems, _safe_call(spec_module.output_shapes, spec),
            _safe_call(spec_module.param_counts, spec))


def _safe_call(function: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Shape/parameter inference must never break editing: on an engine error, no data."""
    try:
        return dict(function(spec))
    except Exception:  # noqa: BLE001 - validate() reports the actual problem
        return {}


def _check_fragment(fragment: Any) -> tuple[list[dict[str, Any]], list[tuple[str, str]],
                                            dict[str, tuple[float, float]]]:
    """Untrusted clipboard data -> (nodes, inner edges, layout); junk is dropped."""
    if not isinstance(fragment, Mapping):
        return [], [], {}
    raw_nodes = fragment.get("nodes")
    if not isinstance(raw_nodes, list) or len(raw_nodes) > MAX_FRAGMENT_NODES:
        return [], [], {}
    nodes = [copy.deepcopy(n) for n in raw_nodes if isinstance(n, dict)
             and isinstance(n.get("id"), str) and isinstance(n.get("type"), str)]
    ids = {n["id"] for n in nodes}
    edges = []
    for e in fragment.get("edges") or []:
        if (isinstance(e, (list, tuple)) and len(e) == 2 and e[0] in ids and e[1] in ids
                and (e[0], e[1]) not in edges):
            edges.append((str(e[0]), str(e[1])))
    layout = {}
    raw_layout = fragment.get("layout")
    for key, value in (raw_layout.items() if isinstance(raw_layout, Mapping) else ()):
        if (key in ids and isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, (int, float)) for v in value)):
            layout[key] = (float(value[0]), float(value[1]))
    return nodes, edges, layout
