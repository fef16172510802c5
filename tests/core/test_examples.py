"""The shipped examples: catalogue and files agree, and each trains to its stated target.

Every example is trained here with exactly the settings saved in its file (epochs,
optimizer, batch size, seed, split, preprocessing), so the numbers a user sees after
pressing Train in the designer are the ones checked below.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core import workflow
from core.examples import (
    DEFAULT_EXAMPLE,
    EXAMPLES_DIR,
    ExampleInfo,
    list_examples,
    load_example,
)
from core.project import ProjectError, save_project
from core.spec import validate

REQUIRED = {"xor", "circle", "spiral", "sine", "iris", "wine", "digits-mlp", "digits-cnn",
            "residual-mlp", "wide-and-deep"}
NAMES = [info.name for info in list_examples()]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_examples",
                                                  EXAMPLES_DIR / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_lists_the_required_examples_and_the_default():
    infos = list_examples()
    assert set(NAMES) >= REQUIRED
    assert DEFAULT_EXAMPLE == "spiral" and DEFAULT_EXAMPLE in NAMES
    assert len(NAMES) == len(set(NAMES))
    for info in infos:
        assert isinstance(info, ExampleInfo)
        assert info.task in ("classification", "regression")
        assert info.title and info.description and "\n" not in info.description


@pytest.mark.parametrize("name", NAMES)
def test_example_file_is_a_valid_untrained_project(name):
    project = load_example(name)
    info = {i.name: i for i in list_examples()}[name]
    assert project.name == name and project.description == info.description
    assert project.weights is None and not project.history
    assert [p for p in validate(project.spec, loss=project.training["loss"])
            if p.severity == "error"] == []
    assert workflow.task_of(project) == info.task
    target = project.extra["target"]
    assert target["metric"] in ("val_accuracy", "val_loss")
    assert ("min" in target) != ("max" in target)
    # every node has a place on the canvas, and edges run left to right
    ids = {node["id"] for node in project.spec["nodes"]}
    assert set(project.layout) == ids
    for src, dst in project.spec["edges"]:
        assert project.layout[src][0] < project.layout[dst][0]
    # the scaler is fitted already, so an untrained example can predict and export
    if project.preprocessing is not None:
        assert len(project.preprocessing["offset"]) > 0


def test_committed_files_match_the_build_script(tmp_path):
    """Rebuilding gives the same project: the script is the source of the examples."""
    module = _build_module()
    definitions = module.definitions()
    for info in list_examples():
        out = tmp_path / f"{info.name}.annproj"
        save_project(module.build(info, definitions[info.name]), out)
        committed = EXAMPLES_DIR / f"{info.name}.annproj"
        with zipfile.ZipFile(out) as new, zipfile.ZipFile(committed) as old:
            assert json.loads(new.read("project.json")) == json.loads(
                old.read("project.json")), f"{info.name}: run build_examples.py again"


def test_unknown_example_names_the_choices():
    with pytest.raises(ProjectError, match="unknown example 'nope'.*spiral"):
        load_example("nope")


@pytest.mark.parametrize("name", NAMES)
def test_example_trains_to_its_target(name):
    project = load_example(name)
    epochs = project.training["epochs"]
    outcome = workflow.train_project(project)
    assert outcome.stop_reason == "completed" and outcome.epochs_run == epochs
    target = project.extra["target"]
    value = project.history[target["metric"]][-1]
    assert np.isfinite(value)
    if "min" in target:
        assert value >= target["min"], f"{name}: {target['metric']} {value:.4f}"
    else:
        assert value <= target["max"], f"{name}: {target['metric']} {value:.4f}"
    # the trained example predicts the validation data as well as training reported
    data = workflow.prepare_data(project)
    evaluation = workflow.evaluate_dataset(project, outcome.net, data.val)
    assert evaluation.metrics["loss"] == pytest.approx(project.history["val_loss"][-1],
                                                       rel=1e-4, abs=1e-6)


def test_example_path_is_inside_the_package_tree():
    assert Path(__file__).resolve().parents[2] / "resources" / "examples" == EXAMPLES_DIR
