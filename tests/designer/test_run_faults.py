"""A training process that dies, hangs or is restarted at once: what the window keeps.

The process sends its weights back every second or so (a RecoveryPoint); the curves the
project keeps never reach past the weights it keeps, in the autosaved recovery copy,
after a kill and after a Stop that had to kill a hung process. Stop never waits on the
UI thread, and a Train pressed right after Stop starts a run of its own.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from PySide6.QtCore import QThread
from training_windows import WAIT_MS, ui_of, use_example, wait_idle

from core.project import load_project
from designer.recovery import RecoveryStore
from designer.run.protocol import RecoveryPoint
from designer.training import session as run_session


@pytest.fixture
def checkpoints(monkeypatch) -> list[RecoveryPoint]:
    """Every RecoveryPoint a window's relay receives, in order."""
    seen: list[RecoveryPoint] = []
    relay = run_session._Relay._relay

    def recording(self, report):
        if isinstance(report, RecoveryPoint):
            seen.append(report)
        relay(self, report)

    monkeypatch.setattr(run_session._Relay, "_relay", recording)
    return seen


def copy_weights(weights) -> dict:
    return {n: {k: np.array(v) for k, v in a.items()} for n, a in weights.items()}


def same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(
        a[n].keys() == b[n].keys() and all(np.array_equal(a[n][k], b[n][k]) for k in a[n])
        for n in a)


def train_past_a_checkpoint(qtbot, run, checkpoints, epochs: int = 2) -> None:
    """A long run that has sent a checkpoint after ``epochs`` epochs, and trained on."""
    run.train(epochs=100_000)
    qtbot.waitUntil(lambda: bool(checkpoints) and checkpoints[-1].epoch >= epochs, timeout=WAIT_MS)
    step = checkpoints[-1].step
    qtbot.waitUntil(lambda: run.buffer.last_step > step + 20, timeout=WAIT_MS)


def assert_curves_end_at(history, step: int) -> None:
    """The history holds no epoch and no batch after ``step``, and does hold some."""
    assert history["loss"] and history["batch_loss"]
    assert max(history["step"]) <= step
    assert history["batch_step"][-1] <= step
    assert len(history["batch_step"]) == len(history["batch_loss"])


def checkpoint_of(weights, checkpoints) -> RecoveryPoint:
    matches = [c for c in checkpoints if same_weights(dict(c.weights), weights)]
    assert matches, "the weights kept are none the process sent back"
    return matches[-1]


def test_autosave_during_a_run_keeps_its_latest_weights_with_their_curves(
        qtbot, make_window, tmp_path, checkpoints):
    window = make_window(recovery=RecoveryStore(tmp_path / "recovery"))
    run = ui_of(window).run
    before = copy_weights(run.network().get_weights())
    train_past_a_checkpoint(qtbot, run, checkpoints)
    assert window.autosave()
    run.process.kill()  # the crash: only the recovery copy is left
    wait_idle(qtbot, ui_of(window))
    kept = load_project(window.recovery.project_path)
    assert not same_weights(kept.weights, before)  # training progress was kept
    checkpoint = checkpoint_of(kept.weights, checkpoints)
    assert checkpoint.epoch >= 2 and kept.optimizer_state
    assert_curves_end_at(kept.history, checkpoint.step)
    # every epoch the weights reached (the one ending at the checkpoint's step may be
    # reported after it)
    assert len(kept.history["loss"]) in (checkpoint.epoch, checkpoint.epoch + 1)


def test_a_killed_process_leaves_its_last_weights_and_curves_to_match(
        qtbot, window, tmp_path, checkpoints):
    ui = ui_of(window)
    train_past_a_checkpoint(qtbot, ui.run, checkpoints)
    ui.run.process.kill()  # as if the system had ended it (out of memory)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "error"
    assert "training process was ended by signal 9" in ui.training_panel.message_label.text()
    last = checkpoints[-1]
    assert same_weights(window.document.project.weights, dict(last.weights))
    assert ui.run.buffer.last_step <= last.step
    kept = ui.run.buffer.curves().n_epochs
    assert kept in (last.epoch, last.epoch + 1)
    saved = load_project(window.session.save(tmp_path / "after-kill.annproj"))
    assert same_weights(saved.weights, dict(last.weights))
    assert_curves_end_at(saved.history, last.step)
    ui.run.train(epochs=2)  # the next run goes on from there
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"
    assert ui.run.buffer.curves().n_epochs == kept + 2


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="POSIX signals")
def test_stop_on_a_hung_process_answers_at_once_and_kills_it_later(
        qtbot, window, checkpoints):
    ui = ui_of(window)
    train_past_a_checkpoint(qtbot, ui.run, checkpoints)
    process = ui.run.process
    os.kill(process.pid, signal.SIGSTOP)  # hung: it never answers Stop
    try:
        start = time.perf_counter()
        ui.training_panel.stop_button.click()
        assert time.perf_counter() - start < 2.0  # the window never waited (grace: 3 s)
        assert ui.run.is_running
        wait_idle(qtbot, ui)  # killed after the grace period
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGCONT)
    assert not process.is_alive()
    assert ui.run.last_reason == "error"
    last = checkpoints[-1]
    assert same_weights(window.document.project.weights, dict(last.weights))
    assert_curves_end_at(window.document.project.history, last.step)


def test_stop_then_train_in_one_turn_starts_a_run_that_the_old_one_cannot_end(
        qtbot, window, monkeypatch):
    waits: list[tuple] = []
    wait = QThread.wait

    def timed_wait(self, *args):
        waits.append(args)
        return wait(self, *args)

    monkeypatch.setattr(QThread, "wait", timed_wait)
    ui = ui_of(window)
    run = ui.run
    run.train(epochs=100_000)
    qtbot.waitUntil(lambda: run.buffer.latest() is not None
                    and run.buffer.latest().step > 3, timeout=WAIT_MS)
    run.stop()
    run.train(epochs=100_000)  # in the same turn of the event loop
    new_process = run.process
    qtbot.wait(300)  # the old run's finished signal has been delivered by now
    assert run.is_running and run.process is new_process and new_process.is_alive(), (
        run.last_reason, run.last_message)
    assert window.editor.structure_lock is not None
    ui.training_panel.stop_button.click()
    run.train(epochs=2)  # Stop (not waited for), then Train: this run follows
    wait_idle(qtbot, ui)
    qtbot.waitUntil(lambda: not run.is_running and run.last_reason == "completed",
                    timeout=WAIT_MS)
    assert all(args for args in waits), "the UI thread waited without a timeout"


def test_a_loss_chosen_after_the_data_shapes_the_targets_without_regenerating(
        qtbot, window):
    """XOR (binary cross-entropy), then Multi-Gaussian (a regression with negative
    targets), then the loss mse: the data follows the loss at once."""
    ui = ui_of(window)
    use_example(window, "xor")
    window.editor.set_data_source({"kind": "builtin", "name": "multigauss",
                                   "params": {"n_samples": 300, "seed": 0}})
    window.editor.set_training_settings({"loss": "mse"})
    assert ui.run.data is not None, ui.run.data_error
    assert ui.run.data.prepared.loss == "mse"
    window.editor.set_param(["output"], "activation", "linear")
    assert ui.run.train(epochs=2) is None
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed", ui.run.last_message
    assert ui.run.buffer.curves().n_epochs == 2
