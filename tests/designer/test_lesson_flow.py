"""The flows of a lesson given with the app (issue "A lesson that flows"): each test
drives what the teacher did, in a real window, and checks what the class should see."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from training_windows import ui_of, use_example, wait_idle


def _choose_dataset(ui, name: str) -> None:
    box = ui.data_panel.dataset_box
    box.setCurrentIndex(box.findData(name))


def test_changing_the_loss_to_mse_lets_regression_train(qtbot, window):
    """XOR -> Multi-Gaussian: Train is refused for binary cross-entropy; after choosing
    mse, Train starts and the old error goes."""
    use_example(window, "xor")
    ui = ui_of(window)
    _choose_dataset(ui, "multigauss")
    ui.training_panel.train_button.click()
    assert "binary_crossentropy" in ui.training_panel.message_label.text()
    assert not ui.run.is_running
    ui.training_panel.loss_box.setCurrentText("mse")
    ui.training_panel.epochs_box.setValue(2)
    ui.training_panel.train_button.click()
    assert ui.training_panel.message_label.text() == ""
    assert ui.run.is_running or ui.run.last_reason == "completed"
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"


def _boundary_pixels(ui) -> np.ndarray:
    image = ui.boundary.image.image
    assert image is not None
    return np.array(image, copy=True)


def test_an_edited_weight_redraws_the_decision_boundary(qtbot, window):
    """Circle, trained: click an output weight line, type a new value, Enter: the Output
    plane shows the network with that weight."""
    use_example(window, "circle")
    ui = ui_of(window)
    ui.training_panel.epochs_box.setValue(3)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    qtbot.wait(50)
    before = _boundary_pixels(ui)
    window.set_neuron_view(True)
    scene = window.view.scene()
    lines = scene.weight_item("hidden", "output")
    editor = scene.open_weight_editor(lines, 0, 0, QPointF(0, 0))
    editor.setText("-14.6")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.document.node_weights("output")["kernel"][0, 0] == pytest.approx(-14.6)
    qtbot.waitUntil(lambda: np.any(_boundary_pixels(ui) != before), timeout=5000)


def test_typing_a_validation_share_loads_the_data_once(qtbot, window):
    """Typing "0.35" into Validation share and pressing Enter gives 0.35, loaded once."""
    ui = ui_of(window)
    box = ui.data_panel.val_box
    loads = []
    ui.run.dataChanged.connect(lambda: loads.append(1))
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "0.35")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert window.document.project.split["val"] == pytest.approx(0.35)
    assert len(loads) == 1


def test_noise_acts_at_once(qtbot, window):
    """A new noise level redraws the data without pressing Regenerate."""
    ui = ui_of(window)
    _choose_dataset(ui, "circle")
    before = np.array(ui.run.data.raw.y, copy=True)
    ui.data_panel.noise_box.setValue(0.3)
    assert window.document.project.data["params"]["noise"] == pytest.approx(0.3)
    assert np.any(ui.run.data.raw.y != before)  # the circle's noise moves points across


def _palette_item(window, type_name: str):
    tree = window.palette.tree
    found = [item for item in tree.findItems(type_name, Qt.MatchFlag.MatchExactly
                                             | Qt.MatchFlag.MatchRecursive)]
    assert found, type_name
    return found[0]


def test_a_hidden_layer_added_after_hidden2_is_wired_like_its_neighbours(qtbot, window):
    """Spiral: select hidden2, double-click Dense: a tanh layer of 8 units between
    hidden2 and the output, and the network is still valid."""
    use_example(window, "spiral")
    window.select_nodes(["hidden2"])
    item = _palette_item(window, "Dense")
    window.palette.tree.itemActivated.emit(item, 0)
    doc = window.document
    new = window.selected_node_ids()[0]
    assert new not in ("hidden2", "output")
    assert doc.successors("hidden2") == [new]
    assert doc.successors(new) == ["output"]
    assert doc.param(new, "units") == 8 and doc.param(new, "activation") == "tanh"
    assert doc.is_valid


def test_another_data_set_starts_training_over(qtbot, window):
    """Spiral trained for 3 epochs, then Circle: epoch 0, fresh weights, and the next
    run's curve does not join the spiral's."""
    use_example(window, "spiral")
    ui = ui_of(window)
    ui.training_panel.epochs_box.setValue(3)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    trained = window.session.weights["output"]["kernel"].copy()
    _choose_dataset(ui, "circle")
    assert ui.run.buffer.last_epoch == 0 and ui.run.buffer.last_step == 0
    assert ui.training_panel.epoch_label.text().startswith("Epoch 0")
    assert not np.allclose(window.session.weights["output"]["kernel"], trained)
    ui.training_panel.epochs_box.setValue(2)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    assert list(ui.run.buffer.curves().column("epoch")) == [1, 2]


def test_a_diverged_run_leaves_the_blown_up_boundary_on_screen(qtbot, window):
    """Spiral at learning rate 10: the run stops as diverged, the message says so in
    plain words, and the Output plane shows the blown-up network, not the weights
    that were put back."""
    use_example(window, "spiral")
    ui = ui_of(window)
    panel = ui.training_panel
    panel.optimizer_box.setCurrentText("sgd")
    panel.lr_box.setValue(10.0)
    panel.epochs_box.setValue(50)
    panel.train_button.click()
    wait_idle(qtbot, ui)
    qtbot.wait(50)
    assert ui.run.last_reason == "diverged"
    text = panel.message_label.text()
    assert "blew up" in text and "smoothed" not in text
    shown = _boundary_pixels(ui)
    ui.run.static_snapshot()  # what the weights that were put back look like
    ui.refresher.tick(final=True)
    assert np.any(_boundary_pixels(ui) != shown)


def test_reset_during_a_run_shows_epoch_0(qtbot, window):
    """Reset weights while the spiral trains: the counters say epoch 0 and stay so."""
    use_example(window, "spiral")
    ui = ui_of(window)
    panel = ui.training_panel
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(10.0))
    panel.train_button.click()
    qtbot.waitUntil(lambda: ui.run.buffer.last_epoch >= 2, timeout=20_000)
    panel.reset_button.click()
    wait_idle(qtbot, ui)
    qtbot.wait(300)  # progress reports of the stopped run still in the queue
    assert panel.epoch_label.text().startswith("Epoch 0")
    assert panel.step_label.text() == "Step 0"


def test_cannot_train_goes_when_the_network_is_fixed(qtbot, window):
    """Iris data on the XOR network: Train is refused, the mismatch is in the Problems
    list and the status bar; after Fix the network the red text is gone."""
    use_example(window, "xor")
    ui = ui_of(window)
    _choose_dataset(ui, "iris")
    assert any(p.code == "data_fit" for p in window.document.problems)
    assert "problem" in window.status.validity.text()
    ui.training_panel.train_button.click()
    assert ui.training_panel.message_label.text().startswith("Cannot train")
    ui.data_panel.fix_button.click()
    assert ui.training_panel.message_label.text() == ""
    assert "Valid" in window.status.validity.text()


def test_neuron_maps_follow_activation_and_new_neurons(qtbot, window):
    """Circle in the neuron view: after an activation change the hidden maps are new;
    a neuron added with + gets a map of its own."""
    use_example(window, "circle")
    ui = ui_of(window)
    window.set_neuron_view(True)
    qtbot.waitUntil(lambda: "hidden" in window.session.neuron_maps, timeout=5000)
    before = window.session.neuron_maps["hidden"].copy()
    window.editor.set_param(["hidden"], "activation", "relu")
    qtbot.waitUntil(lambda: not np.allclose(window.session.neuron_maps["hidden"], before),
                    timeout=5000)
    window.editor.change_units("hidden", 1)
    qtbot.waitUntil(lambda: window.session.neuron_maps["hidden"].shape[0] == 7,
                    timeout=5000)
    assert ui.run.state == "idle"


def _plot_items(window):
    import pyqtgraph as pg
    for view in window.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem):
                yield item


def test_switching_the_theme_restyles_the_plots_on_screen(qtbot, window):
    """View > Theme > Dark: the axes and titles of every plot take the dark theme's
    text colour at once."""
    from designer.plots.common import plot_style_for
    window.set_theme("dark")
    want = QColor(plot_style_for("dark").text)
    items = list(_plot_items(window))
    assert len(items) >= 5
    for item in items:
        axis = item.getAxis("bottom")
        assert axis.textPen().color() == want
    window.set_theme("light")
    assert items[0].getAxis("left").textPen().color() == QColor(plot_style_for("light").text)


def _scene_texts_px(window) -> list[tuple[str, float]]:
    """(what, on-screen pixel size) of every font the canvas draws with."""
    from PySide6.QtGui import QFontInfo
    zoom = window.view.zoom
    found = []
    for item in window.scene.node_items():
        for name in ("_title_font", "_type_font", "_body_font"):
            found.append((f"{item.node_id}.{name}",
                          QFontInfo(getattr(item, name)).pixelSize() * zoom))
    for edge in window.scene.edge_items():
        found.append((f"edge {edge.key}", QFontInfo(edge._font).pixelSize() * zoom))
    return found


def test_presentation_mode_reads_at_1920x1080(qtbot, window):
    """F5 at 1920x1080 on the spiral: every text on the canvas and in the plots is at
    least 18 px, and the Training settings fit without a scroll bar."""
    import pyqtgraph as pg
    from PySide6.QtGui import QFontInfo
    use_example(window, "spiral")
    window.setFixedSize(1920, 1080)
    assert (window.width(), window.height()) == (1920, 1080)
    window.actions_by_name["presentation"].trigger()
    qtbot.wait(200)
    window.fit_view()
    small = [(w, px) for w, px in _scene_texts_px(window) if round(px, 6) < 18]
    assert not small, small
    assert window.scene.neuron_view  # a small network, drawn as neurons, fits whole
    view = window.view
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.node_items():
        assert shown.contains(item.sceneBoundingRect()), item.node_id
    for item in _plot_items(window):
        for axis in ("left", "bottom"):
            a = item.getAxis(axis)
            assert QFontInfo(a.style["tickFont"]).pixelSize() >= 18
            assert int(a.labelStyle["font-size"].rstrip("px")) >= 18
        if item.titleLabel.isVisible() and item.titleLabel.text:
            assert int(item.titleLabel.opts["size"].rstrip("px")) >= 18
    for view in window.findChildren(pg.GraphicsView):
        for text in view.scene().items():
            if isinstance(text, pg.TextItem):
                assert QFontInfo(text.textItem.font()).pixelSize() >= 18
    qtbot.waitUntil(lambda: training_settings_fit(ui_of(window)), timeout=3000)  # fonts settle


def test_first_start_shows_the_network_as_neurons_at_a_speed_a_class_can_watch(
        qtbot, make_window):
    """A first start: the spiral as neurons, a hint how to start, a speed slower than
    full, and the lesson keys: Space trains and pauses, Right steps, R resets; Help
    lists them."""
    from designer.dialogs import shortcut_rows
    window = make_window(first_start=True)
    ui = ui_of(window)
    panel = ui.training_panel
    assert window.actions_by_name["neuron_view"].isChecked()
    assert window.scene.neuron_view
    assert panel.hint_label.isVisible() and "Space" in panel.hint_label.text()
    assert ui.run.pace is not None and ui.run.pace <= 10
    keys = dict((command, k) for command, k in shortcut_rows(
        list(window.actions_by_name.values())))
    assert keys.get("Train / pause") == "Space"
    assert keys.get("Step one batch") == "Right"
    assert keys.get("Reset weights") == "R"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # window shortcuts need it
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Right)  # nothing selected: one batch
    qtbot.waitUntil(lambda: ui.run.state == "paused" and ui.run.waiting, timeout=20_000)
    assert not panel.hint_label.isVisible()
    qtbot.keyClick(window.view, Qt.Key.Key_Space)  # paused: go on
    qtbot.waitUntil(lambda: ui.run.state == "running", timeout=5000)
    qtbot.keyClick(window.view, Qt.Key.Key_Space)  # running: pause
    qtbot.waitUntil(lambda: ui.run.state == "paused", timeout=5000)
    qtbot.keyClick(window.view, Qt.Key.Key_R)  # reset: stops, epoch 0
    wait_idle(qtbot, ui)
    assert ui.run.buffer.last_step == 0


def test_a_large_network_opens_as_cards(qtbot, window):
    use_example(window, "digits-cnn")
    assert not window.scene.neuron_view


def test_changing_the_loss_after_a_csv_import_is_not_ignored(qtbot, window, tmp_path):
    """XOR network, a CSV of real-valued targets imported: binary cross-entropy is
    refused; after choosing mse the run trains."""
    from designer.panels.data_import import ColumnMapping
    use_example(window, "xor")
    ui = ui_of(window)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = ["a,b,y"] + [f"{a:.4f},{b:.4f},{a * 1.5 - b + 0.3:.4f}" for a, b in X]
    path = tmp_path / "values.csv"
    path.write_text("\n".join(rows) + "\n")
    assert ui.data_panel.import_with(str(path), ColumnMapping(target="y",
                                                              features=["a", "b"]))
    ui.training_panel.train_button.click()
    assert "binary_crossentropy" in ui.training_panel.message_label.text()
    ui.training_panel.loss_box.setCurrentText("mse")
    ui.training_panel.epochs_box.setValue(2)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"


# ---------------------------------------------------------------- Playground parity
def test_the_lesson_bar_does_in_one_click_what_the_playground_does(qtbot, window):
    """Problem type, hidden layers -/+, one activation for all, sliders, losses."""
    use_example(window, "spiral")
    ui = ui_of(window)
    bar, doc = ui.lesson_bar, window.document
    bar.add_layer_button.click()
    assert doc.successors(doc.predecessors("output")[0]) == ["output"]
    assert len([n for n in doc.nodes_of_type("Dense")]) == 4 and doc.is_valid
    bar.remove_layer_button.click()
    bar.remove_layer_button.click()
    assert doc.predecessors("output") == ["hidden1"] and doc.is_valid
    bar.activation_box.setCurrentText("relu")
    assert doc.param("hidden1", "activation") == "relu"
    bar.problem_box.setCurrentIndex(1)  # regression
    assert doc.training["loss"] == "mse" and doc.param("output", "activation") == "linear"
    window.editor.undo()
    assert doc.training["loss"] == "binary_crossentropy"
    assert doc.param("output", "activation") == "sigmoid"
    bar.batch_slider.setValue(8)
    assert doc.training["batch_size"] == 8
    bar.val_slider.setValue(40)
    assert doc.project.split["val"] == pytest.approx(0.4)
    ui.training_panel.epochs_box.setValue(2)
    ui.training_panel.train_button.click()
    wait_idle(qtbot, ui)
    assert "Train loss 0." in bar.loss_label.text()
    assert "Validation loss 0." in bar.loss_label.text()


def test_a_teacher_copies_the_project_as_text_and_a_student_pastes_it(qtbot, make_window):
    """Teacher: circle, a weight typed in, File > Copy project as text. Student (another
    window): File > Paste project opens the same network with that weight."""
    from PySide6.QtWidgets import QApplication
    teacher = make_window()
    use_example(teacher, "circle")
    teacher.editor.set_weight("output", "kernel", (0, 0), 2.5)
    teacher.actions_by_name["copy_project_text"].trigger()
    text = QApplication.clipboard().text()
    assert text.startswith("ANNPROJ1:")
    student = make_window()
    student.actions_by_name["paste_project"].trigger()
    assert student.document.spec == teacher.document.spec
    assert student.document.project.data == teacher.document.project.data
    assert student.document.node_weights("output")["kernel"][0, 0] == pytest.approx(2.5)
    QApplication.clipboard().setText("ANNPROJ1:not a project")
    student.actions_by_name["paste_project"].trigger()  # refused; the project stays
    assert student.document.spec == teacher.document.spec


def test_output_plane_toggles_show_validation_data_and_discretize(qtbot, window):
    use_example(window, "circle")
    ui = ui_of(window)
    qtbot.waitUntil(lambda: ui.boundary.image.image is not None, timeout=5000)
    view = ui.boundary
    view.show_val_box.setChecked(False)
    assert not view.val_scatter.isVisible()
    view.discretize_box.setChecked(True)
    assert set(np.unique(view.image.image)) <= {-1.0, 1.0}
    view.discretize_box.setChecked(False)
    assert len(np.unique(view.image.image)) > 2


def test_a_data_set_thumbnail_picks_the_set_in_one_click(qtbot, window):
    use_example(window, "spiral")
    bar = ui_of(window).thumbnails
    assert {"circle", "xor", "gauss", "spiral"} <= set(bar.buttons)
    assert bar.buttons["spiral"].isChecked()
    bar.buttons["xor"].click()
    assert window.document.project.data["name"] == "xor"
    assert bar.buttons["xor"].isChecked() and not bar.buttons["spiral"].isChecked()
    window.editor.undo()
    assert bar.buttons["spiral"].isChecked()


def test_every_neuron_of_the_neuron_view_has_its_map(qtbot, window):
    """As in the Playground: the input neurons (x1, x2 over the plane), the hidden ones
    and the output neuron each show a map."""
    use_example(window, "circle")
    maps = window.session.neuron_maps
    qtbot.waitUntil(lambda: {"input", "hidden", "output"} <= set(window.session.neuron_maps),
                    timeout=5000)
    maps = window.session.neuron_maps
    assert maps["input"].shape == (2, 100, 100) and maps["output"].shape == (1, 100, 100)
    x1 = maps["input"][0]
    assert np.all(np.diff(x1, axis=1) > 0)  # x1 grows to the right, the same on every row
    assert window.scene.neuron_images("input") is not None


def test_input_neurons_are_labelled_with_their_features(qtbot, window):
    """Circle with the Playground's x1² and sin x1 ticked: the input neurons read x1,
    x2, x1², sin x1."""
    use_example(window, "circle")
    ui = ui_of(window)
    ui.data_panel.transform_boxes["x1^2"].setChecked(True)
    ui.data_panel.transform_boxes["sin(x1)"].setChecked(True)
    ui.data_panel.fix_button.click()  # the Input takes 4 features now
    assert window.session.input_labels == ["x1", "x2", "x1²", "sin x1"]
    assert window.scene.node_item("input").neurons == 4


def test_hovering_a_neuron_enlarges_its_map(qtbot, window):
    use_example(window, "circle")
    qtbot.waitUntil(lambda: "hidden" in window.session.neuron_maps, timeout=5000)
    scene, view = window.scene, window.view
    qtbot.wait(200)  # the view fits the network once the window is laid out
    item = scene.node_item("hidden")
    center = item.neuron_center(2)
    qtbot.mouseMove(view.viewport(), view.mapFromScene(center.x() - 300, center.y()))
    qtbot.mouseMove(view.viewport(), view.mapFromScene(center))
    qtbot.waitUntil(lambda: scene.enlarged_map is not None and scene.enlarged_map.isVisible(),
                    timeout=3000)
    assert scene.enlarged_map.pixmap().width() > 4 * item.neuron_radius()
    qtbot.mouseMove(view.viewport(), view.mapFromScene(center.x(), center.y() - 2000))
    qtbot.waitUntil(lambda: not scene.enlarged_map.isVisible(), timeout=3000)


def test_training_settings_fit_at_1600x1000_with_the_lesson_bar(qtbot, window):
    """The lesson bar takes a row at the top: the settings still fit without scrolling."""
    window.setFixedSize(1600, 1000)
    window.reset_layout()
    qtbot.waitUntil(lambda: training_settings_fit(ui_of(window)), timeout=3000)


def test_squared_error_on_the_spiral_trains_and_reports_accuracy(qtbot, window):
    """The Playground's loss on the Playground's classes: spiral, Loss set to mse in the
    Training panel. No Problem appears, the lesson bar still says Classification, Train
    runs, and the accuracy curve, the confusion matrix and the boundary (output 0.5)
    follow the run."""
    use_example(window, "spiral")
    ui = ui_of(window)
    qtbot.waitUntil(lambda: ui.boundary.image.image is not None, timeout=5000)
    before = _boundary_pixels(ui)
    ui.training_panel.loss_box.setCurrentText("mse")
    assert window.document.training["loss"] == "mse"
    assert not [p for p in window.document.problems if p.code == "data_fit"]
    assert ui.data_panel.check_network() == []
    assert ui.lesson_bar.problem_box.currentText() == "Classification"
    ui.training_panel.epochs_box.setValue(3)
    ui.training_panel.train_button.click()
    assert ui.training_panel.message_label.text() == ""
    wait_idle(qtbot, ui)
    assert ui.run.last_reason == "completed"
    curves = ui.run.buffer.curves()
    accuracy = curves.column("accuracy")
    assert len(accuracy) == 3 and np.all((accuracy >= 0) & (accuracy <= 1))
    assert np.all(np.isfinite(curves.column("val_accuracy")))
    assert not np.isfinite(curves.column("mae")).any()
    view = ui.curves
    qtbot.waitUntil(lambda: view.metric_train.getData()[1] is not None
                    and len(view.metric_train.getData()[1]) > 0, timeout=5000)
    assert view._metric == "accuracy"
    qtbot.waitUntil(lambda: np.any(_boundary_pixels(ui) != before), timeout=5000)
    ui.docks["Confusion"].raise_()
    qtbot.waitUntil(lambda: ui.confusion.accuracy.text().startswith("accuracy"),
                    timeout=5000)
    counts = ui.run.buffer.latest().confusion  # the final weights on the validation split
    assert counts.shape == (2, 2) and counts.sum() == len(ui.run.data.prepared.val)
    # one output thresholded at 0.5, in the matrix as in the run's val_accuracy
    assert np.trace(counts) / counts.sum() == pytest.approx(
        curves.column("val_accuracy")[-1])


def training_settings_fit(ui) -> bool:
    """The Training settings, down to Seed, are in view with no vertical scroll bar."""
    area = ui.docks["Training"].widget()
    seed = ui.training_panel.seed_box
    bottom = seed.mapTo(area.viewport(), QPoint(0, seed.height())).y()
    return not area.verticalScrollBar().isVisible() and bottom <= area.viewport().height()
