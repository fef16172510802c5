"""The Step through panel in a real window: trace, step with keys, values, explain."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.network import Network
from designer.lesson.explain import num


def _panel(window, qtbot):
    panel = window.lesson_ui.step
    window.lesson_ui.docks["Step through"].show()
    qtbot.waitUntil(lambda: panel.sample_data() is not None, timeout=20_000)
    return panel


def test_step_through_shows_the_engines_numbers(window, qtbot):
    panel = _panel(window, qtbot)
    panel.sample.setValue(5)
    assert panel.trace_current() is None
    X, Y, _ = panel.sample_data()
    net = panel.network()
    _, acts = net.forward(X[5:6], training=True, capture=True)
    kinds = [p.kind for p in panel.stops]
    assert kinds[0] == "forward" and "loss" in kinds and kinds[-1] == "update"
    # the first stop: the first hidden layer's z and a, as the engine computes a
    first = panel.stops[0].node_id
    a_col = panel.values.columnCount() - 1
    shown = [panel.values.item(r, a_col).text() for r in range(panel.values.rowCount())]
    assert shown == [num(v) for v in acts[first][0]]
    # arrow keys step; the overlay follows
    panel.values.setFocus()
    qtbot.keyClick(panel.values, Qt.Key.Key_Right)
    assert panel.index == 1 and panel.overlay.phase is panel.stops[1]
    qtbot.keyClick(panel.values, Qt.Key.Key_Left)
    assert panel.index == 0
    assert panel.overlay.labels()[0][2].startswith("z=")
    # select a neuron: the explain text carries its numbers
    panel.values.selectRow(0)
    assert num(panel.trace.nodes[first].z[0]) in panel.explain.toPlainText()


def test_update_stop_is_the_optimizers_step_and_changes_nothing(window, qtbot):
    panel = _panel(window, qtbot)
    before = {n: {k: v.copy() for k, v in a.items()} for n, a in
              (window.session.weights or {}).items()}
    assert panel.trace_current() is None
    last = len(panel.stops) - 1
    panel.go(last)
    phase = panel.stops[last]
    step = panel.trace.params[(phase.node_id, phase.param)]
    assert panel.values.rowCount() == step.old.size
    assert panel.values.item(0, 4).text() == num(step.new.reshape(-1)[0])
    panel.values.selectRow(0)
    assert "step" in panel.explain.toPlainText()
    after = window.session.weights or {}
    assert all(np.array_equal(v, after[n][k]) for n, a in before.items()
               for k, v in a.items())


def test_play_runs_to_the_end(window, qtbot):
    panel = _panel(window, qtbot)
    panel.trace_current()
    panel.speed.setValue(20.0)
    panel.play_button.setChecked(True)
    qtbot.waitUntil(lambda: panel.index == len(panel.stops) - 1, timeout=10_000)
    qtbot.waitUntil(lambda: not panel.play_button.isChecked(), timeout=2_000)


def test_clicking_a_point_picks_the_nearest_sample(window, qtbot):
    panel = _panel(window, qtbot)
    _, _, raw = panel.sample_data()
    assert panel.trace_point(raw[7]) is None
    assert panel.sample.value() == 7
    assert isinstance(panel.network(), Network)


def test_an_edit_drops_the_trace(window, qtbot):
    panel = _panel(window, qtbot)
    panel.trace_current()
    window.editor.change_units(panel.stops[0].node_id, 1)
    assert panel.trace is None and not panel.next_button.isEnabled()
    assert panel.trace_current() is None


def test_typed_features_trace_like_the_sample_they_name(window, qtbot):
    panel = _panel(window, qtbot)
    _, Y, raw = panel.sample_data()
    panel.sample.setValue(3)
    panel.trace_current()
    loss = panel.trace.loss
    text = ", ".join(repr(float(v)) for v in raw[3]) + "; " + str(int(np.ravel(Y[3])[0]))
    panel.typed.setText(text)
    qtbot.keyClick(panel.typed, Qt.Key.Key_Return)
    assert panel.trace.loss == pytest.approx(loss, rel=1e-5)
    assert panel.trace_typed("1, 2, 3") is not None  # the spiral has two features
    assert panel.trace_typed("0.5, 0.5") is None and "nearest" in panel.sample_label.text()


def test_a_large_network_is_summed_up_per_layer(window, qtbot):
    from core.examples import load_example
    window.session.new_project(load_example("digits-mlp"))
    panel = _panel(window, qtbot)
    assert panel.trace_current() is None
    assert panel.layers.rowCount() == len(panel.trace.order)
    first_update = next(i for i, p in enumerate(panel.stops) if p.kind == "update")
    panel.go(first_update)
    assert panel.values.rowCount() == 2000 and "of" in panel.title.text()


def test_apply_this_step_is_the_traced_update_and_undoable(window, qtbot):
    panel = _panel(window, qtbot)
    panel.sample.setValue(4)
    panel.trace_current()
    traced = panel.trace
    before = {n: dict(a) for n, a in panel.network().get_weights().items()}
    assert panel.apply_step() is None
    for (node, name), step in traced.params.items():
        np.testing.assert_array_equal(window.document.stored_weights[node][name], step.new)
    state = window.document.project.optimizer_state
    assert int(state["iterations"]) == traced.iteration
    assert panel.trace.iteration == traced.iteration + 1  # traced again from there
    window.editor.undo()
    for node, arrays in before.items():
        for name, value in arrays.items():
            np.testing.assert_array_equal(window.session.layer_weights(node)[name], value)


def test_clicking_a_traced_neuron_explains_it(window, qtbot):
    window.set_neuron_view(True)
    panel = _panel(window, qtbot)
    panel.trace_current()
    node = panel.stops[0].node_id
    item = window.scene.node_item(node)
    center = item.neuron_center(1)
    view = window.view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(center))
    assert panel.tabs.currentWidget() is panel.explain
    assert f"Neuron {node}[1]" in panel.explain.toPlainText()
    assert panel.overlay.neuron_at(center) == (node, 1)
