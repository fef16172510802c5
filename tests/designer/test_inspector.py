"""The Inspector: what it shows and applies, also when an edit is refused (for example
while training runs, when the value it showed must go back to the real one)."""

from __future__ import annotations

from project_state import small_project
from PySide6.QtCore import Qt

from core.project import Project

LOCK = "Training is running: press Stop before changing the network's structure."


def use_project(window, project: Project | None = None) -> None:
    window.session.new_project(project or small_project())


def action(window, name: str):
    return window.actions_by_name[name]


def test_a_refusal_while_training_is_one_sentence(window):
    window.editor.set_structure_lock(LOCK)
    try:
        window.select_all()
        window.delete_selection()
        message = window.statusBar().currentMessage()
        assert message.startswith("The network cannot be changed now: Training is running")
        assert not message.endswith("..")
        assert not window.editor.add_node("Dense")
        assert not window.statusBar().currentMessage().endswith("..")
    finally:
        window.editor.set_structure_lock(None)


# ----------------------------------------------------------------------------- inspector
def test_inspector_shows_the_real_value_after_a_refused_edit(window, qtbot):
    doc = window.document
    window.select_nodes(["hidden1"])
    inspector = window.inspector
    units = inspector.fields["units"]
    error = inspector._errors["units"]
    assert units.widget.value() == 8
    window.editor.set_structure_lock(LOCK)
    units.widget.setValue(9)  # as the spin box arrow would
    assert doc.node("hidden1")["units"] == 8
    assert units.widget.value() == 8  # not a 9 that the network does not have
    assert "Training is running" in error.text() and not error.isHidden()
    window.editor.set_structure_lock(None)  # Stop: the reason no longer holds
    assert error.isHidden()
    units.widget.setValue(9)
    assert doc.node("hidden1")["units"] == 9


def test_a_refused_rename_shows_the_real_id(window):
    doc = window.document
    window.select_nodes(["hidden1"])
    field = window.inspector.fields["id"]
    window.editor.set_structure_lock(LOCK)
    try:
        field.widget.setText("first")
        field.widget.editingFinished.emit()
        assert doc.has_node("hidden1") and not doc.has_node("first")
        assert field.widget.text() == "hidden1"
    finally:
        window.editor.set_structure_lock(None)


# ----------------------------------------------------------------------------- data fit


def test_inspector_edit_is_undoable_and_merges(window):
    use_project(window)
    doc = window.document
    window.select_nodes(["h1"])
    fields = window.inspector.fields
    assert set(fields) == {"id", "name", "units", "activation", "use_bias", "kernel_initializer",
                           "bias_initializer"}
    assert fields["units"].widget.value() == 4
    before = window.editor.undo_stack.count()
    fields["units"].widget.setValue(1)
    fields["units"].widget.setValue(12)
    fields["units"].widget.setValue(128)
    assert doc.node("h1")["units"] == 128
    assert window.editor.undo_stack.count() == before + 1  # three edits of one field: one step
    combo = fields["activation"].widget
    combo.setCurrentIndex(combo.findData("relu"))
    assert doc.node("h1")["activation"] == "relu"
    assert window.editor.undo_stack.count() == before + 2
    action(window, "undo").trigger()
    assert doc.node("h1")["activation"] == "tanh"
    assert combo.currentData() == "tanh"
    action(window, "undo").trigger()
    assert doc.node("h1")["units"] == 4 and fields["units"].widget.value() == 4
    action(window, "redo").trigger()
    assert doc.node("h1")["units"] == 128 and fields["units"].widget.value() == 128


def test_inspector_shows_keras_options_of_activation_and_batchnorm(window, qtbot):
    """negative_slope, approximate, center and scale come from the layers' schemas."""
    doc = window.document
    window.session.new_project(Project(name="options", spec={
        "nodes": [{"id": "in", "type": "Input", "shape": [3]},
                  {"id": "act", "type": "Activation", "activation": "leaky_relu"},
                  {"id": "bn", "type": "BatchNormalization"}],
        "edges": [["in", "act"], ["act", "bn"]]}, layout={}))
    window.select_nodes(["act"])
    fields = window.inspector.fields
    assert {"negative_slope", "approximate"} <= set(fields)
    slope = fields["negative_slope"].widget
    assert float(slope.text()) == 0.2
    slope.setFocus()
    slope.selectAll()
    qtbot.keyClicks(slope, "0.05")
    assert doc.node("act")["negative_slope"] == 0.05
    window.select_nodes(["bn"])
    fields = window.inspector.fields
    assert {"center", "scale"} <= set(fields) and fields["center"].widget.isChecked()
    fields["center"].widget.click()   # a person clicks; setChecked sends no edit
    assert doc.node("bn")["center"] is False
    action(window, "undo").trigger()
    assert doc.node("bn").get("center", True) is True


def test_inspector_rejects_invalid_text_as_typed(window, qtbot):
    doc = window.document
    window.session.new_project(Project(name="drop", spec={
        "nodes": [{"id": "in", "type": "Input", "shape": [3]},
                  {"id": "d", "type": "Dropout", "rate": 0.5}],
        "edges": [["in", "d"]]}, layout={}))
    window.select_nodes(["d"])
    rate = window.inspector.fields["rate"]
    count = window.editor.undo_stack.count()
    rate.widget.setFocus()
    rate.widget.selectAll()
    qtbot.keyClicks(rate.widget, "1.5")
    assert doc.node("d")["rate"] != 1.5
    assert rate.widget.property("invalid") is True
    assert "at most" in window.inspector._errors["rate"].text()
    rate.widget.selectAll()
    qtbot.keyClicks(rate.widget, "0.25")
    assert doc.node("d")["rate"] == 0.25
    assert rate.widget.property("invalid") is False
    assert window.editor.undo_stack.count() == count + 1
    window.select_nodes(["in"])
    shape = window.inspector.fields["shape"]
    shape.widget.selectAll()
    qtbot.keyClicks(shape.widget, "0, 5")  # 0 is never a valid size, whatever follows
    assert doc.node("in")["shape"] == [3]
    assert "at least 1" in window.inspector._errors["shape"].text()
    shape.widget.selectAll()
    qtbot.keyClicks(shape.widget, "4, 5")
    assert doc.node("in")["shape"] == [4, 5]


def test_inspector_edits_the_optional_label(window, qtbot):
    use_project(window)
    doc = window.document
    window.select_nodes(["h1"])
    label = window.inspector.fields["name"].widget
    qtbot.keyClicks(label, "hidden")
    assert doc.node("h1")["name"] == "hidden"
    label.selectAll()
    qtbot.keyClick(label, Qt.Key.Key_Delete)
    assert "name" not in doc.node("h1")
    assert not doc.problems


def test_double_click_on_a_card_focuses_the_inspector(window, qtbot):
    use_project(window)
    window.inspector_dock.hide()
    window.scene.nodeActivated.emit("out")
    assert window.selected_node_ids() == ["out"]
    assert window.inspector_dock.isVisible()
    qtbot.waitUntil(lambda: window.inspector.fields["units"].widget.hasFocus())


def test_inspector_multi_selection_edits_shared_fields(window):
    use_project(window)
    doc = window.document
    window.select_nodes(["h1", "out"])
    fields = window.inspector.fields
    assert "units" in fields and fields["units"].widget.specialValueText() == "(mixed)"
    combo = fields["activation"].widget
    combo.setCurrentIndex(combo.findData("relu"))
    assert doc.node("h1")["activation"] == doc.node("out")["activation"] == "relu"
    window.select_nodes(["in", "h1"])
    assert window.inspector.fields == {}


def test_inspector_has_an_editor_for_every_parameter_of_every_layer(window):
    from core.spec import LAYER_SCHEMAS
    from designer.panels.inspector_fields import FIELD_KINDS
    for type_name, schema in LAYER_SCHEMAS.items():
        node_id = window.editor.add_node(type_name, pos=(0.0, 0.0))
        window.select_nodes([node_id])
        fields = window.inspector.fields
        assert list(fields) == ["id", "name"] + [p.name for p in schema.params], type_name
        for param in schema.params:
            assert isinstance(fields[param.name], FIELD_KINDS[param.kind]), param.name
            if param.kind == "int" and param.min is not None:
                assert fields[param.name].widget.minimum() == param.min
            if param.kind == "choice":
                combo = fields[param.name].widget
                assert [combo.itemData(i) for i in range(combo.count())] == list(param.choices)
        assert type_name in window.inspector.title.text()


def test_inspector_id_field_renames_with_validation_and_undo(window):
    use_project(window)
    doc = window.document
    window.select_nodes(["h1"])
    field = window.inspector.fields["id"]
    edit = field.widget
    assert edit.text() == "h1"
    edit.setFocus()
    for text, words in (("out", "already called out"), ("", "needs an id"),
                        ("a b", "not a valid id")):
        edit.setText(text)
        edit.textEdited.emit(text)
        assert words in window.inspector._errors["id"].text()
        edit.editingFinished.emit()
        assert window.editor.undo_stack.count() == 0 and doc.has_node("h1")
    edit.setText("hidden")
    edit.textEdited.emit("hidden")
    assert window.inspector._errors["id"].isHidden()
    edit.editingFinished.emit()
    assert doc.node_ids() == ["in", "hidden", "out"] and window.editor.undo_stack.count() == 1
    assert window.inspector.node_ids == ["hidden"] and "hidden" in window.inspector.title.text()
    assert window.selected_node_ids() == ["hidden"]
    action(window, "undo").trigger()
    assert doc.node_ids() == ["in", "h1", "out"] and window.inspector.fields["id"].widget.text() \
        == "h1"
    action(window, "redo").trigger()
    assert doc.has_node("hidden") and window.inspector.node_ids == ["hidden"]
