"""Train and watch, as a person uses it: the default example trains in a worker thread
while the live views fill; pause/step/stop, live learning-rate changes, divergence and
import errors are shown in the panels; closing the window stops training; a saved
trained project brings its curves back.

Each test gets a real main window (offscreen) with throw-away QSettings; a fixture fails
the test if a training thread or process is left running or a window is left open.
"""

from __future__ import annotations

import csv
import io
import math
import multiprocessing
import os

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from core import cli
from core.examples import load_example
from core.project import load_project
from core.workflow import prepare_data
from designer import app as designer_app
from designer.panels.data_import import DROP_OPTION, ColumnMapping, ColumnMappingDialog
from designer.training.run_loop import confusion_matrix, output_probabilities
from designer.training.snapshots import DecimatedSeries, SnapshotBuffer

WAIT_MS = 60_000


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    for kind in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.No)
    made = []

    def make():
        settings = QSettings(str(tmp_path / f"settings{len(made)}.ini"),
                             QSettings.Format.IniFormat)
        window = designer_app.create_window(settings=settings, offer_recovery=False)
        window.resize(1400, 900)
        window.show()
        made.append(window)
        return window

    yield make
    threads = []
    for window in made:
        ui = window.training_ui
        if ui.controller._thread is not None:
            threads.append(ui.controller._thread)
        window.session.mark_clean()  # never ask at teardown
        window.close()
        window.deleteLater()
    qtbot.wait(1)
    assert all(not t.isRunning() for t in threads), "a training thread is still running"
    processes = [p for p in multiprocessing.active_children() if p.name == "ann-training"]
    assert not processes, f"training processes still running: {processes}"
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not left, f"windows left open: {left}"


@pytest.fixture
def window(make_window):
    return make_window()


def ui_of(window):
    return window.training_ui


def wait_idle(qtbot, ui) -> None:
    qtbot.waitUntil(lambda: not ui.controller.is_running, timeout=WAIT_MS)


def wait_paused(qtbot, ui) -> None:
    """The worker waits at a batch boundary and the panel knows it (buttons enabled)."""
    qtbot.waitUntil(lambda: ui.controller.worker is not None and ui.controller.worker.waiting
                    and ui.controller.state == "paused"
                    and ui.training_panel.step_button.isEnabled(), timeout=WAIT_MS)


def use_example(window, name: str) -> None:
    window.session.new_project(load_example(name))


# ------------------------------------------------------------------ pure pieces
def test_decimated_series_keeps_the_mean_and_a_bounded_size():
    series = DecimatedSeries(capacity=8)
    xs = np.arange(1, 101, dtype=float)
    series.extend(xs, 2 * xs)
    x, y = series.arrays()
    assert len(x) <= 8
    assert np.allclose(y, 2 * x)  # averaging pairs of a line stays on the line
    assert x[0] == pytest.approx(np.mean(xs[: series.stride]))


def test_history_round_trip_through_the_buffer():
    buffer = SnapshotBuffer()
    buffer.add_steps([1, 2, 3, 4], [1.0, 0.8, 0.6, 0.5])
    buffer.add_epoch({"epoch": 1.0, "step": 2.0, "loss": 0.9, "accuracy": 0.5})
    buffer.add_epoch({"epoch": 2.0, "step": 4.0, "loss": 0.55, "accuracy": 0.75})
    history = buffer.to_history()
    again = SnapshotBuffer()
    again.load_history(history)
    curves = again.curves()
    assert [e["loss"] for e in curves.epochs] == [0.9, 0.55]
    assert curves.step_loss.tolist() == [1.0, 0.8, 0.6, 0.5]
    assert again.last_step == 4 and again.last_epoch == 2


def test_axis_labels_never_crowd_a_small_plot(qapp):
    """Presentation fonts in a 60 px plot: pyqtgraph put 6 labels there, on each other."""
    import pyqtgraph as pg
    from PySide6.QtGui import QFont

    from designer.plots.common import ReadableAxis
    axis = ReadableAxis("left")
    axis.setStyle(tickFont=QFont("DejaVu Sans", 15))
    (major, _), *rest = axis.tickSpacing(-0.02, 1.02, 60)
    assert 1.04 / major <= 60 / axis_label_height(axis) and not rest
    big = axis.tickSpacing(-0.02, 1.02, 400)  # room enough: pyqtgraph's own choice
    assert big == pg.AxisItem.tickSpacing(axis, -0.02, 1.02, 400)


def axis_label_height(axis) -> float:
    from PySide6.QtGui import QFontMetrics
    return QFontMetrics(axis.style["tickFont"]).height()


def test_durations_read_as_people_say_them():
    from designer.panels.training_panel import format_duration
    assert [format_duration(s) for s in (math.nan, 0, 0.2, 12.4, 185, 3725)] == [
        "-", "0 s", "< 1 s", "12 s", "3 min 05 s", "1 h 02 min"]


def test_confusion_and_probabilities_by_hand():
    counts = confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    probs = output_probabilities(np.array([[0.25], [1.0]]))
    assert probs.tolist() == [[0.75, 0.25], [0.0, 1.0]]


# ------------------------------------------------------------------ training
def test_default_example_trains_curves_fill_and_loss_falls(qtbot, window):
    ui = ui_of(window)
    assert ui.controller.data is not None, ui.controller.data_error
    (x0, x1), _ = ui.curves.loss_plot.viewRange()  # empty: whole epochs, not 0 to 1
    assert x0 <= 0 and 10 <= x1 < 11
    ui.training_panel.epochs_box.setValue(100)
    ui.training_panel.train_button.click()
    assert window.editor.structure_lock  # the canvas is locked while training
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "completed"
    assert window.editor.structure_lock is None
    x, y = ui.curves.train_curve.getData()
    assert len(x) == 100
    assert y[-1] < 0.75 * y[0]
    assert ui.curves.loss_plot.viewRange()[0][1] >= 100  # every epoch in view
    step_x, _ = ui.curves.step_curve.getData()
    assert len(step_x) > 100
    assert ui.boundary.image.image is not None and ui.boundary.image.image.shape == (100, 100)
    assert ui.confusion.accuracy.text() == " "  # behind the Weights tab: not refreshed
    ui.docks["Confusion"].raise_()
    qtbot.waitUntil(lambda: ui.confusion.accuracy.text().startswith("accuracy"), timeout=5000)
    assert ui.controller.buffer.latest().confusion.sum() == 80  # the validation split
    assert ui.refresher.refresh_count >= 1
    history = window.document.project.history
    assert len(history["loss"]) == 100 and history["loss"][-1] < history["loss"][0]
    maps = window.session.neuron_maps
    assert maps["hidden1"].shape == (8, 100, 100)
    assert "100 / 100" in ui.training_panel.epoch_label.text()


def test_boundary_grid_matches_the_network_at_the_data_points(qtbot, window):
    ui = ui_of(window)
    ui.controller.train(epochs=20)
    wait_idle(qtbot, ui)
    data, snapshot = ui.controller.data, ui.controller.buffer.latest()
    x0, x1, y0, y1 = data.extent()
    points = data.raw_train.X[:50]
    cols = np.rint((points[:, 0] - x0) / (x1 - x0) * 99).astype(int)
    rows = np.rint((points[:, 1] - y0) / (y1 - y0) * 99).astype(int)
    at_cells = np.column_stack([x0 + cols * (x1 - x0) / 99, y0 + rows * (y1 - y0) / 99])
    expected = ui.controller.net.predict(data.to_inputs(at_cells))[:, 0]
    assert np.allclose(snapshot.grid[rows, cols, 0], expected, atol=1e-5)


def test_train_again_continues_from_the_current_weights(qtbot, window):
    ui = ui_of(window)
    ui.controller.train(epochs=5)
    wait_idle(qtbot, ui)
    first = ui.controller.buffer.curves().epochs[-1]["loss"]
    ui.controller.train(epochs=5)
    wait_idle(qtbot, ui)
    epochs = ui.controller.buffer.curves().epochs
    assert [e["epoch"] for e in epochs] == [float(i) for i in range(1, 11)]
    assert epochs[5]["loss"] < epochs[0]["loss"] and abs(epochs[5]["loss"] - first) < 0.1
    ui.training_panel.reset_button.click()
    assert ui.controller.buffer.curves().n_epochs == 0


def test_pause_step_step_epoch_and_stop(qtbot, window):
    ui = ui_of(window)
    c = ui.controller
    c.train(epochs=100_000)
    qtbot.waitUntil(lambda: (c.buffer.latest() or 0) and c.buffer.latest().step > 5,
                    timeout=WAIT_MS)
    ui.training_panel.pause_button.click()
    wait_paused(qtbot, ui)
    assert c.state == "paused"
    step = c.buffer.latest().step
    qtbot.wait(100)
    assert c.buffer.latest().step == step  # paused means paused
    ui.training_panel.step_button.click()
    qtbot.waitUntil(lambda: c.buffer.latest().step == step + 1, timeout=WAIT_MS)
    wait_paused(qtbot, ui)
    assert c.buffer.latest().step == step + 1
    epochs = len(c.buffer.curves().epochs)
    ui.training_panel.epoch_button.click()
    qtbot.waitUntil(lambda: len(c.buffer.curves().epochs) == epochs + 1, timeout=WAIT_MS)
    wait_paused(qtbot, ui)
    assert len(c.buffer.curves().epochs) == epochs + 1
    thread = c._thread
    ui.training_panel.stop_button.click()
    assert not c.is_running and not thread.isRunning()
    assert c.last_reason == "stopped"
    assert window.editor.structure_lock is None


def test_step_when_idle_trains_exactly_one_batch(qtbot, window):
    ui = ui_of(window)
    ui.training_panel.step_button.click()
    wait_paused(qtbot, ui)
    assert ui.controller.buffer.latest().step == 1
    ui.controller.stop()
    assert not ui.controller.is_running


def test_learning_rate_change_during_training_takes_effect(qtbot, window):
    ui = ui_of(window)
    c = ui.controller
    c.train(epochs=100_000)
    qtbot.waitUntil(lambda: c.buffer.latest() is not None and c.buffer.latest().step > 3,
                    timeout=WAIT_MS)
    assert c.buffer.latest().lr == pytest.approx(0.03)
    ui.training_panel.lr_box.setValue(0.0025)
    qtbot.waitUntil(lambda: c.buffer.latest().lr == pytest.approx(0.0025), timeout=WAIT_MS)
    assert c.settings["optimizer"]["lr"] == pytest.approx(0.0025)
    c.stop()


def test_speed_slows_training_down_and_full_speed_takes_effect_at_once(qtbot, window):
    import time
    ui = ui_of(window)
    panel, c = ui.training_panel, ui.controller
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(10.0))
    start = time.perf_counter()
    c.train(epochs=3)  # the spiral: 400 samples an epoch, under 20 ms at full speed
    wait_idle(qtbot, ui)
    assert c.last_reason == "completed" and time.perf_counter() - start >= 0.25
    assert c.buffer.latest().samples_per_s < 3 * 10 * 400  # the pace, not the engine
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(1.0))
    c.train(epochs=60)  # a minute at this pace
    qtbot.wait(500)
    assert c.is_running and c.buffer.curves().n_epochs <= 4
    start = time.perf_counter()
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(None))  # full speed
    wait_idle(qtbot, ui)
    assert c.last_reason == "completed" and time.perf_counter() - start < 20
    assert c.buffer.curves().n_epochs == 63


def test_closing_the_window_during_training_leaves_no_running_thread(qtbot, make_window,
                                                                    monkeypatch):
    window = make_window()
    ui = ui_of(window)
    ui.controller.train(epochs=100_000)
    qtbot.waitUntil(lambda: ui.controller.buffer.latest() is not None, timeout=WAIT_MS)
    thread = ui.controller._thread
    assert isinstance(thread, QThread) and thread.isRunning()
    asked = ask_returns(monkeypatch, QMessageBox.StandardButton.Discard)
    window.close()
    assert asked == ["Unsaved changes"]  # a run under way is unsaved work
    assert not thread.isRunning()
    assert not ui.controller.is_running


def test_training_runs_in_a_process_of_its_own_that_ends_with_the_run(qtbot, window):
    ui = ui_of(window)
    ui.controller.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.controller.buffer.latest() or 0)
                    and ui.controller.buffer.latest().step > 3, timeout=WAIT_MS)
    process = ui.controller.worker._process
    assert process.is_alive() and process.pid != os.getpid()
    ui.controller.stop()
    assert not process.is_alive() and process.exitcode == 0
    assert ui.controller.last_reason == "stopped"
    # what the process learned is the project's, and the designer's network has it too
    weights = window.document.project.weights
    assert weights and ui.controller.buffer.latest().step > 0
    for node, arrays in ui.controller.net.get_weights().items():
        for name, value in arrays.items():
            np.testing.assert_array_equal(value, weights[node][name])


def test_training_also_runs_in_a_fresh_interpreter_as_on_macos_and_windows(
        qtbot, window, monkeypatch):
    """Where there is no fork server, each run starts a new interpreter ("spawn")."""
    from designer.training import worker
    monkeypatch.setattr(worker, "process_context",
                        lambda: multiprocessing.get_context("spawn"))
    ui = ui_of(window)
    ui.controller.train(epochs=3)
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "completed", ui.training_panel.message_label.text()
    assert ui.controller.buffer.curves().n_epochs == 3


def test_a_training_process_that_dies_is_a_message_and_the_weights_stay(qtbot, window):
    ui = ui_of(window)
    before = {n: {k: v.copy() for k, v in a.items()} for n, a in
              ui.controller.network().get_weights().items()}
    ui.controller.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.controller.buffer.latest() or 0)
                    and ui.controller.buffer.latest().step > 5, timeout=WAIT_MS)
    ui.controller.worker.kill()  # as if the system had ended it (out of memory)
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "error"
    assert "training process was ended by signal 9" in ui.training_panel.message_label.text()
    assert window.editor.structure_lock is None
    after = ui.controller.network().get_weights()  # what the next run starts from
    for node, arrays in before.items():
        for name, value in arrays.items():
            np.testing.assert_array_equal(after[node][name], value)
    ui.controller.train(epochs=2)  # and the next run works
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "completed"


def test_diverging_setup_shows_its_message(qtbot, window):
    use_example(window, "sine")
    ui = ui_of(window)
    ui.training_panel.optimizer_box.setCurrentText("sgd")
    ui.training_panel.lr_box.setValue(10.0)
    ui.training_panel.epochs_box.setValue(50)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "diverged"
    text = ui.training_panel.message_label.text()
    assert "diverged" in text and "learning rate" in text
    assert window.editor.structure_lock is None
    # the last good weights came back from the training process: finite, and trained
    weights = window.document.project.weights
    assert weights and all(np.isfinite(a).all() for arrays in weights.values()
                           for a in arrays.values())


def test_a_second_run_that_diverges_names_the_epoch_the_panel_shows(qtbot, window):
    use_example(window, "sine")
    ui = ui_of(window)
    ui.controller.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.training_panel.left_label.text() == "Time left 0 s"  # done
    ui.training_panel.optimizer_box.setCurrentText("sgd")
    ui.training_panel.lr_box.setValue(10.0)
    ui.controller.train(epochs=5)
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "diverged"
    text = ui.training_panel.message_label.text()
    assert "diverged in epoch 3, step " in text, text  # not "epoch 1": runs add up
    assert ui.training_panel.left_label.text() == "Time left -"  # not "0 s": it ended early


def test_digits_show_images_and_a_ten_class_confusion_matrix(qtbot, window):
    use_example(window, "digits-mlp")
    ui = ui_of(window)
    ui.docks["Images"].raise_()
    ui.controller.train(epochs=2)
    wait_idle(qtbot, ui)
    labels = [t.toPlainText() for t in ui.images._labels]
    assert len(labels) == 16 and all(label for label in labels)
    snapshot = ui.controller.buffer.latest()
    assert snapshot.confusion.shape == (10, 10)
    assert snapshot.confusion.sum() == len(ui.controller.data.prepared.val.X)
    ui.inference_panel.take_sample()
    assert ui.inference_panel.answer.text().startswith("Prediction:")


def test_inference_bars_round_their_percentages(qtbot, window, monkeypatch):
    ui = ui_of(window)
    panel = ui.inference_panel
    net = panel._network()
    monkeypatch.setattr(net, "predict", lambda x: np.array([[0.8549]]))  # one sigmoid unit
    panel.update_output()
    assert [bar.text() for bar in panel.bars] == ["15%", "85%"]  # Qt's own: 14% + 85%
    assert panel.answer.text().endswith("(85%)")


# ------------------------------------------------------------------ data panel
def test_import_error_is_shown_in_the_panel(qtbot, window, tmp_path):
    ui = ui_of(window)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n")
    assert not ui.data_panel.import_with(str(bad), ColumnMapping("no such column", ["a"]))
    text = ui.data_panel.error_label.text()
    assert "bad.csv" in text and "no such column" in text
    assert window.document.project.data["kind"] == "builtin"  # the old data stays
    missing = str(tmp_path / "missing.csv")
    assert not ui.data_panel.import_file(missing)
    assert "missing.csv" in ui.data_panel.error_label.text()


def test_csv_import_mismatch_has_a_one_click_fix(qtbot, window, tmp_path):
    ui = ui_of(window)
    rng = np.random.default_rng(0)
    rows = ["f1,f2,f3,kind"] + [f"{a:.3f},{b:.3f},{c:.3f},{'abc'[int(k)]}" for a, b, c, k in
                                zip(*rng.normal(size=(3, 60)), rng.integers(0, 3, 60),
                                    strict=True)]
    path = tmp_path / "three.csv"
    path.write_text("\n".join(rows) + "\n")
    ui.training_panel.loss_box.setCurrentText("categorical_crossentropy")
    assert ui.data_panel.import_with(str(path), ColumnMapping("kind", ["f1", "f2", "f3"]))
    mismatches = ui.data_panel.check_network()
    assert {(m.node_id, m.param) for m in mismatches} == {("input", "shape"),
                                                          ("output", "units")}
    assert ui.data_panel.fix_button.isVisibleTo(ui.data_panel)
    ui.data_panel.fix_button.click()
    spec = {n["id"]: n for n in window.document.project.spec["nodes"]}
    assert spec["input"]["shape"] == [3] and spec["output"]["units"] == 3
    assert ui.data_panel.check_network() == []
    assert "a 2" in ui.data_panel.balance_label.text() or "a " in ui.data_panel.balance_label.text()


def test_feature_transforms_change_the_input_and_keep_the_grid(qtbot, window):
    ui = ui_of(window)
    ui.data_panel.transform_boxes["x1*x2"].setChecked(True)
    assert window.document.project.data["transforms"] == ["x1", "x2", "x1*x2"]
    data = ui.controller.data
    assert data.input_shape == (3,)
    grid = data.grid()
    raw = np.array([[grid.extent[0], grid.extent[2]]], dtype=np.float32)
    assert np.allclose(grid.inputs[0], data.to_inputs(raw)[0])
    assert [m.param for m in ui.data_panel.check_network()] == ["shape"]


# ------------------------------------------------------------------ files
def test_opening_a_trained_project_restores_its_curves(qtbot, make_window, tmp_path):
    window = make_window()
    ui = ui_of(window)
    ui.controller.train(epochs=6)
    wait_idle(qtbot, ui)
    losses = [e["loss"] for e in ui.controller.buffer.curves().epochs]
    path = tmp_path / "trained.annproj"
    window.session.save(path)
    other = make_window()
    other.session.open(path)
    x, y = ui_of(other).curves.train_curve.getData()
    assert len(x) == 6 and np.allclose(y, losses)
    assert ui_of(other).boundary.image.image is not None
    text = ui_of(other).curves.readout_at(6.0)
    assert text.startswith("epoch 6") and "loss" in text
    assert math.isclose(float(text.split("loss ")[1].split()[0]), losses[-1], rel_tol=1e-3)
    panel = ui_of(other).training_panel  # the counters say how far it was trained
    steps = ui.controller.buffer.last_step
    assert panel.epoch_label.text() == "Epoch 6" and panel.step_label.text() == f"Step {steps}"
    assert panel.loss_label.text() == f"Loss {losses[-1]:.4g}"
    ui_of(other).controller.reset_weights()
    assert panel.epoch_label.text() == "Epoch 0" and panel.loss_label.text() == "Loss -"


# ------------------------------------------------------------------ unsaved work
def ask_returns(monkeypatch, answer) -> list[str]:
    """Make QMessageBox.question answer ``answer``; returns the titles of the questions."""
    asked: list[str] = []

    def question(parent, title, *args, **kwargs):
        asked.append(title)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_shuffle_off_is_a_setting_that_trains_and_undoes(qtbot, window):
    ui, doc = ui_of(window), window.document
    panel = ui.training_panel
    assert panel.shuffle_box.isChecked()  # the default: shuffled every epoch
    panel.shuffle_box.setChecked(False)
    assert doc.project.training["shuffle"] is False and window.session.is_modified
    ui.controller.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.controller.last_reason == "completed"
    window.actions_by_name["undo"].trigger()
    assert panel.shuffle_box.isChecked() and doc.project.training.get("shuffle") is not False


def test_panel_edits_mark_the_project_modified_and_undo_restores_them(qtbot, window):
    ui, doc = ui_of(window), window.document
    panel, undo = ui.training_panel, window.actions_by_name["undo"]
    assert not window.session.is_modified and not window.isWindowModified()
    panel.lr_box.setValue(0.005)
    panel.lr_box.setValue(0.004)  # one field edited twice: one undo step
    panel.loss_box.setCurrentText("mse")
    assert window.session.is_modified and window.isWindowModified()
    assert window.editor.undo_stack.count() == 2 and ui.controller.settings["loss"] == "mse"
    undo.trigger()
    assert panel.loss_box.currentText() == "binary_crossentropy"
    assert ui.controller.settings["optimizer"]["lr"] == pytest.approx(0.004)
    undo.trigger()
    assert panel.lr_box.value() == pytest.approx(0.03)
    assert ui.controller.settings["optimizer"] == {"type": "adam", "lr": 0.03}
    assert not window.session.is_modified and not window.isWindowModified()
    n_val = len(ui.controller.data.prepared.val.X)
    ui.data_panel.val_box.setValue(0.5)
    assert window.session.is_modified and len(ui.controller.data.prepared.val.X) == 200
    undo.trigger()  # the split comes back, the data is split again, the box follows
    assert doc.project.split["val"] == pytest.approx(0.2)
    assert len(ui.controller.data.prepared.val.X) == n_val
    assert ui.data_panel.val_box.value() == pytest.approx(0.2) and not window.session.is_modified
    ui.data_panel.dataset_box.setCurrentIndex(ui.data_panel.dataset_box.findData("xor"))
    assert doc.project.data["name"] == "xor" and ui.controller.data.raw.name != "spiral"
    undo.trigger()
    assert doc.project.data["name"] == "spiral"
    assert ui.data_panel.dataset_box.currentData() == "spiral"
    assert ui.controller.data.raw.name == "spiral"


def test_training_is_unsaved_work_saving_clears_it_and_closing_asks(qtbot, make_window,
                                                                    tmp_path, monkeypatch):
    window = make_window()
    ui = ui_of(window)
    ui.controller.train(epochs=2)
    wait_idle(qtbot, ui)
    assert window.editor.undo_stack.isClean() and window.session.is_modified
    assert window.isWindowModified()
    asked = ask_returns(monkeypatch, QMessageBox.StandardButton.Cancel)
    window.close()
    assert asked == ["Unsaved changes"] and window.isVisible()
    path = tmp_path / "trained.annproj"
    window.session.save(path)
    assert not window.session.is_modified and not window.isWindowModified()
    assert len(load_project(path).history["loss"]) == 2
    window.close()
    assert asked == ["Unsaved changes"] and not window.isVisible()  # nothing to ask


def test_saving_during_a_run_stops_it_and_keeps_what_it_learned(qtbot, window, tmp_path):
    ui = ui_of(window)
    ui.controller.train(epochs=100_000)
    qtbot.waitUntil(lambda: (ui.controller.buffer.latest() or 0)
                    and ui.controller.buffer.latest().step > 3, timeout=WAIT_MS)
    path = window.session.save(tmp_path / "running.annproj")
    assert not ui.controller.is_running and not window.session.is_modified
    saved = load_project(path)
    for node, arrays in ui.controller.net.get_weights().items():
        for name, array in arrays.items():
            assert np.array_equal(saved.weights[node][name], array)
    assert len(saved.history["batch_loss"]) > 3  # the curve up to the stop


# ------------------------------------------------------------------ GUI vs command line
def test_gui_project_with_transforms_trains_and_predicts_the_same_on_the_cli(
        qtbot, window, tmp_path, capsys):
    ui, doc = ui_of(window), window.document
    ui.data_panel.transform_boxes["x1*x2"].setChecked(True)
    ui.data_panel.transform_boxes["sin(x1)"].setChecked(True)
    ui.data_panel.fix_button.click()  # the Input takes the four transformed features
    ui.training_panel.reset_button.click()  # both runs start from the saved weights
    start = window.session.save(tmp_path / "start.annproj")
    assert load_project(start).data["transforms"] == ["x1", "x2", "x1*x2", "sin(x1)"]
    cli_data = prepare_data(load_project(start))
    assert np.array_equal(cli_data.train.X, ui.controller.data.prepared.train.X)
    ui.controller.train(epochs=3)
    wait_idle(qtbot, ui)
    trained = window.session.save(tmp_path / "gui.annproj")

    assert cli.main(["train", str(start), "--epochs", "3", "-q",
                     "-o", str(tmp_path / "cli.annproj")]) == 0
    by_cli = load_project(tmp_path / "cli.annproj").weights
    for node, arrays in doc.project.weights.items():
        for name, array in arrays.items():
            assert np.allclose(by_cli[node][name], array, atol=1e-5), (node, name)

    points = ui.controller.data.raw.X[:25]
    table = tmp_path / "points.csv"
    table.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in points.tolist()))
    capsys.readouterr()
    assert cli.main(["predict", str(trained), str(table)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = ui.controller.net.predict(ui.controller.data.to_inputs(points))[:, 0]
    assert np.allclose([float(r["p(positive)"]) for r in rows], expected, atol=1e-5)


# ------------------------------------------------------------------ the import dialog
def write_csv(path, bad_line: int | None = None) -> None:
    """label (a/b), size (numbers), color (text), noise (numbers); 40 rows."""
    rng = np.random.default_rng(1)
    rows = ["label,size,color,noise"]
    for i in range(40):
        size = "oops" if bad_line is not None and i + 2 == bad_line else f"{i * 0.5:g}"
        rows.append(f"{'ab'[i % 2]},{size},{('red', 'green', 'blue')[i % 3]},"
                    f"{rng.random():.3f}")
    path.write_text("\n".join(rows) + "\n")


def answer_mapping_dialog(qtbot, act) -> list:
    """When the (modal) column-mapping dialog shows, run ``act(dialog)`` and press OK."""
    seen: list = []

    def run(tries: int = 0) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ColumnMappingDialog):
            if tries < 200:
                QTimer.singleShot(10, lambda: run(tries + 1))
            return
        seen.append(dialog)
        try:
            act(dialog)
        finally:
            ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
            qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, run)
    return seen


def column(dialog, name: str) -> int:
    return dialog.preview.columns.index(name)


def map_label_size_color(dialog) -> None:
    """Target label; features size and color (categorical, as the dialog guessed)."""
    dialog.target_box.setCurrentText("label")
    dialog.table.item(0, column(dialog, "noise")).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.table.item(1, column(dialog, "color")).checkState() == Qt.CheckState.Checked
    assert dialog.table.item(1, column(dialog, "size")).checkState() == Qt.CheckState.Unchecked


def test_column_mapping_dialog_imports_the_chosen_columns(qtbot, window, tmp_path):
    ui, path = ui_of(window), tmp_path / "shapes.csv"
    write_csv(path)
    seen = answer_mapping_dialog(qtbot, map_label_size_color)
    assert ui.data_panel.import_file(str(path))
    assert len(seen) == 1 and not seen[0].drop_box.isChecked()
    source = window.document.project.data
    assert (source["target"], source["features"], source["categorical"]) == (
        "label", ["size", "color"], ["color"])
    assert sorted(source["categories"]["color"]) == ["blue", "green", "red"]
    data = ui.controller.data
    assert data.raw.X.shape == (40, 4) and data.class_names == ["a", "b"]
    assert window.session.is_modified  # a new data set is an edit
    window.actions_by_name["undo"].trigger()
    assert window.document.project.data["kind"] == "builtin"


def test_a_bad_cell_is_shown_in_the_panel_and_can_be_dropped(qtbot, window, tmp_path):
    ui, path = ui_of(window), tmp_path / "bad.csv"
    write_csv(path, bad_line=9)
    answer_mapping_dialog(qtbot, map_label_size_color)
    assert not ui.data_panel.import_file(str(path))
    text = ui.data_panel.error_label.text()
    assert "bad.csv" in text and "line 9" in text and "size" in text
    assert DROP_OPTION in text and "--drop-bad-rows" not in text
    assert window.document.project.data["kind"] == "builtin"  # the old data stays
    assert not window.session.is_modified

    def drop_too(dialog) -> None:
        map_label_size_color(dialog)
        assert dialog.drop_box.isVisible() and dialog.drop_box.text() == DROP_OPTION
        dialog.drop_box.setChecked(True)

    answer_mapping_dialog(qtbot, drop_too)
    assert ui.data_panel.import_file(str(path))
    assert ui.data_panel.error_label.text() == ""
    assert len(ui.controller.data.raw.X) == 39
    assert "1 row with bad cells skipped" in ui.data_panel.source_label.text()
    assert window.document.project.data["drop_bad_rows"] is True


def test_npy_table_imports_with_a_column_number_as_target(qtbot, window, tmp_path):
    rng = np.random.default_rng(2)
    table = np.column_stack([rng.normal(size=(50, 3)), rng.integers(0, 2, 50)])
    path = tmp_path / "table.npy"
    np.save(path, table)
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(path), ColumnMapping("column 3"))
    assert window.document.project.data["target"] == 3
    assert ui.controller.data.raw.X.shape == (50, 3)
    again = prepare_data(window.document.project)  # what the command line trains on
    assert np.array_equal(again.train.X, ui.controller.data.prepared.train.X)


def test_train_with_a_broken_network_says_how_many_problems_and_where(qtbot, window):
    ui = ui_of(window)
    window.editor.add_node("Dense", pos=(0.0, 300.0))  # loose: a second output, no input
    ui.training_panel.train_button.click()
    assert not ui.controller.is_running
    text = ui.training_panel.message_label.text()
    assert text.startswith("Cannot train: the network has ") and " problems. " in text, text
    assert "must end in exactly one node. See the Problems list" in text, text
    assert ".)" not in text and ".." not in text
