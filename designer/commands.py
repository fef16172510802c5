"""Undoable edits of the document, as QUndoCommands.

The editor builds one command per user edit; ``QUndoStack.push`` performs it.
``redo``/``undo`` call only the model's API (its raw mutators ``insert_node``,
``delete_edge``, ... and its read API), so the model stays the single writer of the spec.
Compound edits (removing nodes with their edges, pasting) are built from child commands
and validate once, at the end.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from designer.model.document import Document

SET_PARAM_ID = 4001
SET_PROJECT_FIELDS_ID = 4002
MOVE_GROUP_TEXT = "Move"


class DocumentCommand(QUndoCommand):
    """Base: remembers the document; ``structural`` edits are refused under the lock."""

    structural = True

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(text)
        self.doc = doc


class CompoundCommand(DocumentCommand):
    """An edit made of child commands, run in order and undone in reverse, validated once.

    The children are kept in a Python list rather than as Qt child commands: PySide6 would
    otherwise own the same objects from both sides and can crash while collecting them.
    """

    def __init__(self, doc: Document, text: str) -> None:
        super().__init__(doc, text)
        self.children: list[DocumentCommand] = []

    def redo(self) -> None:
        with self.doc.batch():
            for child in self.children:
                child.redo()

    def undo(self) -> None:
        with self.doc.batch():
            for child in reversed(self.children):
                child.undo()


class AddNode(DocumentCommand):
    """Insert one node at a position."""

    def __init__(self, doc: Document, node: dict[str, Any], pos: tuple[float, float]) -> None:
        super().__init__(doc, f"Add {node['type']} {node['id']}")
        self.node = copy.deepcopy(node)
        self.pos = (float(pos[0]), float(pos[1]))

    def redo(self) -> None:
        self.doc.insert_node(self.node, self.pos)

    def undo(self) -> None:
        self.doc.delete_node(self.node["id"])


class RemoveNode(DocumentCommand):
    """Remove one node whose edges are already gone; undo restores its place and weights."""

    def __init__(self, doc: Document, node_id: str) -> None:
        super().__init__(doc, f"Remove {node_id}")
        self.node_id = node_id
        self._saved: tuple[dict[str, Any], tuple[float, float], int] | None = None
        self._weights: dict[str, np.ndarray] | None = None

    def redo(self) -> None:
        node, pos = self.doc.node(self.node_id), self.doc.position(self.node_id)
        self._weights = self.doc.node_weights(self.node_id)
        if self._weights is not None:
            self.doc.set_node_weights(self.node_id, None)
        index = self.doc.delete_node(self.node_id)
        self._saved = (node, pos, index)

    def undo(self) -> None:
        assert self._saved is not None
        node, pos, index = self._saved
        self.doc.insert_node(node, pos, index)
        if self._weights is not None:
            self.doc.set_node_weights(self.node_id, self._weights)


class Connect(DocumentCommand):
    """Add the edge ``src -> dst`` (at ``index`` in the edge list when given)."""

    def __init__(self, doc: Document, src: str, dst: str, index: int | None = None) -> None:
        super().__init__(doc, f"Connect {src} to {dst}")
        self.src, self.dst, self.index = src, dst, index

    def redo(self) -> None:
        self.doc.insert_edge(self.src, self.dst, self.index)

    def undo(self) -> None:
        self.doc.delete_edge(self.src, self.dst)


class Disconnect(DocumentCommand):
    """Remove the edge ``src -> dst``; undo puts it back at the same index."""

    def __init__(self, doc: Document, src: str, dst: str) -> None:
        super().__init__(doc, f"Disconnect {src} from {dst}")
        self.src, self.dst = src, dst
        self.index: int | None = None

    def redo(self) -> None:
        self.index = self.doc.delete_edge(self.src, self.dst)

    def undo(self) -> None:
        self.doc.insert_edge(self.src, self.dst, self.index)


class RemoveNodes(CompoundCommand):
    """Remove nodes; every edge touching them is removed first by a child command."""

    def __init__(self, doc: Document, ids: list[str]) -> None:
        label = ids[0] if len(ids) == 1 else f"{len(ids)} layers"
        super().__init__(doc, f"Remove {label}")
        gone = set(ids)
        for src, dst in doc.edges():
            if src in gone or dst in gone:
                self.children.append(Disconnect(doc, src, dst))
        for node_id in ids:
            self.children.append(RemoveNode(doc, node_id))


class Paste(CompoundCommand):
    """Insert copied nodes (already renamed) and the edges between them."""

    def __init__(self, doc: Document, placed: list[tuple[dict[str, Any], tuple[float, float]]],
                 edges: list[tuple[str, str]], text: str = "Paste") -> None:
        super().__init__(doc, f"{text} {len(placed)} layer{'s' * (len(placed) != 1)}")
        for node, pos in placed:
            self.children.append(AddNode(doc, node, pos))
        for src, dst in edges:
            self.children.append(Connect(doc, src, dst))


class RenameNode(DocumentCommand):
    """Give a layer a new id; edges, its position, weights and the selection follow."""

    def __init__(self, doc: Document, old: str, new: str) -> None:
        super().__init__(doc, f"Rename {old} to {new}")
        self.old, self.new = old, new

    def redo(self) -> None:
        self.doc.replace_node_id(self.old, self.new)

    def undo(self) -> None:
        self.doc.replace_node_id(self.new, self.old)


class MoveNodes(DocumentCommand):
    """Move cards: a whole mouse drag (or an auto layout) is one command."""

    structural = False

    def __init__(self, doc: Document, old: dict[str, tuple[float, float]],
                 new: dict[str, tuple[float, float]], text: str | None = None) -> None:
        label = next(iter(new)) if len(new) == 1 else f"{len(new)} layers"
        super().__init__(doc, text or f"{MOVE_GROUP_TEXT} {label}")
        self.old, self.new = dict(old), dict(new)

    def redo(self) -> None:
        for node_id, pos in self.new.items():
            self.doc.set_node_pos(node_id, pos)

    def undo(self) -> None:
        for node_id, pos in self.old.items():
            self.doc.set_node_pos(node_id, pos)


class AutoLayout(MoveNodes):
    """The automatic layered layout, undoable as one step."""

    def __init__(self, doc: Document, old: dict[str, tuple[float, float]],
                 new: dict[str, tuple[float, float]]) -> None:
        super().__init__(doc, old, new, text="Auto layout")


class SetParam(DocumentCommand):
    """Set one param on some nodes; consecutive edits of the same field merge."""

    def __init__(self, doc: Document, ids: list[str], name: str, value: Any) -> None:
        label = ids[0] if len(ids) == 1 else f"{len(ids)} layers"
        super().__init__(doc, f"Set {name} of {label}")
        self.ids, self.name = tuple(ids), name
        self.old = {i: copy.deepcopy(doc.node(i).get(name)) for i in ids}
        self.value = copy.deepcopy(value)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        """Typing 1, 12, 128 in one field is one undo step (Qt calls this on push)."""
        if not isinstance(other, SetParam) or (other.ids, other.name) != (self.ids, self.name):
            return False
        self.value = copy.deepcopy(other.value)
        self.setObsolete(all(old == self.value for old in self.old.values()))
        return True

    def redo(self) -> None:
        with self.doc.batch():
            for node_id in self.ids:
                self.doc.set_node_params(node_id, {self.name: self.value})

    def undo(self) -> None:
        with self.doc.batch():
            for node_id in self.ids:
                self.doc.set_node_params(node_id, {self.name: self.old[node_id]})


class ChangeUnits(DocumentCommand):
    """Add or remove neurons of a Dense layer; trained weights of the others are kept."""

    def __init__(self, doc: Document, node_id: str, old_units: int, new_units: int) -> None:
        verb = "Add" if new_units > old_units else "Remove"
        count = abs(new_units - old_units)
        super().__init__(doc, f"{verb} {count} neuron{'s' * (count != 1)} in {node_id}")
        self.node_id, self.old_units, self.new_units = node_id, old_units, new_units
        affected = [node_id] + [s for s in doc.successors(node_id) if doc.node_type(s) == "Dense"]
        self.before = {i: doc.node_weights(i) for i in affected}
        self.after = _resized(self.before, node_id, old_units, new_units)

    def redo(self) -> None:
        with self.doc.batch():
            self.doc.set_node_params(self.node_id, {"units": self.new_units})
            self._apply(self.after)

    def undo(self) -> None:
        with self.doc.batch():
            self.doc.set_node_params(self.node_id, {"units": self.old_units})
            self._apply(self.before)

    def _apply(self, weights: dict[str, dict[str, np.ndarray] | None]) -> None:
        for node_id, arrays in weights.items():
            if arrays is not None or self.before.get(node_id) is not None:
                self.doc.set_node_weights(node_id, arrays)


def _resized(before: dict[str, dict[str, np.ndarray] | None], node_id: str,
             old: int, new: int) -> dict[str, dict[str, np.ndarray] | None]:
    """Weights after a unit change: new neurons get small random weights, removed ones
    (the last) are dropped; layers whose arrays no longer fit are left to re-initialise."""
    rng = np.random.default_rng(old * 7919 + new)
    after: dict[str, dict[str, np.ndarray] | None] = {}
    for layer, arrays in before.items():
        if arrays is None:
            after[layer] = None
            continue
        axis_of = {"kernel": 1, "bias": 0} if layer == node_id else {"kernel": 0}
        out = {k: np.array(v, copy=True) for k, v in arrays.items()}
        for name, axis in axis_of.items():
            array = out.get(name)
            if array is None or array.ndim <= axis or array.shape[axis] != old:
                continue
            out[name] = _resize_axis(array, axis, new, rng)
        after[layer] = out
    return after


def _resize_axis(array: np.ndarray, axis: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Cut ``array`` to ``size`` along ``axis`` or grow it with small random values."""
    current = array.shape[axis]
    if size <= current:
        return np.take(array, range(size), axis=axis).copy()
    shape = list(array.shape)
    shape[axis] = size - current
    scale = float(np.std(array)) if array.size and np.std(array) > 0 else 0.1
    extra = rng.normal(0.0, scale, size=shape).astype(array.dtype)
    if array.ndim == 1:
        extra[:] = 0
    return np.concatenate([array, extra], axis=axis)


class SetWeight(DocumentCommand):
    """Type a new value for one weight in the neuron view.

    ``shown`` are the layer's arrays on screen (trained, or fresh ones when the project
    holds none that fit); when the project does not hold exactly those, the edit first
    stores them, and undo puts back what the project held before.
    """

    def __init__(self, doc: Document, node_id: str, name: str, index: tuple[int, ...],
                 old: float, new: float, shown: dict[str, np.ndarray]) -> None:
        super().__init__(doc, f"Set {node_id}.{name}{list(index)} to {new:.4g}")
        self.node_id, self.name, self.index = node_id, name, index
        self.old, self.new = old, new
        self.stored = doc.node_weights(node_id)
        self.shown = None if _same_arrays(self.stored, shown) else {
            k: np.array(v, copy=True) for k, v in shown.items()}

    def redo(self) -> None:
        if self.shown is not None:
            self.doc.set_node_weights(self.node_id, self.shown)
        self.doc.set_weight_value(self.node_id, self.name, self.index, self.new)

    def undo(self) -> None:
        if self.shown is not None:
            self.doc.set_node_weights(self.node_id, self.stored)
        else:
            self.doc.set_weight_value(self.node_id, self.name, self.index, self.old)


class RestoreWeights(DocumentCommand):
    """Make saved weights (a run's snapshot) the project's; undo puts back what it held.

    Arrays the snapshot lacks (BatchNormalization's moving statistics) keep their values.
    """

    def __init__(self, doc: Document, weights: dict[str, dict[str, np.ndarray]],
                 text: str) -> None:
        super().__init__(doc, text)
        self.before = {n: doc.node_weights(n) for n in weights}
        self.after = {n: {**(self.before[n] or {}),
                          **{k: np.array(v, copy=True) for k, v in arrays.items()}}
                      for n, arrays in weights.items()}

    def redo(self) -> None:
        with self.doc.batch():
            for node_id, arrays in self.after.items():
                self.doc.set_node_weights(node_id, arrays)

    def undo(self) -> None:
        with self.doc.batch():
            for node_id, arrays in self.before.items():
                self.doc.set_node_weights(node_id, arrays)


class SetExtraValue(DocumentCommand):
    """Replace one key of the project's designer extras (knock-outs, for instance)."""

    def __init__(self, doc: Document, key: str, after: Any, text: str) -> None:
        super().__init__(doc, text)
        self.key, self.before, self.after = key, doc.extra_value(key), after

    def redo(self) -> None:
        self.doc.set_extra_value(self.key, self.after)

    def undo(self) -> None:
        self.doc.set_extra_value(self.key, self.before)


def _same_arrays(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray]) -> bool:
    """True when ``a`` holds exactly the arrays ``b`` (names, shapes and values)."""
    return a is not None and a.keys() == b.keys() and all(
        np.shape(a[k]) == np.shape(b[k]) and np.array_equal(a[k], b[k]) for k in b)


class SetProjectFields(DocumentCommand):
    """Replace project fields (training settings, data source, split, scaler): the
    settings the Training and Data panels edit. Consecutive edits with the same
    ``merge_key`` (the same field, e.g. the learning rate) merge into one step."""

    def __init__(self, doc: Document, text: str, before: dict[str, Any],
                 after: dict[str, Any], merge_key: str, structural: bool = True) -> None:
        super().__init__(doc, text)
        self.before, self.after = dict(before), dict(after)
        self.merge_key = merge_key
        self.structural = structural  # data edits wait for training to stop; settings don't

    def id(self) -> int:  # noqa: A003 - Qt's name
        return SET_PROJECT_FIELDS_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, SetProjectFields) or other.merge_key != self.merge_key:
            return False
        for key, value in other.before.items():
            self.before.setdefault(key, value)
        self.after.update(other.after)
        self.setObsolete(all(_same(self.before.get(k), v) for k, v in self.after.items()))
        return True

    def redo(self) -> None:
        self.doc.set_project_fields(self.after)

    def undo(self) -> None:
        self.doc.set_project_fields(self.before)


def _same(a: Any, b: Any) -> bool:
    """Equality of settings that may hold arrays (optimizer state): those by identity."""
    try:
        return bool(a == b)
    except ValueError:
        return a is b
