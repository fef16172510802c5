"""The main window as a person uses it: menus, palette, inspector, problems, files, themes.

Every test gets a window with throw-away QSettings (an INI file in tmp_path), message
boxes and file dialogs replaced by recorders, and a check that no window is left open.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QLabel, QMessageBox

from core.examples import DEFAULT_EXAMPLE, list_examples, load_example
from core.project import Project, load_project
from designer import app as designer_app
from designer.dialogs import RecoveryDialog
from designer.main_window import MainWindow
from designer.menus import menu_actions
from designer.recovery import RecoveryStore

B = QMessageBox.StandardButton


def small_project(name: str = "tiny") -> Project:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid), with positions."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h1", "type": "Dense", "units": 4, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h1"], ["h1", "out"]]}
    layout = {"in": [0.0, 0.0], "h1": [260.0, 0.0], "out": [520.0, 0.0]}
    return Project(name=name, spec=spec, layout=layout)


class Boxes:
    """Records every message box; `answers` says what question() returns next."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answers: list[QMessageBox.StandardButton] = []

    def question(self, _parent, title, text, *args, **kwargs):
        self.shown.append(("question", title, text))
        assert self.answers, f"unexpected question: {title}: {text}"
        return self.answers.pop(0)

    def recorder(self, kind: str):
        def show(_parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            return B.Ok
        return show

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.shown]


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    """Every window or dialog a test opens is closed by its end (others' are not ours)."""
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    yield
    qapp.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    assert not left, f"windows left open: {left}"


@pytest.fixture
def boxes(monkeypatch) -> Boxes:
    recorder = Boxes()
    monkeypatch.setattr(QMessageBox, "question", recorder.question)
    for kind in ("critical", "warning", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, recorder.recorder(kind))
    return recorder


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings, boxes, monkeypatch):
    """Windows as `ann-designer` builds them, minus the training UI (tested on its own)."""
    monkeypatch.setattr(designer_app, "install_training_ui", lambda window: None)
    made: list[MainWindow] = []

    def make(**kwargs) -> MainWindow:
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("offer_recovery", False)
        window = designer_app.create_window(**kwargs)
        window.resize(1200, 800)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:  # not qtbot.addWidget: it closes before this can mark them clean
        window.editor.undo_stack.setClean()  # never ask at teardown
        window.close()
        window.deleteLater()
    qtbot.wait(1)


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def use_project(window: MainWindow, project: Project | None = None) -> None:
    window.session.new_project(project or small_project())


def action(window: MainWindow, name: str):
    return window.actions_by_name[name]


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
def test_themes_and_presentation_mode(window, qapp):
    from designer.themes import FONT_POINTS
    base = qapp.palette().color(qapp.palette().ColorRole.Window).lightness()
    action(window, "theme_dark").trigger()
    assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < base
    assert window.scene.style.name == "dark"
    action(window, "presentation").trigger()
    assert qapp.font().pointSizeF() == FONT_POINTS[1]
    assert window.scene.style.is_presentation
    action(window, "theme_light").trigger()
    action(window, "presentation").trigger()
    assert qapp.font().pointSizeF() == FONT_POINTS[0]
    assert window.scene.style.name == "light"
    assert window.settings.value("view/theme") == "light"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("presentation", [False, True])
def test_disabled_controls_look_disabled_in_every_theme(theme, presentation):
    """A disabled button's text is far from the enabled text (lightness) but readable."""
    from designer.themes import build_palette
    palette = build_palette(theme, presentation)
    role, group = palette.ColorRole, palette.ColorGroup
    text = palette.color(group.Active, role.ButtonText).lightness()
    off = palette.color(group.Disabled, role.ButtonText).lightness()
    button = palette.color(group.Active, role.Button).lightness()
    assert abs(text - off) >= 80, (text, off)
    assert abs(off - button) >= 60, (off, button)


def test_dock_layout_and_geometry_are_remembered(make_window, settings, qtbot):
    first = make_window()
    extra = QDockWidget("Training")
    extra.setWidget(QLabel("curves"))
    first.add_panel(extra, Qt.DockWidgetArea.BottomDockWidgetArea)
    assert extra.toggleViewAction() in first.panels_menu.actions()
    first.problems_dock.hide()
    first.resize(1111, 777)
    first.close()
    assert settings.value("window/state") is not None
    second = make_window()
    assert not second.problems_dock.isVisible()
    assert second.inspector_dock.isVisible()
    later = QDockWidget("Training")
    later.setWidget(QLabel("curves"))
    second.add_panel(later, Qt.DockWidgetArea.RightDockWidgetArea)
    assert second.dockWidgetArea(later) == Qt.DockWidgetArea.BottomDockWidgetArea


def damaged_settings(tmp_path: Path, how: str) -> Path:
    """A settings file whose window geometry and state are text, a number, or whose file
    was cut in half (as a full disk or a crash while writing leaves it)."""
    path = tmp_path / "damaged.ini"
    if how == "cut in half":
        good = QSettings(str(path), QSettings.Format.IniFormat)
        window = MainWindow(settings=good)
        window.save_settings()
        window.deleteLater()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        value = {"text": "hello world", "a number": "42"}[how]
        path.write_text(f"[window]\ngeometry={value}\nstate={value}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["text", "a number", "cut in half"])
def test_damaged_window_settings_start_with_the_default_layout(make_window, tmp_path, boxes,
                                                               caplog, how):
    path = damaged_settings(tmp_path, how)
    caplog.set_level("WARNING")
    window = make_window(settings=QSettings(str(path), QSettings.Format.IniFormat))
    assert not window.layout_restored and window.default_arrangement
    assert window.palette_dock.isVisible() and window.inspector_dock.isVisible()
    assert boxes.shown == []  # nothing alarming on screen
    assert "default layout" in caplog.text
    window.close()  # the next exit writes good values over the damaged ones
    again = make_window(settings=QSettings(str(path), QSettings.Format.IniFormat))
    assert again.layout_restored


# ----------------------------------------------------------------------------- recovery
def answer_recovery(*choices: tuple[int, str]) -> list[list[str]]:
    """Press a button of each recovery list that opens, in turn: (row, "recover" |
    "discard" | "later"); returns the lines each list showed."""
    pending, shown = list(choices), []

    def press() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets()
                       if isinstance(w, RecoveryDialog) and w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(5, press)
            return
        shown.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        row, button = pending.pop(0)
        dialog.list.setCurrentRow(row)
        dialog.buttons[button].click()
        if pending:
            QTimer.singleShot(5, press)

    QTimer.singleShot(0, press)
    return shown


def crash(window: MainWindow) -> None:
    """The process "dies": its recovery files stay, its lock is gone, nothing is asked."""
    window.recovery.abandon()
    window.recovery = None
    window.editor.undo_stack.setClean()
    window.close()


def crashed_with(make_window, folder: Path, units: int, source: Path | None = None):
    """A window that edited h1's units, autosaved, and crashed."""
    window = make_window(recovery=RecoveryStore(folder),
                         **({"path": str(source)} if source else {}))
    if source is None:
        use_project(window)
    window.editor.set_param(["h1"], "units", units)
    assert window.autosave()
    crash(window)


def test_recovery_after_a_simulated_crash(make_window, tmp_path):
    crashed_with(make_window, tmp_path / "recovery", 13)
    shown = answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert len(shown) == 1 and "an unsaved project" in shown[0][0]
    assert later.document.node("h1")["units"] == 13
    assert later.session.is_modified and later.isWindowModified()
    assert RecoveryStore(tmp_path / "recovery").orphans() == []  # safe in later's own copy
    assert load_project(later.recovery.project_path).spec == later.document.spec


def test_recovered_work_survives_a_second_crash_at_once(make_window, tmp_path):
    """Recovering must not delete the only copy: the new session writes its own first."""
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    answer_recovery((0, "recover"))
    second = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    crash(second)  # a second crash long before the next autosave
    answer_recovery((0, "recover"))
    third = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert third.document.node("h1")["units"] == 13


def test_recovery_files_stay_until_the_recovered_work_is_safe(make_window, tmp_path,
                                                              monkeypatch):
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    orphan = RecoveryStore(folder).orphans()[0]
    monkeypatch.setattr(RecoveryStore, "write", lambda *a: (_ for _ in ()).throw(
        OSError("disk full")))
    answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert later.document.node("h1")["units"] == 13
    assert orphan.project_path.is_file()  # the autosave failed: the original stays
    monkeypatch.undo()
    later.files._save_to(str(tmp_path / "saved.annproj"))
    assert not orphan.project_path.exists()  # saved by the user: now it may go


def test_every_crashed_session_is_offered_and_later_keeps_them(make_window, tmp_path, boxes):
    folder = tmp_path / "recovery"
    source = tmp_path / "lesson.annproj"
    from core.project import save_project
    save_project(small_project(), source)
    crashed_with(make_window, folder, 13)
    crashed_with(make_window, folder, 21, source)
    shown = answer_recovery((0, "later"))
    first = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert len(shown[0]) == 2 and any("lesson.annproj" in line for line in shown[0])
    assert len(RecoveryStore(folder).orphans()) == 2  # Later deletes nothing
    first.close()
    shown = answer_recovery((1, "recover"))
    second = make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    recovered = second.document.node("h1")["units"]
    assert recovered in (13, 21)
    assert len(RecoveryStore(folder).orphans()) == 1  # the other crash's work stays
    assert second.recovery.project_path.is_file()  # the recovered one is in second's copy
    second.files._save_to(str(tmp_path / "first.annproj"))
    shown = answer_recovery((0, "recover"))
    assert action(second, "recover") in second.menus["file"].actions()
    action(second, "recover").trigger()  # File > Recover unsaved work: the other one
    assert {recovered, second.document.node("h1")["units"]} == {13, 21}
    assert len(shown[0]) == 1


def test_discard_deletes_only_the_chosen_work(make_window, tmp_path):
    folder = tmp_path / "recovery"
    crashed_with(make_window, folder, 13)
    crashed_with(make_window, folder, 21)
    shown = answer_recovery((0, "discard"), (0, "later"))
    make_window(recovery=RecoveryStore(folder), offer_recovery=True)
    assert [len(lines) for lines in shown] == [2, 1]
    assert len(RecoveryStore(folder).orphans()) == 1


def test_no_recovery_prompt_after_a_clean_exit(make_window, tmp_path, boxes):
    store = RecoveryStore(tmp_path / "recovery")
    first = make_window(recovery=store)
    use_project(first)
    first.editor.set_param(["h1"], "units", 13)
    first.autosave()
    first.editor.undo_stack.setClean()
    first.close()
    assert list((tmp_path / "recovery").iterdir()) == []
    make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert boxes.shown == []


def test_autosave_timer_runs_every_minute(make_window, tmp_path):
    window = make_window(recovery=RecoveryStore(tmp_path / "recovery"))
    assert window.autosave_timer.isActive()
    assert window.autosave_timer.interval() == 60_000


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


def test_recovered_project_keeps_its_file_name(make_window, tmp_path):
    from core.project import save_project
    source = tmp_path / "lesson.annproj"
    save_project(small_project(), source)
    crashed_with(make_window, tmp_path / "recovery", 13, source)
    answer_recovery((0, "recover"))
    later = make_window(recovery=RecoveryStore(tmp_path / "recovery"), offer_recovery=True)
    assert later.session.file_path == source and later.session.is_modified
    assert "lesson.annproj" in later.windowTitle()


def test_first_start_is_maximized_and_later_starts_restore(settings, qtbot, boxes, monkeypatch):
    monkeypatch.setattr(designer_app, "install_training_ui", lambda window: None)
    first = designer_app.create_window(settings=settings, offer_recovery=False)
    assert first.isMaximized() or first.windowState() & Qt.WindowState.WindowMaximized
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.show()
    first.resize(700, 500)
    qtbot.wait(10)
    first.close()
    second = designer_app.create_window(settings=settings, offer_recovery=False)
    assert not second.windowState() & Qt.WindowState.WindowMaximized
    assert second.size().toTuple() == (700, 500)
    second.show()
    second.close()
    first.deleteLater()
    second.deleteLater()


@pytest.fixture
def full_window(qtbot, settings, boxes):
    """A window with the real training UI, 1600 x 1000 as on a projector's screen."""
    window = designer_app.create_window(settings=settings, offer_recovery=False)
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.show()
    window.resize(1600, 1000)
    qtbot.waitExposed(window)
    qtbot.wait(20)
    yield window
    window.editor.undo_stack.setClean()
    window.close()
    window.deleteLater()
    qtbot.wait(1)


def visible_tab_bars(window) -> list[list[str]]:
    from PySide6.QtWidgets import QTabBar
    return sorted([bar.tabText(i) for i in range(bar.count())]
                  for bar in window.findChildren(QTabBar)
                  if bar.parent() is window and bar.isVisible())


def test_default_layout_gives_the_output_dock_a_real_square(full_window, qtbot):
    window = full_window
    window.reset_layout()
    qtbot.wait(20)
    output = window.training_ui.docks["Output"]
    size = output.widget().size()
    assert output.isVisible() and not output.isFloating()
    assert size.width() >= 250 and size.height() >= 250, size
    assert 0.75 < size.width() / size.height() < 1.35  # square-ish, not a sliver
    assert window.dockWidgetArea(output) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.palette_dock.width() >= max(210, window.palette.names_width())  # in full
    assert window.size().toTuple() == (1600, 1000)  # no dock minimum forced it wider
    assert window.view.width() >= 700 and window.view.height() >= 500
    training = window.training_ui.docks["Training"]
    assert training.width() >= 380
    assert visible_tab_bars(window) == [["Loss curves", "Weights", "Confusion", "Images"],
                                        ["Training", "Data", "Inference", "Step through",
                                         "Runs"]]


def test_reset_layout_puts_moved_docks_back(full_window, qtbot):
    window = full_window
    output = window.training_ui.docks["Output"]
    assert window.default_arrangement
    output.setFloating(True)
    assert not window.default_arrangement  # presentation mode will not rebuild it now
    window.problems_dock.hide()
    window.tabifyDockWidget(window.inspector_dock, window.palette_dock)
    assert "reset_layout" in [a.objectName() for a in menu_actions(window)]
    action(window, "reset_layout").trigger()
    qtbot.wait(20)
    assert not output.isFloating() and window.problems_dock.isVisible()
    assert window.dockWidgetArea(window.palette_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.tabifiedDockWidgets(window.palette_dock) == []
    assert output.widget().width() >= 250 and output.widget().height() >= 250
    assert window.default_arrangement


def test_presentation_at_1500_px_fits_the_training_panel(full_window, qtbot):
    window = full_window
    window.resize(1500, 950)
    action(window, "presentation").trigger()
    for reset in (False, True):  # as toggled, and as View > Reset layout arranges it
        if reset:
            window.reset_layout()
        qtbot.wait(30)
        training = window.training_ui.docks["Training"].widget()
        inner = training.widget()
        assert inner.width() >= inner.minimumSizeHint().width()
        assert not training.horizontalScrollBar().isVisible()  # nothing clipped at the side
        output = window.training_ui.docks["Output"].widget()
        assert output.width() >= 250 and output.height() >= 250
        assert window.width() == 1500  # no dock minimum forces the window wider
        # large fonts: the bottom row (views) takes about half the height, not 40 %
        assert window.training_ui.docks["Output"].height() >= 0.45 * window.height()
    action(window, "presentation").trigger()


def test_problems_dock_shows_its_list_only_when_there_are_problems(window):
    use_project(window)
    problems = window.problems
    assert problems.list.isHidden() and "No problems" in problems.summary.text()
    window.editor.add_node("Dense", pos=(0.0, 300.0))  # a loose layer: a second output
    assert not problems.list.isHidden() and problems.list.count() >= 1
    window.editor.undo()
    assert problems.list.isHidden()
