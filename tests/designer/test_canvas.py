"""The canvas in a real scene and view: drops, port drags, card drags, neuron view.

Gestures are real Qt events sent to the view's viewport (drag-enter/move/drop, mouse
press/move/release, wheel, keys), and every check reads the document, not the items,
except where the items' own look (badges, labels, neuron lines) is what is tested.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QMouseEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication

from core.project import Project
from designer.canvas.node_item import describe, format_shape
from designer.canvas.style import CanvasStyle, style_for
from designer.canvas.view import FRAGMENT_MIME, LAYER_MIME, CanvasView
from designer.model.layout import count_crossings, layered_layout
from designer.session import Session

Button = Qt.MouseButton


@pytest.fixture
def view(qtbot):
    session = Session(Project(name="empty", training={"seed": 0}))
    canvas = CanvasView.for_session(session)
    qtbot.addWidget(canvas)
    canvas.resize(1100, 700)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


def tiny(view: CanvasView) -> CanvasView:
    """Input(2) -> Dense(4) -> Dense(1) loaded into the view's document."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h1", "type": "Dense", "units": 4, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h1"], ["h1", "out"]]}
    layout = {"in": [0.0, 0.0], "h1": [270.0, 0.0], "out": [540.0, 0.0]}
    view.session.new_project(Project(name="tiny", spec=spec, layout=layout,
                                      training={"seed": 0}))
    view.fit_to_view()
    QApplication.processEvents()
    return view


def drop(view: CanvasView, kind: str, scene_pos: QPointF) -> None:
    """Drag-enter, drag-move and drop a palette item at a scene position."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, kind.encode("utf-8"))
    at = view.mapFromScene(scene_pos)
    target = view.viewport()
    actions = Qt.DropAction.CopyAction
    with warnings.catch_warnings():  # Qt 6 marks the QPoint constructors as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        events = (QDragEnterEvent(at, actions, mime, Button.LeftButton,
                                  Qt.KeyboardModifier.NoModifier),
                  QDragMoveEvent(at, actions, mime, Button.LeftButton,
                                 Qt.KeyboardModifier.NoModifier),
                  QDropEvent(QPointF(at), actions, mime, Button.LeftButton,
                             Qt.KeyboardModifier.NoModifier))
    for event in events:
        QApplication.sendEvent(target, event)


def mouse(view: CanvasView, kind: QEvent.Type, scene_pos: QPointF,
          button: Qt.MouseButton = Button.LeftButton) -> None:
    """One mouse event at a scene position (moves carry the button as held)."""
    local = QPointF(view.mapFromScene(scene_pos))
    held = Button.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    which = Button.NoButton if kind == QEvent.Type.MouseMove else button
    event = QMouseEvent(kind, local, QPointF(view.viewport().mapToGlobal(local.toPoint())),
                        which, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view: CanvasView, start: QPointF, end: QPointF, steps: int = 6,
         button: Qt.MouseButton = Button.LeftButton) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, start, button)
    for k in range(1, steps + 1):
        mouse(view, QEvent.Type.MouseMove, start + (end - start) * (k / steps), button)
    mouse(view, QEvent.Type.MouseButtonRelease, end, button)


def port(view: CanvasView, node_id: str, side: str) -> QPointF:
    return view.canvas.node_item(node_id).port_scene_pos(side)


def connect_by_drag(view: CanvasView, src: str, dst: str) -> None:
    drag(view, port(view, src, "out"), port(view, dst, "in"))


def test_build_a_network_by_drops_and_port_drags(view):
    doc = view.document
    for kind, x in (("Input", 0), ("Dense", 300), ("Dense", 600)):
        drop(view, kind, QPointF(x, 0))
    assert doc.node_ids() == ["input_1", "dense_1", "dense_2"]
    item = view.canvas.node_item("dense_1")
    assert item.sceneBoundingRect().contains(QPointF(300, 0))  # created where dropped
    view.editor.set_param(["dense_2"], "units", 1)
    view.fit_to_view()
    connect_by_drag(view, "input_1", "dense_1")
    drag(view, port(view, "dense_2", "in"), port(view, "dense_1", "out"))  # backwards too
    assert doc.edges() == [("input_1", "dense_1"), ("dense_1", "dense_2")]
    assert view.canvas.edge_item("dense_1", "dense_2").label == format_shape(
        doc.shape("dense_1"))
    assert doc.problems == [] and view.editor.undo_stack.count() == 6


def test_illegal_edge_by_port_drag_is_refused_with_a_reason(view):
    tiny(view)
    messages = []
    view.statusMessage.connect(messages.append)
    connect_by_drag(view, "in", "out")  # out already has an input
    assert "single input" in messages[-1]
    connect_by_drag(view, "out", "in")
    assert "Input layer" in messages[-1]
    assert view.document.edges() == [("in", "h1"), ("h1", "out")]
    assert view.canvas.edge_item("in", "out") is None


def test_port_drag_marks_the_target_before_release(view):
    tiny(view)
    view.editor.disconnect("h1", "out")
    canvas = view.canvas
    start = port(view, "h1", "out")
    mouse(view, QEvent.Type.MouseButtonPress, start)
    mouse(view, QEvent.Type.MouseMove, port(view, "out", "in"))
    assert canvas.node_item("out")._drop_hint == ("in", True)
    mouse(view, QEvent.Type.MouseMove, canvas.node_item("in").sceneBoundingRect().center())
    assert canvas.node_item("in")._drop_hint == ("in", False)
    assert canvas.node_item("out")._drop_hint is None
    mouse(view, QEvent.Type.MouseButtonRelease, canvas.node_item("in").sceneBoundingRect().center())
    assert canvas.node_item("in")._drop_hint is None and canvas.edge_drag_active is False
    assert view.document.edges() == [("in", "h1")]


def test_validation_badge_appears_and_clears(view):
    tiny(view)
    badge = view.canvas.node_item("h1").badge
    assert not badge.isVisible()
    view.editor.disconnect("in", "h1")
    assert badge.isVisible() and "input" in badge.toolTip().lower()
    view.editor.undo_stack.undo()
    assert not badge.isVisible() and badge.toolTip() == ""


def test_undo_redo_of_each_edit_shows_in_the_scene(view):
    tiny(view)
    canvas = view.canvas
    drop(view, "Dropout", QPointF(270, 250))
    assert canvas.node_item("dropout_1") is not None
    view.editor.undo_stack.undo()
    assert canvas.node_item("dropout_1") is None
    view.editor.undo_stack.redo()
    assert canvas.node_item("dropout_1") is not None
    view.canvas.select_nodes(["h1"])
    view.delete_selected()
    assert canvas.node_item("h1") is None and canvas.edge_items() == []
    view.editor.undo_stack.undo()
    assert canvas.node_item("h1") is not None and len(canvas.edge_items()) == 2
    view.editor.set_param(["h1"], "units", 7)
    assert "7 units" in describe(canvas.node_item("h1").node)
    view.editor.undo_stack.undo()
    assert canvas.node_item("h1").node["units"] == 4


def test_card_drag_is_one_move_command_validated_once(view):
    tiny(view)
    doc = view.document
    validations = []
    doc.problemsChanged.connect(lambda: validations.append(1))
    item = view.canvas.node_item("h1")
    start = item.sceneBoundingRect().center() + QPointF(0, -20)
    drag(view, start, start + QPointF(60, 90), steps=10)
    assert doc.position("h1") != (270.0, 0.0)
    assert view.editor.undo_stack.count() == 1 and validations == []
    assert doc.position("h1") == (item.pos().x(), item.pos().y())
    view.editor.undo_stack.undo()
    assert item.pos() == QPointF(270, 0) and doc.position("h1") == (270.0, 0.0)


def test_snap_to_grid_applies_to_drags(view):
    tiny(view)
    view.set_snap_to_grid(True)
    item = view.canvas.node_item("h1")
    start = item.sceneBoundingRect().center() + QPointF(0, -20)
    drag(view, start, start + QPointF(33, 47))
    x, y = view.document.position("h1")
    grid = view.canvas.style.grid_size
    assert x % grid == 0 and y % grid == 0 and (x, y) != (270.0, 0.0)


def test_rubber_band_selects_cards(view):
    tiny(view)
    a = view.canvas.node_item("in").sceneBoundingRect()
    b = view.canvas.node_item("h1").sceneBoundingRect()
    drag(view, a.topLeft() - QPointF(30, 30), b.bottomRight() + QPointF(5, 20))
    assert view.canvas.selected_node_ids() == ["in", "h1"]


def test_wheel_zooms_around_the_cursor_and_fit_shows_all(view):
    tiny(view)
    view.reset_zoom()
    anchor = view.canvas.node_item("h1").sceneBoundingRect().center()
    local = QPointF(view.mapFromScene(anchor))
    before = view.zoom
    event = QWheelEvent(local, QPointF(view.viewport().mapToGlobal(local.toPoint())),
                        QPoint(), QPoint(0, 240), Button.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom > before
    after = view.mapToScene(local.toPoint())
    assert abs(after.x() - anchor.x()) < 3 and abs(after.y() - anchor.y()) < 3
    view.fit_to_view()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in view.canvas.node_items():
        assert visible.contains(item.sceneBoundingRect())


def test_a_fitted_network_stays_fitted_as_the_window_grows_until_the_user_zooms(view, qtbot):
    """Opening a project fits it; the window is often maximised (and docks arranged)
    only afterwards, so the view re-fits on resize until the user takes over."""
    view.resize(450, 300)
    tiny(view)
    small = view.zoom
    view.resize(1100, 700)
    qtbot.waitUntil(lambda: view.zoom > small * 1.2, timeout=2000)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in view.canvas.node_items())
    view.zoom_out()
    zoomed = view.zoom
    view.resize(600, 400)
    QApplication.processEvents()
    assert view.zoom == pytest.approx(zoomed)


def test_middle_button_pans(view):
    tiny(view)
    view.reset_zoom()
    centre = view.mapToScene(view.viewport().rect().center())
    drag(view, centre, centre + QPointF(-120, -80), button=Button.MiddleButton)
    moved = view.mapToScene(view.viewport().rect().center())
    assert moved.x() > centre.x() + 50 and view.editor.undo_stack.count() == 0


def test_copy_paste_keeps_inner_edges_with_new_ids(view):
    tiny(view)
    view.canvas.select_nodes(["h1", "out"])
    assert view.copy()
    data = json.loads(bytes(QGuiApplication.clipboard().mimeData().data(FRAGMENT_MIME).data()))
    assert [n["id"] for n in data["nodes"]] == ["h1", "out"]
    new = view.paste()
    assert new == ["dense_1", "dense_2"]
    assert view.canvas.edge_item("dense_1", "dense_2") is not None
    assert view.canvas.selected_node_ids() == new
    assert ("in", "dense_1") not in view.document.edges()
    assert view.duplicate() == ["dense_3", "dense_4"]
    assert view.editor.undo_stack.count() == 2


def test_auto_layout_orders_left_to_right(view):
    tiny(view)
    doc = view.document
    view.editor.move_nodes({"in": (800, 300), "h1": (-300, 40), "out": (100, -200)})
    view.auto_layout()
    xs = {n: doc.position(n)[0] for n in doc.node_ids()}
    assert xs["in"] < xs["h1"] < xs["out"]
    assert view.canvas.node_item("out").pos().x() == xs["out"]


def test_layout_of_a_dag_has_every_edge_pointing_right_and_few_crossings():
    nodes = ["a", "b", "c", "d", "e", "f", "g"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "e"), ("b", "e"), ("c", "d"),
             ("d", "f"), ("e", "f"), ("a", "g"), ("g", "f")]
    pos = layered_layout(nodes, edges)
    assert all(pos[s][0] < pos[d][0] for s, d in edges)
    columns = {}
    for n in nodes:
        columns.setdefault(pos[n][0], []).append(n)
    # a crossing-free drawing exists for this graph; barycenter sweeps find a good one
    layers = [sorted(c, key=lambda n: pos[n][1]) for _, c in sorted(columns.items())]
    succ = {n: [d for s, d in edges if s == n] for n in nodes}
    assert count_crossings(layers, succ) <= 1
    assert layered_layout(["x", "y"], [("x", "y"), ("y", "x")])  # a cycle does not hang


def test_neuron_view_draws_weights_and_edits_them(view, qtbot):
    tiny(view)
    doc, canvas = view.document, view.canvas
    view.set_neuron_view(True)
    view.fit_to_view()
    lines = canvas.weight_item("in", "h1")
    assert lines is not None and not canvas.edge_item("in", "h1").isVisible()
    assert canvas.node_item("h1").neurons == 4 and canvas.node_item("in").neurons == 2
    kernel = view.session.layer_weights("h1")["kernel"]
    a = canvas.node_item("in").neuron_center(1)
    b = canvas.node_item("h1").neuron_center(2)
    middle = view.mapToScene(view.mapFromScene(a + (b - a) * 0.3))  # a pixel on the line
    assert lines.line_at(middle) == (1, 2)
    assert f"{kernel[1, 2]:.4g}" in lines.describe(1, 2)
    mouse(view, QEvent.Type.MouseButtonPress, middle)
    mouse(view, QEvent.Type.MouseButtonRelease, middle)
    editor = canvas.weight_editor
    assert editor is not None and float(editor.text()) == pytest.approx(kernel[1, 2], rel=1e-5)
    editor.setText("-1.5")
    editor.returnPressed.emit()
    assert doc.project.weights["h1"]["kernel"][1, 2] == -1.5
    assert lines.weight(1, 2) == -1.5
    assert view.editor.undo_stack.undoText().startswith("Set h1.kernel")
    view.editor.undo_stack.undo()
    assert lines.weight(1, 2) == pytest.approx(kernel[1, 2])


def test_neuron_view_plus_minus_buttons_and_neuron_drop(view):
    tiny(view)
    doc, canvas = view.document, view.canvas
    view.set_neuron_view(True)
    view.fit_to_view()
    item = canvas.node_item("h1")
    plus = item.mapToScene(item.button_rects()[+1].center())
    mouse(view, QEvent.Type.MouseButtonPress, plus)
    mouse(view, QEvent.Type.MouseButtonRelease, plus)
    assert doc.node("h1")["units"] == 5 and item.neurons == 5
    assert canvas.weight_item("h1", "out").weight(4, 0) is not None
    minus = item.mapToScene(item.button_rects()[-1].center())
    mouse(view, QEvent.Type.MouseButtonPress, minus)
    mouse(view, QEvent.Type.MouseButtonRelease, minus)
    assert doc.node("h1")["units"] == 4
    drop(view, "Neuron", canvas.node_item("out").sceneBoundingRect().center())
    assert doc.node("out")["units"] == 2
    messages = []
    view.statusMessage.connect(messages.append)
    drop(view, "Neuron", canvas.node_item("in").sceneBoundingRect().center())
    assert messages and "Dense" in messages[0]


def test_neuron_view_shows_maps_and_skips_big_layers(view):
    tiny(view)
    canvas = view.canvas
    view.set_neuron_view(True)
    height = canvas.node_item("h1").card_rect().height()
    view.session.set_neuron_maps({"h1": np.random.default_rng(0).normal(size=(4, 6, 6))})
    images = canvas.neuron_images("h1")
    assert len(images) == 4 and images[0].width() == 6
    assert canvas.node_item("h1").card_rect().height() > height  # room for the maps
    canvas.node_item("h1").update()
    view.viewport().repaint()
    view.editor.set_param(["h1"], "units", 40)
    assert canvas.node_item("h1").neurons is None
    assert canvas.weight_item("in", "h1") is None and canvas.edge_item("in", "h1").isVisible()
    view.set_neuron_view(False)
    assert canvas.node_item("in").neurons is None


def test_live_weights_repaint_the_neuron_lines(view):
    tiny(view)
    view.set_neuron_view(True)
    lines = view.canvas.weight_item("in", "h1")
    kernel = np.arange(8, dtype=float).reshape(2, 4)
    view.session.set_live_weights({"h1": {"kernel": kernel, "bias": np.zeros(4)}})
    assert lines.weight(1, 3) == 7.0


def test_styles_switch_theme_and_presentation(view):
    tiny(view)
    item = view.canvas.node_item("h1")
    width = item.card_rect().width()
    view.canvas.set_style(style_for("dark"))
    assert view.canvas.backgroundBrush().color().name() == CanvasStyle.dark().background
    view.canvas.set_style(style_for("light", presentation=True))
    assert item.card_rect().width() > width
    assert style_for("dark", True).line_width > CanvasStyle.dark().line_width
    view.viewport().repaint()


def test_delete_key_removes_selection_in_one_step(view, qtbot):
    tiny(view)
    view.canvas.select_nodes(["out"])
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert not view.document.has_node("out") and view.editor.undo_stack.count() == 1


def test_problem_click_selects_and_shows_the_node(view):
    tiny(view)
    selections = []
    view.canvas.nodesSelected.connect(selections.append)
    view.center_on_nodes(["out"])
    assert selections[-1] == ["out"] and view.canvas.selected_node_ids() == ["out"]


def test_save_and_open_rebuilds_the_same_scene(view, tmp_path):
    tiny(view)
    view.editor.add_node("Dropout", {"rate": 0.2}, (100.0, 220.0))
    path = view.session.save(tmp_path / "tiny.annproj")
    other = CanvasView.for_session(Session())
    other.session.open(path)
    assert other.document.spec == view.document.spec
    for node_id in view.document.node_ids():
        item = other.canvas.node_item(node_id)
        assert (item.pos().x(), item.pos().y()) == view.document.position(node_id)
    assert sorted(e.key for e in other.canvas.edge_items()) == sorted(view.document.edges())
    other.deleteLater()


def test_space_drag_pans_instead_of_selecting(view, qtbot):
    tiny(view)
    view.reset_zoom()
    view.setFocus()
    centre = view.mapToScene(view.viewport().rect().center())
    qtbot.keyPress(view, Qt.Key.Key_Space)
    drag(view, centre, centre + QPointF(150, 0))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    moved = view.mapToScene(view.viewport().rect().center())
    assert moved.x() < centre.x() - 100
    assert view.canvas.selected_node_ids() == [] and view.editor.undo_stack.count() == 0
    assert view.dragMode() == view.DragMode.RubberBandDrag


def test_click_selects_an_edge_and_delete_disconnects_it(view, qtbot):
    tiny(view)
    view.reset_zoom()
    edge = view.canvas.edge_item("h1", "out")
    view.centerOn(edge.path().pointAtPercent(0.25))
    near = edge.path().pointAtPercent(0.25) + QPointF(0, 3)  # a few pixels off the curve
    mouse(view, QEvent.Type.MouseButtonPress, near)
    mouse(view, QEvent.Type.MouseButtonRelease, near)
    assert view.canvas.selected_edges() == [("h1", "out")]
    assert edge.pen().color() == view.canvas.style.color("edge_selected")
    empty = near + QPointF(0, 200)
    mouse(view, QEvent.Type.MouseButtonPress, empty)
    mouse(view, QEvent.Type.MouseButtonRelease, empty)
    assert view.canvas.selected_edges() == []
    view.canvas.select_edge(edge)
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert view.document.edges() == [("in", "h1")]
    assert view.canvas.edge_item("h1", "out") is None


def test_edge_labels_hide_when_zoomed_far_out(view):
    tiny(view)
    edge = view.canvas.edge_item("in", "h1")
    view.reset_zoom()
    assert edge._label_text.isVisible()
    view.zoom_by(0.2)
    assert not edge._label_text.isVisible() and edge.pen().width() == 0


def test_context_menus_for_card_edge_and_canvas(view):
    tiny(view)
    canvas = view.canvas

    def texts(menu):
        return [a.text() for a in menu.actions() if a.text()]

    card = view.context_menu(canvas.node_item("h1").sceneBoundingRect().center())
    assert texts(card) == ["Duplicate", "Copy", "Cut", "Delete", "Add a neuron",
                           "Remove a neuron"]
    next(a for a in card.actions() if a.text() == "Add a neuron").trigger()
    assert view.document.node("h1")["units"] == 5
    edge = canvas.edge_item("h1", "out")
    menu = view.context_menu(edge.path().pointAtPercent(0.3))
    assert texts(menu) == ["Delete connection h1 → out"]
    menu.actions()[0].trigger()
    assert ("h1", "out") not in view.document.edges()
    empty = view.context_menu(QPointF(-3000, -3000))
    assert "Auto layout" in texts(empty)
    card = view.context_menu(canvas.node_item("h1").sceneBoundingRect().center())
    next(a for a in card.actions() if a.text() == "Delete").trigger()
    assert not view.document.has_node("h1")


def test_heat_map_colours_are_symmetric_and_diverging(qapp):
    from PySide6.QtGui import QColor

    from designer.canvas.neuron_view import diverging_image

    style = CanvasStyle.light()
    image = diverging_image(np.array([[2.0, 0.0, -2.0, 1.0]]), style)
    assert image.pixelColor(0, 0) == QColor(style.weight_positive)
    assert image.pixelColor(1, 0) == QColor("#ffffff")
    assert image.pixelColor(2, 0) == QColor(style.weight_negative)
    half = image.pixelColor(3, 0)  # halfway between white and the positive colour
    blue = QColor(style.weight_positive)
    assert abs(half.red() - (255 + blue.red()) / 2) <= 1


def test_cards_show_a_name_label_and_concatenate_order(view):
    tiny(view)
    canvas = view.canvas
    view.editor.set_param(["h1"], "name", "hidden <b>")
    item = canvas.node_item("h1")
    assert item.title == "hidden <b>" and "hidden &lt;b&gt; [h1]" in item.toolTip()
    cat = view.editor.add_node("Concatenate", pos=(800, 0))
    view.editor.connect("out", cat)
    view.editor.connect("h1", cat)
    assert canvas.edge_item("out", cat).label == "1: 1"
    assert canvas.edge_item("h1", cat).label == "2: 4"


def test_arrow_keys_nudge_the_selection(view, qtbot):
    tiny(view)
    view.canvas.select_nodes(["h1", "out"])
    view.setFocus()
    grid = view.canvas.style.grid_size
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Right)
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert view.document.position("h1") == (270.0 + grid, 5.0 * grid)
    assert view.document.position("out") == (540.0 + grid, 5.0 * grid)
    assert view.document.position("in") == (0.0, 0.0)
    assert view.editor.undo_stack.count() == 2


def test_locked_delete_and_backspace_push_nothing_and_say_why(view, qtbot):
    tiny(view)
    doc = view.document
    messages = []
    view.canvas.statusMessage.connect(messages.append)
    view.editor.set_structure_lock("training is running")
    view.canvas.select_nodes(["out"])
    view.canvas.select_edge(view.canvas.edge_item("in", "h1"), additive=True)
    view.setFocus()
    for key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
        qtbot.keyClick(view.viewport(), key)
    assert view.editor.undo_stack.count() == 0  # no empty "Delete" macro
    assert not view.session.is_modified
    assert doc.has_node("out") and ("in", "h1") in doc.edges()
    assert messages and all("training is running" in m for m in messages)
    view.editor.set_structure_lock(None)
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert not doc.has_node("out") and view.editor.undo_stack.count() == 1


def test_rename_keeps_the_card_its_edges_and_the_selection(view):
    tiny(view)
    canvas = view.canvas
    card, edge = canvas.node_item("h1"), canvas.edge_item("h1", "out")
    canvas.select_nodes(["h1"])
    assert view.editor.rename_node("h1", "hidden") is None
    assert canvas.node_item("hidden") is card and canvas.node_item("h1") is None
    assert card.node_id == "hidden" and card.title == "hidden"
    assert canvas.edge_item("hidden", "out") is edge and edge.key == ("hidden", "out")
    assert canvas.selected_node_ids() == ["hidden"]
    assert "hidden → out" in edge._hit.toolTip()
    view.editor.undo()
    assert canvas.node_item("h1") is card and canvas.edge_item("h1", "out") is edge


def test_presentation_spreads_cards_so_they_never_overlap(view):
    tiny(view)
    doc = view.document
    view.editor.move_nodes({"h1": (200.0, 0.0), "out": (400.0, 0.0)})  # as the old examples did
    view.canvas.set_style(style_for("light", True))
    assert view.canvas.style.node_width > 200  # presentation cards are wider than that
    items = [view.canvas.node_item(n) for n in ("in", "h1", "out")]
    cards = [item.mapRectToScene(item.card_rect()) for item in items]
    assert not cards[0].intersects(cards[1]) and not cards[1].intersects(cards[2])
    assert doc.position("h1") == (200.0, 0.0)  # the drawing is spread, not the layout
    item = view.canvas.node_item("h1")
    item.setSelected(True)
    item.setPos(item.pos() + QPointF(60.0, 0.0))
    view.canvas.commit_moves()  # a drag is saved in layout units
    from designer.canvas.style import PRESENTATION_SPREAD
    moved = 200.0 + 60.0 / PRESENTATION_SPREAD
    assert doc.position("h1") == pytest.approx((moved, 0.0), abs=0.01)
    view.canvas.set_style(style_for("light"))
    assert view.canvas.node_item("h1").pos().x() == pytest.approx(moved, abs=0.01)


def test_edge_labels_of_every_example_fit_between_the_cards(view):
    from core.examples import list_examples, load_example
    for info in list_examples():
        view.session.new_project(load_example(info.name))
        for edge in view.canvas.edge_items():
            if edge.label:
                assert edge._label_text.isVisibleTo(edge), (info.name, edge.key, edge.label)


def test_neuron_view_refits_a_fitted_view_so_no_card_is_cut_off(view):
    tiny(view)
    view.canvas.node_item("h1").setSelected(True)  # a selection is not what gets fitted
    view.resize(900, 260)  # a short canvas: the neuron columns would not fit as they were
    view.fit_to_view(selection=False)
    view.set_neuron_view(True)
    QApplication.processEvents()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for node in ("in", "h1", "out"):
        assert shown.contains(view.canvas.node_item(node).sceneBoundingRect()), node
    view.zoom_in()  # once the user zooms, toggling leaves the zoom alone
    zoom = view.zoom
    view.set_neuron_view(False)
    assert view.zoom == zoom


def test_the_canvas_keeps_how_long_its_last_repaint_took(view):
    """The live refresher spaces the canvas' training updates by it."""
    tiny(view)
    view.paint_seconds = 0.0
    view.viewport().repaint()
    assert view.paint_seconds > 0.0
