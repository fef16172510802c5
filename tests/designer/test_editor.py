"""The editor's public edits: new ids, refusals with a reason, the training lock, where
new cards go, and the data edits that must wait for training."""

from __future__ import annotations

import copy

import pytest
from project_state import recorder, state

from designer.editor import snake_case
from designer.session import Session


def test_new_ids_follow_keras_names_and_stay_unique(doc, editor):
    assert snake_case("MaxPooling2D") == "max_pooling2d"
    assert snake_case("BatchNormalization") == "batch_normalization"
    first = editor.add_node("Dense", pos=(10, 20))
    second = editor.add_node("Dense")
    conv = editor.add_node("Conv2D")
    assert (first, second, conv) == ("dense_1", "dense_2", "conv2d_1")
    assert doc.node(first)["units"] >= 1 and doc.position(first) == (10.0, 20.0)
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert editor.add_node("Dense") == "dense_2"  # the freed number is used again


@pytest.mark.parametrize(("src", "dst", "words"), [
    ("out", "in", "Input layer"),
    ("h1", "h1", "cannot feed itself"),
    ("in", "out", "single input"),
    ("in", "h1", "already connected"),
])
def test_illegal_edges_are_refused_with_a_reason(doc, editor, src, dst, words):
    before = state(doc)
    refusals = []
    editor.refused.connect(refusals.append)
    reason = editor.connect(src, dst)
    assert reason is not None and words in reason
    assert refusals == [reason]
    assert state(doc) == before and editor.undo_stack.count() == 0


def test_cycle_is_refused(editor):
    add = editor.add_node("Add")
    editor.connect("out", add)
    editor.disconnect("in", "h1")
    reason = editor.connect(add, "h1")  # h1 -> out -> add -> h1
    assert reason is not None and "cycle" in reason


@pytest.mark.parametrize("junk", [
    None, [], {"nodes": "x"}, {"nodes": [1, {"id": 3}]},
    {"nodes": [{"id": "a"}]}, {"nodes": [{"type": "Dense"}]},
])
def test_paste_drops_malformed_fragments(doc, editor, junk):
    before = state(doc)
    assert editor.paste(junk, (0, 0)) == []
    assert state(doc) == before


def test_paste_ignores_edges_leaving_the_fragment_and_bad_layout(doc, editor):
    fragment = {"nodes": [{"id": "a", "type": "Dense", "units": 2}],
                "edges": [["a", "zzz"], ["zzz", "a"]], "layout": {"a": ["x", 1]}}
    new = editor.paste(fragment, (5, 5))
    assert new == ["dense_1"] and doc.position("dense_1") == (5.0, 5.0)
    assert all("dense_1" not in e for e in doc.edges())


def test_structure_lock_refuses_structure_but_not_moves(doc, editor):
    editor.set_param(["h1"], "units", 6)
    locks = []
    editor.lockChanged.connect(locks.append)
    editor.set_structure_lock("training is running")
    assert locks == ["training is running"]
    before = state(doc)
    for reason in (editor.connect("h1", "out"), editor.remove_nodes(["h1"]),
                   editor.set_param(["h1"], "units", 3), editor.change_units("h1", 1),
                   editor.set_weight("h1", "kernel", (0, 0), 1.0), editor.undo()):
        assert reason is not None and "training is running" in reason
    assert editor.add_node("Dense") == "" and editor.paste(editor.copy_fragment(["h1"])) == []
    assert state(doc) == before
    editor.move_nodes({"in": (1, 2)})
    assert doc.position("in") == (1.0, 2.0)
    assert editor.undo() is None and doc.position("in") == (0.0, 0.0)  # moves still undo
    editor.set_structure_lock(None)
    assert editor.undo() is None and doc.node("h1")["units"] == 4


def test_add_node_after_wires_in_one_step(doc, editor):
    new = editor.add_node_after("Dense", "out")
    assert ("out", new) in doc.edges() and editor.undo_stack.count() == 1
    assert doc.position(new)[0] > doc.position("out")[0]
    editor.undo_stack.undo()
    assert not doc.has_node(new)


def test_add_after_never_stacks_a_card_on_another(doc, editor):
    editor.move_nodes({"out": (270.0 + 260.0, 0.0)})  # right where "after h1" would go
    new = editor.add_node_after("Dense", "h1")
    x, y = doc.position(new)
    assert x == 530.0 and y >= 110.0  # moved below the card that was in the way
    assert ("h1", new) in doc.edges() and editor.undo_stack.count() == 2


@pytest.mark.parametrize(("new_id", "words"), [
    ("", "needs an id"), ("   ", "needs an id"), ("out", "already called out"),
    ("9lives", "start with a letter"), ("two words", "not a valid id"),
    ("x" * 41, "at most 40")])
def test_rename_refuses_bad_ids_and_pushes_nothing(doc, editor, new_id, words):
    refused = []
    editor.refused.connect(refused.append)
    reason = editor.rename_node("h1", new_id)
    assert reason and words in reason and refused == [reason]
    assert editor.undo_stack.count() == 0 and doc.has_node("h1")


def test_rename_to_the_same_id_is_no_step_and_the_lock_refuses(doc, editor):
    assert editor.rename_node("h1", "h1") is None and editor.undo_stack.count() == 0
    editor.set_structure_lock("training is running")
    assert "training is running" in editor.rename_node("h1", "hidden")
    assert editor.undo_stack.count() == 0 and doc.has_node("h1")


def test_loss_change_revalidates_and_is_allowed_while_training(doc, editor):
    editor.set_structure_lock("training")
    editor.set_training_settings({"loss": "categorical_crossentropy"})
    assert [p.code for p in doc.problems] == ["loss_output"]
    assert editor.undo() is None  # settings are no structure: undo works under the lock
    assert doc.problems == [] and "loss" not in doc.project.training


def test_data_source_edit_refits_the_scaler_undoes_and_waits_for_training(doc, editor, session):
    doc.project.data = {"kind": "builtin", "name": "spiral", "params": {"seed": 0}}
    fitted = {"method": "standardize", "offset": [0.5, 1.0], "scale": [2.0, 3.0]}
    doc.project.preprocessing = copy.deepcopy(fitted)
    doc.project.optimizer_state = {"iterations": 3}
    reloads = recorder(doc.dataSourceChanged)
    circle = {"kind": "builtin", "name": "circle", "params": {"seed": 0}}
    assert editor.set_data_source(circle) is None
    assert doc.project.data == circle and session.is_modified and len(reloads) == 1
    assert doc.project.preprocessing == {"method": "standardize", "offset": [], "scale": []}
    assert doc.project.optimizer_state is None
    editor.undo()
    assert doc.project.data["name"] == "spiral" and doc.project.preprocessing == fitted
    assert doc.project.optimizer_state == {"iterations": 3} and not session.is_modified
    editor.redo()
    assert doc.project.data == circle and len(reloads) == 3
    editor.set_structure_lock("training")
    assert "Stop training" in editor.set_data_source({"kind": "builtin", "name": "xor"})
    assert "Stop training" in editor.set_split({"val": 0.5})
    assert editor.undo() is not None and doc.project.data == circle  # data undo waits too


def test_undoing_a_delete_keeps_the_layer_order(window):
    doc = window.document
    before = doc.node_ids()
    window.select_all()
    window.delete_selection()
    assert doc.node_ids() == []
    window.editor.undo()
    assert doc.node_ids() == before == [n["id"] for n in doc.spec["nodes"]]


def test_node_ids_follow_the_spec_order():
    from core.examples import load_example
    session = Session(load_example("spiral"))
    doc = session.document
    ids = doc.node_ids()
    session.editor.remove_nodes([ids[0], ids[2]])
    session.editor.undo_stack.undo()
    assert doc.node_ids() == ids
