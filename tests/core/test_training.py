"""The Trainer: it learns, it is reproducible, it obeys other threads, it fails safely."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import tracemalloc

import numpy as np
import pytest

from core.network import Network
from core.training import Callback, Trainer, TrainEvent, TrainingDiverged


def mlp(n_in: int, hidden: list[int], n_out: int, act: str = "tanh", out_act: str = "linear",
        dtype: str = "float32", seed: int = 0, dropout: float = 0.0) -> Network:
    nodes = [{"id": "in", "type": "Input", "shape": [n_in]}]
    for i, units in enumerate(hidden):
        nodes.append({"id": f"h{i}", "type": "Dense", "units": units, "activation": act})
        if dropout:
            nodes.append({"id": f"d{i}", "type": "Dropout", "rate": dropout})
    nodes.append({"id": "out", "type": "Dense", "units": n_out, "activation": out_act})
    edges = [[a["id"], b["id"]] for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    return Network.from_spec({"nodes": nodes, "edges": edges}, seed=seed, dtype=dtype)


def accuracy(net: Network, X, y) -> float:
    p = net.predict(X)
    pred = (p[:, 0] > 0.5).astype(int) if p.shape[1] == 1 else p.argmax(axis=1)
    return float((pred == y).mean())


def two_spirals(n_per_arm: int = 100, seed: int = 0):
    """TensorFlow Playground's spiral: two arms, 1.75 turns, no noise."""
    i = np.arange(n_per_arm) / n_per_arm
    r, t = 5 * i, 1.75 * i * 2 * np.pi
    X = np.concatenate([np.stack([r * np.sin(t + d), r * np.cos(t + d)], 1)
                        for d in (0.0, np.pi)]).astype(np.float32)
    y = np.repeat([1, 0], n_per_arm)
    return X, y


def sine(n: int = 256):
    X = np.linspace(-np.pi, np.pi, n, dtype=np.float32)[:, None]
    return X, np.sin(X)


# ---- learning -------------------------------------------------------------------------

def test_xor_reaches_full_accuracy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    net = mlp(2, [8], 1, out_act="sigmoid")
    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 0.05}, batch_size=4)
    history = trainer.fit(X, y[:, None].astype(np.float32), epochs=300)
    assert accuracy(net, X, y) == 1.0
    assert history["accuracy"][-1] == 1.0 and len(history["loss"]) == 300
    assert history["loss"][-1] < 0.05


def test_two_arm_spiral_train_accuracy():
    X, y = two_spirals()
    net = mlp(2, [32, 32], 1, out_act="sigmoid")
    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 0.01}, batch_size=16)
    trainer.fit(X, y[:, None].astype(np.float32), epochs=300)
    assert accuracy(net, X, y) >= 0.95


def test_iris_held_out_accuracy():
    from core.data import load_builtin, split
    train, test, _ = split(load_builtin("iris"), val=0.3, seed=0, stratify=True)
    Xtr, Xte, ytr, yte = train.X, test.X, train.y, test.y
    mean, std = Xtr.mean(0), Xtr.std(0)
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    net = mlp(4, [16], 3, out_act="softmax")
    trainer = Trainer(net, "sparse_categorical_crossentropy", {"type": "adam", "lr": 0.01},
                      batch_size=16)
    history = trainer.fit(Xtr, ytr, epochs=100, validation_data=(Xte, yte))
    assert accuracy(net, Xte, yte) >= 0.93
    assert history["val_accuracy"][-1] == pytest.approx(accuracy(net, Xte, yte))


def test_sine_regression_and_metrics():
    X, Y = sine()
    net = mlp(1, [32, 32], 1)
    trainer = Trainer(net, "mse", {"type": "adam", "lr": 0.01}, batch_size=32)
    history = trainer.fit(X, Y, epochs=300)
    grid = np.linspace(-np.pi, np.pi, 1000, dtype=np.float32)[:, None]
    assert float(np.mean((net.predict(grid) - np.sin(grid)) ** 2)) < 0.01
    # the trainer's regression metrics agree with the textbook formulas on the whole set
    loss, metrics = trainer.evaluate(X, Y)
    pred = net.predict(X)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(Y, pred), rel=1e-5)
    assert metrics["r2"] == pytest.approx(r2_score(Y, pred), rel=1e-5)
    assert loss == pytest.approx(float(np.mean((pred - Y) ** 2)), rel=1e-5)
    assert history["r2"][-1] > 0.95 and "mae" in history


def test_epoch_r2_and_mae_are_exact_over_batches():
    """Streaming R^2 over many batches equals the whole epoch's, also for targets far from
    zero (where sum-of-squares formulas lose their digits)."""
    from core.training import MetricAccumulator
    rng = np.random.default_rng(0)
    t = 1e6 + rng.standard_normal((1000, 2))
    p = t + 0.3 * rng.standard_normal((1000, 2))
    acc = MetricAccumulator("regression", "mse")
    for s in range(0, 1000, 64):
        acc.add(0.0, p[s:s + 64], t[s:s + 64], len(t[s:s + 64]))
    _, metrics = acc.result()
    assert metrics["r2"] == pytest.approx(r2_score(t, p), rel=1e-9)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(t, p), rel=1e-12)


def mean_absolute_error(t: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(t, np.float64) - p)))


def r2_score(t: np.ndarray, p: np.ndarray) -> float:
    """R^2 per output column, then their mean (scikit-learn's "uniform_average")."""
    t, p = np.asarray(t, np.float64), np.asarray(p, np.float64)
    residual = ((t - p) ** 2).sum(axis=0)
    total = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    return float(np.mean(1 - residual / total))


# ---- reproducibility and data handling ------------------------------------------------

def train_twice(seed: int, dtype: str = "float32"):
    X, y = two_spirals(50)
    net = mlp(2, [16, 16], 1, out_act="sigmoid", dtype=dtype, seed=seed, dropout=0.2)
    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 0.01}, batch_size=8,
                      seed=seed, validation_split=0.2)
    trainer.fit(X, y[:, None], epochs=5)
    return net.params.copy(), trainer.history


def test_same_seed_gives_bit_identical_weights():
    (a, ha), (b, hb) = train_twice(1), train_twice(1)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert ha == hb
    c, _ = train_twice(2)
    assert not np.array_equal(a, c)


def test_float64_on_request():
    w, _ = train_twice(1, "float64")
    assert w.dtype == np.float64


def test_an_epoch_never_copies_the_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 50)).astype(np.float32)  # 4 MB
    Y = rng.standard_normal((20000, 1)).astype(np.float32)
    net = mlp(50, [16], 1)
    trainer = Trainer(net, "mse", {"type": "adam"}, batch_size=64, validation_split=0.1)
    trainer.fit(X[:256], Y[:256])  # warm the buffers up
    tracemalloc.start()
    trainer.fit(X, Y, epochs=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes / 4, f"training allocated {peak} bytes at once"


def _in_order_networks() -> list[tuple[Network, str, np.ndarray, np.ndarray]]:
    """Networks of every kind of layer with data for them: MLP with dropout and batch
    normalisation, a CNN, a DAG with Add and Concatenate, sparse class targets."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((48, 6)).astype(np.float32), rng.integers(0, 3, 48)
    images = rng.standard_normal((48, 6, 6, 1)).astype(np.float32)
    flat = {"nodes": [{"id": "in", "type": "Input", "shape": [6]},
                      {"id": "drop", "type": "Dropout", "rate": 0.3},
                      {"id": "h", "type": "Dense", "units": 8, "activation": "relu"},
                      {"id": "bn", "type": "BatchNormalization"},
                      {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
            "edges": [["in", "drop"], ["drop", "h"], ["h", "bn"], ["bn", "out"]]}
    cnn = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 1]},
                     {"id": "c", "type": "Conv2D", "filters": 4, "kernel_size": 3,
                      "padding": "same", "activation": "relu"},
                     {"id": "p", "type": "MaxPooling2D", "pool_size": 2},
                     {"id": "f", "type": "Flatten"},
                     {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
           "edges": [["in", "c"], ["c", "p"], ["p", "f"], ["f", "out"]]}
    dag = {"nodes": [{"id": "in", "type": "Input", "shape": [6]},
                     {"id": "act", "type": "Activation", "activation": "tanh"},
                     {"id": "sum", "type": "Add"},
                     {"id": "cat", "type": "Concatenate"},
                     {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
           "edges": [["in", "act"], ["in", "sum"], ["act", "sum"], ["sum", "cat"],
                     ["in", "cat"], ["cat", "out"]]}
    return [(Network.from_spec(flat, seed=0), "categorical_crossentropy", X, np.eye(3)[y]),
            (Network.from_spec(cnn, seed=0), "categorical_crossentropy", images, np.eye(3)[y]),
            (Network.from_spec(dag, seed=0), "sparse_categorical_crossentropy", X, y)]


def test_in_order_batches_are_slices_that_stay_untouched_and_train_as_copies_do():
    for net, loss, X, Y in _in_order_networks():
        Y = Y.astype(np.float32) if Y.dtype.kind == "f" else Y.astype(np.intp)
        frozen_X, frozen_Y = X.copy(), Y.copy()
        X.setflags(write=False)  # a write into a batch would raise
        Y.setflags(write=False)
        twin = Network.from_spec(net.spec, seed=0)
        sliced = Trainer(net, loss, {"type": "adam", "lr": 0.01}, batch_size=10,
                         shuffle=False)
        sliced.fit(X, Y, epochs=3)
        assert sliced._slices, loss
        np.testing.assert_array_equal(X, frozen_X)
        np.testing.assert_array_equal(Y, frozen_Y)
        # float64 data goes through the batch buffers, converted: the same numbers
        copied = Trainer(twin, loss, {"type": "adam", "lr": 0.01}, batch_size=10,
                         shuffle=False)
        copied.fit(X.astype(np.float64), Y, epochs=3)
        assert not copied._slices
        np.testing.assert_array_equal(net.params, twin.params)
        assert sliced.history["batch_loss"] == copied.history["batch_loss"]


def test_without_shuffling_every_epoch_has_the_same_batches():
    X, Y = sine(40)
    seen: list[float] = []
    still = {"type": "sgd", "lr": 1e-12}  # the weights hardly move: equal batches, equal losses
    trainer = Trainer(mlp(1, [4], 1), "mse", still, batch_size=16, shuffle=False,
                      callbacks=[lambda e: e.kind == "batch" and seen.append(float(e.loss))])
    trainer.fit(X, Y, epochs=2)
    assert len(seen) == 6 and seen[3:] == pytest.approx(seen[:3], rel=1e-6)
    shuffled = Trainer(mlp(1, [4], 1), "mse", still, batch_size=16)
    shuffled.fit(X, Y, epochs=2)
    losses = shuffled.history["batch_loss"]
    assert losses[3:] != pytest.approx(losses[:3], rel=1e-3)
    # with a validation split, the training rows are gathered in their order
    split = Trainer(mlp(1, [4], 1), "mse", batch_size=8, shuffle=False,
                    validation_split=0.25)
    split.prepare(X, Y)
    split.step()
    assert not split._slices and (np.diff(split._state.order) > 0).all()


def test_validation_split_holds_out_a_random_fraction():
    X, y = two_spirals(50)
    net = mlp(2, [8], 1, out_act="sigmoid")
    trainer = Trainer(net, "binary_crossentropy", batch_size=10, validation_split=0.2)
    events = list(trainer.run(X, y, epochs=2))
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.samples_seen for e in epochs] == [80, 160]
    assert all(e.val_loss is not None and "accuracy" in e.val_metrics for e in epochs)
    assert set(trainer.history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                    "batch_loss"}
    assert len(trainer.history["batch_loss"]) == 16


def test_bad_data_is_refused_with_a_clear_message():
    net = mlp(2, [4], 1)
    trainer = Trainer(net, "mse")
    with pytest.raises(ValueError, match="network's input"):
        trainer.fit(np.zeros((5, 3)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="5 inputs but 4 targets"):
        trainer.fit(np.zeros((5, 2)), np.zeros((4, 1)))
    X = np.zeros((5, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="row 3"):
        trainer.fit(X, np.zeros((5, 1)))
    with pytest.raises(RuntimeError, match="prepare"):
        Trainer(net, "mse").step()


# ---- events, step-wise use, callbacks -------------------------------------------------

def test_events_are_frozen_and_complete():
    X, Y = sine(64)
    trainer = Trainer(mlp(1, [8], 1), "mse", batch_size=16)
    events = list(trainer.run(X, Y, epochs=2))
    kinds = [e.kind for e in events]
    assert kinds == (["batch"] * 4 + ["epoch"]) * 2 + ["end"]
    end = events[-1]
    assert end.stop_reason == "completed" and end.epoch == 2 and end.step == 8
    assert [e.batch for e in events[:4]] == [1, 2, 3, 4] and events[0].batches == 4
    assert events[4].loss == pytest.approx(np.mean([e.loss for e in events[:4]]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        end.loss = 0.0
    with pytest.raises(TypeError):
        end.metrics["mae"] = 0.0
    assert all(e.elapsed_s >= 0 for e in events)


def test_prepare_step_and_step_epoch():
    X, Y = sine(40)
    seen = []

    class Recorder(Callback):
        def on_epoch_end(self, trainer, event):
            seen.append(event.epoch)

    trainer = Trainer(mlp(1, [8], 1), "mse", batch_size=16, callbacks=[Recorder()])
    trainer.prepare(X, Y, validation_data=(X[:10], Y[:10]))
    first = trainer.step()
    assert first.kind == "batch" and first.step == 1 and first.samples_seen == 16
    epoch = trainer.step_epoch()  # the two remaining batches of epoch 1
    assert epoch.kind == "epoch" and epoch.epoch == 1 and epoch.step == 3
    assert epoch.val_loss is not None and seen == [1]
    assert trainer.step_epoch().step == 6 and seen == [1, 2]
    trainer.step()  # epoch 3 begins; run() goes on from there with the bound data
    events = list(trainer.run(epochs=1))
    assert events[-1].epoch == 3 and trainer.history["loss"].__len__() == 3


def test_plain_callables_get_every_event():
    X, Y = sine(32)
    got: list[TrainEvent] = []
    Trainer(mlp(1, [4], 1), "mse", batch_size=16, callbacks=[got.append]).fit(X, Y, epochs=1)
    assert [e.kind for e in got] == ["batch", "batch", "epoch", "end"]


# ---- control from another thread ------------------------------------------------------

def run_in_thread(trainer: Trainer, X, Y, epochs: int):
    out: dict = {}

    def work():
        out["events"] = list(trainer.run(X, Y, epochs=epochs))

    thread = threading.Thread(target=work)
    thread.start()
    return thread, out


def wait_for(cond, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def settled_step(trainer: Trainer) -> int:
    """The step count once it has not moved for 0.1 s."""
    last = trainer.global_step
    for _ in range(100):
        time.sleep(0.1)
        if trainer.global_step == last:
            return last
        last = trainer.global_step
    raise AssertionError("training did not pause")


def test_stop_from_another_thread():
    X, Y = sine(256)
    trainer = Trainer(mlp(1, [16], 1), "mse", batch_size=8)
    thread, out = run_in_thread(trainer, X, Y, epochs=100000)
    wait_for(lambda: trainer.global_step >= 5)
    trainer.request_stop()
    thread.join(5)
    assert not thread.is_alive()
    end = out["events"][-1]
    assert end.kind == "end" and end.stop_reason == "stopped"
    assert end.step <= trainer.global_step < 100000
    assert not trainer.stop_requested  # cleared for the next run


def test_pause_and_resume_from_another_thread():
    X, Y = sine(256)
    trainer = Trainer(mlp(1, [16], 1), "mse", batch_size=8)
    thread, out = run_in_thread(trainer, X, Y, epochs=100000)
    wait_for(lambda: trainer.global_step >= 3)
    trainer.pause()
    paused_at = settled_step(trainer)  # the batch under way may still finish
    time.sleep(0.2)
    assert trainer.global_step == paused_at and trainer.paused
    trainer.resume()
    wait_for(lambda: trainer.global_step >= paused_at + 5)
    trainer.pause()
    trainer.request_stop()  # a stop wakes a paused run
    thread.join(5)
    assert not thread.is_alive() and out["events"][-1].stop_reason == "stopped"


def test_learning_rate_change_from_another_thread_applies_next_batch():
    X, Y = sine(64)
    reached, go = threading.Event(), threading.Event()

    def hold_at_step_3(event: TrainEvent) -> None:
        if event.kind == "batch" and event.step == 3:
            reached.set()
            go.wait(5)

    trainer = Trainer(mlp(1, [8], 1), "mse", {"type": "sgd", "lr": 0.01}, batch_size=8,
                      schedule={"type": "exponential", "decay_rate": 0.5},
                      callbacks=[hold_at_step_3])
    thread, out = run_in_thread(trainer, X, Y, epochs=3)
    assert reached.wait(5)
    trainer.set_learning_rate(0.002)
    go.set()
    thread.join(5)
    lrs = [e.lr for e in out["events"] if e.kind == "batch"]
    assert lrs[:3] == [0.01] * 3 and lrs[3:] == [0.002] * (len(lrs) - 3)
    with pytest.raises(ValueError, match="positive"):
        trainer.set_learning_rate(-1)


def test_schedule_sets_the_learning_rate_per_epoch():
    X, Y = sine(32)
    trainer = Trainer(mlp(1, [4], 1), "mse", {"type": "sgd", "lr": 0.1}, batch_size=16,
                      schedule={"type": "step", "step_size": 1, "gamma": 0.5})
    history = trainer.fit(X, Y, epochs=3)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])


# ---- failure modes --------------------------------------------------------------------

def test_divergence_raises_and_keeps_last_good_weights():
    X, Y = sine(64)
    Y = Y * 100
    net = mlp(1, [16], 1, act="relu")
    before_step: list[np.ndarray] = [net.params.copy()]  # weights each batch started from

    def keep(event: TrainEvent) -> None:
        if event.kind == "batch":
            before_step.append(net.params.copy())

    trainer = Trainer(net, "mse", {"type": "sgd", "lr": 1.0}, batch_size=8, callbacks=[keep])
    events = []
    with pytest.raises(TrainingDiverged) as info:
        for event in trainer.run(X, Y, epochs=50):
            events.append(event)
    message = str(info.value)
    assert "learning rate 1 " in message and "try 0.1" in message
    assert info.value.suggested_lr == pytest.approx(0.1)
    assert events[-1].kind == "end" and events[-1].stop_reason == "diverged"
    # the failing batch started from before_step[-1]; its loss was not finite, so the
    # weights of the batch before, whose loss was finite, are back
    assert len(before_step) >= 2 and np.isfinite(net.params).all()
    np.testing.assert_array_equal(net.params, before_step[-2])
    finite = trainer.history["batch_loss"]
    assert len(finite) == len(before_step) - 1 and np.isfinite(finite).all()


def test_start_at_goes_on_with_the_schedule_and_the_numbering():
    X, Y = sine(32)
    schedule = {"type": "step", "step_size": 2, "gamma": 0.5}

    def trainer() -> Trainer:
        return Trainer(mlp(1, [4], 1), "mse", {"type": "sgd", "lr": 0.1}, batch_size=16,
                       schedule=schedule)

    whole = trainer()
    whole.fit(X, Y, epochs=4)
    assert whole.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05])
    later = trainer()
    later.start_at(2, 4)  # as if the first two epochs (2 steps each) were an earlier run
    events = list(later.run(X, Y, epochs=2))
    assert later.history["lr"] == pytest.approx([0.05, 0.05])
    assert [e.epoch for e in events if e.kind == "epoch"] == [3, 4]
    assert [e.step for e in events if e.kind == "batch"] == [5, 6, 7, 8]
    # a fresh order, not the first epochs' again; and the same for the same point
    first = Trainer(mlp(1, [4], 1), "mse", batch_size=32)
    again = Trainer(mlp(1, [4], 1), "mse", batch_size=32)
    again.start_at(1, 1)
    for t in (first, again):
        t.prepare(X, Y)
        t.step()
    assert not np.array_equal(first._state.order, again._state.order)
    same = Trainer(mlp(1, [4], 1), "mse", batch_size=32)
    same.start_at(1, 1)
    same.prepare(X, Y)
    same.step()
    np.testing.assert_array_equal(same._state.order, again._state.order)
    # Dropout masks too: a later run does not repeat the first run's masks
    masks = []
    for done in (0, 0, 7):
        net = mlp(1, [16], 1, dropout=0.5)
        trainer = Trainer(net, "mse", batch_size=32)
        trainer.start_at(0, done)
        trainer.prepare(X, Y)
        trainer.step()
        masks.append(net.layers["d0"]._mask.copy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2])


def test_start_at_numbers_the_divergence_message_and_refuses_mid_epoch():
    X, Y = sine(64)
    trainer = Trainer(mlp(1, [16], 1, act="relu"), "mse", {"type": "sgd", "lr": 1.0},
                      batch_size=8)
    trainer.start_at(10, 80)
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(X, Y * 100, epochs=50)
    assert info.value.epoch >= 11 and info.value.step > 80
    assert f"in epoch {info.value.epoch}, step {info.value.step}:" in str(info.value)
    with pytest.raises(ValueError, match="epochs_done must be a whole number >= 0"):
        trainer.start_at(-1, 0)
    trainer.prepare(X, Y)
    trainer.step()
    with pytest.raises(RuntimeError, match="before training"):
        trainer.start_at(0, 0)


def test_nan_gradients_are_caught_before_the_update(monkeypatch):
    # the poison goes into Network.compute_gradients, which only the NumPy path calls
    # (test_fast_dense checks the compiled path's divergence against this one)
    monkeypatch.setenv("ANN_DESIGNER_FAST_PATH", "0")
    X, Y = sine(16)
    net = mlp(1, [4], 1)
    trainer = Trainer(net, "mse", {"type": "adam"}, batch_size=16)
    trainer.fit(X, Y, epochs=1)
    good = net.params.copy()
    real = net.compute_gradients

    def poisoned(*args):
        value = real(*args)
        net.grads[0] = np.inf
        return value

    net.compute_gradients = poisoned
    with pytest.raises(TrainingDiverged, match="gradient became infinite"):
        trainer.fit(epochs=1)
    assert np.isfinite(net.params).all()
    assert not np.array_equal(net.params, good) or trainer.global_step == 1


def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(0)
    X, Xv = rng.standard_normal((40, 5)), rng.standard_normal((40, 5))
    y, yv = rng.integers(0, 2, 40), rng.integers(0, 2, 40)  # noise: it can only overfit
    net = mlp(5, [64, 64], 2, out_act="softmax")
    trainer = Trainer(net, "sparse_categorical_crossentropy", {"type": "adam", "lr": 0.01},
                      batch_size=8, early_stopping={"patience": 3})
    events = list(trainer.run(X, y, epochs=200, validation_data=(Xv, yv)))
    history = trainer.history
    assert events[-1].stop_reason == "early_stopping"
    best = int(np.argmin(history["val_loss"]))
    assert len(history["val_loss"]) == best + 1 + 3 < 200
    val_loss, _ = trainer.evaluate(Xv, yv)
    assert val_loss == pytest.approx(history["val_loss"][best], rel=1e-5)


def test_divergence_message_numbers():
    err = TrainingDiverged("x", 0.5, 1, 2)
    assert err.suggested_lr == 0.05 and not math.isnan(err.lr)


# ---- blow-ups that stay finite --------------------------------------------------------

def _spiral_trainer(optimizer: dict, **options) -> tuple[Network, Trainer, np.ndarray, np.ndarray]:
    X, y = two_spirals()
    net = mlp(2, [32, 32], 1, out_act="sigmoid")
    trainer = Trainer(net, "binary_crossentropy", optimizer, batch_size=16, **options)
    return net, trainer, X, y[:, None].astype(np.float32)


def test_adam_with_a_huge_learning_rate_is_caught_and_the_best_weights_come_back():
    net, trainer, X, Y = _spiral_trainer({"type": "adam", "lr": 1e9})
    start = net.params.copy()
    events = []
    with pytest.raises(TrainingDiverged) as info:
        for event in trainer.run(X, Y, epochs=20):
            events.append(event)
    message = str(info.value)
    assert "10000 times its lowest value" in message
    assert "learning rate 1e+09 " in message and "try 1e+08" in message
    assert info.value.suggested_lr == pytest.approx(1e8)
    assert events[-1].kind == "end" and events[-1].stop_reason == "diverged"
    # the first batch had the lowest loss (every later one is ~1e9): its weights are back
    losses = trainer.history["batch_loss"]
    assert losses[0] < 1 and min(losses[1:]) > 1e4 and len(losses) == 4  # caught at step 5
    np.testing.assert_array_equal(net.params, start)
    # training can go on with the suggested lower rate... well, a sane one
    trainer.set_learning_rate(0.01)
    trainer.fit(epochs=2)
    assert trainer.history["batch_loss"][-1] < 1


def test_sgd_with_lr_10_on_the_spiral_is_caught_as_confidently_wrong():
    net, trainer, X, Y = _spiral_trainer({"type": "sgd", "lr": 10.0})
    with pytest.raises(TrainingDiverged, match="confidently wrong.*try 1[^0-9]"):
        trainer.fit(X, Y, epochs=20)
    # the loss stays finite and below 1e4 x its best: only the chance rule can see this
    assert max(trainer.history["batch_loss"]) < 100
    assert trainer.evaluate(X, Y)[0] < 1.0  # weights from the best loss, not the wreck


def test_divergence_factor_is_configurable():
    net, trainer, X, Y = _spiral_trainer({"type": "adam", "lr": 1e9}, divergence_factor=None)
    trainer.fit(X, Y, epochs=2)  # off: only NaN and inf would stop it
    assert max(trainer.history["batch_loss"]) > 1e6
    X2, Y2 = sine(64)
    net = mlp(1, [16], 1)
    trainer = Trainer(net, "mse", {"type": "sgd", "lr": 0.5}, batch_size=8,
                      divergence_factor=3.0)
    with pytest.raises(TrainingDiverged, match="more than 3 times its lowest"):
        trainer.fit(X2, Y2 * 50, epochs=50)


def test_regression_with_a_huge_first_loss_and_an_exact_fit_never_trips():
    X, Y = sine(128)
    net = mlp(1, [16], 1)
    trainer = Trainer(net, "mse", {"type": "adam", "lr": 0.01}, batch_size=16)
    history = trainer.fit(X, Y * 1000 + 5000, epochs=60)  # first loss ~2.5e7
    assert history["batch_loss"][0] > 1e7 and len(history["loss"]) == 60
    # an exact linear fit drives the loss to ~0; Adam then jitters far above that best
    x = np.linspace(-1, 1, 64)[:, None]
    net = mlp(1, [], 1, dtype="float64")
    trainer = Trainer(net, "mse", {"type": "adam", "lr": 0.05}, batch_size=8)
    history = trainer.fit(x, 2 * x + 1, epochs=300)
    assert min(history["batch_loss"]) < 1e-12 and len(history["loss"]) == 300


def _bn_net() -> Network:
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h", "type": "Dense", "units": 8, "activation": "tanh"},
                      {"id": "bn", "type": "BatchNormalization", "momentum": 0.5},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h"], ["h", "bn"], ["bn", "out"]]}
    return Network.from_spec(spec, seed=0)


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for node in a:
        assert a[node].keys() == b[node].keys()
        for name in a[node]:
            np.testing.assert_array_equal(a[node][name], b[node][name], err_msg=node + name)


def test_blow_up_puts_back_one_consistent_state_with_bn_statistics():
    X, y = two_spirals()
    net = _bn_net()
    snapshots = [net.get_weights()]  # the state each batch started from

    def keep(event: TrainEvent) -> None:
        if event.kind == "batch":
            snapshots.append(net.get_weights())
            if event.step == 30:
                trainer.set_learning_rate(1e9)

    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 0.01},
                      batch_size=16, callbacks=[keep])
    with pytest.raises(TrainingDiverged, match="lowest value"):
        trainer.fit(X, y[:, None].astype(np.float32), epochs=20)
    now = net.get_weights()
    assert not np.allclose(now["bn"]["moving_mean"], snapshots[-1]["bn"]["moving_mean"])
    matches = [i for i, s in enumerate(snapshots)
               if all(np.array_equal(now[n][k], s[n][k]) for n in s for k in s[n])]
    assert matches and matches[0] <= 30  # weights and statistics from one good step


def test_nan_divergence_puts_back_bn_statistics_with_the_weights():
    X, y = two_spirals()
    net = _bn_net()
    snapshots = [net.get_weights()]
    trainer = Trainer(net, "binary_crossentropy", {"type": "adam", "lr": 0.01}, batch_size=16,
                      callbacks=[lambda e: e.kind == "batch" and snapshots.append(
                          net.get_weights())])
    real, calls = net.compute_gradients, [0]

    def poisoned(*args):
        value = real(*args)  # the forward pass has moved the BN statistics already
        calls[0] += 1
        return math.nan if calls[0] == 7 else value

    net.compute_gradients = poisoned
    with pytest.raises(TrainingDiverged, match="loss became NaN"):
        trainer.fit(X, y[:, None].astype(np.float32), epochs=1)
    assert len(snapshots) == 7  # six good batches
    _assert_same_weights(net.get_weights(), snapshots[-2])  # from before the last update


# ---- arguments are checked up front ---------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"seed": -1}, "seed must be a whole number >= 0, got -1"),
    ({"seed": 1.5}, "seed must be a whole number >= 0, got 1.5"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1, got 0"),
    ({"batch_size": "32"}, "batch_size must be a whole number >= 1, got '32'"),
    ({"l1": -0.1}, "l1 must be a number >= 0, got -0.1"),
    ({"l2": "big"}, "l2 must be a number >= 0, got 'big'"),
    ({"clipnorm": 0}, "clipnorm must be a number greater than 0, got 0.0"),
    ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\).*got 1.0"),
    ({"validation_split": -0.2}, "validation_split must be a number >= 0, got -0.2"),
    ({"early_stopping": {"patience": "x"}},
     r"early_stopping\['patience'\] must be a whole number >= 0, got 'x'"),
    ({"early_stopping": {"min_delta": -1}},
     r"early_stopping\['min_delta'\] must be a number >= 0, got -1"),
    ({"early_stopping": {"mode": "up"}}, r"early_stopping\['mode'\] must be 'auto'.*'up'"),
    ({"early_stopping": {"monitor": 3}}, r"early_stopping\['monitor'\] must be.*got 3"),
    ({"early_stopping": {"restore_best_weights": "no"}},
     r"restore_best_weights'\] must be true or false, got 'no'"),
    ({"early_stopping": {"patiense": 3}}, "early_stopping has no setting 'patiense'"),
    ({"early_stopping": -2}, "early_stopping \\(the patience\\) must be .* >= 0, got -2"),
    ({"early_stopping": "yes"}, "early_stopping must be a dict.*got 'yes'"),
    ({"schedule": "step"}, "schedule must be a dict.*got 'step'"),
    ({"schedule": {"type": "step", "step_size": -1}}, "'step_size' = -1.0 must be greater"),
    ({"schedule": {"type": "exponential", "staircase": "false"}},
     "'staircase' must be true or false, got 'false'"),
    ({"schedule": {"type": 3}}, "schedule 'type' must be one of constant.*got 3"),
    ({"divergence_factor": 1.0}, "divergence_factor must be a number greater than 1.*got 1.0"),
    ({"divergence_factor": "big"}, "divergence_factor must be .*got 'big'"),
    ({"callbacks": [3]}, r"callbacks\[0\] must be a Callback or a function.*got 3"),
    ({"shuffle": "no"}, "shuffle must be true or false, got 'no'"),
])
def test_every_argument_is_checked_with_a_message_naming_it(options, message):
    with pytest.raises(ValueError, match=message):
        Trainer(mlp(2, [4], 1), "mse", {"type": "sgd", "lr": 0.1}, **options)


def test_a_loss_that_does_not_fit_the_output_is_refused():
    from core.spec import SpecError
    net = mlp(2, [4], 1, out_act="sigmoid")
    with pytest.raises(SpecError, match="categorical_crossentropy needs one output per class"):
        Trainer(net, "categorical_crossentropy", {"type": "adam"})
    with pytest.raises(ValueError, match="loss must be the name of a loss"):
        Trainer(net, None, {"type": "adam"})
    Trainer(net, "binary_crossentropy", {"type": "adam"})  # fits


# ---- step() and step_epoch() obey pause and stop ----------------------------------------

def test_step_and_step_epoch_honour_stop_requests():
    X, Y = sine(64)
    trainer = Trainer(mlp(1, [4], 1), "mse", {"type": "adam"}, batch_size=8)
    trainer.prepare(X, Y)
    trainer.request_stop()
    event = trainer.step()
    assert (event.kind, event.stop_reason, trainer.global_step) == ("end", "stopped", 0)
    assert not trainer.stop_requested and trainer.step().kind == "batch"  # cleared

    def stop_after_third(event: TrainEvent) -> None:
        if event.kind == "batch" and event.step == 3:
            trainer.request_stop()

    trainer.callbacks.append(stop_after_third)
    event = trainer.step_epoch()
    assert (event.kind, event.stop_reason, trainer.global_step) == ("end", "stopped", 3)
    event = trainer.step_epoch()  # the same epoch goes on where it stopped
    assert (event.kind, event.epoch, trainer.global_step) == ("epoch", 1, 8)


def test_step_waits_while_paused_and_a_stop_wakes_it():
    X, Y = sine(64)
    trainer = Trainer(mlp(1, [4], 1), "mse", {"type": "adam"}, batch_size=8)
    trainer.prepare(X, Y)
    trainer.pause()
    threading.Timer(0.3, trainer.resume).start()
    t0 = time.perf_counter()
    assert trainer.step().kind == "batch"
    assert time.perf_counter() - t0 >= 0.25 and trainer.global_step == 1
    trainer.pause()
    threading.Timer(0.2, trainer.request_stop).start()
    event = trainer.step_epoch()
    assert event.stop_reason == "stopped" and trainer.global_step == 1
    trainer.resume()


def test_a_converged_run_trained_again_is_not_called_diverged():
    """A converged classifier's loss rounds to a hair below 0 or sits at ~1e-8; training it
    again must not trip the blow-up check on that noise (as `train` then `train` did)."""
    from core.training.guard import LossWatch

    watch = LossWatch(1e4, chance=math.log(10))
    noise = [-3e-8, 2e-7, -1e-8, 4e-6, 0.0, 1e-5, -2e-8, 3e-6] * 20
    assert all(watch.observe(v) is None for v in noise)
    regression = LossWatch(1e4, chance=None)
    assert all(regression.observe(v) is None for v in [0.0, -1e-15, 1e-14, 0.0] * 10)
    blown = LossWatch(1e4, chance=None)  # a real blow-up from ~0 is still caught
    assert any(blown.observe(v) is not None for v in [1e-9] * 5 + [1.0] * 20)
