"""Train and watch, as a person uses it: the default example trains in a process of its
own while the live views fill; pause/step/stop, live learning-rate changes, divergence and
import errors are shown in the panels; closing the window stops training; a saved
trained project brings its curves back.

Each test gets a real main window (offscreen) with throw-away QSettings; a fixture fails
the test if a training thread or process is left running or a window is left open.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from training_windows import (
    WAIT_MS,
    ask_returns,
    ui_of,
    use_example,
    wait_idle,
    wait_paused,
)

from core import cli
from core.examples import load_example
from core.project import load_project
from core.workflow import prepare_data
from designer.panels.data_import import DROP_OPTION, ColumnMapping, ColumnMappingDialog


# ------------------------------------------------------------------ pure pieces
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


# ------------------------------------------------------------------ training
def test_default_example_trains_curves_fill_and_loss_falls(qtbot, window):
    ui = ui_of(window)
    assert ui.run.data is not None, ui.run.data_error
    (x0, x1), _ = ui.curves.loss_plot.viewRange()  # empty: whole epochs, not 0 to 1
    assert x0 <= 0 and 10 <= x1 < 11
    redraws = []
    ui.refresher.refreshed.connect(lambda: redraws.append(1))
    ui.training_panel.epochs_box.setValue(100)
    ui.training_panel.train_button.click()
    assert window.editor.structure_lock  # the canvas is locked while training
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"
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
    assert ui.run.buffer.latest().confusion.sum() == 80  # the validation split
    assert redraws  # the views were redrawn while it trained
    history = window.document.project.history
    assert len(history["loss"]) == 100 and history["loss"][-1] < history["loss"][0]
    maps = window.session.neuron_maps
    assert maps["hidden1"].shape == (8, 100, 100)
    assert "100 / 100" in ui.training_panel.epoch_label.text()


def test_boundary_grid_matches_the_network_at_the_data_points(qtbot, window):
    ui = ui_of(window)
    ui.run.train(epochs=20)
    wait_idle(qtbot, ui)
    data, snapshot = ui.run.data, ui.run.buffer.latest()
    x0, x1, y0, y1 = data.extent()
    points = data.raw_train.X[:50]
    cols = np.rint((points[:, 0] - x0) / (x1 - x0) * 99).astype(int)
    rows = np.rint((points[:, 1] - y0) / (y1 - y0) * 99).astype(int)
    at_cells = np.column_stack([x0 + cols * (x1 - x0) / 99, y0 + rows * (y1 - y0) / 99])
    expected = ui.run.net.predict(data.to_inputs(at_cells))[:, 0]
    assert np.allclose(snapshot.grid[rows, cols, 0], expected, atol=1e-5)




def test_pause_step_step_epoch_and_stop(qtbot, window):
    ui = ui_of(window)
    run = ui.run
    run.train(epochs=100_000)
    qtbot.waitUntil(lambda: (run.buffer.latest() or 0) and run.buffer.latest().step > 5,
                    timeout=WAIT_MS)
    ui.training_panel.pause_button.click()
    wait_paused(qtbot, ui)
    assert run.state == "paused"
    step = run.buffer.latest().step
    qtbot.wait(100)
    assert run.buffer.latest().step == step  # paused means paused
    ui.training_panel.step_button.click()
    qtbot.waitUntil(lambda: run.buffer.latest().step == step + 1, timeout=WAIT_MS)
    wait_paused(qtbot, ui)
    assert run.buffer.latest().step == step + 1
    epochs = len(run.buffer.curves().epochs)
    ui.training_panel.epoch_button.click()
    qtbot.waitUntil(lambda: len(run.buffer.curves().epochs) == epochs + 1, timeout=WAIT_MS)
    wait_paused(qtbot, ui)
    assert len(run.buffer.curves().epochs) == epochs + 1
    thread = run._thread
    ui.training_panel.stop_button.click()  # never waits: the run ends soon after
    wait_idle(qtbot, ui)
    assert not run.is_running and not thread.isRunning()
    assert run.last_reason == "stopped"
    assert window.editor.structure_lock is None


def test_step_when_idle_trains_exactly_one_batch(qtbot, window):
    ui = ui_of(window)
    ui.training_panel.step_button.click()
    wait_paused(qtbot, ui)
    assert ui.run.buffer.latest().step == 1
    ui.run.stop()
    assert not ui.run.is_running




def test_speed_slows_training_down_and_full_speed_takes_effect_at_once(qtbot, window):
    import time
    ui = ui_of(window)
    panel, run = ui.training_panel, ui.run
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(10.0))
    start = time.perf_counter()
    run.train(epochs=3)  # the spiral: 400 samples an epoch, under 20 ms at full speed
    wait_idle(qtbot, ui)
    assert run.last_reason == "completed" and time.perf_counter() - start >= 0.25
    assert run.buffer.latest().samples_per_s < 3 * 10 * 400  # the pace, not the engine
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(1.0))
    run.train(epochs=60)  # a minute at this pace
    qtbot.wait(500)
    assert run.is_running and run.buffer.curves().n_epochs <= 4
    start = time.perf_counter()
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(None))  # full speed
    wait_idle(qtbot, ui)
    assert run.last_reason == "completed" and time.perf_counter() - start < 20
    assert run.buffer.curves().n_epochs == 63










def test_diverging_setup_shows_its_message(qtbot, window):
    use_example(window, "sine")
    ui = ui_of(window)
    ui.training_panel.optimizer_box.setCurrentText("sgd")
    ui.training_panel.lr_box.setValue(10.0)
    ui.training_panel.epochs_box.setValue(50)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "diverged"
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
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.training_panel.left_label.text() == "Time left 0 s"  # done
    ui.training_panel.optimizer_box.setCurrentText("sgd")
    ui.training_panel.lr_box.setValue(10.0)
    ui.run.train(epochs=5)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "diverged"
    text = ui.training_panel.message_label.text()
    assert "diverged in epoch 3, step " in text, text  # not "epoch 1": runs add up
    assert ui.training_panel.left_label.text() == "Time left -"  # not "0 s": it ended early


def test_digits_show_images_and_a_ten_class_confusion_matrix(qtbot, window):
    use_example(window, "digits-mlp")
    ui = ui_of(window)
    ui.docks["Images"].raise_()
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    labels = [t.toPlainText() for t in ui.images._labels]
    assert len(labels) == 16 and all(label for label in labels)
    snapshot = ui.run.buffer.latest()
    assert snapshot.confusion.shape == (10, 10)
    assert snapshot.confusion.sum() == len(ui.run.data.prepared.val.X)
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
                                                          ("output", "units"),
                                                          ("output", "activation")}
    assert ui.data_panel.fix_button.isVisibleTo(ui.data_panel)
    ui.data_panel.fix_button.click()
    spec = {n["id"]: n for n in window.document.project.spec["nodes"]}
    assert spec["input"]["shape"] == [3] and spec["output"]["units"] == 3
    assert spec["output"]["activation"] == "softmax"  # not 3 sigmoids
    assert ui.data_panel.check_network() == []
    assert "a 2" in ui.data_panel.balance_label.text() or "a " in ui.data_panel.balance_label.text()


def test_feature_transforms_change_the_input_and_keep_the_grid(qtbot, window):
    ui = ui_of(window)
    ui.data_panel.transform_boxes["x1*x2"].setChecked(True)
    assert window.document.project.data["transforms"] == ["x1", "x2", "x1*x2"]
    data = ui.run.data
    assert data.input_shape == (3,)
    grid = data.grid()
    raw = np.array([[grid.extent[0], grid.extent[2]]], dtype=np.float32)
    assert np.allclose(grid.inputs[0], data.to_inputs(raw)[0])
    assert [m.param for m in ui.data_panel.check_network()] == ["shape"]


# ------------------------------------------------------------------ files
def test_opening_a_trained_project_restores_its_curves(qtbot, make_window, tmp_path):
    window = make_window()
    ui = ui_of(window)
    ui.run.train(epochs=6)
    wait_idle(qtbot, ui)
    losses = [e["loss"] for e in ui.run.buffer.curves().epochs]
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
    steps = ui.run.buffer.last_step
    assert panel.epoch_label.text() == "Epoch 6" and panel.step_label.text() == f"Step {steps}"
    assert panel.loss_label.text() == f"Loss {losses[-1]:.4g}"
    ui_of(other).run.reset_weights()
    assert panel.epoch_label.text() == "Epoch 0" and panel.loss_label.text() == "Loss -"


# ------------------------------------------------------------------ unsaved work
def test_shuffle_off_is_a_setting_that_trains_and_undoes(qtbot, window):
    ui, doc = ui_of(window), window.document
    panel = ui.training_panel
    assert panel.shuffle_box.isChecked()  # the default: shuffled every epoch
    panel.shuffle_box.setChecked(False)
    assert doc.project.training["shuffle"] is False and window.session.is_modified
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"
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
    assert window.editor.undo_stack.count() == 2 and ui.run.settings["loss"] == "mse"
    undo.trigger()
    assert panel.loss_box.currentText() == "binary_crossentropy"
    assert ui.run.settings["optimizer"]["lr"] == pytest.approx(0.004)
    undo.trigger()
    assert panel.lr_box.value() == pytest.approx(0.03)
    assert ui.run.settings["optimizer"] == {"type": "adam", "lr": 0.03}
    assert not window.session.is_modified and not window.isWindowModified()
    n_val = len(ui.run.data.prepared.val.X)
    ui.data_panel.val_box.setValue(0.5)
    assert window.session.is_modified and len(ui.run.data.prepared.val.X) == 200
    undo.trigger()  # the split comes back, the data is split again, the box follows
    assert doc.project.split["val"] == pytest.approx(0.2)
    assert len(ui.run.data.prepared.val.X) == n_val
    assert ui.data_panel.val_box.value() == pytest.approx(0.2) and not window.session.is_modified
    ui.data_panel.dataset_box.setCurrentIndex(ui.data_panel.dataset_box.findData("xor"))
    assert doc.project.data["name"] == "xor" and ui.run.data.raw.name != "spiral"
    undo.trigger()
    assert doc.project.data["name"] == "spiral"
    assert ui.data_panel.dataset_box.currentData() == "spiral"
    assert ui.run.data.raw.name == "spiral"


def test_training_is_unsaved_work_saving_clears_it_and_closing_asks(qtbot, make_window,
                                                                    tmp_path, monkeypatch):
    window = make_window()
    ui = ui_of(window)
    ui.run.train(epochs=2)
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
    assert np.array_equal(cli_data.train.X, ui.run.data.prepared.train.X)
    ui.run.train(epochs=3)
    wait_idle(qtbot, ui)
    trained = window.session.save(tmp_path / "gui.annproj")

    assert cli.main(["train", str(start), "--epochs", "3", "-q",
                     "-o", str(tmp_path / "cli.annproj")]) == 0
    by_cli = load_project(tmp_path / "cli.annproj").weights
    for node, arrays in doc.project.weights.items():
        for name, array in arrays.items():
            assert np.allclose(by_cli[node][name], array, atol=1e-5), (node, name)

    points = ui.run.data.raw.X[:25]
    table = tmp_path / "points.csv"
    table.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in points.tolist()))
    capsys.readouterr()
    assert cli.main(["predict", str(trained), str(table)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = ui.run.net.predict(ui.run.data.to_inputs(points))[:, 0]
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
    data = ui.run.data
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
    assert len(ui.run.data.raw.X) == 39
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
    assert ui.run.data.raw.X.shape == (50, 3)
    again = prepare_data(window.document.project)  # what the command line trains on
    assert np.array_equal(again.train.X, ui.run.data.prepared.train.X)


def test_train_with_a_broken_network_says_how_many_problems_and_where(qtbot, window):
    ui = ui_of(window)
    window.editor.add_node("Dense", pos=(0.0, 300.0))  # loose: a second output, no input
    ui.training_panel.train_button.click()
    assert not ui.run.is_running
    text = ui.training_panel.message_label.text()
    assert text.startswith("Cannot train: the network has ") and " problems. " in text, text
    assert "must end in exactly one node. See the Problems list" in text, text
    assert ".)" not in text and ".." not in text


# ------------------------------------------------------------------ the engine
def test_engine_choice_trains_with_pytorch_and_undoes(qtbot, window):
    pytest.importorskip("torch")
    ui, doc = ui_of(window), window.document
    panel = ui.training_panel
    assert panel.engine_box.isVisibleTo(panel) and panel.engine_box.currentText() == "NumPy"
    panel.engine_box.setCurrentIndex(panel.engine_box.findText("PyTorch, CPU"))
    assert doc.project.training["backend"] == "torch"
    assert doc.project.training["device"] == "cpu"
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"
    assert len(doc.project.history["loss"]) == 2
    window.actions_by_name["undo"].trigger()
    assert panel.engine_box.currentText() == "NumPy"
    assert doc.project.training.get("backend") in (None, "numpy")


def test_engine_choice_is_hidden_without_pytorch(qtbot, make_window, monkeypatch):
    monkeypatch.setattr("designer.panels.training_panel.torch_available", lambda: False)
    panel = ui_of(make_window()).training_panel
    assert not panel.engine_box.isVisibleTo(panel)
    assert not panel.engine_label.isVisibleTo(panel)


def test_a_project_with_nan_weights_opens_and_says_how_to_fix_it(qtbot, window, tmp_path,
                                                                 monkeypatch):
    from core.project import build_network, save_project
    project = load_example("spiral")
    weights = build_network(project).get_weights()
    layer = next(iter(weights))
    weights[layer]["kernel"][0, 0] = np.nan
    project.weights = weights
    path = tmp_path / "blown.annproj"
    save_project(project, path)
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _w, title, text, *a: warnings.append(
        text))
    assert window.files.open_path(str(path))  # raised a ValueError in the inference panel
    qtbot.wait(50)
    assert len(warnings) == 1 and f"'{layer}'" in warnings[0] and "NaN" in warnings[0]
    assert "Reset weights" in warnings[0] and warnings[0].count(". ") == 0
    ui = ui_of(window)
    assert "Reset weights" in ui.inference_panel.error.text()
    from PySide6.QtWidgets import QDockWidget
    window.set_neuron_view(True)  # edges drawn from the NaN weights
    window.findChild(QDockWidget, "WeightsDock").raise_()
    window.view.viewport().repaint()
    qtbot.wait(50)
    ui.training_panel.reset_button.click()
    ui.inference_panel.update_output()
    assert ui.inference_panel.error.text() == ""
    assert ui.inference_panel.answer.text().startswith("Prediction:")


def test_edits_rebuild_the_weights_view_only_when_shown_and_only_what_changed(
        qtbot, window, monkeypatch):
    """Each edit sends the views a new context; rebuilding a norm curve per layer made an
    edit of a 300-layer network cost 0.1-0.3 s, for a view that was not even on screen."""
    from PySide6.QtWidgets import QDockWidget
    ui = ui_of(window)
    view = ui.weights
    window.findChild(QDockWidget, "WeightsDock").raise_()  # a user looked at it before
    qtbot.waitUntil(view.is_shown)
    added = []
    add_item = view.norm_plot.addItem
    monkeypatch.setattr(view.norm_plot, "addItem", lambda item, *a, **k: (
        added.append(item), add_item(item, *a, **k)))
    weights_dock = window.findChild(QDockWidget, "WeightsDock")
    confusion_dock = window.findChild(QDockWidget, "ConfusionDock")
    window.tabifyDockWidget(weights_dock, confusion_dock)
    confusion_dock.raise_()
    qtbot.waitUntil(lambda: not view.is_shown())
    before = dict(view._norm_curves)
    new_id = window.editor.add_node_after("Dense", "hidden1")
    window.editor.set_param(["hidden1"], "units", 9)
    assert added == [] and view._norm_curves == before  # hidden: nothing rebuilt
    weights_dock.raise_()
    qtbot.waitUntil(view.is_shown)
    items = [view.layer_box.itemText(i) for i in range(view.layer_box.count())]
    assert new_id in items and list(view._norm_curves) == items
    assert len(added) == 1  # only the new layer got a curve; the others were kept
    assert all(view._norm_curves[k] is v for k, v in before.items())
    window.editor.set_param(["hidden1"], "units", 10)  # shown, same layers: no new curve
    assert len(added) == 1


def three_class_csv(path, header: str = "f1,f2,f3,kind", text_at: int = 3) -> None:
    """60 rows: three numeric features (mean 50) and a class a/b/c in column ``text_at``."""
    rng = np.random.default_rng(0)
    rows = [header]
    for *values, k in zip(*rng.normal(loc=50, scale=10, size=(3, 60)),
                          rng.integers(0, 3, 60), strict=True):
        cells = [f"{v:.3f}" for v in values]
        cells.insert(text_at, "abc"[int(k)])
        rows.append(",".join(cells))
    path.write_text("\n".join(rows) + "\n")


def test_fix_after_a_three_class_import_sets_units_softmax_and_the_loss(qtbot, window,
                                                                        tmp_path):
    ui = ui_of(window)
    path = tmp_path / "three.csv"
    three_class_csv(path)
    assert window.document.project.training["loss"] == "binary_crossentropy"
    assert ui.data_panel.import_with(str(path), ColumnMapping("kind", ["f1", "f2", "f3"]))
    ui.data_panel.check_network()
    assert ui.data_panel.loss_fix == "categorical_crossentropy"
    assert "binary_crossentropy" in ui.data_panel.mismatch_label.text()
    count = window.editor.undo_stack.count()
    ui.data_panel.fix_button.click()
    spec = {n["id"]: n for n in window.document.project.spec["nodes"]}
    assert (spec["output"]["units"], spec["output"]["activation"]) == (3, "softmax")
    assert window.document.project.training["loss"] == "categorical_crossentropy"
    assert ui.training_panel.loss_box.currentText() == "categorical_crossentropy"
    assert ui.data_panel.check_network() == [] and ui.data_panel.loss_fix is None
    assert not ui.data_panel.fix_button.isVisibleTo(ui.data_panel)
    assert window.editor.undo_stack.count() == count + 1  # one click, one undo step
    window.actions_by_name["undo"].trigger()
    assert window.document.project.training["loss"] == "binary_crossentropy"


@pytest.mark.parametrize(("header", "text_at", "expected"), [
    ("Class,f1,f2,f3", 3, "Class"),        # named like a target, even first and numeric
    ("f1,f2,label_id,f3", 0, "label_id"),
    ("f1,f2,f3,kind", 3, "kind"),          # else the last text column ...
    ("kind,f1,f2,f3", 0, "kind"),          # ... wherever it is
])
def test_import_dialog_proposes_a_sensible_target(qtbot, window, tmp_path, header, text_at,
                                                  expected):
    path = tmp_path / "data.csv"
    three_class_csv(path, header, text_at)
    seen = answer_mapping_dialog(qtbot, lambda dialog: None)
    ui_of(window).data_panel.import_file(str(path))
    assert seen[0].target_box.currentText() == expected


def test_import_offers_scaling_saved_in_the_project_and_used_by_training(qtbot, window,
                                                                         tmp_path):
    from designer.panels.data_import import SCALINGS
    ui = ui_of(window)
    path = tmp_path / "three.csv"
    three_class_csv(path)

    def choose_minmax(dialog) -> None:
        box = dialog.scaling_box
        assert [box.itemData(i) for i in range(box.count())] == [m for m, _t in SCALINGS]
        assert box.currentData() == "standardize"  # what the project used so far
        box.setCurrentIndex(box.findData("minmax"))

    answer_mapping_dialog(qtbot, choose_minmax)
    assert ui.data_panel.import_file(str(path))
    assert window.document.project.preprocessing["method"] == "minmax"
    train_x = ui.run.data.prepared.train.X
    assert train_x.min() >= -1e-6 and train_x.max() <= 1 + 1e-6  # features in [0, 1]
    again = prepare_data(window.document.project)  # what the command line trains on
    assert np.allclose(again.train.X, train_x)

    def choose_none(dialog) -> None:
        assert dialog.scaling_box.currentData() == "minmax"
        dialog.scaling_box.setCurrentIndex(dialog.scaling_box.findData("none"))

    answer_mapping_dialog(qtbot, choose_none)
    assert ui.data_panel.import_file(str(path))  # the same file, only the scaling changes
    assert window.document.project.preprocessing["method"] == "none"
    assert ui.run.data.prepared.train.X.max() > 20  # raw values (mean 50)


def test_fitting_loss_and_activation_keep_what_fits():
    from core.data_fit import fitting_activation, fitting_loss
    assert fitting_loss("classification", 2, "binary_crossentropy") == "binary_crossentropy"
    assert fitting_loss("classification", 3, "binary_crossentropy") == \
        "categorical_crossentropy"
    assert fitting_loss("classification", 5, "sparse_categorical_crossentropy") == \
        "sparse_categorical_crossentropy"
    assert fitting_loss("classification", 3, "mse") == "mse"  # one-hot targets
    assert fitting_loss("classification", 3, "hinge") == "categorical_crossentropy"
    assert fitting_loss("regression", 0, "categorical_crossentropy") == "mse"
    assert fitting_loss("regression", 0, "huber") == "huber"
    assert fitting_activation("binary_crossentropy", "softmax") == "sigmoid"
    assert fitting_activation("categorical_crossentropy", "sigmoid") == "softmax"
    assert fitting_activation("mse", "softmax") == "linear"
    assert fitting_activation("mse", "sigmoid") == "sigmoid"  # values in [0, 1] may want it


def test_fix_the_network_is_one_undo_step(window):
    doc = window.document
    panel = window.training_ui.data_panel
    _misfit(window)
    assert len(panel.check_network()) == 2
    panel.fix_button.click()
    assert doc.node("input")["shape"] == [2] and doc.node("output")["units"] == 1
    window.editor.undo()
    assert doc.node("input")["shape"] == [3] and doc.node("output")["units"] == 3


@pytest.mark.parametrize("button", ["train_button", "step_button", "epoch_button"])
def test_train_refuses_a_network_that_does_not_fit_the_data(window, qtbot, button):
    ui = window.training_ui
    _misfit(window)
    getattr(ui.training_panel, button).click()
    qtbot.wait(50)
    assert ui.run._thread is None  # no run that can only fail
    text = ui.training_panel.message_label.text()
    assert "does not fit the data" in text
    assert "takes shape [3]" in text and "Fix the network" in text
    assert "Problems list" not in text  # that list is empty: the network itself is valid
    assert "does not fit the data" in window.statusBar().currentMessage()


def test_train_runs_once_fixed(window, qtbot):
    ui = window.training_ui
    _misfit(window)
    ui.data_panel.fix_button.click()
    ui.training_panel.step_button.click()
    qtbot.waitUntil(lambda: ui.run.state != "running", timeout=30_000)
    assert ui.run._thread is not None
    assert "does not fit" not in ui.training_panel.message_label.text()


def _misfit(window) -> None:
    """The spiral network with an Input of 3 values and 3 output units (data: 2, 1)."""
    doc = window.document
    window.editor.set_param(["input"], "shape", [3])
    window.editor.set_param(["output"], "units", 3)
    assert doc.is_valid
