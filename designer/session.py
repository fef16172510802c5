"""The project open in a window: its file, whether it is saved, and what training made.

A :class:`Session` owns the model (``document``) and its ``editor`` and adds what is
neither the network nor an edit of it: the file path, the modified/clean state
(undoable edits since the last save, or training results, which are not undoable),
open/save/new, and the trained state: the weights training stores, the live weights and
neuron maps a running training shows, and fresh weights to preview before any training.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from core.initializers import initialize
from core.layers import LAYER_TYPES
from core.network import Network
from core.project import Project, load_project, save_project
from designer.editor import Editor, UndoStack
from designer.model.document import Document

Weights = dict[str, dict[str, np.ndarray]]


class Session(QObject):
    """One open project: the document, its editor, its file and its trained state."""

    filePathChanged = Signal(str)
    modifiedChanged = Signal(bool)  # is_modified flipped: the title's "*", the close prompt
    aboutToSave = Signal()  # a running training stores its results before the file is written
    trainedStateChanged = Signal()  # weights, optimizer state and history from training
    weightsChanged = Signal()  # the weights the views show changed (stored or live)
    neuronMapsChanged = Signal()

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = Document(project, parent=self)
        self._file_path: Path | None = None
        self._live_weights: Weights | None = None
        self._preview_weights: Weights | None = None
        self._neuron_maps: dict[str, np.ndarray] = {}
        self._input_labels: list[str] = []
        self._initial: tuple[int, Weights] | None = None
        self._unsaved_results = False  # training results since the last save/open
        self._shown_modified = False
        #: Set by the window's training: (weights, optimizer state, history) of a run
        #: under way that belong together, or None when none runs (see recovery_project).
        self.run_recovery: Callable[[], tuple[Any, Any, Any] | None] | None = None
        doc = self.document  # connected before any view, so views read updated state
        doc.projectReplaced.connect(self._forget_live_state)
        doc.nodeRenamed.connect(self._rekey)
        doc.nodeRemoved.connect(lambda node_id: self._neuron_maps.pop(node_id, None))
        doc.weightsChanged.connect(self.weightsChanged)
        self.editor = Editor(doc, self.layer_weights, parent=self)
        self.editor.undo_stack.cleanChanged.connect(self._update_modified)
        self.editor.undo_stack.cleared.connect(self._results_saved)

    @property
    def undo_stack(self) -> UndoStack:
        """The editor's undo stack (its clean state is half of ``is_modified``)."""
        return self.editor.undo_stack

    # ------------------------------------------------------------------ files
    def new_project(self, project: Project) -> None:
        """Replace the open project (no undo across projects); the views rebuild."""
        self.editor.undo_stack.clear()
        self._set_file_path(None)
        self.mark_clean()
        self.document.replace_project(project)

    def open(self, path: str | Path) -> None:
        """Open a ``.annproj`` file; raises ``core.project.ProjectError`` with a clear line."""
        self.new_project(load_project(path))
        self._set_file_path(Path(path))

    def adopt_recovered(self, project: Project, source_path: str | None) -> None:
        """Open autosaved work after a crash: it stays unsaved work, and Save writes back
        to the file it came from (``source_path``, None for a project never saved)."""
        self.new_project(project)
        self.set_file_path(source_path)
        self.editor.undo_stack.resetClean()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the project (spec, layout, weights, ...) and mark the history clean."""
        target = Path(path) if path is not None else self._file_path
        if target is None:
            raise ValueError("This project has no file yet: choose a file name to save to.")
        self.aboutToSave.emit()
        save_project(self.document.project, target)
        self._set_file_path(target)
        self.mark_clean()
        return target

    def recovery_project(self) -> Project:
        """What autosave keeps: the project, and during a run the newest weights that came
        back from the training process with the curves up to the same step (the file's
        own weights and curves are those from before the run until it ends)."""
        project = self.document.project
        state = self.run_recovery() if self.run_recovery is not None else None
        if state is None:
            return project
        weights, optimizer_state, history = state
        return dataclasses.replace(project, weights=weights,
                                   optimizer_state=optimizer_state, history=history)

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

    # ------------------------------------------------------------------ modified state
    @property
    def is_modified(self) -> bool:
        """True when the project differs from its file: undoable edits since the last save
        or open (the stack's clean state), or training results, which are not undoable."""
        return self._unsaved_results or not self.editor.undo_stack.isClean()

    def mark_modified(self) -> None:
        """Record a change that is no undo step (training results) as unsaved work."""
        self._unsaved_results = True
        self._update_modified()

    def mark_clean(self) -> None:
        """The project equals its file now (after a save): nothing is unsaved."""
        self.editor.undo_stack.setClean()

    def _results_saved(self) -> None:
        self._unsaved_results = False
        self._update_modified()

    def _update_modified(self, _clean: bool | None = None) -> None:
        """Emit ``modifiedChanged`` when ``is_modified`` flips (from either source)."""
        modified = self.is_modified
        if modified != self._shown_modified:
            self._shown_modified = modified
            self.modifiedChanged.emit(modified)

    # ------------------------------------------------------------------ trained state
    def set_trained_state(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None,
                          optimizer_state: Mapping[str, Any] | None,
                          history: Mapping[str, list] | None) -> None:
        """Store the results of training (or of Reset weights): weights, optimizer state and
        curves. Not an undo step (training cannot be undone) but unsaved work: the title
        shows it and closing asks to save."""
        self._live_weights = None
        self.mark_modified()
        self.document.set_results(weights, optimizer_state, history)
        self.trainedStateChanged.emit()

    def set_live_weights(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None) -> None:
        """Weights of the running training for the views (not undoable, not saved)."""
        self._live_weights = None if weights is None else {
            k: dict(v) for k, v in weights.items()}
        self.weightsChanged.emit()

    def set_preview_weights(self, weights: Mapping[str, Mapping[str, np.ndarray]] | None
                            ) -> None:
        """Weights the views show instead of the current ones (a run's epoch on the
        timeline); None goes back. Never trained on, saved or undone."""
        self._preview_weights = None if weights is None else {
            k: dict(v) for k, v in weights.items()}
        self.weightsChanged.emit()

    @property
    def previewing(self) -> bool:
        return self._preview_weights is not None

    @property
    def weights(self) -> Weights | None:
        """What the views show: a timeline preview, else live weights while training,
        else the project's weights (or None)."""
        return self._preview_weights if self._preview_weights is not None \
            else self.trained_weights

    @property
    def trained_weights(self) -> Weights | None:
        """The current weights (live while training, else the project's): what a run
        continues from, whatever the views preview."""
        if self._live_weights is not None:
            return self._live_weights
        return self.document.stored_weights

    @property
    def neuron_maps(self) -> dict[str, np.ndarray]:
        """``{node_id: (units, H, W)}`` activation maps set by the training views."""
        return self._neuron_maps

    def set_neuron_maps(self, maps: Mapping[str, np.ndarray] | None) -> None:
        self._neuron_maps = dict(maps or {})
        self.neuronMapsChanged.emit()

    @property
    def input_labels(self) -> list[str]:
        """Names of the network's input features (x1, x2, x1², sin x1, ...) for the
        neuron view's input neurons; set by the side that loads the data."""
        return self._input_labels

    def set_input_labels(self, labels: list[str]) -> None:
        """New feature names (``neuronMapsChanged``: what the neuron view draws)."""
        labels = [str(label) for label in labels]
        if labels != self._input_labels:
            self._input_labels = labels
            self.neuronMapsChanged.emit()

    def _forget_live_state(self) -> None:
        self._live_weights = None
        self._preview_weights = None
        self._neuron_maps = {}
        self._initial = None

    def _rekey(self, old: str, new: str) -> None:
        """A renamed layer keeps its live weights and neuron maps."""
        for arrays in (self._live_weights, self._neuron_maps):
            if arrays and old in arrays:
                arrays[new] = arrays.pop(old)

    # ------------------------------------------------------------------ previews
    def initial_weights(self) -> Weights:
        """Weights of a fresh ``Network.from_spec(spec, seed)``, cached per spec revision."""
        doc = self.document
        if self._initial is None or self._initial[0] != doc.revision:
            self._initial = (doc.revision, self._build_initial())
        return self._initial[1]

    def _build_initial(self) -> Weights:
        doc = self.document
        if not doc.is_valid or not doc.node_ids():
            return {}
        try:
            return Network.from_spec(doc.spec, seed=doc.seed).get_weights()
        except Exception:  # noqa: BLE001 - an engine refusal only means "no preview"
            return {}

    def layer_weights(self, node_id: str) -> dict[str, np.ndarray] | None:
        """Weights of one layer for display: trained/live ones when their shapes still fit
        the spec, else a fresh initialisation; None when the layer has none."""
        fresh = self.initial_weights().get(node_id) or self._fresh_layer(node_id)
        current = (self.weights or {}).get(node_id)
        if current and (fresh is None or all(
                k in current and np.shape(current[k]) == np.shape(v) for k, v in fresh.items())):
            return current
        return fresh

    def _fresh_layer(self, node_id: str) -> dict[str, np.ndarray] | None:
        """One layer's fresh weights, made by the engine's own layer and initializers, when
        the whole network cannot be built yet (other layers have problems): the neuron
        view still works on the valid part."""
        doc = self.document
        config = doc.layer_config(node_id) if doc.has_node(node_id) else None
        shapes = [doc.shape(i) for i in doc.predecessors(node_id)] if config else []
        if not config or not shapes or any(s is None for s in shapes):
            return None
        layer = LAYER_TYPES[doc.node_type(node_id)]
        rng = np.random.default_rng([doc.seed, zlib.crc32(node_id.encode())])
        arrays = {}
        try:
            for spec in layer.weight_specs(config, shapes):
                arrays[spec.name] = np.zeros(spec.shape, np.float32)
                initialize(spec.initializer, arrays[spec.name], rng)
        except Exception:  # noqa: BLE001 - a layer the engine cannot size has no preview
            return None
        return arrays or None
