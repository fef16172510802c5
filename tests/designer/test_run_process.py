"""The training process without a window: what crosses the pipes and back, and how the
process starts, trains, reports and ends."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from designer.run.loop import RunLoop
from designer.run.process import (
    RunProcess,
    Sender,
    build,
    receive_arrays,
    send_arrays,
    split_arrays,
)
from designer.run.protocol import (
    Epochs,
    Failed,
    Finished,
    GradNorms,
    Progress,
    Published,
    Snapshot,
    Step,
    Steps,
    TrainingJob,
)

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(seq: int, grid: np.ndarray, params: np.ndarray) -> Snapshot:
    return Snapshot(seq=seq, epoch=0, step=seq, samples_seen=seq, samples_per_s=1.0,
                    elapsed_s=1.0, lr=0.1, loss=0.5, params=params, grid=grid,
                    neuron_maps={"h": grid[None, :, :, 0]})


def test_slow_fields_cross_once_and_are_filled_in_again():
    receive, send = multiprocessing.Pipe(duplex=False)
    sender = Sender(send)
    loop = RunLoop(_job(np.zeros((1, 2), np.float32), np.zeros(1), 1), None, None, sender)
    grid = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    loop._publish(_snapshot(1, grid, np.zeros(3, np.float32)))
    loop._publish(_snapshot(2, grid, np.ones(3, np.float32)))  # same grid object
    newer = grid + 1
    loop._publish(_snapshot(3, newer, np.ones(3, np.float32)))
    received, before = [], None
    for _ in range(3):
        report = receive.recv()
        assert isinstance(report, Published)
        snapshot, new = report.snapshot, report.new
        received.append((snapshot, new))
        before = report.complete(before)
        expected = newer if snapshot.seq == 3 else grid
        np.testing.assert_array_equal(before.grid, expected)
        np.testing.assert_array_equal(before.neuron_maps["h"], expected[None, :, :, 0])
    assert "grid" in received[0][1] and received[1][0].grid is None  # not sent again
    assert "grid" in received[2][1]
    np.testing.assert_array_equal(received[1][0].params, np.ones(3))  # light fields always
    sender.close()  # its writer thread ends once everything is written


def _job(X, Y, epochs: int, **fields) -> TrainingJob:
    return TrainingJob(spec={}, training={}, X=X, Y=Y, epochs=epochs, **fields)


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
    got = _round_trip(_job(X, Y, 1, validation=val))
    np.testing.assert_array_equal(got.X, X)
    np.testing.assert_array_equal(got.Y, Y)
    assert got.Y.dtype == Y.dtype and got.X.dtype == np.float32
    assert [a.shape for a in got.validation] == [(7, 20), (7, 0)]
    np.testing.assert_array_equal(got.validation[0], val[0])
    plain = _round_trip(_job(X[:5], Y[:5], 1))
    assert plain.validation is None and plain.X.shape == (5, 20)


UNGUARDED_SCRIPT = """
import sys
from PySide6.QtCore import QSettings, QTimer
from designer import app
qt = app.application([])
window = app.create_window(settings=QSettings(sys.argv[1], QSettings.Format.IniFormat),
                           offer_recovery=False)
run = window.training_ui.run
def done(reason):
    print("finished", reason, run.buffer.last_epoch, flush=True)
    window.session.mark_clean()
    qt.quit()
run.finished.connect(done)
QTimer.singleShot(0, lambda: run.train(epochs=3))
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


def _reports(process: RunProcess) -> list:
    reports = list(process.reports())
    process.close()
    return reports


def test_the_process_trains_reports_and_returns_its_weights(spiral_job):
    process = RunProcess()
    process.start(spiral_job(3))
    reports = _reports(process)
    kinds = {type(r) for r in reports}
    finished = reports[-1]
    assert isinstance(finished, Finished) and finished.reason == "completed"
    assert process.exitcode == 0
    assert {Steps, Epochs, GradNorms, Published, Progress} <= kinds
    assert set(finished.weights) == {"hidden1", "hidden2", "output"}
    assert finished.optimizer_state["iterations"] > 0


def test_a_step_before_the_first_batch_trains_that_many_batches_then_pauses(spiral_job):
    process = RunProcess()
    process.start(spiral_job(5, commands=(Step(3),)))
    for report in process.reports():
        if isinstance(report, Progress) and report.state == "paused":
            break
    assert report.step == 3
    process.send(Step(2, "epoch"))  # the rest of epoch 1, then epoch 2
    for report in process.reports():
        if isinstance(report, Progress) and report.state == "paused":
            break
    assert report.epoch == 2
    from designer.run.protocol import Stop
    process.send(Stop())
    assert _reports(process)[-1].reason == "stopped"


def test_a_setting_the_trainer_refuses_is_a_message_from_the_process(spiral_job):
    job = spiral_job(3)
    process = RunProcess()
    process.start(dataclasses.replace(job, training={**job.training, "batch_size": "many"}))
    reports = _reports(process)
    assert isinstance(reports[0], Failed) and reports[0].text.startswith("Cannot train:")
    assert reports[-1] == Finished("error")


def test_the_process_builds_the_network_with_the_weights_that_still_fit(spiral_job):
    job = spiral_job(1, seed=3)
    net, _ = build(job)
    trained = {n: {k: v + 1 for k, v in a.items()} for n, a in net.get_weights().items()}
    with_weights, _ = build(dataclasses.replace(job, weights=trained))
    np.testing.assert_array_equal(with_weights.get_weights()["hidden1"]["kernel"],
                                  trained["hidden1"]["kernel"])
    stale = {"hidden1": {"kernel": np.zeros((7, 7))}}  # another structure: fresh ones
    fresh, _ = build(dataclasses.replace(job, weights=stale))
    np.testing.assert_array_equal(fresh.params, net.params)


def test_a_process_that_dies_ends_the_run_with_a_message(spiral_job):
    process = RunProcess()
    process.start(spiral_job(10**6))
    reports = process.reports()
    next(reports)
    process.kill()
    rest = list(reports)
    process.close()
    assert isinstance(rest[-2], Failed) and "ended by signal 9" in rest[-2].text
    assert rest[-1] == Finished("error")


def test_the_process_stops_quietly_when_the_designer_is_gone(spiral_job):
    process = RunProcess()
    process.start(spiral_job(10**6))
    assert isinstance(next(process.reports()), Steps | Epochs | GradNorms | Published | Progress)
    child = process._process
    process._events.close()  # as if the designer had been killed: both of its ends close
    process._control.close()
    child.join(20)
    assert child.exitcode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_the_reports_pipe_holds_a_snapshot_with_neuron_maps_in_one_write():
    """The spiral's neuron maps (760 kB) go through in one write, not a dozen."""
    import fcntl

    from designer.run.process import REPORT_PIPE_BYTES

    handle = RunProcess()
    try:
        size = fcntl.fcntl(handle._events.fileno(), fcntl.F_GETPIPE_SZ)
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        assert size >= min(REPORT_PIPE_BYTES, limit) >= 800_000
    finally:
        handle.close()
