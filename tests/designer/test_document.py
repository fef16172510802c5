"""The model: the document's read API, its validation cache and how it adopts a project
(missing positions, cramped layouts, malformed specs), and the settings logic it uses."""

from __future__ import annotations

import subprocess
import sys

import pytest
from project_state import small_project

from core.project import Project
from designer.model.document import Document
from designer.model.settings import changed_fields
from designer.session import Session


def test_validation_follows_every_edit(doc, editor):
    assert doc.problems == [] and doc.shapes["h1"] == (4,)
    assert doc.param_counts == {"in": 0, "h1": 12, "out": 5}
    editor.disconnect("in", "h1")
    assert any("h1" in p.node_ids for p in doc.problems)
    assert not doc.is_valid
    editor.undo_stack.undo()
    assert doc.problems == [] and doc.is_valid


def test_new_project_places_nodes_without_positions(qapp):
    project = small_project()
    project.layout = {}
    doc = Document(project)
    xs = [doc.position(n)[0] for n in ("in", "h1", "out")]
    assert xs == sorted(xs) and xs[0] < xs[2]


def test_a_malformed_spec_is_reported_not_fatal(qapp):
    project = Project(spec={"nodes": [{"id": "a", "type": "Dense"}, 7, {"type": "Dense"}],
                            "edges": [["a"], "xy", ["a", "a"]]})
    doc = Document(project)
    assert doc.node_ids() == ["a"] and doc.edges() == [("a", "a")]
    assert doc.problems  # validate() says what is wrong


def test_a_cramped_layout_is_spread_on_open_so_edge_labels_fit(qapp):
    project = small_project()
    project.layout = {"in": [80.0, 200.0], "h1": [280.0, 200.0], "out": [480.0, 290.0]}
    session = Session(project)
    doc = session.document
    xs = [doc.position(n)[0] for n in ("in", "h1", "out")]
    assert xs[0] == 80.0 and xs[1] - xs[0] == pytest.approx(240.0)
    assert xs[2] - xs[1] == pytest.approx(240.0)  # scaled alike: the arrangement is kept
    assert doc.position("out")[1] == 290.0 and not session.is_modified
    roomy = Document(small_project())  # 270 apart: left as saved
    assert roomy.position("h1") == (270.0, 0.0)


def test_changed_fields_name_sub_settings_only_within_one_type():
    old = {"loss": "mse", "optimizer": {"type": "adam", "lr": 0.1, "beta_1": 0.9}}
    assert changed_fields(old, {**old, "optimizer": {"type": "adam", "lr": 0.2,
                                                     "beta_1": 0.9}}) == {"optimizer.lr"}
    assert changed_fields(old, {**old, "optimizer": {"type": "sgd", "lr": 0.1}}) == {
        "optimizer"}
    assert changed_fields(old, {"optimizer": old["optimizer"]}) == {"loss"}


def test_the_model_imports_no_view_and_no_editor():
    """The model is what every view reads: it must load without the canvas, the panels
    or the editor (so none of them can become a second source of truth)."""
    code = ("import sys, designer.model.document, designer.model.settings; "
            "print(sorted(m for m in sys.modules if m.startswith(('designer.canvas', "
            "'designer.panels', 'designer.editor', 'designer.session', "
            "'designer.training'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_read_api_answers_from_the_spec_and_its_validation(doc):
    assert doc.nodes_of_type("Dense") == ["h1", "out"] and doc.param("h1", "units") == 4
    assert doc.param("h1", "use_bias", True) is True  # unset: the default given
    config = doc.layer_config("h1")
    assert config["units"] == 4 and config["kernel_initializer"] == "glorot_uniform"
    doc.set_node_params("h1", {"units": -3})
    assert doc.layer_config("h1") is None and not doc.is_valid


def test_raw_mutators_emit_their_signal_and_revalidate_once_per_batch(doc):
    changed, validated = [], []
    doc.nodeChanged.connect(changed.append)
    doc.problemsChanged.connect(lambda: validated.append(doc.revision))
    with doc.batch():
        doc.set_node_params("h1", {"units": 6})
        doc.set_node_params("out", {"units": 2})
    assert changed == ["h1", "out"] and len(validated) == 1
    assert doc.shape("out") == (2,)
    with pytest.raises(KeyError, match="no stored weight"):
        doc.set_weight_value("h1", "kernel", (0, 0), 1.0)  # the editor stores arrays first
