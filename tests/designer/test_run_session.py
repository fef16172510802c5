"""The run session in a real window: a run is a process of its own that ends with the
run, continues from the current weights, takes commands while it trains, and leaves
the project its weights (or the old ones when the process dies)."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMessageBox
from training_windows import (
    WAIT_MS,
    ask_returns,
    ui_of,
    wait_idle,
)

from core.network import Network
from core.project import load_project


def test_train_again_continues_from_the_current_weights(qtbot, window):
    ui = ui_of(window)
    ui.run.train(epochs=5)
    wait_idle(qtbot, ui)
    first = ui.run.buffer.curves().epochs[-1]["loss"]
    ui.run.train(epochs=5)
    wait_idle(qtbot, ui)
    epochs = ui.run.buffer.curves().epochs
    assert [e["epoch"] for e in epochs] == [float(i) for i in range(1, 11)]
    assert epochs[5]["loss"] < epochs[0]["loss"] and abs(epochs[5]["loss"] - first) < 0.1
    ui.training_panel.reset_button.click()
    assert ui.run.buffer.curves().n_epochs == 0


def test_learning_rate_change_during_training_takes_effect(qtbot, window):
    ui = ui_of(window)
    run = ui.run
    run.train(epochs=100_000)
    qtbot.waitUntil(lambda: (run.buffer.latest() or 0)
                    and run.buffer.latest().step > 3, timeout=WAIT_MS)
    assert run.buffer.latest().lr == pytest.approx(0.03)
    ui.training_panel.lr_box.setValue(0.0025)
    qtbot.waitUntil(lambda: run.buffer.latest().lr == pytest.approx(0.0025), timeout=WAIT_MS)
    assert run.settings["optimizer"]["lr"] == pytest.approx(0.0025)
    run.stop()


def test_closing_the_window_during_training_leaves_no_running_thread(qtbot, make_window,
                                                                    monkeypatch):
    window = make_window()
    ui = ui_of(window)
    ui.run.train(epochs=100_000)
    qtbot.waitUntil(lambda: ui.run.buffer.latest() is not None, timeout=WAIT_MS)
    thread = ui.run._thread
    assert isinstance(thread, QThread) and thread.isRunning()
    asked = ask_returns(monkeypatch, QMessageBox.StandardButton.Discard)
    window.close()
    assert asked == ["Unsaved changes"]  # a run under way is unsaved work
    assert not thread.isRunning()
    assert not ui.run.is_running


def test_training_runs_in_a_process_of_its_own_that_ends_with_the_run(qtbot, window):
    ui = ui_of(window)
    ui.run.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.run.buffer.latest() or 0)
                    and ui.run.buffer.latest().step > 3, timeout=WAIT_MS)
    process = ui.run.process
    assert process.is_alive() and process.pid != os.getpid()
    ui.run.stop()
    assert not process.is_alive() and process.exitcode == 0
    assert ui.run.last_reason == "stopped"
    # what the process learned is the project's, and the designer's network has it too
    weights = window.document.project.weights
    assert weights and ui.run.buffer.latest().step > 0
    for node, arrays in ui.run.net.get_weights().items():
        for name, value in arrays.items():
            np.testing.assert_array_equal(value, weights[node][name])


def test_training_also_runs_in_a_fresh_interpreter_as_on_macos_and_windows(
        qtbot, window, monkeypatch):
    """Where there is no fork server, each run starts a new interpreter ("spawn")."""
    from designer.run import process
    monkeypatch.setattr(process, "process_context",
                        lambda: multiprocessing.get_context("spawn"))
    ui = ui_of(window)
    ui.run.train(epochs=3)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed", ui.training_panel.message_label.text()
    assert ui.run.buffer.curves().n_epochs == 3


def test_a_process_that_dies_before_its_first_checkpoint_leaves_the_weights(qtbot, window):
    """(test_run_faults.py: one that dies later leaves its last checkpoint's weights.)"""
    ui = ui_of(window)
    ui.run.recovery_every_s = 3600.0  # none before the kill, however slow the machine
    before = {n: {k: v.copy() for k, v in a.items()} for n, a in
              ui.run.network().get_weights().items()}
    ui.run.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.run.buffer.latest() or 0)
                    and ui.run.buffer.latest().step > 5, timeout=WAIT_MS)
    assert ui.run._relay.recovery_point is None
    ui.run.process.kill()  # as if the system had ended it (out of memory)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "error"
    assert "training process was ended by signal 9" in ui.training_panel.message_label.text()
    assert window.editor.structure_lock is None
    assert ui.run.buffer.curves().n_epochs == 0  # no curve the weights never reached
    after = ui.run.network().get_weights()  # what the next run starts from
    for node, arrays in before.items():
        for name, value in arrays.items():
            np.testing.assert_array_equal(after[node][name], value)
    ui.run.train(epochs=2)  # and the next run works
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"


def test_saving_during_a_run_stops_it_and_keeps_what_it_learned(qtbot, window, tmp_path):
    ui = ui_of(window)
    ui.run.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.run.buffer.latest() or 0)
                    and ui.run.buffer.latest().step > 3, timeout=WAIT_MS)
    path = window.session.save(tmp_path / "running.annproj")
    assert not ui.run.is_running and not window.session.is_modified
    saved = load_project(path)
    for node, arrays in ui.run.net.get_weights().items():
        for name, array in arrays.items():
            assert np.array_equal(saved.weights[node][name], array)
    assert len(saved.history["batch_loss"]) > 3  # the curve up to the stop


def test_step_two_epochs_when_idle_trains_exactly_two_then_pauses(qtbot, window):
    ui = ui_of(window)
    assert ui.run.step(2, "epoch") is None
    qtbot.waitUntil(lambda: ui.run.waiting and ui.run.state == "paused",
                    timeout=WAIT_MS)
    assert ui.run.buffer.curves().n_epochs == 2
    ui.run.step(3)  # and three batches more
    qtbot.waitUntil(lambda: ui.run.buffer.latest().step == 3 + ui.run.buffer.curves()
                    .epochs[-1]["step"] and ui.run.waiting, timeout=WAIT_MS)
    ui.run.stop()
    assert ui.run.last_reason == "stopped"


def test_the_window_starts_a_run_without_building_the_network(qtbot, window, monkeypatch):
    """The process builds network and trainer; the window only checked the spec."""
    ui = ui_of(window)

    def refuse(*args, **kwargs):
        raise AssertionError("the window built a network")

    monkeypatch.setattr(Network, "from_spec", refuse)
    ui.run.net = None  # no preview network either
    assert ui.run.train(epochs=2) is None
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed", ui.run.last_message
    assert ui.run.buffer.curves().n_epochs == 2


def test_a_setting_the_trainer_refuses_is_a_message_and_unlocks(qtbot, window):
    ui = ui_of(window)
    window.document.project.training["batch_size"] = "many"  # a damaged file
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "error"
    assert ui.run.last_message.startswith("Cannot train: ")
    assert window.editor.structure_lock is None
