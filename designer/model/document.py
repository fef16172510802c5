"""The network being designed: the single source of truth the canvas and the panels mirror.

The :class:`Document` (Orange's Scheme) owns a ``core.project.Project``: its network spec,
its layout and the other project fields. It offers a read API, raw mutators and a signal
for each kind of change, and keeps the validation of the spec (problems, output shapes,
parameter counts) current. Raw mutators are called only by the QUndoCommands in
``designer.commands``; users edit through ``designer.editor.Editor``. Nothing is ever
read back from the canvas items, and nothing here imports a view.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.project import Project
from core.spec import LAYER_SCHEMAS, analyze
from designer.model.layout import layered_layout, spread_cramped
from designer.model.settings import DATA_FIELDS, PROJECT_FIELDS

#: Params that identify a node; ``set_node_params`` never changes them.
FIXED_KEYS = frozenset({"id", "type"})


def layer_group(type_name: str) -> str:
    """Palette group of a layer type ("Core", "Merge", ...); Input gets its own colour."""
    if type_name == "Input":
        return "Input"
    schema = LAYER_SCHEMAS.get(type_name)
    return schema.group if schema is not None else "Other"


def empty_project() -> Project:
    """A new, empty project."""
    return Project(name="Untitled", spec={"nodes": [], "edges": []}, layout={})


class Document(QObject):
    """One project's network, layout and settings, and everything derived from its spec."""

    nodeAdded = Signal(str)
    nodeRemoved = Signal(str)
    nodeChanged = Signal(str)
    nodeMoved = Signal(str)
    nodeRenamed = Signal(str, str)  # (old id, new id): items keep their place and selection
    edgeAdded = Signal(str, str)
    edgeRemoved = Signal(str, str)
    specChanged = Signal()
    problemsChanged = Signal()
    weightsChanged = Signal()  # the project's stored weights changed
    projectReplaced = Signal()
    trainingSettingsChanged = Signal()  # project.training replaced (an edit, undo or redo)
    dataSourceChanged = Signal()  # project.data, split or preprocessing replaced
    runsChanged = Signal()  # the kept training runs (core.runs) changed
    extraChanged = Signal(str)  # one key of project.extra (designer state) replaced

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._batch_depth = 0
        self._dirty = False
        self._revision = 0
        self._analysis: Any = None
        self._problems: list[Any] = []
        self._data_problems: list[Any] = []
        self._install(project if project is not None else empty_project())

    # ------------------------------------------------------------------ the project
    def _install(self, project: Project) -> None:
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
            positions = layered_layout(list(self._by_id), self.edges())
            for nid in missing:
                layout[nid] = list(positions.get(nid, (0.0, 0.0)))
        spread_cramped(layout, self.edges())
        self._revalidate(emit=False)

    def replace_project(self, project: Project) -> None:
        """Raw mutator: open another project; every view rebuilds itself."""
        self._install(project)
        self.projectReplaced.emit()
        self.problemsChanged.emit()
        self.weightsChanged.emit()

    @property
    def project(self) -> Project:
        """The ``core.project.Project`` (for saving, exporting and the data pipeline);
        read the network through the methods below, which keep it consistent."""
        return self._project

    # ------------------------------------------------------------------ read API
    @property
    def spec(self) -> dict[str, Any]:
        """A deep copy of the network spec (edit it only through the editor)."""
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

    def param(self, node_id: str, name: str, default: Any = None) -> Any:
        """One param of a node as written in the spec (a copy; ``default`` when unset)."""
        return copy.deepcopy(self._by_id[node_id].get(name, default))

    def nodes_of_type(self, *types: str) -> list[str]:
        """Ids of the nodes of these layer types, in spec order."""
        return [n for n in self.node_ids() if self.node_type(n) in types]

    def edges(self) -> list[tuple[str, str]]:
        """Edges in spec order (which is the input order of merge layers)."""
        return [(str(e[0]), str(e[1])) for e in self._spec["edges"]]

    def predecessors(self, node_id: str) -> list[str]:
        return [s for s, d in self.edges() if d == node_id]

    def successors(self, node_id: str) -> list[str]:
        return [d for s, d in self.edges() if s == node_id]

    def position(self, node_id: str) -> tuple[float, float]:
        """Top-left corner of the node's card in layout coordinates."""
        x, y = self._layout.get(node_id, (0.0, 0.0))
        return float(x), float(y)

    def positions(self) -> list[tuple[float, float]]:
        """Every card's position (for finding a free spot)."""
        return [(float(x), float(y)) for x, y in self._layout.values()]

    @property
    def problems(self) -> list[Any]:
        """``core.spec.Problem`` list from the last validation and the data check, errors
        first."""
        data = self._data_problems
        return sorted([*self._problems, *data], key=lambda p: p.severity != "error") \
            if data else list(self._problems)

    def set_data_problems(self, problems: list[Any]) -> None:
        """Problems of the network against the project's data (an Input shape or output
        size that does not fit), found by the side that loads the data. They show in the
        Problems list and the status bar; ``is_valid`` stays about the spec alone, so
        previews of a network that cannot train on this data still work."""
        problems = list(problems)
        if problems != self._data_problems:
            self._data_problems = problems
            self.problemsChanged.emit()

    @property
    def shapes(self) -> dict[str, tuple]:
        """Output shape of every node whose inputs are valid (no batch dimension)."""
        return dict(self._analysis.shapes)

    def shape(self, node_id: str) -> tuple | None:
        return self._analysis.shapes.get(node_id)

    @property
    def param_counts(self) -> dict[str, int]:
        return dict(self._analysis.counts)

    @property
    def total_params(self) -> int:
        return int(sum(self._analysis.counts.values()))

    @property
    def is_valid(self) -> bool:
        """True when validation of the spec found no error (warnings allowed)."""
        return not any(p.severity == "error" for p in self._problems)

    def layer_config(self, node_id: str) -> dict[str, Any] | None:
        """The node's params checked and completed with defaults, as the engine builds it
        (None when they are invalid)."""
        config = self._analysis.configs.get(node_id)
        return None if config is None else copy.deepcopy(config)

    @property
    def training(self) -> dict[str, Any]:
        """A copy of the training settings (loss, optimizer, batch size, seed, ...)."""
        training = self._project.training
        return copy.deepcopy(training) if isinstance(training, dict) else {}

    @property
    def seed(self) -> int:
        """The training seed, also used for fresh weights (0 when unusable)."""
        seed = self.training.get("seed", 0)
        ok = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
        return int(seed) if ok else 0  # numpy refuses negative seeds (hand-edited files)

    @property
    def stored_weights(self) -> dict[str, dict[str, np.ndarray]] | None:
        """The project's weights (trained or edited), by node id; do not modify."""
        return self._project.weights

    def node_weights(self, node_id: str) -> dict[str, np.ndarray] | None:
        """A copy of the project's weights of one node (for undo snapshots), or None."""
        arrays = (self._project.weights or {}).get(node_id)
        return None if arrays is None else {k: np.array(v, copy=True) for k, v in arrays.items()}

    # ------------------------------------------------------------------ validation cache
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

    def _revalidate(self, emit: bool = True) -> None:
        """Run ``core.spec.analyze`` once for problems, shapes and parameter counts."""
        if self._batch_depth:
            self._dirty = True
            return
        self._dirty = False
        self._analysis = analyze(self._spec, self.training.get("loss"))
        self._problems = sorted(self._analysis.problems, key=lambda p: p.severity != "error")
        self._revision += 1
        if emit:
            self.specChanged.emit()
            self.problemsChanged.emit()

    # ------------------------------------------------------------------ raw mutators
    # Called only by the QUndoCommands in designer.commands (and by the session).
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
        weights = self._project.weights
        if weights and old in weights:
            weights[new] = weights.pop(old)
        self.nodeRenamed.emit(old, new)
        self.nodeChanged.emit(new)
        self._revalidate()

    def set_node_pos(self, node_id: str, pos: tuple[float, float]) -> None:
        """Move a node's card. Positions are not part of the spec: no re-validation."""
        self._layout[node_id] = [float(pos[0]), float(pos[1])]
        self.nodeMoved.emit(node_id)

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

    def set_weight_value(self, node_id: str, name: str, index: tuple[int, ...],
                         value: float) -> None:
        """Write one value into an array the project already holds."""
        arrays = (self._project.weights or {}).get(node_id)
        if arrays is None or name not in arrays:
            raise KeyError(f"Layer {node_id!r} has no stored weight array {name!r}.")
        arrays[name][tuple(index)] = value
        self.weightsChanged.emit()

    def set_project_fields(self, values: Mapping[str, Any]) -> None:
        """Replace whole ``Project`` fields (the settings) and tell the views.

        ``training`` emits ``trainingSettingsChanged`` (and re-validates when the loss
        changed, which decides some problems); ``data``, ``split`` and ``preprocessing``
        emit ``dataSourceChanged``; ``optimizer_state`` is stored silently.
        """
        old_loss = self.training.get("loss")
        for key, value in values.items():
            if key not in PROJECT_FIELDS:
                raise KeyError(f"{key!r} is not a project field the document edits.")
            setattr(self._project, key, value if key == "optimizer_state"
                    else copy.deepcopy(value))
        if "training" in values:
            if self.training.get("loss") != old_loss:
                self._revalidate()
            self.trainingSettingsChanged.emit()
        if DATA_FIELDS & set(values):
            self.dataSourceChanged.emit()

    def extra_value(self, key: str, default: Any = None) -> Any:
        """A copy of ``project.extra[key]`` (designer state kept in the file)."""
        extra = self._project.extra if isinstance(self._project.extra, dict) else {}
        return copy.deepcopy(extra.get(key, default))

    def set_extra_value(self, key: str, value: Any) -> None:
        """Replace (or with None, remove) ``project.extra[key]``."""
        if not isinstance(self._project.extra, dict):
            self._project.extra = {}
        if value is None:
            self._project.extra.pop(key, None)
        else:
            self._project.extra[key] = copy.deepcopy(value)
        self.extraChanged.emit(key)

    @property
    def runs(self) -> list[dict[str, Any]]:
        """The kept training runs (``core.runs`` records); do not modify."""
        return self._project.runs

    def set_runs(self, runs: list[dict[str, Any]]) -> None:
        """Replace the kept training runs (a run ended, or the user removed some)."""
        self._project.runs = list(runs)
        self.runsChanged.emit()

    def set_results(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None,
                    optimizer_state: Mapping[str, Any] | None,
                    history: Mapping[str, list] | None) -> None:
        """Store what training produced: weights, optimizer state and curves."""
        self._project.weights = None if weights is None else {
            k: dict(v) for k, v in weights.items()}
        self._project.optimizer_state = None if optimizer_state is None else dict(
            optimizer_state)
        self._project.history = {k: list(v) for k, v in (history or {}).items()}
        self.weightsChanged.emit()
