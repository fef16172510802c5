"""Every edit a user makes to the document, undoable, refused with a reason when it may not.

The :class:`Editor` (Orange's SchemeEditWidget, without the widget) owns the undo stack.
Each public edit checks the request (the training lock, an illegal edge, a bad id) and
either pushes one QUndoCommand from ``designer.commands`` or returns the reason, which is
also sent on ``refused`` for the status bar. Commands change the model only through its
raw mutators, so the model stays the single writer of the spec.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from core.layers.dense import MAX_UNITS
from core.spec import LAYER_SCHEMAS
from designer import commands as cmd
from designer.model import settings
from designer.model.document import FIXED_KEYS, Document
from designer.model.layout import NEXT_COLUMN, free_spot, free_spot_near, layered_layout

#: Layer types that accept any number of inputs (edge order = input order).
MERGE_TYPES = frozenset({"Add", "Concatenate"})
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
#: A node id: a letter first, then letters, digits, "_", "-" or "." (safe in every export).
NODE_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
MAX_ID_LENGTH = 40

#: ``node_id -> arrays`` of the weights a view shows for a layer (trained, live or fresh).
ShownWeights = Callable[[str], "dict[str, np.ndarray] | None"]


def snake_case(type_name: str) -> str:
    """Keras-style id stem of a layer type: ``MaxPooling2D`` -> ``max_pooling2d``."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", type_name).lower() or "node"


def default_params(type_name: str) -> dict[str, Any]:
    """Params of a new node: the schema's defaults plus fallbacks for required ones."""
    params: dict[str, Any] = {}
    for param in LAYER_SCHEMAS[type_name].params:
        if param.default is not None:
            default = param.default
            params[param.name] = copy.deepcopy(list(default) if isinstance(default, tuple)
                                               else default)
    for name, value in FALLBACK_PARAMS.get(type_name, {}).items():
        params.setdefault(name, copy.deepcopy(value))
    return params


def lock_message(reason: str) -> str:
    """The refusal shown while training locks the structure (one final full stop)."""
    return f"The network cannot be changed now: {reason.rstrip().rstrip('.')}."


class UndoStack(QUndoStack):
    """The editor's QUndoStack; ``setClean()`` means "the project now equals its file"
    (a save), so it also tells the session that its training results are saved: every
    caller of ``setClean``, the session's ``save`` or a script's, leaves nothing unsaved.
    """

    cleared = Signal()

    def setClean(self) -> None:  # noqa: N802 - Qt's name
        super().setClean()
        self.cleared.emit()


class Editor(QObject):
    """The public edits of one document, its undo stack and the lock while training."""

    refused = Signal(str)  # the reason of any refused public edit, for the status bar
    lockChanged = Signal(str)

    def __init__(self, document: Document, shown_weights: ShownWeights | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.undo_stack = UndoStack(self)
        self._shown_weights = shown_weights or document.node_weights
        self._lock: str | None = None

    # ------------------------------------------------------------------ refusals, lock
    def _refuse(self, reason: str) -> str:
        self.refused.emit(reason)
        return reason

    def _check_lock(self) -> str | None:
        if self._lock:
            return self._refuse(lock_message(self._lock))
        return None

    def refuse_if_locked(self) -> str | None:
        """The refusal (also sent to ``refused``) when training locks the structure."""
        return self._check_lock()

    def set_structure_lock(self, reason: str | None) -> None:
        """While set (training runs), structural edits are refused with this reason."""
        self._lock = reason or None
        self.lockChanged.emit(self._lock or "")

    @property
    def structure_lock(self) -> str | None:
        return self._lock

    def undo(self) -> str | None:
        """Undo one step unless the training lock forbids changing the structure."""
        return self._step(self.undo_stack.index() - 1, self.undo_stack.undo)

    def redo(self) -> str | None:
        """Redo one step unless the training lock forbids changing the structure."""
        return self._step(self.undo_stack.index(), self.undo_stack.redo)

    def _step(self, index: int, action: Callable[[], None]) -> str | None:
        if not 0 <= index < self.undo_stack.count():
            return None
        command = self.undo_stack.command(index)
        if self._lock and getattr(command, "structural", True):
            return self._check_lock()
        action()
        return None

    # ------------------------------------------------------------------ nodes
    def new_id(self, type_name: str, taken: Iterable[str] = ()) -> str:
        """A fresh id such as ``dense_3``: the smallest free number for that stem."""
        stem = snake_case(type_name)
        used = set(self.document.node_ids()) | set(taken)
        n = 1
        while f"{stem}_{n}" in used:
            n += 1
        return f"{stem}_{n}"

    def add_node(self, type_name: str, params: Mapping[str, Any] | None = None,
                 pos: tuple[float, float] = (0.0, 0.0)) -> str:
        """Add a layer of ``type_name``; returns its new id, or "" when refused."""
        if self._check_lock():
            return ""
        if type_name not in LAYER_SCHEMAS:
            self._refuse(f"Unknown layer type {type_name!r}: pick one from the palette.")
            return ""
        extra = {k: v for k, v in copy.deepcopy(dict(params or {})).items()
                 if k not in FIXED_KEYS}
        node = {"id": self.new_id(type_name), "type": type_name,
                **default_params(type_name), **extra}
        self.undo_stack.push(cmd.AddNode(self.document, node, pos))
        return node["id"]

    def add_node_after(self, type_name: str, after_id: str | None,
                       params: Mapping[str, Any] | None = None) -> str:
        """Add a layer right of ``after_id`` and wire it, as one undo step.

        The new layer goes *between* ``after_id`` and the layers it fed (a hidden layer
        added after hidden2 feeds the output, as in the Playground), and a Dense layer
        after a hidden Dense layer takes its units and activation: one click gives a
        network that still trains."""
        if self._check_lock():
            return ""
        doc = self.document
        if after_id is None or not doc.has_node(after_id):
            return self.add_node(type_name, params, free_spot(doc.positions()))
        x, y = doc.position(after_id)
        successors = doc.successors(after_id)
        if params is None:
            params = self._neighbour_params(type_name, after_id)
        self.undo_stack.beginMacro(f"Add {type_name} after {after_id}")
        try:
            new = self.add_node(type_name, params,
                                free_spot_near(doc.positions(), x + NEXT_COLUMN, y))
            if new:
                self.connect(after_id, new)
                for dst in successors:
                    self.disconnect(after_id, dst)
                    self.connect(new, dst)
        finally:
            self.undo_stack.endMacro()
        return new

    def _neighbour_params(self, type_name: str, after_id: str) -> dict[str, Any] | None:
        """Units and activation of a hidden Dense ``after_id`` for a new Dense after it."""
        doc = self.document
        if type_name != "Dense" or doc.node_type(after_id) != "Dense" \
                or not doc.successors(after_id):
            return None
        return {"units": doc.param(after_id, "units", 8),
                "activation": doc.param(after_id, "activation", "linear")}

    def remove_nodes(self, ids: Iterable[str]) -> str | None:
        """Remove nodes and every edge touching them, as one undo step."""
        ids = [i for i in dict.fromkeys(ids) if self.document.has_node(i)]
        if not ids:
            return None
        if self._check_lock():
            return self._lock
        self.undo_stack.push(cmd.RemoveNodes(self.document, ids))
        return None

    def id_refusal(self, node_id: str, new_id: Any) -> str | None:
        """Why ``node_id`` may not be renamed to ``new_id``, or None when it may."""
        if not self.document.has_node(node_id):
            return f"There is no layer {node_id!r} to rename."
        if not isinstance(new_id, str) or not new_id.strip():
            return "A layer needs an id: type a name such as hidden1."
        if len(new_id) > MAX_ID_LENGTH:
            return f"An id has at most {MAX_ID_LENGTH} characters."
        if not NODE_ID_PATTERN.fullmatch(new_id):
            return (f"{new_id!r} is not a valid id: start with a letter and use only "
                    "letters, digits, '_', '-' or '.'.")
        if new_id != node_id and self.document.has_node(new_id):
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
        self.undo_stack.push(cmd.RenameNode(self.document, node_id, new_id))
        return None

    def set_param(self, ids: Iterable[str], name: str, value: Any) -> str | None:
        """Set one param on one or more nodes; consecutive edits of a field merge."""
        ids = [i for i in ids if self.document.has_node(i)]
        if name in FIXED_KEYS:
            return self._refuse(f"The {name} of a layer cannot be edited.")
        if self._check_lock():
            return self._lock
        changed = [i for i in ids if self.document.param(i, name) != value]
        if changed:
            self.undo_stack.push(cmd.SetParam(self.document, changed, name, value))
        return None

    def change_units(self, node_id: str, delta: int) -> str | None:
        """Add (delta > 0) or remove neurons of a Dense layer, keeping the other weights."""
        doc = self.document
        if not doc.has_node(node_id) or doc.node_type(node_id) != "Dense":
            return self._refuse("Neurons can only be added to or removed from a Dense layer.")
        if self._check_lock():
            return self._lock
        units = doc.param(node_id, "units", 1)
        new_units = int(units) + int(delta) if isinstance(units, int) else 0
        if not 1 <= new_units <= MAX_UNITS:
            return self._refuse(f"{node_id} must keep between 1 and {MAX_UNITS:,} units.")
        self.undo_stack.push(cmd.ChangeUnits(doc, node_id, int(units), new_units))
        return None

    def set_weight(self, node_id: str, name: str, index: tuple[int, ...],
                   value: float) -> str | None:
        """Type a new value for one weight (undoable). The arrays the views show for the
        layer (perhaps fresh ones) become the project's with this edit."""
        if self._check_lock():
            return self._lock
        arrays = self._shown_weights(node_id)
        if not arrays or name not in arrays:
            return self._refuse(f"{node_id} has no weight {name!r} to edit.")
        try:
            old = float(arrays[name][tuple(index)])
            value = float(value)
        except (IndexError, TypeError, ValueError):
            return self._refuse(f"{name}{list(index)} is not a weight of {node_id}.")
        if not np.isfinite(value):
            return self._refuse("A weight must be a finite number.")
        self.undo_stack.push(cmd.SetWeight(self.document, node_id, name, tuple(index),
                                           old, value, arrays))
        return None

    def restore_weights(self, weights: dict[str, dict[str, np.ndarray]],
                        text: str) -> str | None:
        """Make ``weights`` (for nodes of the network, shapes checked) the project's
        weights in one undo step named ``text``."""
        locked = self._check_lock()
        if locked:
            return locked
        for node_id, arrays in weights.items():
            shown = self._shown_weights(node_id) or {}
            if any(name not in shown or np.shape(shown[name]) != np.shape(a)
                   for name, a in arrays.items()):
                return self._refuse(f"The saved weights of {node_id} do not fit the "
                                    "network as it is now.")
        self.undo_stack.push(cmd.RestoreWeights(self.document, weights, text))
        return None

    def apply_step(self, weights: dict[str, dict[str, np.ndarray]],
                   optimizer_state: dict[str, Any] | None, text: str) -> str | None:
        """Make one optimizer step's result the project's: the weights and the optimizer
        state after it, in one undo step (the step-through's "Apply this step")."""
        locked = self._check_lock()
        if locked:
            return locked
        compound = cmd.CompoundCommand(self.document, text)
        compound.children.append(cmd.RestoreWeights(self.document, weights, text))
        compound.children.append(cmd.SetProjectFields(
            self.document, text, {"optimizer_state": self.document.project.optimizer_state},
            {"optimizer_state": optimizer_state}, "apply_step"))
        self.undo_stack.push(compound)
        return None

    def set_extra_with_weights(self, key: str, value: Any,
                               weights: dict[str, dict[str, np.ndarray]], text: str
                               ) -> str | None:
        """Replace ``project.extra[key]`` and some nodes' weights in one undo step (a
        knock-out records itself and zeroes its weights together)."""
        locked = self._check_lock()
        if locked:
            return locked
        compound = cmd.CompoundCommand(self.document, text)
        if weights:
            compound.children.append(cmd.RestoreWeights(self.document, weights, text))
        compound.children.append(cmd.SetExtraValue(self.document, key, value, text))
        self.undo_stack.push(compound)
        return None

    # ------------------------------------------------------------------ edges
    def edge_refusal(self, src: str, dst: str) -> str | None:
        """Why the edge ``src -> dst`` may not be drawn, or None when it may."""
        doc = self.document
        if not doc.has_node(src) or not doc.has_node(dst):
            return "Both ends of a connection must be layers on the canvas."
        if src == dst:
            return f"A layer cannot feed itself ({src})."
        if (src, dst) in doc.edges():
            return f"{src} is already connected to {dst}."
        if doc.node_type(dst) == "Input":
            return f"{dst} is an Input layer: it takes data, not another layer's output."
        if doc.node_type(dst) not in MERGE_TYPES and doc.predecessors(dst):
            return (f"{dst} ({doc.node_type(dst)}) takes a single input and already has one "
                    f"({doc.predecessors(dst)[0]}); use an Add or Concatenate layer to merge.")
        if _reaches(doc.edges(), dst, src):
            return f"Connecting {src} to {dst} would make a cycle: {dst} already feeds {src}."
        return None

    def connect(self, src: str, dst: str) -> str | None:
        """Draw the edge ``src -> dst``; returns the reason when it is not allowed."""
        if self._check_lock():
            return self._lock
        reason = self.edge_refusal(src, dst)
        if reason:
            return self._refuse(reason)
        self.undo_stack.push(cmd.Connect(self.document, src, dst))
        return None

    def disconnect(self, src: str, dst: str) -> str | None:
        """Remove the edge ``src -> dst``."""
        if (src, dst) not in self.document.edges():
            return self._refuse(f"There is no connection from {src} to {dst}.")
        if self._check_lock():
            return self._lock
        self.undo_stack.push(cmd.Disconnect(self.document, src, dst))
        return None

    # ------------------------------------------------------------------ layout, clipboard
    def move_nodes(self, positions: Mapping[str, tuple[float, float]]) -> None:
        """Move cards (one undo step for a whole drag); unchanged ones are skipped."""
        doc = self.document
        new = {i: (float(p[0]), float(p[1])) for i, p in positions.items()
               if doc.has_node(i) and doc.position(i) != (float(p[0]), float(p[1]))}
        if new:
            old = {i: doc.position(i) for i in new}
            self.undo_stack.push(cmd.MoveNodes(doc, old, new))

    def auto_layout(self, heights: Mapping[str, float] | None = None) -> None:
        """Arrange every card left to right by layers with few crossings (one undo step);
        ``heights`` are the cards' heights on the canvas, when known."""
        doc = self.document
        positions = layered_layout(doc.node_ids(), doc.edges(), heights)
        new = {i: p for i, p in positions.items() if doc.position(i) != tuple(p)}
        if new:
            old = {i: doc.position(i) for i in new}
            self.undo_stack.push(cmd.AutoLayout(doc, old, new))

    def copy_fragment(self, ids: Iterable[str]) -> dict[str, Any]:
        """Nodes, the edges between them and their positions, ready for ``paste``."""
        doc = self.document
        wanted = set(ids)
        keep = [i for i in doc.node_ids() if i in wanted]
        inside = set(keep)
        return {"nodes": [doc.node(i) for i in keep],
                "edges": [[s, d] for s, d in doc.edges() if s in inside and d in inside],
                "layout": {i: list(doc.position(i)) for i in keep}}

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
        self.undo_stack.push(cmd.Paste(self.document, placed, new_edges))
        return [n["id"] for n, _ in placed]

    # ------------------------------------------------------------------ settings
    def set_training_settings(self, changes: Mapping[str, Any]) -> None:
        """Change training settings (loss, optimizer, batch size, ...) as one undo step.

        Consecutive edits of the same field merge (typing a learning rate is one step).
        Allowed while training: the learning rate may change during a run.
        """
        self._push_settings(settings.training_edit(self.document.project, changes),
                            structural=False)

    def set_data_source(self, source: Mapping[str, Any], split: Mapping[str, Any] | None = None,
                        preprocessing: Mapping[str, Any] | None = None) -> str | None:
        """Use another data set, file or feature transforms (one undo step); refused while
        training runs. See ``settings.data_source_edit`` for what changes with it."""
        if self._lock:
            return self._refuse("Stop training before changing the data.")
        self._push_settings(settings.data_source_edit(self.document.project, source, split,
                                                      preprocessing))
        return None

    def set_split(self, split: Mapping[str, Any]) -> str | None:
        """Change the train/validation/test split (``{"val": 0.25, ...}``), one undo step."""
        if self._lock:
            return self._refuse("Stop training before changing the data split.")
        self._push_settings(settings.split_edit(self.document.project, split))
        return None

    def _push_settings(self, edit: settings.SettingsEdit | None, structural: bool = True
                       ) -> None:
        if edit is not None:
            self.undo_stack.push(cmd.SetProjectFields(
                self.document, edit.text, edit.before, edit.after, edit.merge_key,
                structural=structural))


def _reaches(edges: Iterable[tuple[str, str]], start: str, goal: str) -> bool:
    """True when ``edges`` hold a path ``start -> ... -> goal``."""
    out: dict[str, list[str]] = {}
    for s, d in edges:
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
