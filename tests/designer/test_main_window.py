"""The main window as a person uses it: opening files, menus and shortcuts, the palette,
the Problems list, the clipboard, drops, export and the status bar.

Every test gets a window with throw-away QSettings (an INI file in tmp_path), message
boxes and file dialogs replaced by recorders, and a check that no window is left open.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from bare_window import (  # noqa: F401 - fixtures, used by name
    B,
    Boxes,
    action,
    boxes,
    make_window,
    no_leaked_windows,
    settings,
    small_project,
    use_project,
    window,
)
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog

from core.examples import DEFAULT_EXAMPLE, list_examples, load_example
from core.project import load_project
from designer import app as designer_app
from designer.main_window import MainWindow
from designer.menus import menu_actions


# ----------------------------------------------------------------------------- opening
def test_opens_with_default_example(window):
    expected = load_example(DEFAULT_EXAMPLE)
    doc = window.document
    assert [n["id"] for n in expected.spec["nodes"]] == doc.node_ids()
    assert doc.is_valid and not window.session.is_modified
    assert window.windowTitle().endswith("— ANN Designer")
    assert len(window.scene.items()) > 0
    assert window.status.layers.text() == f"{len(doc.node_ids())} layers"
    assert "Valid" in window.status.validity.text()


def test_opens_the_given_file(make_window, tmp_path):
    path = tmp_path / "given.annproj"
    from core.project import save_project
    save_project(small_project("given"), path)
    window = make_window(path=str(path))
    assert window.document.node_ids() == ["in", "h1", "out"]
    assert "given.annproj" in window.windowTitle()


def test_a_damaged_file_is_a_message_not_a_crash(make_window, boxes, tmp_path):
    path = tmp_path / "broken.annproj"
    path.write_bytes(b"this is not a zip archive")
    window = make_window(path=str(path))
    assert boxes.kinds() == ["critical"]
    assert "broken.annproj" in boxes.shown[0][2]
    assert window.document.node_ids()  # fell back to the default example


# ----------------------------------------------------------------------------- menus
def link_loop(folder: Path) -> Path:
    """``a.annproj`` -> ``b.annproj`` -> ``a.annproj``: a path that never ends at a file."""
    first, second = folder / "a.annproj", folder / "b.annproj"
    first.symlink_to(second)
    second.symlink_to(first)
    return first


def test_a_symlink_loop_is_a_clear_message_at_startup_and_on_open(make_window, settings,
                                                                  boxes, tmp_path,
                                                                  monkeypatch):
    loop = link_loop(tmp_path)
    good = tmp_path / "good.annproj"
    from core.project import save_project
    save_project(small_project(), good)
    settings.setValue("files/recent", [str(loop), str(good)])
    window = make_window(path=str(loop))  # ann-designer a.annproj
    assert window.document.project.name == load_example(DEFAULT_EXAMPLE).name
    assert [k for k, _t, _x in boxes.shown] == ["critical"]
    assert "link loop" in boxes.shown[0][2]
    window.recent_menu.aboutToShow.emit()
    assert [a.statusTip() for a in window.recent_menu.actions() if a.statusTip()] == [str(good)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(loop), ""))
    assert not action(window, "open").trigger() and len(boxes.shown) == 2
    assert "link loop" in boxes.shown[1][2]
    assert window.files.open_path(str(good))


def test_menus_hold_every_command_with_standard_shortcuts(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Help"]
    names = {a.objectName() for a in menu_actions(window)}
    for name in ("new_example", "open", "save", "save_as", "export_onnx", "export_numpy",
                 "export_pytorch", "quit", "undo", "redo", "cut", "copy", "paste",
                 "duplicate", "delete", "select_all", "zoom_in", "zoom_out", "fit",
                 "auto_layout", "neuron_view", "theme_light", "theme_dark", "presentation",
                 "shortcuts", "about"):
        assert name in names, name
    std = QKeySequence.StandardKey
    for name, key in (("open", std.Open), ("save", std.Save), ("undo", std.Undo),
                      ("redo", std.Redo), ("copy", std.Copy), ("paste", std.Paste),
                      ("cut", std.Cut), ("select_all", std.SelectAll),
                      ("zoom_in", std.ZoomIn), ("zoom_out", std.ZoomOut)):
        assert action(window, name).shortcut() == QKeySequence.keyBindings(key)[0], name
    assert action(window, "duplicate").shortcut() == QKeySequence("Ctrl+D")
    assert not action(window, "delete").shortcut().isEmpty()
    assert "Open recent" in [a.text().replace("&", "") for a in window.menus["file"].actions()]


def test_shortcuts_dialog_lists_the_shortcuts(window, qtbot, monkeypatch):
    from designer import dialogs
    seen = {}

    def fake_exec(dialog):
        table = dialog.table
        seen["rows"] = {table.item(r, 0).text(): table.item(r, 1).text()
                        for r in range(table.rowCount())}
        return 0

    monkeypatch.setattr(dialogs.ShortcutsDialog, "exec", fake_exec)
    action(window, "shortcuts").trigger()
    save_keys = action(window, "save").shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    assert seen["rows"]["Save"] == save_keys
    assert "Mouse wheel" in seen["rows"].values()


def test_new_from_example_lists_every_example(window, monkeypatch, boxes):
    from designer import dialogs
    seen = {}

    def fake_exec(dialog):
        texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
        seen["texts"] = texts
        names = [dialog.list.item(i).data(dialogs.NAME_ROLE) for i in range(dialog.list.count())]
        dialog.list.setCurrentRow(names.index("xor"))
        return dialogs.ExampleDialog.DialogCode.Accepted

    monkeypatch.setattr(dialogs.ExampleDialog, "exec", fake_exec)
    action(window, "new_example").trigger()
    examples = list_examples()
    assert len(seen["texts"]) == len(examples)
    for info, text in zip(examples, seen["texts"], strict=True):
        assert info.title in text and info.description in text
    assert window.document.node_ids() == [n["id"] for n in load_example("xor").spec["nodes"]]


# ----------------------------------------------------------------------------- palette
def test_palette_lists_every_layer_grouped_and_filters(window):
    from core.spec import LAYER_SCHEMAS
    palette = window.palette
    assert set(palette.visible_types()) == set(LAYER_SCHEMAS) | {"Neuron"}
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert groups == ["Core", "Convolution", "Pooling", "Merge", "Shape", "Regularization"]
    for item in palette.items():
        assert not item.icon(0).isNull()
        assert item.toolTip(0)
    assert LAYER_SCHEMAS["Dense"].formula in next(
        i for i in palette.items() if i.text(0) == "Dense").toolTip(0)
    palette.search.setText("pool")
    assert sorted(palette.visible_types()) == ["AveragePooling2D", "MaxPooling2D"]
    hidden_groups = [palette.tree.topLevelItem(i).isHidden()
                     for i in range(palette.tree.topLevelItemCount())]
    assert hidden_groups == [True, True, False, True, True, True]
    palette.search.setText("nothing matches this")
    assert palette.visible_types() == []
    palette.search.clear()
    assert len(palette.visible_types()) == len(LAYER_SCHEMAS) + 1


def test_palette_drag_carries_the_layer_mime_type(window):
    item = next(i for i in window.palette.items() if i.text(0) == "Conv2D")
    mime = window.palette.tree.mimeData([item])
    assert bytes(mime.data("application/x-ann-layer")).decode() == "Conv2D"


def test_palette_double_click_adds_after_selection_and_wires_it(window):
    use_project(window)
    window.select_nodes(["h1"])
    window.add_layer_from_palette("Dropout")
    doc = window.document
    new = [n for n in doc.node_ids() if doc.node_type(n) == "Dropout"]
    assert len(new) == 1
    assert ("h1", new[0]) in doc.edges()
    assert doc.position(new[0])[0] > doc.position("h1")[0]
    assert window.selected_node_ids() == new
    window.editor.undo()  # one step removes the node and its edge
    assert doc.node_ids() == ["in", "h1", "out"] and ("h1", new[0]) not in doc.edges()


def test_neuron_item_adds_a_unit_to_the_selected_dense_layer(window):
    use_project(window)
    window.select_nodes(["h1"])
    window.add_layer_from_palette("Neuron")
    assert window.document.node("h1")["units"] == 5
    window.select_nodes(["in"])
    window.add_layer_from_palette("Neuron")
    assert "Dense" in window.statusBar().currentMessage()


# ----------------------------------------------------------------------------- inspector


# ----------------------------------------------------------------------------- problems
def test_problem_click_selects_and_centres_its_node(window, qtbot):
    use_project(window)
    window.view.resetTransform()
    window.editor.move_nodes({"out": (3000.0, 2000.0)})  # far outside the view
    window.editor.disconnect("h1", "out")
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert not visible.contains(window.scene.node_item("out").sceneBoundingRect())
    panel = window.problems
    assert panel.list.count() >= 1
    row = next(i for i in range(panel.list.count()) if panel.node_ids_at(i) == ["out"])
    item = panel.list.item(row)
    assert "out" in item.text() and "→" in item.text()  # the message and its hint
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "out" in window.selected_node_ids()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.node_item("out").sceneBoundingRect())
    assert "problem" in window.status.validity.text()


# ----------------------------------------------------------------------------- files
def test_save_and_open_round_trip_through_the_menus(window, monkeypatch, tmp_path, boxes):
    use_project(window)
    doc = window.document
    window.editor.set_param(["h1"], "units", 7)
    window.editor.move_nodes({"out": (600.0, 40.0)})
    assert window.isWindowModified()
    target = tmp_path / "saved"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), PROJECT_FILTER))
    action(window, "save").trigger()
    saved = tmp_path / "saved.annproj"
    assert saved.is_file() and not window.session.is_modified and not window.isWindowModified()
    assert "saved.annproj" in window.windowTitle()
    spec, layout = doc.spec, dict(doc.project.layout)
    use_project(window, small_project("other"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(saved), PROJECT_FILTER))
    action(window, "open").trigger()
    assert doc.spec == spec
    assert doc.project.layout == layout
    assert load_project(saved).spec == spec
    assert window.files.recent_files()[0] == str(saved.resolve())
    assert boxes.shown == []


PROJECT_FILTER = "ANN Designer projects (*.annproj)"


def test_unsaved_changes_prompt_save_discard_cancel(window, monkeypatch, boxes, tmp_path):
    use_project(window)
    doc = window.document
    window.editor.set_param(["h1"], "units", 9)
    other = tmp_path / "other.annproj"
    from core.project import save_project
    save_project(small_project("other"), other)
    boxes.answers = [B.Cancel]
    assert not window.open_path(str(other))
    assert doc.node("h1")["units"] == 9 and window.session.is_modified
    boxes.answers = [B.Cancel]
    assert not window.close()
    assert window.isVisible()
    boxes.answers = [B.Save]
    target = tmp_path / "kept.annproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.open_path(str(other))
    assert load_project(target).spec["nodes"][1]["units"] == 9
    window.editor.set_param(["h1"], "units", 11)
    boxes.answers = [B.Discard]
    assert window.files.new_from_example("xor")
    assert [kind for kind, *_ in boxes.shown] == ["question"] * 4
    assert "Unsaved changes" in boxes.shown[0][1]


def test_file_drops_open_projects_and_hand_csv_to_the_importer(window, tmp_path, boxes, qtbot):
    from core.project import save_project
    project_file = tmp_path / "dropped.annproj"
    save_project(small_project("dropped"), project_file)
    csv_file = tmp_path / "data.csv"
    csv_file.write_text("x,y\n1,0\n")
    _drop(window, [project_file])
    qtbot.waitUntil(lambda: window.document.node_ids() == ["in", "h1", "out"])
    assert "dropped.annproj" in window.windowTitle()
    window.open_dropped_files([str(csv_file)])
    assert boxes.kinds() == ["information"]
    imported = []
    window.data_file_importer = imported.append
    _drop(window, [csv_file])
    qtbot.waitUntil(lambda: imported == [str(csv_file)])
    window.open_dropped_files([str(tmp_path / "notes.txt")])
    assert boxes.kinds()[-1] == "warning"


def test_a_file_dropped_beside_the_canvas_is_the_windows_and_other_drags_are_not(
        window, tmp_path, qtbot):
    """A file dropped on a dock (Qt hands it to the window) opens like one on the canvas;
    a drag without files is left alone."""
    from core.project import save_project
    project_file = tmp_path / "beside.annproj"
    save_project(small_project("beside"), project_file)
    empty = QMimeData()
    empty.setText("not a file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the QPoint constructor
        ignored = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, empty,
                                  Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    ignored.ignore()
    QApplication.sendEvent(window, ignored)
    assert not ignored.isAccepted()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(project_file))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    assert event.isAccepted()
    qtbot.waitUntil(lambda: "beside.annproj" in window.windowTitle())


def _drop(window: MainWindow, paths: list[Path]) -> None:
    """Drag the files over the canvas and drop them, as Qt delivers it (enter, then drop)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the QPoint constructor
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), event)
    assert event.isAccepted()


def test_export_writes_onnx_through_the_menu(window, monkeypatch, tmp_path, boxes):
    use_project(window)
    target = tmp_path / "model"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    boxes.answers = [B.Yes]  # "export an untrained model?"
    action(window, "export_onnx").trigger()
    assert (tmp_path / "model.onnx").is_file(), boxes.shown
    assert boxes.kinds() == ["question"]


# ----------------------------------------------------------------------------- edit
def test_copy_paste_duplicate_delete_select_all(window):
    use_project(window)
    doc = window.document
    window.select_nodes(["h1", "out"])
    action(window, "copy").trigger()
    data = json.loads(QGuiApplication.clipboard().text())
    assert [n["id"] for n in data["nodes"]] == ["h1", "out"]
    action(window, "paste").trigger()
    assert len(doc.node_ids()) == 5
    pasted = window.selected_node_ids()
    assert len(pasted) == 2 and (pasted[0], pasted[1]) in doc.edges()
    action(window, "duplicate").trigger()
    assert len(doc.node_ids()) == 7
    action(window, "select_all").trigger()
    assert sorted(window.selected_node_ids()) == sorted(doc.node_ids())
    window.select_nodes(["out"])
    action(window, "delete").trigger()
    assert "out" not in doc.node_ids() and ("h1", "out") not in doc.edges()
    action(window, "undo").trigger()
    assert ("h1", "out") in doc.edges()
    window.select_nodes(["h1"])
    action(window, "cut").trigger()
    assert "h1" not in doc.node_ids()
    designer_app.release_clipboard()  # what main() does: no Python QMimeData at exit
    assert json.loads(QGuiApplication.clipboard().text())["nodes"][0]["id"] == "h1"
    assert not QGuiApplication.clipboard().mimeData().hasFormat("application/x-ann-fragment")


def test_status_bar_shows_the_training_lock_and_refusals(window):
    use_project(window)
    doc = window.document
    window.editor.set_structure_lock("training is running")
    assert window.status.lock.isVisibleTo(window) and "training" in window.status.lock.text()
    window.select_nodes(["h1"])
    action(window, "delete").trigger()
    assert "h1" in doc.node_ids()
    assert "training is running" in window.statusBar().currentMessage()
    window.editor.set_structure_lock(None)
    assert not window.status.lock.isVisibleTo(window)
    window.editor.connect("out", "in")
    assert "Input" in window.statusBar().currentMessage()


# ----------------------------------------------------------------------------- settings


# ----------------------------------------------------------------------------- recovery


def test_recent_files_menu_and_untrained_export_can_be_declined(window, monkeypatch,
                                                                tmp_path, boxes):
    use_project(window)
    target = tmp_path / "first.annproj"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    action(window, "save_as").trigger()
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any("first.annproj" in t for t in texts) and "Clear list" in texts
    boxes.answers = [B.No]  # "export an untrained model?" -> No
    action(window, "export_pytorch").trigger()
    assert not (tmp_path / "first.py").exists()
    assert boxes.kinds() == ["question"]


# ----------------------------------------------------------------------------- polish


def test_problems_dock_shows_its_list_only_when_there_are_problems(window):
    use_project(window)
    problems = window.problems
    assert problems.list.isHidden() and "No problems" in problems.summary.text()
    window.editor.add_node("Dense", pos=(0.0, 300.0))  # a loose layer: a second output
    assert not problems.list.isHidden() and problems.list.count() >= 1
    window.editor.undo()
    assert problems.list.isHidden()
