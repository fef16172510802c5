"""Knock-outs: zero or freeze a neuron or weight, undoable, kept so by training."""

from __future__ import annotations

import numpy as np

from core import Network, Trainer
from designer.lesson import knockout as ko
from designer.run.process import FrozenValues
from tests.designer.training_windows import ui_of, wait_idle

SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                  {"id": "h", "type": "Dense", "units": 3, "activation": "tanh"},
                  {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
        "edges": [["in", "h"], ["h", "out"]]}


def _lookup(net):
    weights = net.get_weights()
    return (lambda n: ["out"] if n == "h" else []), weights.get


def test_a_neuron_covers_its_inputs_bias_and_outputs():
    net = Network.from_spec(SPEC, seed=0)
    succ, weights_of = _lookup(net)
    entry = ko.neuron("h", 1)
    zero = ko.zeroed([entry], succ, weights_of)
    assert np.all(zero["h"]["kernel"][:, 1] == 0) and zero["h"]["bias"][1] == 0
    assert zero["out"]["kernel"][1, 0] == 0 and zero["out"]["kernel"][0, 0] != 0
    frozen = dict(((n, k), ids) for n, k, ids in ko.frozen([entry], succ, weights_of))
    assert frozen[("h", "kernel")] == (1, 4) and frozen[("out", "kernel")] == (1,)
    assert ko.covered(ko.neuron("h", 7), succ, weights_of) == []  # no such unit
    assert ko.valid_entries({"knockouts": [{"node": 3}, entry, "junk"]}) == [entry]


def test_training_keeps_frozen_values():
    net = Network.from_spec(SPEC, seed=0)
    succ, weights_of = _lookup(net)
    entries = [ko.neuron("h", 0), ko.weight("out", "kernel", (2, 0), zero=False)]
    net.set_weights(ko.zeroed(entries, succ, weights_of))
    frozen = ko.frozen(entries, succ, weights_of)
    before = net.get_weights()
    trainer = Trainer(net, loss="binary_crossentropy", optimizer={"type": "adam", "lr": 0.1})
    trainer.callbacks.append(FrozenValues(net, frozen))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    trainer.fit(X, (X[:, :1] > 0).astype(np.float32), epochs=3)
    after = net.get_weights()
    assert np.all(after["h"]["kernel"][:, 0] == 0) and after["h"]["bias"][0] == 0
    assert after["out"]["kernel"][0, 0] == 0
    assert after["out"]["kernel"][2, 0] == before["out"]["kernel"][2, 0]
    assert not np.array_equal(after["h"]["kernel"][:, 1], before["h"]["kernel"][:, 1])


def test_knock_out_in_the_window_is_undoable_and_training_respects_it(window, qtbot):
    panel = window.lesson_ui.step
    qtbot.waitUntil(lambda: panel.sample_data() is not None, timeout=20_000)
    panel.trace_current()
    panel.values.selectRow(0)  # the first hidden layer's first neuron
    node = panel.stops[0].node_id
    before = np.array(window.session.layer_weights(node)["kernel"])
    panel.knockout_bar.knock_button.click()
    assert window.document.extra_value("knockouts") == [ko.neuron(node, 0)]
    kernel = window.document.stored_weights[node]["kernel"]
    assert np.all(kernel[:, 0] == 0)
    assert panel.trace.nodes[node].a[0] == 0  # traced again with the knock-out
    assert f"{node}[0] (neuron, zero)" in panel.knockout_bar.status.text()
    window.editor.undo()
    assert window.document.extra_value("knockouts") is None
    np.testing.assert_array_equal(window.session.layer_weights(node)["kernel"], before)
    window.editor.redo()
    ui = ui_of(window)
    ui.run.train(epochs=2)
    wait_idle(qtbot, ui)
    assert np.all(window.document.stored_weights[node]["kernel"][:, 0] == 0)
    assert window.document.stored_weights[node]["bias"][0] == 0
    panel.knockout_bar.release_button.click()
    assert window.document.extra_value("knockouts") is None and ui.run.frozen() == ()


def test_export_bakes_a_knock_out_in_and_says_so(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    knockouts = window.lesson_ui.step.knockouts
    node = window.document.nodes_of_type("Dense")[0]
    assert knockouts.add(ko.neuron(node, 1)) is None
    target = tmp_path / "model.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.files.export("npz")
    assert "1 knock-out(s) baked in" in window.statusBar().currentMessage()
    with np.load(target) as exported:
        kernel = next(exported[k] for k in exported.files if k.startswith(node)
                      and k.endswith("kernel"))
    assert np.all(kernel[:, 1] == 0)
