"""``ann-designer new --example NAME --data FILE.csv``: an example's network on your data.

The example's layers, optimizer and training settings are kept; the Input shape, the
loss, the output units and the output activation are adapted as the designer's "Fix the
network" does (one rule, :mod:`core.data_fit`), and a network that cannot be adapted is
refused in one line with nothing written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.data import Dataset
from core.data_fit import DataShape, fitting_activation, network_fit
from core.project import Project, ProjectError, load_project
from core.starter import example_for_data

CULTIVARS = ["barolo", "grignolino", "barbera"]


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write_wine_like(path: Path, n: int = 90) -> Path:
    """13 numeric measurements and a text class with three values (like the wine data)."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    X = rng.normal(size=(n, 13)) + 1.5 * labels[:, None]
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([f"m{i}" for i in range(13)] + ["cultivar"])
        for row, label in zip(X, labels, strict=True):
            writer.writerow([f"{v:.4f}" for v in row] + [CULTIVARS[label]])
    return path


def write_regression(path: Path, n: int = 120, targets: int = 1) -> Path:
    """Three features and ``targets`` numeric columns far outside a sigmoid's (0, 1)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3))
    Y = np.column_stack([X @ [2.0, -1.0, 0.5] * (k + 1) * 10 + 5 for k in range(targets)])
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["a", "b", "c"] + [f"t{k}" for k in range(targets)])
        for row, ys in zip(X, Y, strict=True):
            writer.writerow([f"{v:.4f}" for v in row] + [f"{v:.4f}" for v in ys])
    return path


def nodes(project: Project) -> dict[str, dict]:
    return {node["id"]: node for node in project.spec["nodes"]}


def train_a_few_epochs(capsys, path: Path) -> None:
    code, out, err = run(capsys, "train", path, "--epochs", "3", "-q")
    assert code == 0, err
    assert "completed: 3 epochs" in out
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and "trained 3 epochs" in out


# ------------------------------------------------------------------------- the CLI


def test_iris_example_on_wine_like_data_takes_13_inputs_and_keeps_its_settings(
        capsys, tmp_path):
    data = write_wine_like(tmp_path / "wine.csv")
    path = tmp_path / "w.annproj"
    code, out, err = run(capsys, "new", "--example", "iris", "--data", data,
                         "--target", "cultivar", "-o", path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (f"created {path} from example 'iris': 90 samples, 3 classes "
                        "(barbera, barolo, grignolino)")
    assert lines[1] == "adapted: shape of 'input': [4] -> [13]"
    assert lines[2] == ("network: Input(13) -> Dense(8, relu) -> Dense(3, softmax); "
                        "loss categorical_crossentropy")
    project = load_project(path)
    layers = nodes(project)
    assert layers["input"]["shape"] == [13]
    assert layers["hidden"] == {"id": "hidden", "type": "Dense", "units": 8,
                                "activation": "relu"}
    assert layers["output"]["units"] == 3 and layers["output"]["activation"] == "softmax"
    iris = load_project(Path(__file__).parents[2] / "resources/examples/iris.annproj")
    assert project.training == iris.training  # optimizer, batch size, epochs, seed ...
    assert project.layout == iris.layout
    assert project.data["kind"] == "file" and project.data["target"] == "cultivar"
    assert project.class_names == ["barbera", "barolo", "grignolino"]
    assert len(project.preprocessing["offset"]) == 13  # refitted to the new data
    assert "target" not in project.extra  # the example's accuracy goal is not this data's
    assert project.weights is None
    train_a_few_epochs(capsys, path)


def test_xor_example_on_regression_data_gets_mse_and_a_linear_output(capsys, tmp_path):
    data = write_regression(tmp_path / "prices.csv")
    path = tmp_path / "r.annproj"
    code, out, err = run(capsys, "new", "--example", "xor", "--data", data,
                         "--target", "t0", "-o", path)
    assert code == 0, err
    assert ("adapted: loss binary_crossentropy -> mse; shape of 'input': [2] -> [3]; "
            "activation of 'output': sigmoid -> linear") in out
    assert "network: Input(3) -> Dense(8, tanh) -> Dense(1, linear); loss mse" in out
    project = load_project(path)
    assert project.training["loss"] == "mse"
    assert project.training["optimizer"] == {"type": "adam", "lr": 0.03}
    assert nodes(project)["output"]["activation"] == "linear"
    train_a_few_epochs(capsys, path)


def test_several_targets_set_the_output_units(capsys, tmp_path):
    data = write_regression(tmp_path / "two.csv", targets=2)
    path = tmp_path / "m.annproj"
    code, out, err = run(capsys, "new", "--example", "residual-mlp", "--data", data,
                         "--target", "t0,t1", "-o", path)
    assert code == 0, err
    assert "units of 'output': 3 -> 2" in out
    assert "activation of 'output': softmax -> linear" in out
    layers = nodes(load_project(path))
    assert layers["output"]["units"] == 2 and layers["add"]["type"] == "Add"
    train_a_few_epochs(capsys, path)


def test_an_example_that_fits_already_says_nothing_was_adapted(capsys, tmp_path):
    data = write_wine_like(tmp_path / "wine.csv")
    code, out, _ = run(capsys, "new", "--example", "wine", "--data", data,
                       "--target", "cultivar", "-o", tmp_path / "w.annproj")
    assert code == 0
    assert "adapted: nothing, the example's network fits the data as it is" in out


def test_a_cnn_example_on_rows_of_numbers_is_refused_in_one_line(capsys, tmp_path):
    data = write_wine_like(tmp_path / "wine.csv")
    path = tmp_path / "c.annproj"
    code, out, err = run(capsys, "new", "--example", "digits-cnn", "--data", data,
                         "--target", "cultivar", "-o", path)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines == ["ann-designer: error: example 'digits-cnn' cannot take wine.csv: "
                     "conv: Conv2D expects images shaped (height, width, channels) but "
                     "gets (13,); choose an example of Dense layers, which take samples "
                     "of 13 values, or leave out the example for a network built for "
                     "the data"]
    assert not path.exists()


def test_images_in_an_npz_file_fit_the_cnn_example(capsys, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", X=rng.random((40, 8, 8, 1)).astype(np.float32),
             y=np.arange(40) % 4)
    path = tmp_path / "img.annproj"
    code, out, err = run(capsys, "new", "--example", "digits-cnn", "--data",
                         tmp_path / "img.npz", "--target", "y", "-o", path)
    assert code == 0, err
    assert "adapted: units of 'output': 10 -> 4" in out
    assert nodes(load_project(path))["input"]["shape"] == [8, 8, 1]
    train_a_few_epochs(capsys, path)


@pytest.mark.parametrize("args, fragment", [
    (["--example", "iris", "--target", "x"], "--target goes with --data FILE.csv"),
    (["--example", "iris", "--data", "wine.csv"], "--data needs --target"),
    ([], "--example NAME, --data FILE.csv, or both"),
])
def test_usage_errors_of_example_with_data(capsys, tmp_path, args, fragment):
    write_wine_like(tmp_path / "wine.csv")
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    code, _, err = run(capsys, "new", *args, "-o", tmp_path / "p.annproj")
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.annproj").exists()


def test_an_unknown_example_fails_before_the_data_is_read(capsys, tmp_path):
    code, _, err = run(capsys, "new", "--example", "nope", "--data", tmp_path / "none.csv",
                       "--target", "y", "-o", tmp_path / "p.annproj")
    assert code == 1 and "unknown example 'nope'" in err and "none.csv" not in err


# ----------------------------------------------------------------- the shared rule


def test_an_output_that_is_no_dense_layer_is_refused_when_it_cannot_fit():
    """Fix only edits output Dense layers: a softmax Activation after Dense(3) stays 3
    wide; fine for three classes, but a regression needs one value, so the adaptation
    says so instead of writing a project whose training would fail."""
    example = Project(spec={"nodes": [
        {"id": "in", "type": "Input", "shape": [2]},
        {"id": "d", "type": "Dense", "units": 3},
        {"id": "act", "type": "Activation", "activation": "softmax"}],
        "edges": [["in", "d"], ["d", "act"]]},
        training={"loss": "categorical_crossentropy"})
    ds = Dataset(np.zeros((3, 2), np.float32), np.array([0, 1, 2]), "classification",
                 ["x1", "x2"], class_names=["a", "b", "c"])
    project, fit = example_for_data(example, "mine", ds, {"target": "y"}, "p")
    assert fit.fits and nodes(project)["d"]["units"] == 3
    ds = Dataset(np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32), "regression",
                 ["x1", "x2"])
    with pytest.raises(ProjectError, match="output 'act' gives 3 values per sample but "
                       "the data needs 1"):
        example_for_data(example, "mine", ds, {"target": "y"}, "p")


def test_a_bounded_output_is_kept_only_when_it_reaches_the_targets():
    assert fitting_activation("mse", "sigmoid") == "sigmoid"  # range unknown: kept
    assert fitting_activation("mse", "sigmoid", (0.0, 1.0)) == "sigmoid"
    assert fitting_activation("mse", "sigmoid", (0.0, 2.0)) == "linear"
    assert fitting_activation("mse", "tanh", (-0.5, 0.5)) == "tanh"
    assert fitting_activation("mse", "relu", (-3.0, 10.0)) == "linear"
    assert fitting_activation("mse", "relu", (0.0, 1e6)) == "relu"
    assert fitting_activation("mae", "linear", (-1e6, 1e6)) == "linear"


def test_network_fit_lists_the_loss_and_each_layer_edit():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "out"]]}
    X, y = np.zeros((5, 4), np.float32), np.array([0, 1, 2, 1, 0])
    fit = network_fit(spec, {"out": (1,)}, DataShape.of(X, y, "classification", 3),
                      "binary_crossentropy")
    assert fit.loss == "categorical_crossentropy" and fit.loss_changed
    assert [(m.node_id, m.param, m.current, m.value) for m in fit.mismatches] == [
        ("in", "shape", [2], [4]), ("out", "units", 1, 3),
        ("out", "activation", "sigmoid", "softmax")]


SQUARED_SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                          {"id": "h", "type": "Dense", "units": 4, "activation": "tanh"},
                          {"id": "out", "type": "Dense", "units": 1,
                           "activation": "tanh"}],
                "edges": [["in", "h"], ["h", "out"]]}


def _squared_fit(units: int, activation: str, n_classes: int, loss: str = "mse"):
    spec = {**SQUARED_SPEC, "nodes": [dict(n) for n in SQUARED_SPEC["nodes"]]}
    spec["nodes"][2].update(units=units, activation=activation)
    y = np.arange(6) % n_classes
    data = DataShape.of(np.zeros((6, 2), np.float32), y, "classification", n_classes)
    return network_fit(spec, {"out": (units,)}, data, loss)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_a_squared_error_loss_on_two_classes_fits_one_unit(loss, activation):
    """The Playground's setting: one tanh (or sigmoid, linear) unit against a 0/1 target."""
    fit = _squared_fit(1, activation, 2, loss)
    assert fit.fits and fit.loss == loss


def test_a_squared_error_loss_on_three_classes_wants_three_units():
    assert _squared_fit(3, "sigmoid", 3).fits
    assert _squared_fit(3, "softmax", 3).fits  # softmax over one-hot rows: fine
    fit = _squared_fit(1, "tanh", 3)
    assert fit.loss == "mse" and [(m.param, m.current, m.value) for m in fit.mismatches] \
        == [("units", 1, 3)]
    fit = _squared_fit(3, "tanh", 2)  # two classes: one 0/1 column, as targets() gives
    assert [(m.param, m.value) for m in fit.mismatches] == [("units", 1)]


def test_softmax_on_one_unit_with_mse_becomes_sigmoid():
    """softmax over a single unit is always 1: it cannot learn, so Fix gives sigmoid."""
    fit = _squared_fit(1, "softmax", 2)
    assert fit.loss == "mse"
    assert [(m.param, m.current, m.value) for m in fit.mismatches] == [
        ("activation", "softmax", "sigmoid")]
    fit = _squared_fit(2, "softmax", 2)  # two softmax units become one sigmoid unit
    assert [(m.param, m.value) for m in fit.mismatches] == [("units", 1),
                                                           ("activation", "sigmoid")]
    assert fitting_activation("mse", "softmax", task="classification", units=3) == "softmax"
    assert fitting_activation("mse", "softmax") == "linear"  # regression: unchanged


def test_cross_entropy_rules_are_unchanged_by_squared_error_on_classes():
    assert _squared_fit(1, "tanh", 3, "binary_crossentropy").loss == \
        "categorical_crossentropy"
    fit = _squared_fit(1, "tanh", 2, "binary_crossentropy")
    assert [(m.param, m.value) for m in fit.mismatches] == [("activation", "sigmoid")]


def test_sine_example_on_class_data_keeps_mse_with_one_unit_per_class(capsys, tmp_path):
    """``new --example sine --data wine-like.csv``: mse fits three classes (one-hot)."""
    data = write_wine_like(tmp_path / "wine.csv")
    out_path = tmp_path / "p.annproj"
    code, out, err = run(capsys, "new", "--example", "sine", "--data", data, "--target",
                         "cultivar", "-o", out_path)
    assert code == 0, err
    project = load_project(out_path)
    assert project.training["loss"] == "mse"
    outputs = [n for n in project.spec["nodes"] if n["id"] not in
               {s for s, _ in project.spec["edges"]}]
    assert [n["units"] for n in outputs] == [3]
