"""The training loop alone (in this process, no pipes): pause, pace and step commands,
and runs that number on from the earlier ones."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from designer.run.buffer import SnapshotBuffer
from designer.run.loop import RunLoop
from designer.run.process import build
from designer.run.protocol import Pause, Progress, Resume, SetPace, Step, Stop


def _loop(job, report=None) -> tuple[RunLoop, SnapshotBuffer]:
    buffer = SnapshotBuffer()
    net, trainer = build(job)
    return RunLoop(job, net, trainer, report or buffer.apply), buffer


def _wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.perf_counter() + seconds
    while not condition() and time.perf_counter() < deadline:
        time.sleep(0.005)
    return condition()


def test_a_paced_wait_ends_at_once_on_pause_and_on_full_speed(spiral_job):
    """At one epoch in 5 s with one batch an epoch, a batch waits up to 5 s: pause and a
    new pace must not wait for it (the margin is wide, so a loaded machine cannot fail it)."""
    job = spiral_job(1000, pace=0.2)
    job = dataclasses.replace(job, training={**job.training, "batch_size": len(job.X)})
    loop, _ = _loop(job)
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        time.sleep(0.3)  # in the first batch's wait
        start = time.perf_counter()
        loop.apply(Pause())
        assert _wait_until(lambda: loop.waiting) and time.perf_counter() - start < 2.0
        steps = loop.step
        loop.apply(SetPace(None))
        loop.apply(Resume())
        assert _wait_until(lambda: loop.samples_seen >= 50 * len(job.X))
        assert loop.step >= steps  # full speed again
    finally:
        loop.apply(Stop())
        runner.join(10)
    assert not runner.is_alive()


def test_steps_count_batches_or_epochs_then_pause(spiral_job):
    job = spiral_job(100, commands=(Step(4),))
    progress: list[Progress] = []
    buffer = SnapshotBuffer()

    def report(r) -> None:
        buffer.apply(r)
        if isinstance(r, Progress):
            progress.append(r)

    loop, _ = _loop(job, report)
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        assert _wait_until(lambda: loop.waiting)
        assert loop.step == 4 and progress[-1].state == "paused"
        loop.apply(Step(2, "epoch"))  # the rest of the first epoch, then the second
        assert _wait_until(lambda: loop.waiting and loop.epoch == 2)
        assert buffer.curves().n_epochs == 2
    finally:
        loop.apply(Stop())
        runner.join(10)
    assert loop.reason == "stopped"


def test_a_run_numbers_on_from_the_earlier_runs_and_goes_on_with_the_schedule(spiral_job):
    """Train again after 3 epochs: the curves, the panel's counters and a step schedule
    go on from epoch 4, as if the runs were one."""
    job = spiral_job(2, epoch_offset=3, step_offset=60)
    job = dataclasses.replace(job, training={
        **job.training, "schedule": {"type": "step", "step_size": 3, "gamma": 0.5}})
    buffer, progress = SnapshotBuffer(), []

    def report(r) -> None:
        buffer.apply(r)
        if isinstance(r, Progress):
            progress.append(r)

    loop, _ = _loop(job, report)
    assert loop.run() == "completed"
    history = buffer.to_history()
    lr = job.training["optimizer"]["lr"]
    assert history["epoch"] == [4.0, 5.0]
    assert history["lr"] == pytest.approx([lr / 2, lr / 2])  # epoch 4 is past the step
    per_epoch = -(-len(job.X) // job.training["batch_size"])
    assert history["batch_step"][0] > 60 and buffer.last_step == 60 + 2 * per_epoch
    assert progress[-1].epoch == 5 and progress[-1].epochs_total == 5
    assert progress[-1].state == "finished"


def test_a_message_that_is_no_command_is_refused(spiral_job):
    loop, _ = _loop(spiral_job(1))
    with pytest.raises(TypeError, match="not a run command"):
        loop.apply(Progress("running"))  # type: ignore[arg-type]


def test_a_long_run_keeps_the_process_history_flat_and_sends_recovery_points(spiral_job):
    """The window keeps the curves; the process' trainer keeps each figure's newest value
    only, and the weights come back (a RecoveryPoint) at every pause at the least."""
    from designer.run.protocol import RecoveryPoint

    job = spiral_job(40, commands=(Step(30, "epoch"),))
    points: list[RecoveryPoint] = []
    buffer = SnapshotBuffer()

    def report(r) -> None:
        buffer.apply(r)
        if isinstance(r, RecoveryPoint):
            points.append(r)

    loop, _ = _loop(job, report)
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        assert _wait_until(lambda: loop.waiting, 30)
        assert buffer.curves().n_epochs == 30  # every epoch reached the window
        assert all(len(v) <= 1 for k, v in loop.trainer.history.items()
                   if k not in ("batch_loss", "batch_step"))
        last = points[-1]  # sent at the pause: the weights of the curves' last step
        assert last.step == loop.trainer.global_step and last.epoch == 30
        weights = loop.net.get_weights()
        assert all((weights[n][k] == v).all() for n, a in last.weights.items()
                   for k, v in a.items())
    finally:
        loop.apply(Stop())
        runner.join(10)
    assert not runner.is_alive()


class FakeClock:
    """Simulated seconds: each reading moves on by ``tick`` (no real time is timed)."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 1000.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_snapshots_grids_and_neuron_maps_are_sent_at_bounded_rates(spiral_job):
    """Over a simulated run snapshots go out at most once a frame of the window (40 ms),
    the grid at most every 0.1 s and the neurons' maps (drawn by the canvas only, at
    most every 0.2 s) at most every 0.2 s, plus the first and the last; the last
    snapshot has both as of the end."""
    from designer.run.loop import HEAVY_MIN_INTERVAL_S, LIGHT_INTERVAL_S, MAPS_MIN_INTERVAL_S
    from designer.run.protocol import Published, Steps

    job = dataclasses.replace(spiral_job(1000), hidden_ids=("hidden1", "hidden2"))
    sent: list[Published] = []
    steps: list[Steps] = []
    buffer = SnapshotBuffer()

    def report(r) -> None:
        buffer.apply(r)
        if isinstance(r, Published):
            sent.append(r)
        elif isinstance(r, Steps):
            steps.append(r)

    clock = FakeClock(0.001)
    net, trainer = build(job)
    start = clock.now
    assert RunLoop(job, net, trainer, report, clock=clock).run() == "completed"
    seconds = clock.now - start
    grids = sum("grid" in r.new for r in sent)
    maps = sum("neuron_maps" in r.new for r in sent)
    assert len(sent) > 20 and seconds > 0.8  # the run spans many intervals
    assert len(sent) <= seconds / LIGHT_INTERVAL_S + 2 and LIGHT_INTERVAL_S >= 0.04
    assert 2 < grids <= seconds / HEAVY_MIN_INTERVAL_S + 2
    assert 2 < maps <= seconds / MAPS_MIN_INTERVAL_S + 2
    assert maps < grids
    every_step = np.concatenate([r.steps for r in steps])  # each step's loss, in order
    assert (every_step == np.arange(1, trainer.global_step + 1)).all()
    assert sum(len(r.losses) for r in steps) == len(every_step)
    last = buffer.latest()
    assert set(last.neuron_maps) == {"hidden1", "hidden2"}
    assert last.neuron_maps["hidden1"].shape == (8, *job.grid.shape)
    final, acts = net.forward(job.grid.inputs, training=False, capture=True)
    assert (last.neuron_maps["hidden2"] ==
            acts["hidden2"].astype("float32").reshape(*job.grid.shape, -1)
            .transpose(2, 0, 1)).all()
