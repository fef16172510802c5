"""A squared-error loss (mse, mae, huber) on class data, as the TensorFlow Playground
trains its classifiers: the run reports accuracy, not MAE and R^2.

One output unit: an output above 0.5 against a 0/1 target (Keras' ``binary_accuracy``);
several units against one-hot rows: the argmax (Keras' ``categorical_accuracy``).
"""

from __future__ import annotations

import numpy as np
import pytest

from core import Network, Trainer, workflow
from core.cli import main
from core.project import load_project, save_project
from core.training import MetricAccumulator, fast_dense


def chain(n_out: int, out: str = "tanh") -> dict:
    return {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h", "type": "Dense", "units": 8, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": n_out, "activation": out}],
            "edges": [["in", "h"], ["h", "out"]]}


def blobs(n_classes: int, n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Separable blobs; targets as ``Dataset.targets("mse")`` gives them."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])[:n_classes]
    X = centres[labels] + 0.6 * rng.normal(size=(n, 2))
    Y = labels[:, None].astype(float) if n_classes == 2 else np.eye(n_classes)[labels]
    return X, Y


def test_one_unit_accuracy_is_keras_binary_accuracy():
    pred = np.array([[0.9], [0.2], [0.51], [-0.7], [0.5]])  # tanh outputs may be < 0
    target = np.array([[1.0], [1.0], [0.0], [0.0], [1.0]])
    acc = MetricAccumulator("classification", "mse")
    batch = acc.add(0.1, pred, target, len(pred))
    keras_binary_accuracy = np.mean((pred > 0.5) == (target == 1.0))  # threshold 0.5
    assert batch["accuracy"] == pytest.approx(keras_binary_accuracy) == 0.4
    assert acc.result()[1] == {"accuracy": pytest.approx(0.4)}


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_several_units_accuracy_is_keras_categorical_accuracy(loss):
    """argmax, not each unit against 0.5: 0.4/0.35/0.25 is class 0 though no unit > 0.5."""
    pred = np.array([[0.4, 0.35, 0.25], [0.1, 0.8, 0.6], [0.3, 0.3, 0.45]])
    target = np.eye(3)[[0, 2, 2]]
    acc = MetricAccumulator("classification", loss)
    keras_categorical_accuracy = np.mean(pred.argmax(1) == target.argmax(1))
    assert acc.add(0.1, pred, target, 3)["accuracy"] == pytest.approx(
        keras_categorical_accuracy) == pytest.approx(2 / 3)


def test_the_trainer_reports_the_datas_task_and_keeps_the_loss_default():
    X, Y = blobs(2)
    trainer = Trainer(Network.from_spec(chain(1), seed=0), loss="mse", task="classification",
                      validation_split=0.25, optimizer={"type": "adam", "lr": 0.02})
    trainer.fit(X, Y, epochs=20)
    assert {"accuracy", "val_accuracy"} <= set(trainer.history)
    assert not {"mae", "r2"} & set(trainer.history)
    assert trainer.history["accuracy"][-1] > 0.9
    loss, metrics = trainer.evaluate(X, Y)
    assert set(metrics) == {"accuracy"}
    default = Trainer(Network.from_spec(chain(1), seed=0), loss="mse")  # no task given
    assert default.task == "regression"
    with pytest.raises(ValueError, match="task must be one of"):
        Trainer(Network.from_spec(chain(1), seed=0), loss="mse", task="ranking")


def test_the_fast_path_reports_the_same_accuracy_as_numpy(monkeypatch):
    pytest.importorskip("numba")
    X, Y = blobs(2, n=100)
    histories = []
    for on in ("1", "0"):
        monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", on)
        trainer = Trainer(Network.from_spec(chain(1), seed=3, dtype="float64"), seed=1,
                          loss="mse", task="classification", validation_split=0.2,
                          optimizer={"type": "sgd", "lr": 0.05}, batch_size=10)
        trainer.fit(X, Y, epochs=5)
        assert (trainer._fast is not None) == (on == "1")
        histories.append(trainer.history)
    fast, slow = histories
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(fast[key], slow[key], rtol=1e-12, err_msg=key)


def test_several_units_take_the_numpy_path_for_argmax_accuracy(monkeypatch):
    """The compiled kernel thresholds each output: one-hot mse trains the general way."""
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    trainer = Trainer(Network.from_spec(chain(3, "sigmoid"), seed=0), loss="mse",
                      task="classification")
    assert "argmax" in (fast_dense.refusal(trainer) or "")
    regression = Trainer(Network.from_spec(chain(3, "linear"), seed=0), loss="mse")
    assert "argmax" not in (fast_dense.refusal(regression) or "")
    X, Y = blobs(3)
    trainer.fit(X, Y, epochs=2)
    pred = trainer.net.predict(X)
    assert trainer.evaluate(X, Y)[1]["accuracy"] == pytest.approx(
        np.mean(pred.argmax(1) == Y.argmax(1)))


@pytest.fixture
def xor_mse(tmp_path, capsys):
    path = tmp_path / "x.annproj"
    assert main(["new", "--example", "xor", "-o", str(path)]) == 0
    project = load_project(path)
    project.training["loss"] = "mse"
    save_project(project, path)
    capsys.readouterr()
    return path


def test_cli_train_and_evaluate_print_accuracy_for_mse_on_classes(xor_mse, capsys):
    assert main(["train", str(xor_mse), "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    summary = [line for line in out.splitlines() if line.startswith("completed")][0]
    assert " accuracy " in summary and "val_accuracy" in summary
    assert "mae" not in summary and "r2" not in summary
    assert main(["evaluate", str(xor_mse)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out.splitlines()[0] and "confusion matrix" in out
    project = load_project(xor_mse)
    assert "accuracy" in project.history and "mae" not in project.history


def test_a_project_with_mse_on_built_in_classes_predicts_classes(xor_mse):
    project = load_project(xor_mse)
    assert workflow.task_of(project) == "classification"
    net = workflow.build_network(project)
    header, rows = workflow.prediction_table(project, net, np.zeros((2, 2), np.float32))
    assert header[0] == "prediction" and header[1].startswith("p(")
    assert rows[0][0] in project.class_names


def test_outputs_of_a_tanh_or_linear_unit_become_probabilities_in_0_1():
    """A tanh output trained with mse against 0/1 can read -0.7 or 1.3: shown as 0 % and
    100 %, never 170 %; sigmoid and softmax outputs are unchanged."""
    from core.training.metrics import class_predictions, class_probabilities
    out = np.array([[-0.7], [1.3], [0.25]])
    np.testing.assert_allclose(class_probabilities(out), [[1, 0], [0, 1], [0.75, 0.25]])
    assert class_predictions(out).tolist() == [0, 1, 0]
    soft = np.array([[0.2, 0.5, 0.3]])
    np.testing.assert_array_equal(class_probabilities(soft), soft)
