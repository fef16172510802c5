"""Helpers for tests of the model, the editor and the session: a small project and the
whole state an undo must restore."""

from __future__ import annotations

import copy

from core.project import Project
from designer.editor import Editor
from designer.model.document import Document


def small_project() -> Project:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid) with positions."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h1", "type": "Dense", "units": 4, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h1"], ["h1", "out"]]}
    layout = {"in": [0.0, 0.0], "h1": [270.0, 0.0], "out": [540.0, 0.0]}
    return Project(name="tiny", spec=spec, layout=layout, training={"seed": 0})


def state(doc: Document) -> tuple:
    """Everything an undo must restore: spec, layout and stored weights."""
    weights = {k: {n: a.tolist() for n, a in v.items()}
               for k, v in (doc.project.weights or {}).items()}
    return (copy.deepcopy(doc.project.spec), copy.deepcopy(doc.project.layout), weights)


def check_undo_redo(editor: Editor, before: tuple) -> None:
    """Undo restores ``before`` exactly; redo restores the edited state exactly."""
    after = state(editor.document)
    assert after != before
    editor.undo_stack.undo()
    assert state(editor.document) == before
    editor.undo_stack.redo()
    assert state(editor.document) == after


def recorder(signal) -> list:
    """Collect a signal's emissions (their arguments) in a list."""
    seen: list = []
    signal.connect(lambda *args: seen.append(args))
    return seen
