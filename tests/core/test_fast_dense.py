"""The compiled path for small Dense networks gives the NumPy engine's numbers, and
anything it does not take trains the general way without a word."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core import Network, Trainer
from core.training import TrainingDiverged, fast_dense

pytest.importorskip("numba")


def spiral(n: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved arms, labels +-1 (the Playground's classic)."""
    rng = np.random.default_rng(seed)
    i = np.arange(n // 2)
    r = i / (n // 2) * 5
    X, Y = [], []
    for delta, label in ((0.0, 1.0), (np.pi, -1.0)):
        t = 1.75 * i / (n // 2) * 2 * np.pi + delta
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        Y.append(np.full(n // 2, label))
    X, Y = np.concatenate(X), np.concatenate(Y)[:, None]
    order = rng.permutation(n)
    return X[order], Y[order]


def chain(hidden: str = "tanh", out: str = "tanh", units: tuple[int, ...] = (8, 8),
          n_in: int = 2, n_out: int = 1, use_bias: bool = True) -> dict:
    nodes = [{"id": "in", "type": "Input", "shape": [n_in]}]
    for k, u in enumerate(units):
        nodes.append({"id": f"h{k}", "type": "Dense", "units": u, "activation": hidden,
                      "use_bias": use_bias})
    nodes.append({"id": "out", "type": "Dense", "units": n_out, "activation": out})
    ids = [n["id"] for n in nodes]
    return {"nodes": nodes, "edges": [[a, b] for a, b in zip(ids, ids[1:], strict=False)]}


def train(fast: bool, monkeypatch, spec: dict, dtype: str, steps: int = 1000,
          data=None, validation=None, **settings) -> Trainer:
    """``steps`` optimizer steps (whole epochs, at least) with the path on or off."""
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1" if fast else "0")
    X, Y = data if data is not None else spiral()
    net = Network.from_spec(spec, seed=3, dtype=dtype)
    trainer = Trainer(net, seed=1, **settings)
    per_epoch = -(-round(len(X) * (1 - settings.get("validation_split", 0.0)))
                  // trainer.batch_size)
    trainer.fit(X, Y, epochs=-(-steps // per_epoch), validation_data=validation)
    assert (trainer._fast is not None) == fast
    return trainer


def assert_same(a: Trainer, b: Trainer, tol: float) -> None:
    np.testing.assert_allclose(a.net.params, b.net.params, rtol=tol, atol=tol)
    assert a.global_step == b.global_step and a.samples_seen == b.samples_seen
    assert a.optimizer.iterations == b.optimizer.iterations
    for name, state in a.optimizer.state.items():
        np.testing.assert_allclose(state, b.optimizer.state[name], rtol=tol, atol=tol)
    assert sorted(a.history) == sorted(b.history)
    for key, values in a.history.items():
        np.testing.assert_allclose(values, b.history[key], rtol=tol, atol=tol, err_msg=key)


BCE = {"loss": "binary_crossentropy"}
CASES = {
    "tanh-mse-sgd": (chain(), {"loss": "mse", "optimizer": {"type": "sgd", "lr": 0.03},
                               "batch_size": 10}),
    "tanh-mse-sgd-batch1": (chain(), {"loss": "mse",
                                      "optimizer": {"type": "sgd", "lr": 0.03},
                                      "batch_size": 1}),
    "relu-linear-momentum-l2": (chain("relu", "linear"), {
        "loss": "mse", "optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.9},
        "batch_size": 8, "l2": 1e-3}),
    "leaky-nesterov-l1-step": (chain("leaky_relu", "tanh"), {
        "loss": "huber", "optimizer": {"type": "sgd", "lr": 0.02, "momentum": 0.5,
                                       "nesterov": True},
        "batch_size": 6, "l1": 1e-4, "schedule": {"type": "step", "step_size": 3}}),
    "elu-sigmoid-bce-adam-validation": (chain("elu", "sigmoid"), {
        **BCE, "optimizer": {"type": "adam", "lr": 0.01}, "batch_size": 10,
        "validation_split": 0.25}),
    "sigmoid-softplus-mae-sgd": (chain("sigmoid", "softplus"), {
        "loss": "mae", "optimizer": {"type": "sgd", "lr": 0.05}, "batch_size": 7}),
    "softplus-linear-rmsprop": (chain("softplus", "linear", use_bias=False), {
        "loss": "mse", "optimizer": {"type": "rmsprop", "lr": 0.001, "momentum": 0.5},
        "batch_size": 16, "schedule": {"type": "cosine", "per": "batch",
                                        "decay_steps": 500}}),
    "relu-sigmoid-rmsprop-step-per-batch": (chain("relu", "sigmoid", units=(6,)), {
        "loss": "mse", "optimizer": {"type": "rmsprop", "lr": 0.002}, "batch_size": 20,
        "schedule": {"type": "step", "step_size": 200, "gamma": 0.5, "per": "batch"}}),
    "tanh-linear-adagrad-exp": (chain("tanh", "linear", units=(5, 4, 3)), {
        "loss": "mse", "optimizer": {"type": "adagrad", "lr": 0.05}, "batch_size": 12,
        "l1": 1e-4, "l2": 1e-4, "schedule": {"type": "exponential", "decay_rate": 0.9}}),
    "relu-adam-validation-inorder": (chain("relu", "tanh"), {
        "loss": "mse", "optimizer": {"type": "adam", "lr": 0.005}, "batch_size": 9,
        "validation_split": 0.2, "shuffle": False}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_float64_equals_numpy_engine_after_1000_steps(name, monkeypatch):
    spec, settings = CASES[name]
    data = spiral()
    if settings["loss"] == "binary_crossentropy":
        data = (data[0], (data[1] > 0).astype(float))
    fast = train(True, monkeypatch, spec, "float64", data=data, **settings)
    slow = train(False, monkeypatch, spec, "float64", data=data, **settings)
    assert fast.global_step >= 1000
    assert_same(fast, slow, 1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_equals_numpy_engine_after_1000_steps(name, monkeypatch):
    spec, settings = CASES[name]
    data = spiral()
    if settings["loss"] == "binary_crossentropy":
        data = (data[0], (data[1] > 0).astype(np.float32))
    fast = train(True, monkeypatch, spec, "float32", data=data, **settings)
    slow = train(False, monkeypatch, spec, "float32", data=data, **settings)
    assert_same(fast, slow, 1e-5)


def test_several_outputs_and_regression_metrics(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    Y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1)
    spec = chain("tanh", "linear", units=(6,), n_in=3, n_out=2)
    settings = {"loss": "mse", "optimizer": {"type": "adam", "lr": 0.01}, "batch_size": 5}
    held_out = (X[:20] * 0.5, Y[:20])  # validation data of its own: more than EVAL_BATCH
    held_out = (np.tile(held_out[0], (60, 1)), np.tile(held_out[1], (60, 1)))
    fast = train(True, monkeypatch, spec, "float64", steps=300, data=(X, Y),
                 validation=held_out, **settings)
    slow = train(False, monkeypatch, spec, "float64", steps=300, data=(X, Y),
                 validation=held_out, **settings)
    assert_same(fast, slow, 1e-12)
    assert {"mae", "r2", "val_mae", "val_r2"} <= set(fast.history)


REFUSED = {
    "softmax": (chain("tanh", "softmax", n_out=2), {"loss": "categorical_crossentropy"}),
    "gelu": (chain("gelu", "linear"), {"loss": "mse"}),
    "bce-without-sigmoid": (chain("tanh", "tanh"), {"loss": "binary_crossentropy"}),
    "clipnorm": (chain(), {"loss": "mse", "clipnorm": 1.0}),
    "optimizer-clipvalue": (chain(), {"loss": "mse",
                                      "optimizer": {"type": "sgd", "clipvalue": 0.5}}),
    "adamw": (chain(), {"loss": "mse", "optimizer": {"type": "adamw"}}),
    "centered-rmsprop": (chain(), {"loss": "mse",
                                   "optimizer": {"type": "rmsprop", "centered": True}}),
    "large": (chain(units=(256, 256)), {"loss": "mse", "batch_size": 64}),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_it_does_not_take_trains_the_general_way(name, monkeypatch):
    spec, settings = REFUSED[name]
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    X, Y = spiral()
    if settings["loss"] != "mse":
        Y = np.concatenate([Y > 0, Y <= 0], axis=1).astype(float)
        Y = Y if spec["nodes"][-1]["units"] == 2 else Y[:, :1]
    trainer = Trainer(Network.from_spec(spec, seed=0), seed=0, **settings)
    assert fast_dense.refusal(trainer) is not None
    trainer.fit(X, Y, epochs=1)
    assert trainer._fast is None and np.isfinite(trainer.history["loss"][-1])


def test_other_layers_fall_back():
    spec = chain()
    spec["nodes"].insert(2, {"id": "drop", "type": "Dropout", "rate": 0.1})
    spec["edges"] = [["in", "h0"], ["h0", "drop"], ["drop", "h1"], ["h1", "out"]]
    trainer = Trainer(Network.from_spec(spec), loss="mse")
    assert "Dense" in fast_dense.refusal(trainer)


def test_without_numba_the_numpy_path_trains(monkeypatch):
    spec, settings = CASES["tanh-mse-sgd"]
    expected = train(False, monkeypatch, spec, "float64", steps=100, **settings)
    monkeypatch.setattr(fast_dense, "_kernels", False)  # as when the import failed
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    X, Y = spiral()
    trainer = Trainer(Network.from_spec(spec, seed=3, dtype="float64"), seed=1, **settings)
    trainer.fit(X, Y, epochs=10)
    assert trainer._fast is None
    assert fast_dense.refusal(trainer) == "numba is not installed"
    np.testing.assert_array_equal(trainer.net.params, expected.net.params)


@pytest.mark.parametrize("lr", [3.0, 1e6])
def test_divergence_is_caught_at_the_same_step_with_the_same_weights(lr, monkeypatch):
    results = {}
    for on in (True, False):
        monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1" if on else "0")
        X, Y = spiral()
        trainer = Trainer(Network.from_spec(chain("relu", "linear"), seed=0,
                                            dtype="float64"),
                          loss="mse", optimizer={"type": "sgd", "lr": lr}, batch_size=4,
                          seed=0)
        with pytest.raises(TrainingDiverged) as info:
            trainer.fit(X, Y, epochs=50)
        results[on] = (str(info.value), trainer.net.params.copy(), trainer.global_step,
                       list(trainer.history["batch_loss"]))
    assert results[True][0] == results[False][0]
    np.testing.assert_allclose(results[True][1], results[False][1], rtol=1e-12)
    assert results[True][2] == results[False][2]
    np.testing.assert_allclose(results[True][3], results[False][3], rtol=1e-12)


def test_stretches_yield_fewer_events_but_the_same_history(monkeypatch):
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    spec, settings = CASES["tanh-mse-sgd"]
    X, Y = spiral()
    histories, counts = [], []
    for every in (True, False):
        trainer = Trainer(Network.from_spec(spec, seed=3, dtype="float64"), seed=1,
                          **settings)
        events = list(trainer.run(X, Y, epochs=3, every_batch=every))
        counts.append(sum(e.kind == "batch" for e in events))
        histories.append(trainer.history)
        assert [e.kind for e in events].count("epoch") == 3
    assert counts == [30, 4]  # the run's first batch, then one stretch per epoch
    assert histories[0] == histories[1]


def test_callbacks_see_every_batch(monkeypatch):
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    seen = []
    spec, settings = CASES["tanh-mse-sgd"]
    trainer = Trainer(Network.from_spec(spec), seed=1, callbacks=[seen.append], **settings)
    trainer.fit(*spiral(), epochs=2)
    assert trainer._fast is not None
    assert [e.step for e in seen if e.kind == "batch"] == list(range(1, 21))


def test_step_and_learning_rate_changes(monkeypatch):
    """step() trains one batch; a new learning rate holds from the next stretch on."""
    results = []
    for on in ("1", "0"):
        monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", on)
        spec, settings = CASES["relu-linear-momentum-l2"]
        trainer = Trainer(Network.from_spec(spec, seed=0, dtype="float64"), seed=1,
                          **settings)
        trainer.prepare(*spiral())
        for _ in range(5):
            trainer.step()
        trainer.set_learning_rate(0.001)
        trainer.step_epoch()
        results.append((trainer.net.params.copy(), trainer.history))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)
    assert results[0][1]["lr"] == results[1][1]["lr"] == [0.001]


def test_a_stretch_leaves_the_interpreter_to_other_threads(monkeypatch):
    """The kernel releases the GIL while it trains: the designer's training process
    writes its reports from another thread meanwhile, instead of waiting for the
    stretch to end (or stopping it to hand the lock over)."""
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "1")
    X, Y = spiral(8 * fast_dense.MAX_STEPS)
    trainer = Trainer(Network.from_spec(chain(units=(32, 32)), dtype="float64"), seed=1,
                      loss="mse", optimizer={"type": "sgd", "lr": 1e-3}, batch_size=8)
    events = trainer.run(X, Y, epochs=2, every_batch=False)
    next(events)  # the first batch (and the kernel's compiling) before the other thread
    ticks: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.0002)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        while len(ticks) < 10:
            time.sleep(0.001)
        last = trainer.global_step
        while True:  # the run's first steps go singly, then a stretch
            start = time.perf_counter()
            event = next(events)
            end = time.perf_counter()
            if event.kind == "batch" and event.step - last >= 1000:
                break
            last = event.step
    finally:
        done.set()
        ticker.join()
    assert trainer._fast is not None
    inside = [start] + [t for t in ticks if start < t < end] + [end]
    longest_wait = max(b - a for a, b in zip(inside, inside[1:], strict=False))
    assert longest_wait < 0.5 * (end - start)  # holding the lock, it would be all of it
