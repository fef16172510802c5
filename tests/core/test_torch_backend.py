"""The PyTorch engine trains a network to the NumPy engine's numbers.

Skipped cleanly where PyTorch is not installed (it is an optional extra).
"""

from __future__ import annotations

import numpy as np
import pytest

from core import Network, Trainer
from core.backends import make_engine, torch_available
from core.examples import list_examples, load_example
from core.project import build_network
from core.training import TrainingDiverged
from core.workflow import make_trainer, prepare_data

torch = pytest.importorskip("torch")

STEPS = 25


def _train(project, backend: str, steps: int = STEPS):
    data = prepare_data(project)
    net = build_network(project, dtype="float64")
    trainer = make_trainer(project, net, backend=backend, device="cpu")
    X, Y = data.arrays("train")
    trainer.prepare(X.astype(np.float64), Y)
    events = [trainer.step() for _ in range(steps)]
    return net, trainer, events


def _weights_equal(a: dict, b: dict, tol: float) -> float:
    worst = 0.0
    assert a.keys() == b.keys()
    for node in a:
        assert a[node].keys() == b[node].keys()
        for name in a[node]:
            worst = max(worst, float(np.max(np.abs(a[node][name] - b[node][name]),
                                            initial=0.0)))
    assert worst <= tol, worst
    return worst


@pytest.mark.parametrize("name", [e.name for e in list_examples()])
def test_every_example_trains_to_the_same_weights(name):
    project = load_example(name)
    assert not any(n["type"] == "Dropout" for n in project.spec["nodes"])
    project.weights = None   # train from the seeded initial weights
    project.optimizer_state = None
    net_np, trainer_np, ev_np = _train(project, "numpy")
    net_t, trainer_t, ev_t = _train(project, "torch")
    _weights_equal(net_np.get_weights(), net_t.get_weights(), 1e-9)
    np.testing.assert_allclose([e.loss for e in ev_t], [e.loss for e in ev_np], rtol=1e-9)
    assert [e.kind for e in ev_t] == [e.kind for e in ev_np]
    assert ev_t[-1].metrics.keys() == ev_np[-1].metrics.keys()


LAYERS = {"nodes": [
    {"id": "img", "type": "Input", "shape": [9, 8, 2]},
    {"id": "c1", "type": "Conv2D", "filters": 3, "kernel_size": 3, "strides": 2,
     "padding": "same", "activation": "gelu"},
    {"id": "bn", "type": "BatchNormalization", "center": False},
    {"id": "mp", "type": "MaxPooling2D", "pool_size": 2, "strides": 1, "padding": "same"},
    {"id": "c2", "type": "Conv2D", "filters": 4, "kernel_size": [2, 3], "activation": "elu"},
    {"id": "ap", "type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
    {"id": "drop", "type": "Dropout", "rate": 0.3},
    {"id": "flat", "type": "Flatten"},
    {"id": "d", "type": "Dense", "units": 6, "activation": "softplus"},
    {"id": "a", "type": "Activation", "activation": "leaky_relu", "negative_slope": 0.1},
    {"id": "skip", "type": "Dense", "units": 6, "activation": "tanh"},
    {"id": "sum", "type": "Add"},
    {"id": "cat", "type": "Concatenate"},
    {"id": "r", "type": "Reshape", "target_shape": [3, -1]},
    {"id": "f2", "type": "Flatten"},
    {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
    "edges": [["img", "c1"], ["c1", "bn"], ["bn", "mp"], ["mp", "c2"], ["c2", "ap"],
              ["ap", "drop"], ["drop", "flat"], ["flat", "d"], ["d", "a"], ["flat", "skip"],
              ["a", "sum"], ["skip", "sum"], ["sum", "cat"], ["d", "cat"], ["cat", "r"],
              ["r", "f2"], ["f2", "out"]]}


@pytest.mark.parametrize("loss,out_act", [
    ("categorical_crossentropy", "softmax"), ("sparse_categorical_crossentropy", "softmax"),
    ("categorical_crossentropy", "sigmoid"), ("sparse_categorical_crossentropy", "sigmoid"),
    ("binary_crossentropy", "sigmoid"), ("binary_crossentropy", "linear"), ("mse", "linear"),
    ("mae", "tanh"), ("huber", "linear")])
def test_every_layer_kind_and_loss_match_with_dropout(loss, out_act):
    """Fused and unfused losses; Dropout draws from the layer's NumPy generator, so
    even it matches."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 9, 8, 2))
    k = rng.integers(0, 3, 40)
    Y = {"sparse_categorical_crossentropy": k, "categorical_crossentropy": np.eye(3)[k],
         "binary_crossentropy": rng.integers(0, 2, (40, 3)).astype(float)}.get(
        loss, rng.normal(size=(40, 3)))
    spec = {**LAYERS, "nodes": [*LAYERS["nodes"][:-1],
                                {**LAYERS["nodes"][-1], "activation": out_act}]}
    results = []
    for backend in ("numpy", "torch"):
        net = Network.from_spec(spec, seed=3, dtype="float64")
        trainer = Trainer(net, loss, {"type": "adamw", "lr": 0.01, "clipnorm": 1.0},
                          batch_size=16, l1=1e-4, l2=1e-3, backend=backend)
        history = trainer.fit(X, Y, epochs=3, validation_data=(X[:10], Y[:10]))
        results.append((net.get_weights(), history))
    _weights_equal(results[0][0], results[1][0], 1e-9)
    for key in results[0][1]:
        np.testing.assert_allclose(results[1][1][key], results[0][1][key], rtol=1e-8,
                                   atol=1e-12)


def test_the_copying_path_of_a_gpu_trains_the_same():
    """Without shared memory (as on a CUDA device) the weights go in and the gradients
    out by copies each step; the numbers stay the NumPy engine's."""
    from core.backends.torch import TorchEngine

    rng = np.random.default_rng(0)
    X, k = rng.normal(size=(40, 9, 8, 2)), rng.integers(0, 3, 40)
    results = []
    for share in (None, False):
        net = Network.from_spec(LAYERS, seed=3, dtype="float64")
        trainer = Trainer(net, "sparse_categorical_crossentropy", {"type": "adam"},
                          batch_size=16, backend="torch")
        trainer.engine = TorchEngine(net, "cpu", share=share)
        assert trainer.engine.shared is (share is None)
        trainer.fit(X, k, epochs=2, validation_data=(X[:8], k[:8]))
        results.append(net.get_weights())
    net = Network.from_spec(LAYERS, seed=3, dtype="float64")
    Trainer(net, "sparse_categorical_crossentropy", {"type": "adam"}, batch_size=16).fit(
        X, k, epochs=2, validation_data=(X[:8], k[:8]))
    _weights_equal(results[1], results[0], 1e-12)
    _weights_equal(results[1], net.get_weights(), 1e-9)


def test_predict_and_float32_on_the_torch_engine():
    net = Network.from_spec(LAYERS, seed=1)
    engine = make_engine(net, "torch", "cpu")
    X = np.random.default_rng(0).normal(size=(5, 9, 8, 2)).astype(np.float32)
    np.testing.assert_allclose(engine.predict(X), net.predict(X), rtol=1e-5, atol=1e-6)


def test_divergence_early_stopping_and_stop_work_on_the_torch_engine():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    Y = (X[:, :1] > 0).astype(float)
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "out"]]}
    net = Network.from_spec(spec)
    before = net.get_weights()
    trainer = Trainer(net, "binary_crossentropy", {"type": "sgd", "lr": 1e6},
                      backend="torch")
    with pytest.raises(TrainingDiverged):
        trainer.fit(X, Y, epochs=50)
    assert all(np.isfinite(v).all() for w in net.get_weights().values() for v in w.values())
    assert net.get_weights().keys() == before.keys()
    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 1e-6},
                      backend="torch", early_stopping={"monitor": "loss", "patience": 1,
                                                       "min_delta": 1.0})
    events = list(trainer.run(X, Y, epochs=20))
    assert events[-1].stop_reason == "early_stopping"
    trainer.request_stop()
    assert trainer.step().stop_reason == "stopped"


def test_bad_backend_and_device_are_explained():
    net = Network.from_spec(LAYERS)
    with pytest.raises(ValueError, match="backend must be one of numpy, torch"):
        Trainer(net, "mse", backend="jax")
    with pytest.raises(ValueError, match="CPU only"):
        Trainer(net, "mse", device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            Trainer(net, "mse", backend="torch", device="cuda")
    assert torch_available()


def test_cli_and_project_settings_choose_the_engine(tmp_path, monkeypatch, capsys):
    from core.cli import main
    from core.project import load_project, save_project

    path = tmp_path / "xor.annproj"
    assert main(["new", "--example", "xor", "-o", str(path)]) == 0
    weights = {}
    for backend in ("numpy", "torch"):
        out = tmp_path / f"{backend}.annproj"
        assert main(["train", str(path), "--epochs", "2", "-q", "-o", str(out),
                     "--backend", backend, "--device", "cpu"]) == 0
        weights[backend] = load_project(out).weights
    _weights_equal(weights["numpy"], weights["torch"], 1e-5)   # float32
    project = load_project(path)
    project.training = {**project.training, "backend": "torch", "device": "cpu"}
    save_project(project, path)
    net = build_network(load_project(path))
    assert make_trainer(load_project(path), net).backend == "torch"
    monkeypatch.setattr("core.backends.torch_available", lambda: False)
    capsys.readouterr()
    assert main(["train", str(path), "-q", "--backend", "torch"]) != 0
    assert "needs PyTorch, which is not installed" in capsys.readouterr().err
