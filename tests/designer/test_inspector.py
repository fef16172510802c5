"""The Inspector: what it shows and applies, also when an edit is refused (for example
while training runs, when the value it showed must go back to the real one)."""

from __future__ import annotations

LOCK = "Training is running: press Stop before changing the network's structure."


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

