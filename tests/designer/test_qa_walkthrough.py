"""What a student and a teacher ran into in a QA walk through the designer.

Each test is one bug found by using the app: an edit refused while training left its
value in the Inspector, the refusal read "structure..", undo put deleted layers back in
reverse order, "Fix the network" took one undo per change, and Train started runs that
could only fail (traceback on stderr, a pointer to an empty Problems list).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from designer import app as designer_app
from designer.session import Session

LOCK = "Training is running: press Stop before changing the network's structure."


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The whole window as `ann-designer` builds it (training UI included)."""
    for kind in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind,
                            lambda *a, **k: QMessageBox.StandardButton.No)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = designer_app.create_window(settings=settings, offer_recovery=False)
    win.resize(1400, 900)
    win.show()
    yield win
    run = win.training_ui.run
    thread = run._thread
    run.shutdown()
    win.session.mark_clean()
    win.close()
    win.deleteLater()
    qtbot.wait(1)
    assert thread is None or not thread.isRunning()
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]


# ----------------------------------------------------------------------------- document
def test_undoing_a_delete_keeps_the_layer_order(window):
    doc = window.document
    before = doc.node_ids()
    window.select_all()
    window.delete_selection()
    assert doc.node_ids() == []
    window.editor.undo()
    assert doc.node_ids() == before == [n["id"] for n in doc.spec["nodes"]]


def test_node_ids_follow_the_spec_order():
    from core.examples import load_example
    session = Session(load_example("spiral"))
    doc = session.document
    ids = doc.node_ids()
    session.editor.remove_nodes([ids[0], ids[2]])
    session.editor.undo_stack.undo()
    assert doc.node_ids() == ids


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
def _misfit(window) -> None:
    """The spiral network with an Input of 3 values and 3 output units (data: 2, 1)."""
    doc = window.document
    window.editor.set_param(["input"], "shape", [3])
    window.editor.set_param(["output"], "units", 3)
    assert doc.is_valid


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
