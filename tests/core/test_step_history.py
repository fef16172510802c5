"""The per-step loss history stays bounded however long training runs, while the epoch
records stay exact and the step count goes on across runs (issue 15, item 8)."""

from __future__ import annotations

import numpy as np
import pytest

from core import Network, Trainer
from core.project import Project
from core.training import history as step_history
from core.training.history import StepHistory
from core.workflow import store_results, trained_so_far

SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                  {"id": "h", "type": "Dense", "units": 4, "activation": "tanh"},
                  {"id": "out", "type": "Dense", "units": 1, "activation": "linear"}],
        "edges": [["in", "h"], ["h", "out"]]}


def test_thinned_points_are_means_of_their_steps_numbered_by_the_last():
    history: dict[str, list] = {}
    steps = StepHistory(history, capacity=8)
    for step in range(1, 51):
        steps.add(step, float(step))
    losses, numbers = history["batch_loss"], history["batch_step"]
    assert len(losses) <= 8 and len(numbers) == len(losses)
    assert numbers[-1] == 50  # the last step is always exact
    stride = steps.stride
    assert stride == 8
    # each full point: the mean of its stride steps, numbered by the last of them
    for loss, number in zip(losses[:-1], numbers[:-1], strict=True):
        assert loss == pytest.approx(np.mean(np.arange(number - stride + 1, number + 1)))
    assert losses[-1] == pytest.approx(np.mean(np.arange(numbers[-2] + 1, 51)))


def test_a_long_run_keeps_a_bounded_step_history_and_exact_epochs(monkeypatch):
    monkeypatch.setattr(step_history, "STEP_CAPACITY", 64)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    Y = (X[:, :1] * 0.5).astype(np.float32)
    seen: list[float] = []
    trainer = Trainer(Network.from_spec(SPEC, seed=0), "mse", {"type": "sgd", "lr": 0.05},
                      batch_size=4, callbacks=[
                          lambda e: e.kind == "batch" and seen.append(float(e.loss))])
    history = trainer.fit(X, Y, epochs=60)  # 600 steps
    assert len(seen) == 600 == trainer.global_step
    assert len(history["batch_loss"]) <= 64
    assert len(history["loss"]) == 60  # one record per epoch, all kept
    assert history["batch_step"][-1] == 600
    assert trained_so_far(history) == (60, 600)
    # the thinned curve still holds every loss: the means weighted by their steps
    counts = np.diff([0, *history["batch_step"]])
    assert np.dot(counts, history["batch_loss"]) == pytest.approx(sum(seen), rel=1e-6)


def test_a_run_on_an_older_file_numbers_its_steps_on():
    """An older command-line file has batch_loss without step numbers."""
    project = Project(spec=SPEC, history={"loss": [1.0, 0.9], "batch_loss": [1.0] * 20})
    trainer = Trainer(Network.from_spec(SPEC, seed=0), "mse", batch_size=4)
    trainer.start_at(*trained_so_far(project.history))
    X = np.zeros((8, 2), np.float32)
    trainer.fit(X, np.zeros((8, 1), np.float32), epochs=1)
    store_results(project, trainer)
    h = project.history
    assert len(h["batch_step"]) == len(h["batch_loss"]) == 22
    assert h["batch_step"][:20] == [float(i) for i in range(1, 21)]
    assert h["batch_step"][20:] == [21.0, 22.0]
    assert trained_so_far(h) == (3, 22)


def test_every_step_of_a_stretch_has_its_exact_loss_in_a_long_run(monkeypatch):
    """The designer reports each batch's loss of a stretch the compiled path trained in
    one go; they come from ``last_losses``, exact however thin the history has become."""
    monkeypatch.setattr(step_history, "STEP_CAPACITY", 64)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    Y = (X[:, :1] * 0.5).astype(np.float32)
    trainer = Trainer(Network.from_spec(SPEC, seed=0), "mse", {"type": "sgd", "lr": 0.05},
                      batch_size=4)
    losses: list[float] = []
    last = widest = 0
    for event in trainer.run(X, Y, epochs=20, every_batch=False):
        if event.kind == "batch":
            widest = max(widest, event.step - last)
            assert len(trainer.last_losses) == event.step - last
            assert trainer.last_losses[-1] == event.loss
            losses.extend(trainer.last_losses)
            last = event.step
    assert len(losses) == trainer.global_step == 320
    if trainer._fast is not None:  # the compiled path trained stretches
        assert widest > 1
    assert len(trainer.history["batch_loss"]) <= 64
    counts = np.diff([0, *trainer.history["batch_step"]])
    assert np.dot(counts, trainer.history["batch_loss"]) == pytest.approx(sum(losses),
                                                                          rel=1e-5)


@pytest.mark.parametrize("capacity", [2, 6, 8, 64])
def test_a_stretch_gives_the_points_of_its_steps_added_one_by_one(capacity):
    """``extend`` (the compiled path's stretches) and ``add`` (the NumPy path's steps)
    keep the same points to the bit, whatever the stretches' lengths and the thinning."""
    rng = np.random.default_rng(capacity)
    one, many = {}, {}
    by_step, by_stretch = StepHistory(one, capacity), StepHistory(many, capacity)
    step = 0
    for length in rng.integers(1, 3 * capacity, size=60):
        losses = rng.normal(size=int(length)).tolist()
        if rng.random() < 0.2:  # the general path's single steps, between stretches
            losses = losses[:1]
        for loss in losses:
            step += 1
            by_step.add(step, loss)
        by_stretch.extend(step, losses)
        assert many == one
        assert by_stretch.stride == by_step.stride and by_stretch._open == by_step._open
        assert by_stretch.last_losses.tolist() == losses
    assert by_step.stride > 1  # the thinning was exercised
    assert all(type(v) is float for v in many["batch_loss"])  # plain JSON numbers


def test_a_stretch_after_a_long_history_from_a_file_thins_it_down():
    """A file's batch_loss may hold several times the capacity (older files kept every
    step): the first stretch thins it until there is room, as many adds would."""
    history = {"batch_loss": [1.0] * 40, "batch_step": list(range(1, 41))}
    steps = StepHistory(history, capacity=8)
    steps.extend(45, [2.0] * 5)
    assert len(history["batch_loss"]) <= 8
    assert history["batch_step"][-1] == 45
    assert len(history["batch_loss"]) == len(history["batch_step"])
