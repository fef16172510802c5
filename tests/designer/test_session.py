"""The session: files, the modified/clean state, trained state, live weights and the
fresh weights shown before any training."""

from __future__ import annotations

import numpy as np
import pytest
from project_state import recorder, small_project

from core.project import load_project
from designer.session import Session


def test_save_open_round_trip_equals_the_document(doc, editor, session, tmp_path):
    editor.add_node("Dropout", {"rate": 0.1}, (100, 200))
    editor.set_weight("h1", "kernel", (0, 0), 0.75)
    assert session.is_modified
    path = session.save(tmp_path / "net.annproj")
    assert not session.is_modified and session.file_path == path
    loaded = load_project(path)
    assert loaded.spec == doc.project.spec and loaded.layout == doc.project.layout
    assert loaded.weights["h1"]["kernel"][0, 0] == pytest.approx(0.75)
    other = Session()
    replaced = []
    other.document.projectReplaced.connect(lambda: replaced.append(True))
    other.open(path)
    assert replaced and other.document.spec == doc.spec
    assert other.document.project.layout == doc.project.layout
    assert other.file_path == path and not other.is_modified
    assert other.undo_stack.count() == 0


def test_save_without_a_path_says_what_to_do(qapp):
    with pytest.raises(ValueError, match="choose a file name"):
        Session().save()


def test_set_file_path_names_the_file_without_touching_the_history(editor, session, tmp_path):
    editor.set_param(["h1"], "units", 5)
    paths = []
    session.filePathChanged.connect(paths.append)
    session.set_file_path(tmp_path / "recovered.annproj")
    assert session.file_path == tmp_path / "recovered.annproj" and session.is_modified
    assert paths == [str(tmp_path / "recovered.annproj")]
    assert session.save() == tmp_path / "recovered.annproj" and not session.is_modified


def test_layer_weights_prefer_live_then_project_when_shapes_fit(doc, session):
    doc.project.weights = {"h1": {"kernel": np.ones((2, 4)), "bias": np.zeros(4)}}
    assert session.layer_weights("h1")["kernel"].sum() == 8
    session.set_live_weights({"h1": {"kernel": np.full((2, 4), 2.0), "bias": np.zeros(4)}})
    assert session.layer_weights("h1")["kernel"].sum() == 16
    session.set_live_weights(None)
    doc.project.weights = {"h1": {"kernel": np.ones((3, 3)), "bias": np.zeros(3)}}
    assert session.layer_weights("h1")["kernel"].shape == (2, 4)  # stale arrays are not shown


def test_rename_moves_live_weights_and_neuron_maps(editor, session):
    session.set_live_weights({"h1": {"kernel": np.ones((2, 4), np.float32)}})
    session.set_neuron_maps({"h1": np.zeros((4, 3, 3))})
    editor.rename_node("h1", "hidden")
    assert set(session.weights) == {"hidden"} and set(session.neuron_maps) == {"hidden"}


def test_training_results_are_unsaved_work_but_no_undo_step(doc, editor, session, tmp_path):
    editor.set_param(["h1"], "units", 5)
    flips, results = recorder(session.modifiedChanged), recorder(session.trainedStateChanged)
    weights = {"h1": {"kernel": np.ones((2, 5), np.float32)}}
    session.set_trained_state(weights, {"iterations": 10}, {"loss": [0.7, 0.5]})
    assert editor.undo_stack.count() == 1 and len(results) == 1
    editor.undo()  # back to the stack's clean state: the results are still unsaved
    assert editor.undo_stack.isClean() and session.is_modified and flips == []
    assert doc.project.history == {"loss": [0.7, 0.5]}
    session.save(tmp_path / "trained.annproj")
    assert not session.is_modified and flips == [(False,)]
    assert load_project(tmp_path / "trained.annproj").history["loss"] == [0.7, 0.5]
    session.set_trained_state(None, None, None)
    assert session.is_modified
    editor.undo_stack.setClean()  # what scripts call after saving: nothing is unsaved then
    assert not session.is_modified and flips[-2:] == [(True,), (False,)]
    session.set_trained_state(None, None, None)
    session.new_project(small_project())
    assert not session.is_modified and flips[-1] == (False,)


def test_recovered_work_stays_unsaved_and_saves_to_its_file(session, tmp_path):
    source = tmp_path / "spiral.annproj"
    session.adopt_recovered(small_project(), str(source))
    assert session.is_modified and session.file_path == source
    assert session.undo_stack.count() == 0
    assert session.save() == source and not session.is_modified


def test_a_layer_of_a_broken_network_still_gets_fresh_weights_from_the_engine(doc, editor,
                                                                               session):
    """The neuron view works on the valid part while another layer has a problem: the
    engine's own layer and initializers make that layer's weights."""
    extra = editor.add_node("Dense", {"units": 3})
    editor.connect("h1", extra)  # a second output: the whole network cannot be built
    assert not doc.is_valid and session.initial_weights() == {}
    fresh = session.layer_weights("h1")
    assert fresh["kernel"].shape == (2, 4) and fresh["kernel"].dtype == np.float32
    assert fresh["bias"].tolist() == [0.0] * 4 and np.abs(fresh["kernel"]).max() > 0
    again = session.layer_weights("h1")
    np.testing.assert_array_equal(again["kernel"], fresh["kernel"])  # seeded per layer
    assert session.layer_weights("in") is None  # an Input has no weights


def test_live_weights_and_maps_are_forgotten_with_the_project(session):
    shown = recorder(session.weightsChanged)
    session.set_live_weights({"h1": {"kernel": np.ones((2, 4), np.float32)}})
    session.set_neuron_maps({"h1": np.zeros((4, 3, 3))})
    assert len(shown) == 1 and session.weights["h1"]["kernel"].sum() == 8
    session.new_project(small_project())
    assert session.weights is None and session.neuron_maps == {}
