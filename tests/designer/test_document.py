"""The Document and its undo commands: every kind of edit, undone and redone exactly.

The check after an undo is always the whole state (spec, layout, weights), compared with
a copy taken before the edit, so a command that forgets anything fails.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from core.project import Project, load_project
from designer.document import Document, snake_case


def small_project() -> Project:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid) with positions."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h1", "type": "Dense", "units": 4, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h1"], ["h1", "out"]]}
    layout = {"in": [0.0, 0.0], "h1": [270.0, 0.0], "out": [540.0, 0.0]}
    return Project(name="tiny", spec=spec, layout=layout, training={"seed": 0})


def state(doc: Document) -> tuple:
    """Everything an undo must restore."""
    weights = {k: {n: a.tolist() for n, a in v.items()}
               for k, v in (doc.project.weights or {}).items()}
    return (copy.deepcopy(doc.project.spec), copy.deepcopy(doc.project.layout), weights)


def check_undo_redo(doc: Document, before: tuple) -> None:
    """Undo restores ``before`` exactly; redo restores the edited state exactly."""
    after = state(doc)
    assert after != before
    doc.undo_stack.undo()
    assert state(doc) == before
    doc.undo_stack.redo()
    assert state(doc) == after


@pytest.fixture
def doc(qapp) -> Document:
    return Document(small_project())


def test_installed_pyside_does_not_leak_none_or_bool_references(qapp):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per void call and to
    True/False per bool signal, killing the app within seconds (pyproject pins < 6.12)."""
    import sys

    from PySide6.QtCore import QObject, QPointF, Signal

    class Emitter(QObject):
        flag = Signal(bool)

    point, emitter = QPointF(), Emitter()
    emitter.flag.connect(lambda _value: None)
    before = [sys.getrefcount(obj) for obj in (None, True, False)]
    for _ in range(2000):
        point.setX(1.0)
        emitter.flag.emit(True)
        emitter.flag.emit(False)
    after = [sys.getrefcount(obj) for obj in (None, True, False)]
    assert all(a >= b - 100 for a, b in zip(after, before, strict=True)), (before, after)


def test_new_ids_follow_keras_names_and_stay_unique(doc):
    assert snake_case("MaxPooling2D") == "max_pooling2d"
    assert snake_case("BatchNormalization") == "batch_normalization"
    first = doc.add_node("Dense", pos=(10, 20))
    second = doc.add_node("Dense")
    conv = doc.add_node("Conv2D")
    assert (first, second, conv) == ("dense_1", "dense_2", "conv2d_1")
    assert doc.node(first)["units"] >= 1 and doc.position(first) == (10.0, 20.0)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.add_node("Dense") == "dense_2"  # the freed number is used again


def test_add_node_undo_redo_and_unknown_type(doc):
    before = state(doc)
    refusals = []
    doc.refused.connect(refusals.append)
    assert doc.add_node("NoSuchLayer") == ""
    assert "Unknown layer type" in refusals[0]
    doc.add_node("Dropout", {"rate": 0.25}, (5.0, 6.0))
    check_undo_redo(doc, before)


def test_connect_and_disconnect_are_undoable(doc):
    new = doc.add_node("Dense", {"units": 3})
    before = state(doc)
    assert doc.connect("h1", new) is None
    check_undo_redo(doc, before)
    before = state(doc)
    assert doc.disconnect("in", "h1") is None
    check_undo_redo(doc, before)


@pytest.mark.parametrize(("src", "dst", "words"), [
    ("out", "in", "Input layer"),
    ("h1", "h1", "cannot feed itself"),
    ("in", "out", "single input"),
    ("in", "h1", "already connected"),
])
def test_illegal_edges_are_refused_with_a_reason(doc, src, dst, words):
    before = state(doc)
    refusals = []
    doc.refused.connect(refusals.append)
    reason = doc.connect(src, dst)
    assert reason is not None and words in reason
    assert refusals == [reason]
    assert state(doc) == before and doc.undo_stack.count() == 0


def test_cycle_is_refused(doc):
    add = doc.add_node("Add")
    doc.connect("out", add)
    doc.disconnect("in", "h1")
    reason = doc.connect(add, "h1")  # h1 -> out -> add -> h1
    assert reason is not None and "cycle" in reason


def test_remove_nodes_removes_edges_as_child_commands(doc):
    before = state(doc)
    assert doc.remove_nodes(["h1"]) is None
    command = doc.undo_stack.command(0)
    assert len(command.children) == 3  # two edges, then the node
    assert doc.edges() == [] and not doc.has_node("h1")
    check_undo_redo(doc, before)


def test_undo_restores_merge_input_order(doc):
    add = doc.add_node("Add", pos=(800, 0))
    extra = doc.add_node("Dense", {"units": 1}, pos=(540, 200))
    doc.connect("h1", extra)
    doc.connect("out", add)
    doc.connect(extra, add)
    before = state(doc)
    doc.remove_nodes(["out"])
    check_undo_redo(doc, before)
    doc.undo_stack.undo()
    assert doc.predecessors(add) == ["out", extra]


def test_move_is_one_command_and_skips_still_nodes(doc):
    before = state(doc)
    doc.move_nodes({"in": (10, 10), "h1": (270.0, 0.0)})
    assert doc.undo_stack.count() == 1 and doc.position("in") == (10.0, 10.0)
    check_undo_redo(doc, before)


def test_consecutive_param_edits_merge_into_one_step(doc):
    before = state(doc)
    for units in (1, 12, 128):
        doc.set_param(["h1"], "units", units)
    assert doc.undo_stack.count() == 1 and doc.node("h1")["units"] == 128
    check_undo_redo(doc, before)
    doc.set_param(["h1"], "activation", "relu")
    assert doc.undo_stack.count() == 2  # another field: its own step
    doc.set_param(["h1"], "units", 5)
    doc.set_param(["h1"], "units", 6)
    assert doc.undo_stack.count() == 3


def test_param_edit_back_to_the_old_value_leaves_no_step(doc):
    doc.set_param(["h1"], "units", 9)
    doc.set_param(["h1"], "units", 4)
    assert doc.undo_stack.count() == 0 and doc.node("h1")["units"] == 4


def test_set_param_on_several_nodes_and_reset_to_default(doc):
    before = state(doc)
    doc.set_param(["h1", "out"], "use_bias", False)
    assert doc.node("h1")["use_bias"] is False and doc.node("out")["use_bias"] is False
    check_undo_redo(doc, before)
    assert doc.set_param(["h1"], "id", "x") is not None


def test_validation_follows_every_edit(doc):
    assert doc.problems == [] and doc.shapes["h1"] == (4,)
    assert doc.param_counts == {"in": 0, "h1": 12, "out": 5}
    doc.disconnect("in", "h1")
    assert any("h1" in p.node_ids for p in doc.problems)
    assert not doc.is_valid
    doc.undo_stack.undo()
    assert doc.problems == [] and doc.is_valid


def test_paste_keeps_inner_edges_with_new_ids(doc):
    fragment = doc.copy_fragment(["h1", "out"])
    assert fragment["edges"] == [["h1", "out"]]  # the edge from "in" stays behind
    before = state(doc)
    new = doc.paste(fragment, (0, 300))
    assert new == ["dense_1", "dense_2"]
    assert ("dense_1", "dense_2") in doc.edges()
    assert not any(d in new and s == "in" for s, d in doc.edges())
    assert doc.position("dense_1") == (270.0, 300.0)
    assert doc.undo_stack.count() == 1
    check_undo_redo(doc, before)


@pytest.mark.parametrize("junk", [
    None, [], {"nodes": "x"}, {"nodes": [1, {"id": 3}]},
    {"nodes": [{"id": "a"}]}, {"nodes": [{"type": "Dense"}]},
])
def test_paste_drops_malformed_fragments(doc, junk):
    before = state(doc)
    assert doc.paste(junk, (0, 0)) == []
    assert state(doc) == before


def test_paste_ignores_edges_leaving_the_fragment_and_bad_layout(doc):
    fragment = {"nodes": [{"id": "a", "type": "Dense", "units": 2}],
                "edges": [["a", "zzz"], ["zzz", "a"]], "layout": {"a": ["x", 1]}}
    new = doc.paste(fragment, (5, 5))
    assert new == ["dense_1"] and doc.position("dense_1") == (5.0, 5.0)
    assert all("dense_1" not in e for e in doc.edges())


def test_auto_layout_orders_left_to_right_and_undoes(doc):
    doc.move_nodes({"in": (900, 50), "h1": (0, 400), "out": (300, -100)})
    before = state(doc)
    doc.auto_layout()
    xs = {n: doc.position(n)[0] for n in doc.node_ids()}
    assert xs["in"] < xs["h1"] < xs["out"]
    assert doc.undo_stack.command(doc.undo_stack.count() - 1).text() == "Auto layout"
    check_undo_redo(doc, before)


def test_change_units_keeps_other_weights(doc):
    rng = np.random.default_rng(1)
    doc.project.weights = {
        "h1": {"kernel": rng.normal(size=(2, 4)), "bias": rng.normal(size=4)},
        "out": {"kernel": rng.normal(size=(4, 1)), "bias": rng.normal(size=1)}}
    old = copy.deepcopy(doc.project.weights)
    before = state(doc)
    assert doc.change_units("h1", +1) is None
    w = doc.project.weights
    assert doc.node("h1")["units"] == 5 and doc.shapes["h1"] == (5,)
    assert w["h1"]["kernel"].shape == (2, 5) and w["out"]["kernel"].shape == (5, 1)
    np.testing.assert_array_equal(w["h1"]["kernel"][:, :4], old["h1"]["kernel"])
    np.testing.assert_array_equal(w["out"]["kernel"][:4], old["out"]["kernel"])
    assert w["h1"]["bias"][4] == 0.0
    check_undo_redo(doc, before)
    doc.change_units("h1", -2)
    np.testing.assert_array_equal(doc.project.weights["h1"]["kernel"], old["h1"]["kernel"][:, :3])
    assert doc.change_units("in", 1) is not None  # not a Dense layer
    assert doc.change_units("out", -1) is not None  # at least one unit


def test_set_weight_materialises_initial_weights_and_undoes(doc):
    shown = doc.layer_weights("h1")
    assert shown["kernel"].shape == (2, 4)  # a fresh Network.from_spec initialisation
    assert doc.project.weights is None
    assert doc.set_weight("h1", "kernel", (1, 2), 0.5) is None
    assert doc.project.weights["h1"]["kernel"][1, 2] == 0.5
    np.testing.assert_array_equal(doc.project.weights["h1"]["kernel"][0], shown["kernel"][0])
    doc.undo_stack.undo()
    assert doc.project.weights["h1"]["kernel"][1, 2] == pytest.approx(shown["kernel"][1, 2])
    assert doc.set_weight("h1", "kernel", (9, 9), 1.0) is not None
    assert doc.set_weight("h1", "kernel", (0, 0), float("nan")) is not None


def test_layer_weights_prefer_live_then_project_when_shapes_fit(doc):
    doc.project.weights = {"h1": {"kernel": np.ones((2, 4)), "bias": np.zeros(4)}}
    assert doc.layer_weights("h1")["kernel"].sum() == 8
    doc.set_live_weights({"h1": {"kernel": np.full((2, 4), 2.0), "bias": np.zeros(4)}})
    assert doc.layer_weights("h1")["kernel"].sum() == 16
    doc.set_live_weights(None)
    doc.project.weights = {"h1": {"kernel": np.ones((3, 3)), "bias": np.zeros(3)}}
    assert doc.layer_weights("h1")["kernel"].shape == (2, 4)  # stale arrays are not shown


def test_structure_lock_refuses_structure_but_not_moves(doc):
    doc.set_param(["h1"], "units", 6)
    locks = []
    doc.lockChanged.connect(locks.append)
    doc.set_structure_lock("training is running")
    assert locks == ["training is running"]
    before = state(doc)
    for reason in (doc.connect("h1", "out"), doc.remove_nodes(["h1"]),
                   doc.set_param(["h1"], "units", 3), doc.change_units("h1", 1),
                   doc.set_weight("h1", "kernel", (0, 0), 1.0), doc.undo()):
        assert reason is not None and "training is running" in reason
    assert doc.add_node("Dense") == "" and doc.paste(doc.copy_fragment(["h1"])) == []
    assert state(doc) == before
    doc.move_nodes({"in": (1, 2)})
    assert doc.position("in") == (1.0, 2.0)
    assert doc.undo() is None and doc.position("in") == (0.0, 0.0)  # moves still undo
    doc.set_structure_lock(None)
    assert doc.undo() is None and doc.node("h1")["units"] == 4


def test_save_open_round_trip_equals_the_document(doc, tmp_path):
    doc.add_node("Dropout", {"rate": 0.1}, (100, 200))
    doc.set_weight("h1", "kernel", (0, 0), 0.75)
    assert doc.is_modified
    path = doc.save(tmp_path / "net.annproj")
    assert not doc.is_modified and doc.file_path == path
    loaded = load_project(path)
    assert loaded.spec == doc.project.spec and loaded.layout == doc.project.layout
    assert loaded.weights["h1"]["kernel"][0, 0] == pytest.approx(0.75)
    other = Document()
    replaced = []
    other.projectReplaced.connect(lambda: replaced.append(True))
    other.open(path)
    assert replaced and other.spec == doc.spec and other.project.layout == doc.project.layout
    assert other.file_path == path and not other.is_modified
    assert other.undo_stack.count() == 0


def test_save_without_a_path_says_what_to_do(qapp):
    with pytest.raises(ValueError, match="choose a file name"):
        Document().save()


def test_new_project_places_nodes_without_positions(qapp):
    project = small_project()
    project.layout = {}
    doc = Document(project)
    xs = [doc.position(n)[0] for n in ("in", "h1", "out")]
    assert xs == sorted(xs) and xs[0] < xs[2]


def test_add_node_after_wires_in_one_step(doc):
    new = doc.add_node_after("Dense", "out")
    assert ("out", new) in doc.edges() and doc.undo_stack.count() == 1
    assert doc.position(new)[0] > doc.position("out")[0]
    doc.undo_stack.undo()
    assert not doc.has_node(new)


def test_a_malformed_spec_is_reported_not_fatal(qapp):
    project = Project(spec={"nodes": [{"id": "a", "type": "Dense"}, 7, {"type": "Dense"}],
                            "edges": [["a"], "xy", ["a", "a"]]})
    doc = Document(project)
    assert doc.node_ids() == ["a"] and doc.edges() == [("a", "a")]
    assert doc.problems  # validate() says what is wrong


# ----------------------------------------------------------------------------- rename
def test_rename_updates_edges_layout_weights_and_undoes_exactly(doc):
    doc.set_weight("h1", "kernel", (0, 0), 0.5)  # materialises project.weights
    renamed = []
    doc.nodeRenamed.connect(lambda old, new: renamed.append((old, new)))
    before = state(doc)
    assert doc.rename_node("h1", "hidden") is None
    assert renamed == [("h1", "hidden")]
    assert doc.node_ids() == ["in", "hidden", "out"]  # keeps its place in the spec
    assert doc.edges() == [("in", "hidden"), ("hidden", "out")]
    assert doc.position("hidden") == (270.0, 0.0) and "h1" not in doc.project.layout
    assert doc.project.weights["hidden"]["kernel"][0, 0] == 0.5
    assert "h1" not in doc.project.weights and doc.is_valid
    assert doc.undo_stack.undoText() == "Rename h1 to hidden"
    check_undo_redo(doc, before)
    assert doc.shape("hidden") == (4,) and doc.param_counts["hidden"] == 12


@pytest.mark.parametrize(("new_id", "words"), [
    ("", "needs an id"), ("   ", "needs an id"), ("out", "already called out"),
    ("9lives", "start with a letter"), ("two words", "not a valid id"),
    ("x" * 41, "at most 40")])
def test_rename_refuses_bad_ids_and_pushes_nothing(doc, new_id, words):
    refused = []
    doc.refused.connect(refused.append)
    reason = doc.rename_node("h1", new_id)
    assert reason and words in reason and refused == [reason]
    assert doc.undo_stack.count() == 0 and doc.has_node("h1")


def test_rename_to_the_same_id_is_no_step_and_the_lock_refuses(doc):
    assert doc.rename_node("h1", "h1") is None and doc.undo_stack.count() == 0
    doc.set_structure_lock("training is running")
    assert "training is running" in doc.rename_node("h1", "hidden")
    assert doc.undo_stack.count() == 0 and doc.has_node("h1")


def test_rename_moves_live_weights_and_neuron_maps(doc):
    doc.set_live_weights({"h1": {"kernel": np.ones((2, 4), np.float32)}})
    doc.set_neuron_maps({"h1": np.zeros((4, 3, 3))})
    doc.rename_node("h1", "hidden")
    assert set(doc.weights) == {"hidden"} and set(doc.neuron_maps) == {"hidden"}


# ----------------------------------------------------------------------------- files
def test_set_file_path_names_the_file_without_touching_the_history(doc, tmp_path):
    doc.set_param(["h1"], "units", 5)
    paths = []
    doc.filePathChanged.connect(paths.append)
    doc.set_file_path(tmp_path / "recovered.annproj")
    assert doc.file_path == tmp_path / "recovered.annproj" and doc.is_modified
    assert paths == [str(tmp_path / "recovered.annproj")]
    assert doc.save() == tmp_path / "recovered.annproj" and not doc.is_modified


def test_a_cramped_layout_is_spread_on_open_so_edge_labels_fit(qapp):
    project = small_project()
    project.layout = {"in": [80.0, 200.0], "h1": [280.0, 200.0], "out": [480.0, 290.0]}
    doc = Document(project)
    xs = [doc.position(n)[0] for n in ("in", "h1", "out")]
    assert xs[0] == 80.0 and xs[1] - xs[0] == pytest.approx(240.0)
    assert xs[2] - xs[1] == pytest.approx(240.0)  # scaled alike: the arrangement is kept
    assert doc.position("out")[1] == 290.0 and not doc.is_modified
    roomy = Document(small_project())  # 270 apart: left as saved
    assert roomy.position("h1") == (270.0, 0.0)


def test_add_after_never_stacks_a_card_on_another(doc):
    doc.move_nodes({"out": (270.0 + 260.0, 0.0)})  # right where "after h1" would go
    new = doc.add_node_after("Dense", "h1")
    x, y = doc.position(new)
    assert x == 530.0 and y >= 110.0  # moved below the card that was in the way
    assert doc.edges()[-1] == ("h1", new) and doc.undo_stack.count() == 2


# ------------------------------------------------------------------ data, training, results
def recorder(signal) -> list:
    """Collect a signal's emissions (their arguments) in a list."""
    seen: list = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def test_training_setting_edits_mark_modified_merge_per_field_and_undo(doc):
    doc.project.training = {"loss": "binary_crossentropy", "batch_size": 16,
                            "optimizer": {"type": "adam", "lr": 0.01}}
    flips, changed = recorder(doc.modifiedChanged), recorder(doc.trainingSettingsChanged)
    for lr in (0.02, 0.025, 0.0252):  # typing one field: one undo step
        doc.set_training_settings({"optimizer": {"type": "adam", "lr": lr}})
    doc.set_training_settings({"batch_size": 64})
    assert doc.undo_stack.count() == 2 and len(changed) == 4
    assert doc.is_modified and flips == [(True,)]
    assert doc.project.training["optimizer"]["lr"] == 0.0252
    doc.undo()
    assert doc.project.training["batch_size"] == 16
    doc.undo()
    assert doc.project.training == {"loss": "binary_crossentropy", "batch_size": 16,
                                    "optimizer": {"type": "adam", "lr": 0.01}}
    assert not doc.is_modified and flips == [(True,), (False,)]
    doc.set_training_settings({"batch_size": 16})  # no change, no step
    assert doc.undo_stack.index() == 0


def test_new_optimizer_type_drops_the_state_and_undo_brings_it_back(doc):
    state = {"iterations": 7, "m": np.ones(3)}
    doc.project.training = {"optimizer": {"type": "adam", "lr": 0.01}}
    doc.project.optimizer_state = state
    doc.set_training_settings({"optimizer": {"type": "sgd", "lr": 0.01}})
    assert doc.project.optimizer_state is None
    doc.undo()
    assert doc.project.optimizer_state is state
    doc.set_training_settings({"optimizer": {"type": "adam", "lr": 0.05}})  # same type
    assert doc.project.optimizer_state is state


def test_loss_change_revalidates_and_is_allowed_while_training(doc):
    doc.set_structure_lock("training")
    doc.set_training_settings({"loss": "categorical_crossentropy"})
    assert [p.code for p in doc.problems] == ["loss_output"]
    assert doc.undo() is None  # settings are no structure: undo works under the lock
    assert doc.problems == [] and "loss" not in doc.project.training


def test_data_source_edit_refits_the_scaler_undoes_and_waits_for_training(doc):
    doc.project.data = {"kind": "builtin", "name": "spiral", "params": {"seed": 0}}
    fitted = {"method": "standardize", "offset": [0.5, 1.0], "scale": [2.0, 3.0]}
    doc.project.preprocessing = copy.deepcopy(fitted)
    doc.project.optimizer_state = {"iterations": 3}
    reloads = recorder(doc.dataSourceChanged)
    circle = {"kind": "builtin", "name": "circle", "params": {"seed": 0}}
    assert doc.set_data_source(circle) is None
    assert doc.project.data == circle and doc.is_modified and len(reloads) == 1
    assert doc.project.preprocessing == {"method": "standardize", "offset": [], "scale": []}
    assert doc.project.optimizer_state is None
    doc.undo()
    assert doc.project.data["name"] == "spiral" and doc.project.preprocessing == fitted
    assert doc.project.optimizer_state == {"iterations": 3} and not doc.is_modified
    doc.redo()
    assert doc.project.data == circle and len(reloads) == 3
    doc.set_structure_lock("training")
    assert "Stop training" in doc.set_data_source({"kind": "builtin", "name": "xor"})
    assert "Stop training" in doc.set_split({"val": 0.5})
    assert doc.undo() is not None and doc.project.data == circle  # data undo waits too


def test_split_edits_of_one_field_merge_into_one_step(doc):
    doc.project.split = {"val": 0.2, "test": 0.0, "seed": 0}
    for val in (0.25, 0.3, 0.35):
        doc.set_split({"val": val})
    doc.set_split({"seed": 4})
    assert doc.undo_stack.count() == 2
    assert doc.project.split == {"val": 0.35, "test": 0.0, "seed": 4}
    doc.undo()
    doc.undo()
    assert doc.project.split == {"val": 0.2, "test": 0.0, "seed": 0}
    doc.set_split({"val": 0.3})
    doc.set_split({"val": 0.2})  # typed back to where it was: no step is left
    assert doc.undo_stack.count() == 0 and not doc.is_modified


def test_training_results_are_unsaved_work_but_no_undo_step(doc, tmp_path):
    doc.set_param(["h1"], "units", 5)
    flips, results = recorder(doc.modifiedChanged), recorder(doc.trainedStateChanged)
    weights = {"h1": {"kernel": np.ones((2, 5), np.float32)}}
    doc.set_trained_state(weights, {"iterations": 10}, {"loss": [0.7, 0.5]})
    assert doc.undo_stack.count() == 1 and len(results) == 1
    doc.undo()  # back to the stack's clean state: the results are still unsaved
    assert doc.undo_stack.isClean() and doc.is_modified and flips == []
    assert doc.project.history == {"loss": [0.7, 0.5]}
    doc.save(tmp_path / "trained.annproj")
    assert not doc.is_modified and flips == [(False,)]
    assert load_project(tmp_path / "trained.annproj").history["loss"] == [0.7, 0.5]
    doc.set_trained_state(None, None, None)
    assert doc.is_modified
    doc.undo_stack.setClean()  # what scripts call after saving: nothing is unsaved then
    assert not doc.is_modified and flips[-2:] == [(True,), (False,)]
    doc.set_trained_state(None, None, None)
    doc.new_project(small_project())
    assert not doc.is_modified and flips[-1] == (False,)


def test_changed_fields_name_sub_settings_only_within_one_type():
    from designer.document import changed_fields

    old = {"loss": "mse", "optimizer": {"type": "adam", "lr": 0.1, "beta_1": 0.9}}
    assert changed_fields(old, {**old, "optimizer": {"type": "adam", "lr": 0.2,
                                                     "beta_1": 0.9}}) == {"optimizer.lr"}
    assert changed_fields(old, {**old, "optimizer": {"type": "sgd", "lr": 0.1}}) == {
        "optimizer"}
    assert changed_fields(old, {"optimizer": old["optimizer"]}) == {"loss"}
