"""The training process' side, without a window: what crosses the pipe and back."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from designer.training.child import (
    PipeBuffer,
    complete,
    receive_arrays,
    send_arrays,
    split_arrays,
)
from designer.training.run_loop import TrainingJob
from designer.training.snapshots import Snapshot

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(seq: int, grid: np.ndarray, params: np.ndarray) -> Snapshot:
    return Snapshot(seq=seq, epoch=0, step=seq, samples_seen=seq, samples_per_s=1.0,
                    elapsed_s=1.0, lr=0.1, loss=0.5, params=params, grid=grid,
                    neuron_maps={"h": grid[None, :, :, 0]})


def test_slow_fields_cross_once_and_are_filled_in_again():
    receive, send = multiprocessing.Pipe(duplex=False)
    buffer = PipeBuffer(send)
    grid = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    buffer.publish(_snapshot(1, grid, np.zeros(3, np.float32)))
    buffer.publish(_snapshot(2, grid, np.ones(3, np.float32)))  # same grid object
    newer = grid + 1
    buffer.publish(_snapshot(3, newer, np.ones(3, np.float32)))
    received, before = [], None
    for _ in range(3):
        kind, snapshot, new = receive.recv()
        assert kind == "snapshot"
        received.append((snapshot, new))
        before = complete(snapshot, new, before)
        expected = newer if snapshot.seq == 3 else grid
        np.testing.assert_array_equal(before.grid, expected)
        np.testing.assert_array_equal(before.neuron_maps["h"], expected[None, :, :, 0])
    assert "grid" in received[0][1] and received[1][0].grid is None  # not sent again
    assert "grid" in received[2][1]
    np.testing.assert_array_equal(received[1][0].params, np.ones(3))  # light fields always


def _round_trip(job: TrainingJob) -> TrainingJob:
    light, arrays = split_arrays(job)
    assert not any(isinstance(v, np.ndarray) for v in (light.X, light.Y))  # only slots
    receive, send = multiprocessing.Pipe(duplex=False)
    sender = threading.Thread(target=send_arrays, args=(send, arrays))  # > pipe buffer
    sender.start()
    got = receive_arrays(receive, light)
    sender.join()
    return got


def test_the_data_crosses_as_raw_bytes_exactly():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 40)).astype(np.float32)[:, ::2]  # not contiguous
    Y = rng.integers(0, 3, 3000)
    val = (rng.standard_normal((7, 20)).astype(np.float32), np.zeros((7, 0), np.float64))
    got = _round_trip(TrainingJob(trainer=None, net=None, X=X, Y=Y, epochs=1,
                                  validation=val))
    np.testing.assert_array_equal(got.X, X)
    np.testing.assert_array_equal(got.Y, Y)
    assert got.Y.dtype == Y.dtype and got.X.dtype == np.float32
    assert [a.shape for a in got.validation] == [(7, 20), (7, 0)]
    np.testing.assert_array_equal(got.validation[0], val[0])
    plain = _round_trip(TrainingJob(trainer=None, net=None, X=X[:5], Y=Y[:5], epochs=1))
    assert plain.validation is None and plain.X.shape == (5, 20)


def test_the_training_process_loads_no_qt():
    code = ("import sys, designer.training.child; "
            "print(' '.join(m for m in ('PySide6', 'pyqtgraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == ""


UNGUARDED_SCRIPT = """
import sys
from PySide6.QtCore import QSettings, QTimer
from designer import app
qt = app.application([])
window = app.create_window(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat),
                           offer_recovery=False)
controller = window.training_ui.controller
def done(reason):
    print("finished", reason, controller.buffer.last_epoch, flush=True)
    window.session.mark_clean()
    qt.quit()
controller.finished.connect(done)
QTimer.singleShot(0, lambda: controller.train(epochs=3))
QTimer.singleShot(50_000, qt.quit)
qt.exec()
"""


def test_a_script_without_a_main_guard_trains(tmp_path):
    """The training process must not run the script that opened the designer again
    (multiprocessing would, and that copy would open a second window and never train)."""
    script = tmp_path / "open_and_train.py"
    script.write_text(UNGUARDED_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "ANN_DESIGNER_NO_RECOVERY": "1"}
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "s.ini")],
                         capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert "finished completed 3" in out.stdout, out.stderr[-2000:]
    assert out.stdout.count("finished") == 1


def _spiral_run(epochs: int):
    """A job and recipe for the default example, as the controller makes them."""
    from core.examples import load_example
    from designer.training.child import NetworkRecipe
    from designer.training.pipeline import load_training_data

    project = load_example("spiral")
    data = load_training_data(project)
    X, Y = data.prepared.arrays("train")
    job = TrainingJob(trainer=None, net=None, X=X, Y=Y, epochs=epochs,
                      validation=data.prepared.arrays("val"), grid=data.grid())
    recipe = NetworkRecipe(spec=project.spec, seed=0, weights=None,
                           training=project.training, optimizer_state=None)
    return job, recipe


def _start_process(epochs: int):
    """The training process for the spiral, started as the worker starts it; returns
    it with the designer's ends of the event and control pipes."""
    from designer.training import child
    from designer.training.worker import main_script_hidden, process_context

    ctx = process_context()
    job, recipe = _spiral_run(epochs)
    light, arrays = split_arrays(job)
    events, events_child = ctx.Pipe(duplex=False)
    control_child, control = ctx.Pipe(duplex=False)
    data_child, data = ctx.Pipe(duplex=False)
    process = ctx.Process(target=child.main, args=(light, recipe, events_child,
                                                   control_child, data_child))
    with main_script_hidden():
        process.start()
    for end in (events_child, control_child, data_child):
        end.close()
    send_arrays(data, arrays)
    data.close()
    return process, events, control


def test_the_process_trains_reports_and_returns_its_weights():
    process, events, _control = _start_process(epochs=3)
    kinds = []
    while True:
        message = events.recv()
        kinds.append(message[0])
        if message[0] == "done":
            break
    process.join(10)
    _, reason, weights, state = message
    assert reason == "completed" and process.exitcode == 0
    assert {"steps", "epochs", "snapshot", "progress"} <= set(kinds)
    assert set(weights) == {"hidden1", "hidden2", "output"} and state["iterations"] > 0


def test_the_process_stops_quietly_when_the_designer_is_gone():
    process, events, control = _start_process(epochs=10**6)
    assert events.recv()[0] in ("steps", "epochs", "norms", "snapshot", "progress")
    events.close()  # as if the designer had been killed: both of its ends close
    control.close()
    process.join(20)
    assert process.exitcode == 0


def test_a_paced_wait_ends_at_once_on_pause_and_on_full_speed():
    """At 1 epoch a second with one batch an epoch, a batch waits up to a second: pause
    and a new pace must not wait for it."""
    import time

    from designer.training.run_loop import RunLoop
    from designer.training.snapshots import SnapshotBuffer

    job, recipe = _spiral_run(epochs=1000)
    recipe.training = {**recipe.training, "batch_size": len(job.X)}  # one batch an epoch
    job.net, job.trainer = recipe.build()
    job.pace = 1.0
    loop = RunLoop(job, SnapshotBuffer())
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        time.sleep(0.3)  # in the first batch's wait
        start = time.perf_counter()
        loop.pause()
        deadline = start + 5
        while not loop.waiting and time.perf_counter() < deadline:
            time.sleep(0.005)
        assert loop.waiting and time.perf_counter() - start < 0.5
        steps = loop.step
        loop.set_pace(None)
        loop.resume()
        deadline = time.perf_counter() + 5
        while loop.samples_seen < 50 * len(job.X) and time.perf_counter() < deadline:
            time.sleep(0.01)
        assert time.perf_counter() < deadline and loop.step >= steps  # full speed again
    finally:
        loop.request_stop()
        runner.join(10)
    assert not runner.is_alive()


def test_a_run_numbers_on_from_the_earlier_runs_and_goes_on_with_the_schedule():
    """Train again after 3 epochs: the curves, the panel's counters and a step schedule
    go on from epoch 4, as if the runs were one."""
    import pytest

    from designer.training.run_loop import RunLoop
    from designer.training.snapshots import SnapshotBuffer

    job, recipe = _spiral_run(epochs=2)
    recipe.training = {**recipe.training,
                       "schedule": {"type": "step", "step_size": 3, "gamma": 0.5}}
    job.net, job.trainer = recipe.build()
    job.epoch_offset, job.step_offset = 3, 60
    buffer, progress = SnapshotBuffer(), []
    assert RunLoop(job, buffer, on_progress=progress.append).run() == "completed"
    history = buffer.to_history()
    lr = recipe.training["optimizer"]["lr"]
    assert history["epoch"] == [4.0, 5.0]
    assert history["lr"] == pytest.approx([lr / 2, lr / 2])  # epoch 4 is past the step
    per_epoch = -(-len(job.X) // recipe.training["batch_size"])
    assert history["batch_step"][0] > 60 and buffer.last_step == 60 + 2 * per_epoch
    assert progress[-1]["epoch"] == 5 and progress[-1]["epochs_total"] == 5
