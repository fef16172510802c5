"""core.workflow and core.starter: the steps the command line and the designer share."""

from __future__ import annotations

import numpy as np
import pytest

from core import workflow
from core.data import DataError, Dataset, load_builtin, split
from core.examples import load_example
from core.project import Project, ProjectError
from core.starter import (
    hidden_sizes,
    layered_layout,
    output_head,
    starter_notes,
    starter_spec,
)


def test_prepare_data_fits_the_scaler_on_the_training_split_only():
    project = load_example("wine")
    project.preprocessing = {"method": "standardize", "offset": [], "scale": []}
    data = workflow.prepare_data(project)
    raw_train, raw_val, _ = split(load_builtin("wine"), val=0.2, seed=0)
    np.testing.assert_allclose(project.preprocessing["offset"], raw_train.X.mean(axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(data.train.X.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.train.X.std(axis=0), 1.0, atol=1e-4)
    assert abs(float(data.val.X.mean())) > 1e-4  # validation statistics were not used
    assert data.test is None and project.class_names == ["class_0", "class_1", "class_2"]
    X, Y = data.arrays("val")
    assert X.shape == (len(raw_val), 13) and Y.shape == (len(raw_val), 3)


def test_fitted_scaler_is_kept_not_refitted():
    project = load_example("iris")
    fitted = dict(project.preprocessing)
    workflow.prepare_data(project)
    assert project.preprocessing == fitted


def test_transforms_apply_before_scaling_and_to_new_files(tmp_path):
    project = load_example("xor")
    project.data["transforms"] = ["x1", "x2", "x1*x2"]
    project.spec["nodes"][0]["shape"] = [3]
    project.preprocessing = {"method": "none", "offset": [], "scale": []}
    data = workflow.prepare_data(project)
    X = data.train.X
    np.testing.assert_allclose(X[:, 2], X[:, 0] * X[:, 1], rtol=1e-6)
    csv_path = tmp_path / "points.csv"
    csv_path.write_text("x1,x2\n2,3\n-1,4\n")
    np.testing.assert_allclose(workflow.input_features(project, csv_path),
                               [[2, 3, 6], [-1, 4, -4]])


def test_make_trainer_uses_settings_overrides_and_restores_optimizer_state():
    project = load_example("xor")
    outcome = workflow.train_project(project, epochs=1)
    iterations = outcome.trainer.optimizer.iterations
    assert iterations == 10  # 400 points, 80 % for training = 320, in batches of 32
    net = workflow.build_network(project)
    trainer = workflow.make_trainer(project, net, lr=0.5, batch_size=7)
    assert trainer.batch_size == 7 and trainer.optimizer.lr == 0.5
    assert trainer.optimizer.iterations == iterations
    np.testing.assert_allclose(trainer.optimizer.state_dict()["m"],
                               project.optimizer_state["m"], rtol=1e-6)


@pytest.mark.parametrize("changes, pattern", [
    ({"optimizer": {"type": "adamm", "lr": 0.01}}, "did you mean 'adam'"),
    ({"optimizer": ["adam"]}, "optimizer setting"),
    ({"loss": "mse2"}, "unknown loss 'mse2'"),
    ({"batch_size": -3}, "batch_size must be a whole number"),
    ({"batch_size": "x"}, "batch_size must be a whole number"),
    ({"optimizer": {"type": "adam", "lr": -1}}, "'lr' = -1.0 is out of range"),
    ({"epochs": -3}, "epochs must be a whole number >= 0"),
])
def test_bad_training_settings_are_one_project_error_not_a_traceback(changes, pattern):
    """A hand-edited file with nonsense settings: the CLI shows ProjectError in one line."""
    project = load_example("iris")
    project.training.update(changes)
    with pytest.raises(ProjectError, match=pattern) as info:
        workflow.train_project(project, epochs=None if "epochs" in changes else 1)
    assert "Training panel" in str(info.value) and project.weights is None


def test_whole_number_floats_in_settings_still_work():
    project = load_example("iris")
    project.training.update(batch_size=16.0, seed=0.0)
    outcome = workflow.train_project(project, epochs=1.0)
    assert outcome.epochs_run == 1 and outcome.trainer.batch_size == 16


def test_train_project_appends_history_and_stores_results():
    project = load_example("circle")
    workflow.train_project(project, epochs=2)
    workflow.train_project(project, epochs=3)
    assert len(project.history["loss"]) == 5 and len(project.history["val_accuracy"]) == 5
    assert set(project.weights) == {"hidden", "output"}


def test_training_again_goes_on_with_the_schedule():
    project = load_example("xor")
    project.training = {**project.training,
                        "schedule": {"type": "step", "step_size": 2, "gamma": 0.5}}
    lr = project.training["optimizer"]["lr"]
    workflow.train_project(project, epochs=2)
    workflow.train_project(project, epochs=2)  # epochs 3 and 4, not 1 and 2 again
    assert project.history["lr"] == pytest.approx([lr, lr, lr / 2, lr / 2])
    assert workflow.trained_so_far(project.history) == (4, len(project.history["batch_loss"]))


def test_trained_so_far_reads_the_designers_numbered_steps():
    history = {"loss": [1.0, 0.9, 0.8], "batch_loss": [0.5, 0.4, 0.3],
               "batch_step": [10.0, 20.0, 30.0]}  # the designer thins the per-step curve
    assert workflow.trained_so_far(history) == (3, 30)
    history["batch_loss"] += [0.2, 0.1]  # two steps of a run that did not number them
    assert workflow.trained_so_far(history) == (3, 32)
    assert workflow.trained_so_far(None) == (0, 0)
    assert workflow.trained_so_far({"batch_loss": [1.0], "batch_step": ["x"]}) == (0, 1)
    assert workflow.trained_so_far({"batch_loss": [1.0], "batch_step": [1e300]}) == (0, 1)


def test_a_command_line_run_numbers_on_the_designers_step_curve():
    project = load_example("xor")
    project.history = {"loss": [0.7], "batch_loss": [0.7, 0.6], "batch_step": [5.0, 10.0]}
    workflow.train_project(project, epochs=1)
    steps, losses = project.history["batch_step"], project.history["batch_loss"]
    assert len(steps) == len(losses) > 2
    assert steps[2:] == [float(s) for s in range(11, 11 + len(losses) - 2)]


def test_confusion_matrix_and_probabilities_by_hand():
    counts = workflow.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]),
                                       np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    sigmoid = np.array([[0.2], [0.7], [0.5]])
    np.testing.assert_array_equal(workflow.class_predictions(sigmoid), [0, 1, 0])
    np.testing.assert_allclose(workflow.class_probabilities(sigmoid),
                               [[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
    np.testing.assert_array_equal(workflow.class_predictions(np.eye(3)[[2, 0]]), [2, 0])


def test_align_classes_renumbers_by_name():
    ds = Dataset(X=np.zeros((3, 1)), y=np.array([0, 1, 1]), task="classification",
                 feature_names=["a"], class_names=["gamma", "alpha"])
    aligned = workflow.align_classes(ds, ["alpha", "beta", "gamma"])
    np.testing.assert_array_equal(aligned.y, [2, 0, 0])
    assert aligned.class_names == ["alpha", "beta", "gamma"]
    with pytest.raises(DataError, match="'gamma'"):
        workflow.align_classes(ds, ["alpha", "beta"])


def test_evaluate_dataset_matches_hand_computed_accuracy():
    project = load_example("iris")
    net = workflow.build_network(project)
    data = workflow.prepare_data(project)
    result = workflow.evaluate_dataset(project, net, data.val)
    predicted = np.argmax(net.predict(data.val.X), axis=1)
    assert result.metrics["accuracy"] == pytest.approx(np.mean(predicted == data.val.y))
    assert result.confusion.sum() == len(data.val) == 30
    assert np.trace(result.confusion) == np.sum(predicted == data.val.y)


def test_npy_data_source(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", X=X, y=(X[:, 0] > 0).astype(np.int64))
    spec, loss = starter_spec((2,), "classification", n_classes=2)
    project = Project(spec=spec, data={"kind": "file", "path": "d.npz"},
                      training={"loss": loss, "optimizer": {"type": "adam", "lr": 0.05},
                                "batch_size": 16, "epochs": 5, "seed": 0})
    outcome = workflow.train_project(project, base_dir=tmp_path)
    assert outcome.epochs_run == 5 and project.weights


def test_input_features_encode_a_new_file_like_the_training_file(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("size,color,y\n1,red,0\n2,blue,1\n3,green,0\n4,red,1\n")
    spec, loss = starter_spec((4,), "classification", n_classes=2)
    ds = workflow.read_source_file({"target": "y"}, train)
    project = Project(spec=spec, data=dict(ds.source), training={"loss": loss},
                      preprocessing={"method": "none", "offset": [], "scale": []})
    new = tmp_path / "new.csv"  # other order, other case, one category, no target
    new.write_text("COLOR,Size\nred,5\nred,6\n")
    np.testing.assert_array_equal(workflow.input_features(project, new),
                                  [[5, 0, 0, 1], [6, 0, 0, 1]])
    unseen = tmp_path / "unseen.csv"
    unseen.write_text("size,color\n5,red\n\n6,purple\n")
    with pytest.raises(DataError, match="^line 4, column 'color' holds 'purple', a value"):
        workflow.input_features(project, unseen)
    wordy = tmp_path / "wordy.csv"  # text where training had numbers: not a new category
    wordy.write_text("size,color\nbig,red\n")
    with pytest.raises(DataError, match="line 2, column 'size': 'big' is not a number; "
                                        "the network was trained on numbers"):
        workflow.input_features(project, wordy)


@pytest.mark.parametrize("n, sizes", [(1, [8]), (4, [8]), (7, [16]), (8, [16, 8]),
                                      (13, [32, 16]), (64, [128, 64]), (500, [128, 64])])
def test_hidden_sizes(n, sizes):
    assert hidden_sizes(n) == sizes


def test_output_head_and_layout():
    assert output_head("classification", 2, 2) == (1, "sigmoid", "binary_crossentropy")
    assert output_head("classification", 5, 5) == (5, "softmax", "categorical_crossentropy")
    assert output_head("regression", 0, 3) == (3, "linear", "mse")
    with pytest.raises(DataError, match="at least two"):
        output_head("classification", 1, 1)
    spec = {"nodes": [{"id": i} for i in "abcd"],
            "edges": [["a", "b"], ["b", "c"], ["a", "c"], ["a", "d"]]}
    layout = layered_layout(spec)
    assert layout["a"][0] < layout["b"][0] < layout["c"][0]   # longest path decides
    assert layout["b"][0] == layout["d"][0] and layout["b"][1] != layout["d"][1]


def test_starter_notes_warn_about_a_regression_target_far_from_zero():
    """House prices as the target: without a note the run ends with R^2 < 0 unexplained."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    prices = Dataset(X=X, y=(150_000 + 40_000 * X[:, :1]).astype(np.float32),
                     task="regression", feature_names=["a", "b"], target_names=["price"])
    (note,) = starter_notes(prices)
    assert "'price' has mean 1.49e+05" in note and "divide by 100,000" in note
    small = Dataset(X=X, y=X[:, :1] * 3, task="regression", feature_names=["a", "b"],
                    target_names=["y"])
    assert starter_notes(small) == []
    classes = Dataset(X=X, y=np.arange(50) % 2, task="classification",
                      feature_names=["a", "b"], class_names=["n", "p"])
    assert starter_notes(classes) == []


def test_a_loss_that_does_not_fit_the_output_is_one_line():
    """Categorical cross-entropy on one sigmoid unit: one clear line, not a list."""
    from core.examples import load_example
    from core.project import ProjectError, build_network
    from core.workflow import make_trainer

    project = load_example("xor")
    project.training = {**project.training, "loss": "categorical_crossentropy"}
    with pytest.raises(ProjectError) as info:
        make_trainer(project, build_network(project))
    message = str(info.value)
    assert "\n" not in message and "categorical_crossentropy" in message
