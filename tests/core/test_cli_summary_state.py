"""What ``ann-designer summary`` says about how far a project was trained.

Issue 15, item 20: "summary says 'before training' for a trained project". It did, for a
project trained and then changed (its loss or network) in the designer and saved: the
closing error told the user to fix the network "before training". The state line also
called weights "trained 0 epochs" when nothing recorded any training (the designer's
Reset weights, import-weights) or when a run ended inside its first epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.cli import main
from core.examples import load_example
from core.network import Network
from core.project import Project, load_project, save_project


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def state_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("loss "))


def trained_spiral(capsys, tmp_path: Path, epochs: int = 2) -> Path:
    path = tmp_path / "spiral.annproj"
    assert run(capsys, "new", "--example", "spiral", "-o", path)[0] == 0
    assert run(capsys, "train", path, "--epochs", epochs, "-q")[0] == 0
    return path


def edit(path: Path, change) -> None:
    project = load_project(path)
    change(project)
    save_project(project, path)


def test_a_trained_project_changed_afterwards_is_not_called_untrained(capsys, tmp_path):
    """The designer saves a trained project whose loss was changed since: still trained."""
    path = trained_spiral(capsys, tmp_path)
    edit(path, lambda p: p.training.update(loss="categorical_crossentropy"))
    code, out, err = run(capsys, "summary", path)
    assert code == 1
    assert state_line(out).endswith("; trained 2 epochs")
    assert "error: categorical_crossentropy needs one output per class" in out
    assert err.strip() == ("ann-designer: error: the network has 1 error(s), listed above; "
                           "its saved weights (trained 2 epochs) are kept, but fix the "
                           "errors in the designer to train it further")
    assert "before training" not in err


def test_an_untrained_invalid_project_is_still_told_to_fix_it_before_training(
        capsys, tmp_path):
    path = tmp_path / "p.annproj"
    save_project(Project(name="p", spec={"nodes": [{"id": "in", "type": "Input",
                                                    "shape": [2]}], "edges": []},
                         training={"loss": "mse"}), path)
    code, _, err = run(capsys, "summary", path)
    assert code == 1 and err.strip().endswith("fix them in the designer before training")


def test_fresh_weights_with_no_history_are_untrained(capsys, tmp_path):
    """What the designer's Reset weights saves: the seed's initial weights, no history."""
    path = trained_spiral(capsys, tmp_path)

    def reset(project: Project) -> None:
        project.weights = Network.from_spec(project.spec, seed=0).get_weights()
        project.optimizer_state, project.history = None, {}

    edit(path, reset)
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and state_line(out).endswith("; untrained")
    # and what would mislead with such weights says so, as for a project without any
    code, _, err = run(capsys, "evaluate", path)
    assert code == 0 and "note: the project has no trained weights" in err
    code, _, err = run(capsys, "export", path, "--format", "onnx", "-o", tmp_path / "m.onnx")
    assert code == 1 and "untrained weights of its seed" in err  # predict says the same


def test_imported_weights_are_not_trained_zero_epochs(capsys, tmp_path):
    path = tmp_path / "spiral.annproj"
    assert run(capsys, "new", "--example", "spiral", "-o", path)[0] == 0
    rng = np.random.default_rng(3)
    shapes = Network.from_spec(load_example("spiral").spec, seed=0).get_weights()
    np.savez(tmp_path / "w.npz", **{f"{node}/{name}": rng.normal(size=a.shape)
                                    .astype(np.float32)
                                    for node, arrays in shapes.items()
                                    for name, a in arrays.items()})
    assert run(capsys, "import-weights", path, tmp_path / "w.npz")[0] == 0
    code, out, _ = run(capsys, "summary", path)
    assert code == 0
    assert state_line(out).endswith("; weights with no training recorded (imported or "
                                    "edited)")


def test_a_run_that_ended_inside_its_first_epoch_counts_its_steps(capsys, tmp_path):
    """A designer run killed after 7 batches: weights and a step curve, no epoch yet."""
    path = trained_spiral(capsys, tmp_path)
    edit(path, lambda p: setattr(p, "history", {"batch_loss": [0.7] * 7,
                                                "batch_step": [float(s) for s in
                                                               range(1, 8)]}))
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and state_line(out).endswith("; trained 7 steps (part of an epoch)")


def test_one_epoch_is_singular(capsys, tmp_path):
    path = trained_spiral(capsys, tmp_path, epochs=1)
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and state_line(out).endswith("; trained 1 epoch")


def test_weights_imported_over_a_trained_project_drop_its_curves(capsys, tmp_path):
    """The old history described the old weights: after import-weights the project no
    longer says "trained 2 epochs" of weights trained elsewhere."""
    path = trained_spiral(capsys, tmp_path)
    assert "trained 2 epochs" in state_line(run(capsys, "summary", path)[1])
    weights = load_project(path).weights
    np.savez(tmp_path / "w.npz", **{f"{node}/{name}": a + 0.5 for node, arrays in
                                    weights.items() for name, a in arrays.items()})
    assert run(capsys, "import-weights", path, tmp_path / "w.npz")[0] == 0
    assert load_project(path).history == {}
    assert state_line(run(capsys, "summary", path)[1]).endswith(
        "; weights with no training recorded (imported or edited)")
