"""The ``ann-designer`` command line, driven through ``main([...])``.

Covers every subcommand, the worked flow of docs/cli.md (CSV -> new -> train -> evaluate
-> predict -> export ONNX, checked with onnxruntime), Ctrl-C during training, and broken
inputs, which must give exactly one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import cli, cli_output, workflow
from core.cli import main
from core.log_setup import stop_logging
from core.project import load_project, save_project

CLASSES = ["alpha", "beta", "gamma"]
COLORS = ["red", "green", "blue"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ann-designer: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def write_blobs_csv(path: Path, n: int = 180, seed: int = 0, target: str = "species",
                    kind: str = "multiclass", colors: list[str] | None = None) -> Path:
    """Three separable blobs in 4 numeric features plus an (uninformative) colour column.

    ``kind``: "multiclass" (three names), "binary" (two names) or "regression" (a number
    that is a linear function of the features).
    """
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [4, 4, 0, 0], [0, 4, 4, 0]], dtype=float)
    k = 2 if kind == "binary" else 3
    labels = np.arange(n) % k
    X = centres[labels] + rng.normal(0, 0.6, size=(n, 4))
    colors = colors or COLORS
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["f1", "f2", "f3", "f4", "color", target])
        for row, label in zip(X, labels, strict=True):
            value = (f"{row @ [1.0, -2.0, 0.5, 3.0] + 1.0:.5f}" if kind == "regression"
                     else CLASSES[label])
            writer.writerow([f"{v:.5f}" for v in row] + [colors[rng.integers(len(colors))],
                                                         value])
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


# ---------------------------------------------------------------------------- basics


def test_examples_lists_every_example_with_its_description(capsys):
    code, out, err = run(capsys, "examples")
    assert code == 0 and err == ""
    for info in cli.list_examples():
        line = next(row for row in out.splitlines() if row.startswith(info.name + " "))
        assert info.description in line
    assert "spiral *" in out


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in cli.COMMANDS:
        assert command in out


def test_version_comes_from_the_installed_metadata(capsys):
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"ann-designer {version('ann-designer')}"


def test_every_option_has_help_and_the_epilog_lists_examples_and_variables(capsys):
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in [("", parser), *subparsers.items()]:
        for action in sub._actions:
            if action.dest not in ("help", "command"):
                assert action.help, f"{name} {action.option_strings or action.dest}"
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "ann-designer [-h] [--version] [-v] [FILE.annproj]" in out
    for text in ("ANN_DESIGNER_DEBUG", "ANN_DESIGNER_LOG_DIR", "ANN_DESIGNER_NO_RECOVERY",
                 "QT_QPA_PLATFORM", "new --example spiral", "--install-desktop"):
        assert text in out


def test_commands_log_to_the_log_file_and_to_stderr_with_v(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ANN_DESIGNER_LOG_DIR", str(tmp_path / "logs"))
    code, _, err = run(capsys, "summary", tmp_path / "missing.annproj")
    assert code == 1 and len(err.strip().splitlines()) == 1  # no log lines on the terminal
    log = (tmp_path / "logs" / "ann-designer.log").read_text()
    assert "ann-designer summary" in log and "missing.annproj" in log
    try:
        code, _, err = run(capsys, "-v", "examples")
    finally:
        stop_logging()  # the handler writes to this test's captured stderr
    assert code == 0 and "INFO core.cli: ann-designer -v examples" in err


def test_a_project_path_is_no_command_here(capsys, tmp_path):
    """Opening the window is the launcher's job (designer.app); the CLI only runs commands."""
    code, _, err = run(capsys, tmp_path / "p.annproj")
    assert code == 2
    assert_one_error_line(err, "invalid choice")


def test_module_runs_as_a_script_without_loading_qt():
    """``python -m core.cli`` works, and the commands never import Qt or the designer."""
    code = ("import runpy, sys; sys.argv = ['ann-designer', 'examples'];"
            "import core.cli;"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'designer')];"
            "assert not bad, bad;"
            "sys.exit(core.cli.main())")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "digits-cnn" in result.stdout


@pytest.mark.parametrize("args", [["frobnicate"], ["train"], ["export", "x.annproj"],
                                  ["train", "x.annproj", "--epochs", "0"],
                                  ["new", "-o", "x.annproj"]])
def test_usage_errors_exit_2_with_one_line(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert_one_error_line(err)


# ------------------------------------------------------------------------ new, summary


def test_new_from_example_then_summary_counts_parameters(capsys, tmp_path):
    project = tmp_path / "iris.annproj"
    code, out, _ = run(capsys, "new", "--example", "iris", "-o", project)
    assert code == 0 and "iris" in out
    code, out, err = run(capsys, "summary", project)
    assert code == 0 and err == ""
    rows = {line.split()[0]: line.split() for line in out.splitlines()[3:7]}
    # iris: Input(4) -> Dense 8 -> Dense 3: (4*8 + 8) + (8*3 + 3) = 40 + 27 = 67
    assert rows["input"][-1] == "0" and rows["hidden"][-1] == "40"
    assert rows["output"][-1] == "27" and "(3,)" in rows["output"]
    assert "total parameters: 67" in out and "untrained" in out


def test_new_refuses_to_overwrite_without_force(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "xor", "-o", project)[0] == 0
    code, _, err = run(capsys, "new", "--example", "circle", "-o", project)
    assert code == 2
    assert_one_error_line(err, "already exists", "--force")
    assert run(capsys, "new", "--example", "circle", "-o", project, "--force")[0] == 0
    assert load_project(project).name == "circle"


def test_unknown_example_is_one_error_line(capsys, tmp_path):
    code, _, err = run(capsys, "new", "--example", "nope", "-o", tmp_path / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "unknown example 'nope'", "spiral")
    assert not (tmp_path / "p.annproj").exists()


@pytest.mark.parametrize("kind, units, activation, loss", [
    ("multiclass", 3, "softmax", "categorical_crossentropy"),
    ("binary", 1, "sigmoid", "binary_crossentropy"),
    ("regression", 1, "linear", "mse"),
])
def test_new_from_csv_chooses_the_head_from_the_target(capsys, tmp_path, kind, units,
                                                       activation, loss):
    data = write_blobs_csv(tmp_path / "data.csv", kind=kind, target="y")
    code, out, _ = run(capsys, "new", "--data", data, "--target", "y", "-o",
                       tmp_path / "p.annproj")
    assert code == 0 and "created" in out
    project = load_project(tmp_path / "p.annproj")
    nodes = project.spec["nodes"]
    # 4 numbers + colour one-hot over 3 categories = 7 inputs; 7 < 8 -> one hidden layer
    assert nodes[0] == {"id": "input", "type": "Input", "shape": [7]}
    assert [n["type"] for n in nodes] == ["Input", "Dense", "Dense"]
    assert nodes[1]["activation"] == "relu" and nodes[1]["units"] == 16
    assert (nodes[-1]["units"], nodes[-1]["activation"]) == (units, activation)
    assert project.training["loss"] == loss
    assert project.data["kind"] == "file" and project.data["path"] == "data.csv"
    assert project.data["target"] == "y" and project.data["categories"]["color"]
    assert project.preprocessing["method"] == "standardize"
    assert len(project.preprocessing["offset"]) == 7
    assert set(project.layout) == {n["id"] for n in nodes}


def test_new_from_csv_with_chosen_columns_and_task(capsys, tmp_path):
    data = write_blobs_csv(tmp_path / "d.csv", kind="binary", target="y")
    # y holds names, so --task regression is refused with one line
    code, _, err = run(capsys, "new", "--data", data, "--target", "y", "--task",
                       "regression", "-o", tmp_path / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "'y'", "text")
    assert run(capsys, "new", "--data", data, "--target", "f4", "--features", "f1,f2,color",
               "--categorical", "color", "--task", "regression", "-o",
               tmp_path / "p.annproj")[0] == 0
    project = load_project(tmp_path / "p.annproj")
    assert project.spec["nodes"][0]["shape"] == [5]  # f1, f2 + three colours
    assert project.training["loss"] == "mse"
    assert project.data["features"] == ["f1", "f2", "color"]


def test_new_from_csv_with_many_features_gets_two_hidden_layers(capsys, tmp_path):
    path = tmp_path / "wide.csv"
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 12))
    np.savetxt(path, np.column_stack([X, (X[:, 0] > 0).astype(int)]), delimiter=",",
               header=",".join([f"x{i}" for i in range(12)] + ["label"]), comments="",
               fmt="%.5f")
    assert run(capsys, "new", "--data", path, "--target", "label", "-o",
               tmp_path / "p.annproj")[0] == 0
    nodes = load_project(tmp_path / "p.annproj").spec["nodes"]
    assert [n.get("units") for n in nodes] == [None, 32, 16, 1]


# --------------------------------------------------------------------- the worked flow


def test_worked_flow_csv_to_onnx(capsys, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    data = write_blobs_csv(tmp_path / "flowers.csv")
    project = tmp_path / "flowers.annproj"
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0

    code, out, err = run(capsys, "train", project, "--epochs", "30")
    assert code == 0, err
    assert "completed: 30 epochs" in out and "saved weights" in out
    bar = err.replace("\r", "\n").strip().splitlines()[-1]  # the progress bar, finished
    assert "epoch 30/30" in bar and "150/150" in bar  # 144 training rows / 32 -> 5 batches
    assert "loss=" in bar and "acc=" in bar and "val_acc=" in bar
    trained = load_project(project)
    assert trained.weights and trained.optimizer_state
    assert len(trained.history["loss"]) == 30 and trained.history["val_accuracy"][-1] > 0.95

    code, out, err = run(capsys, "evaluate", project)
    assert code == 0 and err == ""
    assert "accuracy" in out and "confusion matrix (val" in out
    for name in CLASSES:
        assert f"true {name}" in out
    matrix = [line.split()[2:] for line in out.splitlines() if line.startswith("true ")]
    counts = np.array(matrix, dtype=int)
    assert counts.sum() == 36 and np.trace(counts) >= 34  # 20 % of 180, nearly all right

    new_rows = write_blobs_csv(tmp_path / "new.csv", n=30, seed=5, colors=["red"])
    predictions = tmp_path / "predictions.csv"
    code, out, _ = run(capsys, "predict", project, new_rows, "-o", predictions)
    assert code == 0 and "wrote 30 predictions" in out
    rows = read_rows(predictions)
    assert list(rows[0]) == ["prediction"] + [f"p({c})" for c in CLASSES]
    probs = np.array([[float(r[f"p({c})"]) for c in CLASSES] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    truth = [r["species"] for r in read_rows(new_rows)]
    assert np.mean([r["prediction"] == t for r, t in zip(rows, truth, strict=True)]) > 0.9

    onnx_path = tmp_path / "flowers.onnx"
    code, out, _ = run(capsys, "export", project, "--format", "onnx", "-o", onnx_path)
    assert code == 0 and onnx_path.is_file()
    raw = np.array([[float(r[c]) for c in ("f1", "f2", "f3", "f4")] + [1.0, 0.0, 0.0]
                    for r in read_rows(new_rows)], dtype=np.float32)
    # colour one-hot in sorted category order: blue, green, red -> red is the last column
    raw[:, 4:] = [0.0, 0.0, 1.0]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_probs = session.run(None, {session.get_inputs()[0].name: raw})[0]
    np.testing.assert_allclose(onnx_probs, probs, atol=1e-5)


def test_predict_regression_to_stdout_names_the_target(capsys, tmp_path):
    data = write_blobs_csv(tmp_path / "r.csv", kind="regression", target="price")
    project = tmp_path / "r.annproj"
    assert run(capsys, "new", "--data", data, "--target", "price", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "60", "-q", "--lr", "0.02")[0] == 0
    code, out, err = run(capsys, "predict", project, data)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "price" and len(lines) == 181
    predicted = np.array(lines[1:], dtype=float)
    truth = np.array([float(r["price"]) for r in read_rows(data)])
    assert np.sqrt(np.mean((predicted - truth) ** 2)) < 0.1 * truth.std()
    code, out, _ = run(capsys, "evaluate", project)
    assert code == 0 and "r2" in out and "confusion" not in out


def test_evaluate_on_another_file_aligns_classes(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    data = write_blobs_csv(tmp_path / "d.csv")
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "20", "-q")[0] == 0
    # a file holding only 'beta' and 'gamma': their rows must still count as beta, gamma
    rows = [r for r in read_rows(data) if r["species"] != "alpha"][:40]
    other = tmp_path / "other.csv"
    with open(other, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out, err = run(capsys, "evaluate", project, "--data", other)
    assert code == 0, err
    matrix = {line.split()[1]: [int(v) for v in line.split()[2:]]
              for line in out.splitlines() if line.startswith("true ")}
    assert matrix["alpha"] == [0, 0, 0]
    assert matrix["beta"][1] + matrix["gamma"][2] >= 38


@pytest.mark.parametrize("fmt, name, files", [("npz", "w.npz", ["w.npz"]),
                                               ("numpy", "model", ["predict.py",
                                                                   "weights.npz"]),
                                               ("pytorch", "m.py", ["m.py", "m.npz"])])
def test_export_numpy_formats(capsys, tmp_path, fmt, name, files):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "iris", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "2", "-q")[0] == 0
    code, out, _ = run(capsys, "export", project, "--format", fmt, "-o", tmp_path / name)
    assert code == 0 and f"exported {fmt}" in out
    folder = tmp_path / name if fmt == "numpy" else tmp_path
    for file in files:
        assert (folder / file).is_file()


# ------------------------------------------------------------------------- training


def test_train_to_another_file_and_history_grows(capsys, tmp_path):
    project, trained = tmp_path / "p.annproj", tmp_path / "t.annproj"
    assert run(capsys, "new", "--example", "xor", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "3", "-o", trained, "-q",
               "--batch-size", "50", "--seed", "1")[0] == 0
    assert load_project(project).weights is None
    code, _, err = run(capsys, "train", trained, "--epochs", "2")
    assert code == 0 and "epoch 5/5" in err  # numbered on from the first run
    history = load_project(trained).history
    assert len(history["loss"]) == 5
    # 320 training samples in batches of 50 -> 7 steps per epoch, then 320/32 -> 10
    assert len(history["batch_loss"]) == 3 * 7 + 2 * 10


@pytest.mark.parametrize("batch_norm", [False, True])
def test_workflow_interrupt_restores_the_last_complete_batch(batch_norm):
    project = cli.load_example("xor")
    if batch_norm:  # moving statistics live outside the flat parameter buffer
        project.spec["nodes"].insert(2, {"id": "bn", "type": "BatchNormalization"})
        project.spec["edges"] = [["input", "hidden"], ["hidden", "bn"], ["bn", "output"]]
    seen: dict[str, object] = {}

    def on_event(event):
        if event.kind == "batch" and event.step == 5:
            trainer = seen["trainer"]
            seen["weights"] = trainer.net.get_weights()
            seen["optimizer"] = trainer.optimizer.state_dict()
            # as if Ctrl-C hit mid-update: weights, moments and BN statistics half done
            trainer.net.params[:] = np.nan
            trainer.optimizer.compute_step(trainer.net.params, trainer.net.grads)
            for layer in trainer.net.layers.values():
                for array in layer.state.values():
                    array[:] = np.nan
            raise KeyboardInterrupt

    outcome = workflow.train_project(project, epochs=3, on_event=on_event,
                                     trainer_hook=lambda t: seen.__setitem__("trainer", t))
    assert outcome.interrupted and outcome.stop_reason == "stopped"
    assert ("bn" in project.weights) == batch_norm
    for node, arrays in seen["weights"].items():
        for name, array in arrays.items():
            np.testing.assert_array_equal(project.weights[node][name], array)
    for name, value in seen["optimizer"].items():
        np.testing.assert_array_equal(project.optimizer_state[name], value)
    assert len(project.history["batch_loss"]) == 5


def test_ctrl_c_in_train_saves_the_last_good_weights(capsys, tmp_path, monkeypatch):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "xor", "-o", project)[0] == 0
    original = cli_output.TrainingProgress.__call__

    def interrupting(self, event):
        original(self, event)
        if event.kind == "batch" and event.step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_output.TrainingProgress, "__call__", interrupting)
    code, out, err = run(capsys, "train", project, "--epochs", "5")
    assert code == 130 and "error" not in err
    assert "stopped by Ctrl-C" in out and "saved" in out
    saved = load_project(project)
    assert saved.weights is not None and len(saved.history["batch_loss"]) == 3
    assert all(np.isfinite(a).all() for w in saved.weights.values() for a in w.values())


def test_first_ctrl_c_stops_after_the_batch(capsys, tmp_path, monkeypatch):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "xor", "-o", project)[0] == 0
    original = cli_output.TrainingProgress.__call__

    def sigint(self, event):
        original(self, event)
        if event.kind == "batch" and event.step == 15:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli_output.TrainingProgress, "__call__", sigint)
    previous = signal.getsignal(signal.SIGINT)
    code, out, err = run(capsys, "train", project, "--epochs", "5")
    assert signal.getsignal(signal.SIGINT) is previous  # handler put back
    assert code == 130 and "stopping after this batch" in err
    saved = load_project(project)
    assert len(saved.history["batch_loss"]) == 15  # 10 batches per epoch: stopped in 2nd
    assert len(saved.history["loss"]) == 1


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no overflow warnings on stderr
def test_diverging_training_saves_nothing(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "sine", "-o", project)[0] == 0
    before = project.read_bytes()
    code, _, err = run(capsys, "train", project, "--epochs", "3", "--lr", "1e30", "-q")
    assert code == 1
    assert_one_error_line(err, "diverged", "learning rate")
    assert project.read_bytes() == before


# --------------------------------------------------------------------- broken inputs


def test_missing_project_file_for_each_command(capsys, tmp_path):
    missing = tmp_path / "missing.annproj"
    for args in (["summary", missing], ["train", missing], ["evaluate", missing],
                 ["predict", missing, tmp_path / "x.csv"],
                 ["export", missing, "--format", "onnx", "-o", tmp_path / "m.onnx"]):
        code, _, err = run(capsys, *args)
        assert code == 1, args
        assert_one_error_line(err, "missing.annproj")


def test_bad_csv_cell_names_line_and_column(capsys, tmp_path):
    data = write_blobs_csv(tmp_path / "d.csv")
    lines = data.read_text().splitlines()
    fields = lines[7].split(",")
    fields[2] = "oops"
    lines[7] = ",".join(fields)
    data.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "new", "--data", data, "--target", "species", "-o",
                       tmp_path / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "line 8", "f3")


def test_missing_csv_and_missing_target_column(capsys, tmp_path):
    code, _, err = run(capsys, "new", "--data", tmp_path / "none.csv", "--target", "y",
                       "-o", tmp_path / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "none.csv")
    data = write_blobs_csv(tmp_path / "d.csv")
    code, _, err = run(capsys, "new", "--data", data, "--target", "nope", "-o",
                       tmp_path / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "nope")


def test_unknown_export_format_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "export", tmp_path / "p.annproj", "--format", "tflite", "-o",
                       tmp_path / "m")
    assert code == 2
    assert_one_error_line(err, "tflite")


def test_predict_needs_weights_and_the_feature_columns(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    data = write_blobs_csv(tmp_path / "d.csv")
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    code, _, err = run(capsys, "predict", project, data)
    assert code == 1
    assert_one_error_line(err, "no trained weights", "ann-designer train")
    assert run(capsys, "train", project, "--epochs", "1", "-q")[0] == 0
    partial = tmp_path / "partial.csv"
    partial.write_text("f1,f2,color\n1,2,red\n")
    code, _, err = run(capsys, "predict", project, partial)
    assert code == 1
    assert_one_error_line(err, "'f3'")
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("f1,f2,f3,f4,color\n1,2,3,4,purple\n")
    code, _, err = run(capsys, "predict", project, unseen)
    assert code == 1
    assert_one_error_line(err, "line 2", "'color'", "purple")


def test_data_file_moved_away_is_one_error_line(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    data = write_blobs_csv(tmp_path / "d.csv")
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    data.unlink()
    code, _, err = run(capsys, "train", project, "-q")
    assert code == 1
    assert_one_error_line(err, "d.csv", "does not exist")


def test_summary_of_a_broken_network_lists_its_problems(capsys, tmp_path):
    project = cli.load_example("xor")
    project.spec["edges"].append(["output", "ghost"])
    project.spec["nodes"][1]["units"] = 0
    path = tmp_path / "broken.annproj"
    save_project(project, path)
    code, out, err = run(capsys, "summary", path)
    assert code == 1
    assert "problems:" in out and "hidden" in out.split("problems:")[1]
    assert_one_error_line(err, "error(s)")
    code, _, err = run(capsys, "train", path, "-q")
    assert code == 1
    assert_one_error_line(err, "not valid")


def test_embedded_data_trains_without_the_original_file(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    data = write_blobs_csv(tmp_path / "d.csv")
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    loaded = load_project(project)
    loaded.data["embedded"] = True
    loaded.embedded_data = data.read_bytes()
    save_project(loaded, project)
    data.unlink()
    code, _, err = run(capsys, "train", project, "--epochs", "2", "-q")
    assert code == 0, err
    assert len(load_project(project).history["loss"]) == 2


def test_corrupt_project_file_is_one_error_line(capsys, tmp_path):
    broken = tmp_path / "broken.annproj"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    for command in ("summary", "train", "evaluate"):
        code, _, err = run(capsys, command, broken)
        assert code == 1
        assert_one_error_line(err, "broken.annproj")


# ------------------------------------------------------------------ hand-edited files


def test_negative_seed_is_a_usage_error(capsys):
    code, _, err = run(capsys, "train", "x.annproj", "--seed", "-5")
    assert code == 2
    assert_one_error_line(err, "--seed", "at least 0")


@pytest.mark.parametrize("changes, fragment", [
    ({"optimizer": {"type": "adamm", "lr": 0.01}}, "did you mean 'adam'"),
    ({"loss": "mse2"}, "unknown loss 'mse2'"),
    ({"batch_size": -3}, "batch_size"),
    ({"epochs": -3}, "epochs"),
    ({"seed": -1}, "training seed"),
])
def test_hand_edited_training_settings_fail_in_one_line_and_keep_the_file(
        capsys, tmp_path, changes, fragment):
    project = cli.load_example("iris")
    project.training.update(changes)
    path = tmp_path / "edited.annproj"
    save_project(project, path)
    before = path.read_bytes()
    code, _, err = run(capsys, "train", path, "-q")
    assert code == 1
    assert_one_error_line(err, fragment)
    assert path.read_bytes() == before


def test_invalid_network_error_in_train_gives_the_fix_once(capsys, tmp_path):
    project = cli.load_example("iris")
    project.spec["nodes"][1]["activation"] = "relu6"
    path = tmp_path / "relu6.annproj"
    save_project(project, path)
    for command in ("train", "evaluate"):
        code, _, err = run(capsys, command, path)
        assert code == 1
        assert_one_error_line(err, "'relu6' is not known", "Did you mean 'relu'?")
        assert "hidden: hidden:" not in err


def test_new_can_drop_bad_rows_and_training_rereads_the_file_the_same_way(capsys, tmp_path):
    data = write_blobs_csv(tmp_path / "d.csv")
    lines = data.read_text().splitlines()
    lines[5] = "nan," + lines[5].split(",", 1)[1]
    data.write_text("\n".join(lines) + "\n")
    project = tmp_path / "p.annproj"
    code, _, err = run(capsys, "new", "--data", data, "--target", "species", "-o", project)
    assert code == 1
    assert_one_error_line(err, "line 6", "--drop-bad-rows")
    code, out, _ = run(capsys, "new", "--data", data, "--target", "species", "-o", project,
                       "--drop-bad-rows")
    assert code == 0 and "179 samples (1 bad row skipped, line 6)" in out
    code, _, err = run(capsys, "train", project, "--epochs", "1", "-q")
    assert code == 0, err


def test_an_unforeseen_exception_is_still_one_line(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(cli, "cmd_examples", boom)
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    code, _, err = run(capsys, "examples")
    assert code == 1
    assert_one_error_line(err, "RuntimeError", "something nobody expected", "bug")
    monkeypatch.setenv(cli.DEBUG_VARIABLE, "1")
    with pytest.raises(RuntimeError):
        main(["examples"])


def test_train_refuses_an_unsavable_target_before_training(capsys, tmp_path, monkeypatch):
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--example", "xor", "-o", project)[0] == 0
    monkeypatch.setattr(workflow, "train_project", lambda *a, **k: pytest.fail("trained"))
    code, _, err = run(capsys, "train", project, "-q", "-o", tmp_path / "no" / "p.annproj")
    assert code == 1
    assert_one_error_line(err, "folder", "does not exist")
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)  # a read-only folder
    code, _, err = run(capsys, "train", project, "-q")
    assert code == 1
    assert_one_error_line(err, "not writable", "-o OUT.annproj")


def test_nan_weights_are_one_clear_error_for_every_command(capsys, tmp_path):
    project = tmp_path / "p.annproj"
    data = write_blobs_csv(tmp_path / "d.csv")
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "1", "-q")[0] == 0
    loaded = load_project(project)
    node = next(iter(loaded.weights))
    loaded.weights[node]["kernel"][0, 0] = np.nan
    save_project(loaded, project)
    for args in (["predict", project, data], ["evaluate", project],
                 ["export", project, "--format", "onnx", "-o", tmp_path / "m.onnx"],
                 ["train", project, "--epochs", "1", "-q"]):
        code, _, err = run(capsys, *args)
        assert code == 1, args
        assert_one_error_line(err, f"'{node}/kernel' contains NaN", "Reset weights")
    assert not (tmp_path / "m.onnx").exists()


def test_predictions_keep_full_precision_and_cannot_inject_formulas(capsys, tmp_path):
    data = write_blobs_csv(tmp_path / "d.csv")
    text = data.read_text().replace("alpha", "=HYPERLINK(x)").replace("beta", "@SUM(A1)")
    data.write_text(text)
    project = tmp_path / "p.annproj"
    assert run(capsys, "new", "--data", data, "--target", "species", "-o", project)[0] == 0
    assert run(capsys, "train", project, "--epochs", "30", "-q")[0] == 0
    code, out, _ = run(capsys, "predict", project, data)
    assert code == 0
    rows = list(csv.reader(out.splitlines()))
    predicted = {r[0] for r in rows[1:]}
    assert predicted <= {"'=HYPERLINK(x)", "'@SUM(A1)", "gamma"} and len(predicted) == 3
    loaded = load_project(project)
    net = workflow.build_network(loaded)
    X = np.random.default_rng(0).normal(size=(20, *net.output_shapes[net.input_id]))
    X = X.astype(np.float32)
    _, table = workflow.prediction_table(loaded, net, X)
    printed = np.array([[float(v) for v in row[1:]] for row in table], dtype=np.float32)
    expected = workflow.class_probabilities(net.predict(X)).astype(np.float32)
    np.testing.assert_array_equal(printed, expected)  # read back exactly, not to 6 digits
