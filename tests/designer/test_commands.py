"""The undo commands: every kind of edit, undone and redone exactly.

The check after an undo is always the whole state (spec, layout, weights), compared with
a copy taken before the edit, so a command that forgets anything fails. Repeated edits of
one field merge into one step.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from project_state import check_undo_redo, recorder, state


def test_add_node_undo_redo_and_unknown_type(doc, editor):
    before = state(doc)
    refusals = []
    editor.refused.connect(refusals.append)
    assert editor.add_node("NoSuchLayer") == ""
    assert "Unknown layer type" in refusals[0]
    editor.add_node("Dropout", {"rate": 0.25}, (5.0, 6.0))
    check_undo_redo(editor, before)


def test_connect_and_disconnect_are_undoable(doc, editor):
    new = editor.add_node("Dense", {"units": 3})
    before = state(doc)
    assert editor.connect("h1", new) is None
    check_undo_redo(editor, before)
    before = state(doc)
    assert editor.disconnect("in", "h1") is None
    check_undo_redo(editor, before)


def test_remove_nodes_removes_edges_as_child_commands(doc, editor):
    before = state(doc)
    assert editor.remove_nodes(["h1"]) is None
    command = editor.undo_stack.command(0)
    assert len(command.children) == 3  # two edges, then the node
    assert doc.edges() == [] and not doc.has_node("h1")
    check_undo_redo(editor, before)


def test_undo_restores_merge_input_order(doc, editor):
    add = editor.add_node("Add", pos=(800, 0))
    extra = editor.add_node("Dense", {"units": 1}, pos=(540, 200))
    editor.connect("h1", extra)
    editor.connect("out", add)
    editor.connect(extra, add)
    before = state(doc)
    editor.remove_nodes(["out"])
    check_undo_redo(editor, before)
    editor.undo_stack.undo()
    assert doc.predecessors(add) == ["out", extra]


def test_move_is_one_command_and_skips_still_nodes(doc, editor):
    before = state(doc)
    editor.move_nodes({"in": (10, 10), "h1": (270.0, 0.0)})
    assert editor.undo_stack.count() == 1 and doc.position("in") == (10.0, 10.0)
    check_undo_redo(editor, before)


def test_consecutive_param_edits_merge_into_one_step(doc, editor):
    before = state(doc)
    for units in (1, 12, 128):
        editor.set_param(["h1"], "units", units)
    assert editor.undo_stack.count() == 1 and doc.node("h1")["units"] == 128
    check_undo_redo(editor, before)
    editor.set_param(["h1"], "activation", "relu")
    assert editor.undo_stack.count() == 2  # another field: its own step
    editor.set_param(["h1"], "units", 5)
    editor.set_param(["h1"], "units", 6)
    assert editor.undo_stack.count() == 3


def test_param_edit_back_to_the_old_value_leaves_no_step(doc, editor):
    editor.set_param(["h1"], "units", 9)
    editor.set_param(["h1"], "units", 4)
    assert editor.undo_stack.count() == 0 and doc.node("h1")["units"] == 4


def test_set_param_on_several_nodes_and_reset_to_default(doc, editor):
    before = state(doc)
    editor.set_param(["h1", "out"], "use_bias", False)
    assert doc.node("h1")["use_bias"] is False and doc.node("out")["use_bias"] is False
    check_undo_redo(editor, before)
    assert editor.set_param(["h1"], "id", "x") is not None


def test_paste_keeps_inner_edges_with_new_ids(doc, editor):
    fragment = editor.copy_fragment(["h1", "out"])
    assert fragment["edges"] == [["h1", "out"]]  # the edge from "in" stays behind
    before = state(doc)
    new = editor.paste(fragment, (0, 300))
    assert new == ["dense_1", "dense_2"]
    assert ("dense_1", "dense_2") in doc.edges()
    assert not any(d in new and s == "in" for s, d in doc.edges())
    assert doc.position("dense_1") == (270.0, 300.0)
    assert editor.undo_stack.count() == 1
    check_undo_redo(editor, before)


def test_auto_layout_orders_left_to_right_and_undoes(doc, editor):
    editor.move_nodes({"in": (900, 50), "h1": (0, 400), "out": (300, -100)})
    before = state(doc)
    editor.auto_layout()
    xs = {n: doc.position(n)[0] for n in doc.node_ids()}
    assert xs["in"] < xs["h1"] < xs["out"]
    assert editor.undo_stack.command(editor.undo_stack.count() - 1).text() == "Auto layout"
    check_undo_redo(editor, before)


def test_change_units_keeps_other_weights(doc, editor):
    rng = np.random.default_rng(1)
    doc.project.weights = {
        "h1": {"kernel": rng.normal(size=(2, 4)), "bias": rng.normal(size=4)},
        "out": {"kernel": rng.normal(size=(4, 1)), "bias": rng.normal(size=1)}}
    old = copy.deepcopy(doc.project.weights)
    before = state(doc)
    assert editor.change_units("h1", +1) is None
    w = doc.project.weights
    assert doc.node("h1")["units"] == 5 and doc.shapes["h1"] == (5,)
    assert w["h1"]["kernel"].shape == (2, 5) and w["out"]["kernel"].shape == (5, 1)
    np.testing.assert_array_equal(w["h1"]["kernel"][:, :4], old["h1"]["kernel"])
    np.testing.assert_array_equal(w["out"]["kernel"][:4], old["out"]["kernel"])
    assert w["h1"]["bias"][4] == 0.0
    check_undo_redo(editor, before)
    editor.change_units("h1", -2)
    np.testing.assert_array_equal(doc.project.weights["h1"]["kernel"], old["h1"]["kernel"][:, :3])
    assert editor.change_units("in", 1) is not None  # not a Dense layer
    assert editor.change_units("out", -1) is not None  # at least one unit


def test_set_weight_stores_the_shown_weights_and_undo_restores_the_project(doc, editor, session):
    shown = session.layer_weights("h1")
    assert shown["kernel"].shape == (2, 4)  # a fresh Network.from_spec initialisation
    assert doc.project.weights is None
    assert editor.set_weight("h1", "kernel", (1, 2), 0.5) is None
    assert doc.project.weights["h1"]["kernel"][1, 2] == 0.5
    np.testing.assert_array_equal(doc.project.weights["h1"]["kernel"][0], shown["kernel"][0])
    before = state(doc)
    editor.undo_stack.undo()
    assert "h1" not in doc.project.weights  # the project holds what it held before
    assert session.layer_weights("h1")["kernel"][1, 2] == pytest.approx(shown["kernel"][1, 2])
    editor.undo_stack.redo()
    assert state(doc) == before
    editor.set_weight("h1", "kernel", (0, 0), 0.25)  # arrays stored: only the value changes
    editor.undo_stack.undo()
    assert doc.project.weights["h1"]["kernel"][1, 2] == 0.5
    assert doc.project.weights["h1"]["kernel"][0, 0] == pytest.approx(shown["kernel"][0, 0])
    assert editor.set_weight("h1", "kernel", (9, 9), 1.0) is not None
    assert editor.set_weight("h1", "kernel", (0, 0), float("nan")) is not None


def test_rename_updates_edges_layout_weights_and_undoes_exactly(doc, editor):
    editor.set_weight("h1", "kernel", (0, 0), 0.5)  # materialises project.weights
    renamed = []
    doc.nodeRenamed.connect(lambda old, new: renamed.append((old, new)))
    before = state(doc)
    assert editor.rename_node("h1", "hidden") is None
    assert renamed == [("h1", "hidden")]
    assert doc.node_ids() == ["in", "hidden", "out"]  # keeps its place in the spec
    assert doc.edges() == [("in", "hidden"), ("hidden", "out")]
    assert doc.position("hidden") == (270.0, 0.0) and "h1" not in doc.project.layout
    assert doc.project.weights["hidden"]["kernel"][0, 0] == 0.5
    assert "h1" not in doc.project.weights and doc.is_valid
    assert editor.undo_stack.undoText() == "Rename h1 to hidden"
    check_undo_redo(editor, before)
    assert doc.shape("hidden") == (4,) and doc.param_counts["hidden"] == 12


def test_training_setting_edits_mark_modified_merge_per_field_and_undo(doc, editor, session):
    doc.project.training = {"loss": "binary_crossentropy", "batch_size": 16,
                            "optimizer": {"type": "adam", "lr": 0.01}}
    flips, changed = recorder(session.modifiedChanged), recorder(doc.trainingSettingsChanged)
    for lr in (0.02, 0.025, 0.0252):  # typing one field: one undo step
        editor.set_training_settings({"optimizer": {"type": "adam", "lr": lr}})
    editor.set_training_settings({"batch_size": 64})
    assert editor.undo_stack.count() == 2 and len(changed) == 4
    assert session.is_modified and flips == [(True,)]
    assert doc.project.training["optimizer"]["lr"] == 0.0252
    editor.undo()
    assert doc.project.training["batch_size"] == 16
    editor.undo()
    assert doc.project.training == {"loss": "binary_crossentropy", "batch_size": 16,
                                    "optimizer": {"type": "adam", "lr": 0.01}}
    assert not session.is_modified and flips == [(True,), (False,)]
    editor.set_training_settings({"batch_size": 16})  # no change, no step
    assert editor.undo_stack.index() == 0


def test_new_optimizer_type_drops_the_state_and_undo_brings_it_back(doc, editor):
    state = {"iterations": 7, "m": np.ones(3)}
    doc.project.training = {"optimizer": {"type": "adam", "lr": 0.01}}
    doc.project.optimizer_state = state
    editor.set_training_settings({"optimizer": {"type": "sgd", "lr": 0.01}})
    assert doc.project.optimizer_state is None
    editor.undo()
    assert doc.project.optimizer_state is state
    editor.set_training_settings({"optimizer": {"type": "adam", "lr": 0.05}})  # same type
    assert doc.project.optimizer_state is state


def test_split_edits_of_one_field_merge_into_one_step(doc, editor, session):
    doc.project.split = {"val": 0.2, "test": 0.0, "seed": 0}
    for val in (0.25, 0.3, 0.35):
        editor.set_split({"val": val})
    editor.set_split({"seed": 4})
    assert editor.undo_stack.count() == 2
    assert doc.project.split == {"val": 0.35, "test": 0.0, "seed": 4}
    editor.undo()
    editor.undo()
    assert doc.project.split == {"val": 0.2, "test": 0.0, "seed": 0}
    editor.set_split({"val": 0.3})
    editor.set_split({"val": 0.2})  # typed back to where it was: no step is left
    assert editor.undo_stack.count() == 0 and not session.is_modified
