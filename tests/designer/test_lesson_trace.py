"""The step-through's numbers are the engine's: forward, gradients and the optimizer step."""

from __future__ import annotations

import numpy as np
import pytest

from core import Network, Trainer
from core.activations import ACTIVATIONS
from designer.lesson.explain import explain_loss, explain_neuron, explain_weight, num
from designer.lesson.trace import layer_rows, phases, trace_sample

DENSE = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                   {"id": "h", "type": "Dense", "units": 4, "activation": "tanh"},
                   {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
         "edges": [["in", "h"], ["h", "out"]]}
ADD = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                 {"id": "a", "type": "Dense", "units": 3, "activation": "tanh"},
                 {"id": "b", "type": "Dense", "units": 3, "activation": "relu"},
                 {"id": "sum", "type": "Add"},
                 {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
       "edges": [["in", "a"], ["in", "b"], ["a", "sum"], ["b", "sum"], ["sum", "out"]]}
BATCHNORM = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                       {"id": "h", "type": "Dense", "units": 4, "activation": "relu"},
                       {"id": "bn", "type": "BatchNormalization"},
                       {"id": "out", "type": "Dense", "units": 1, "activation": "linear"}],
             "edges": [["in", "h"], ["h", "bn"], ["bn", "out"]]}

CASES = [
    (DENSE, "categorical_crossentropy", np.array([[0.0, 1.0, 0.0]], np.float32),
     {"type": "adam", "lr": 0.05}),
    (ADD, "binary_crossentropy", np.array([[1.0]], np.float32),
     {"type": "sgd", "lr": 0.1, "momentum": 0.9}),
    (BATCHNORM, "mse", np.array([[0.7]], np.float32), {"type": "rmsprop", "lr": 0.01}),
]
X = np.array([[0.3, -1.2]], np.float32)


def _warmed(spec, loss, y, opt, steps=3):
    """A network and trainer a few steps into training on (X, y), so the optimizer has
    state (Adam's moments, momentum) that the next step depends on."""
    net = Network.from_spec(spec, seed=3)
    trainer = Trainer(net, loss=loss, optimizer=opt, batch_size=1, seed=0)
    trainer.fit(X, y, epochs=steps)
    return net, trainer


@pytest.mark.parametrize(("spec", "loss", "y", "opt"), CASES)
def test_every_value_shown_is_the_engines(spec, loss, y, opt):
    net, trainer = _warmed(spec, loss, y, opt)
    state = trainer.optimizer.state_dict()
    weights = net.get_weights()
    trace = trace_sample(net, X, y, loss, opt, state)
    assert all(np.array_equal(v, net.get_weights()[n][k])
               for n, arrays in weights.items() for k, v in arrays.items())  # unchanged

    check = Network.from_spec(spec, seed=99)
    check.set_weights(weights)
    _, acts = check.forward(X, training=True, capture=True)
    check.set_weights(weights)
    value, grads, dl_da = check.loss_and_gradients(X, y, loss, capture=True)
    assert trace.loss == pytest.approx(value, rel=1e-6)
    for node, v in trace.nodes.items():
        np.testing.assert_allclose(v.a, acts[node].reshape(-1), rtol=1e-6)
        if node in dl_da and node != "in":
            np.testing.assert_allclose(v.dl_da, dl_da[node].reshape(-1), rtol=1e-6)
        if v.type == "Dense":
            x_in = acts[v.inputs[0]].reshape(-1)
            w = weights[node]
            np.testing.assert_allclose(v.z, x_in @ w["kernel"] + w["bias"], rtol=1e-5,
                                       atol=1e-6)
            f = ACTIVATIONS[v.activation]
            np.testing.assert_allclose(f.forward(v.z.reshape(1, -1).copy(),
                                                 np.empty((1, v.units), v.z.dtype))[0],
                                       v.a, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(v.delta, grads[node]["bias"], rtol=1e-6)
            # dL/dw_ij = delta_j x_i, each edge's number
            np.testing.assert_allclose(np.outer(x_in, v.delta), grads[node]["kernel"],
                                       rtol=1e-5, atol=1e-7)
            if v.fprime is not None and node != trace.output_id:
                np.testing.assert_allclose(v.dl_da * v.fprime, v.delta, rtol=1e-5,
                                           atol=1e-7)

    trainer.fit(X, y, epochs=1)  # the real next step, with the optimizer's real state
    after = net.get_weights()
    for (node, name), step in trace.params.items():
        np.testing.assert_allclose(step.grad, grads[node][name], rtol=1e-6)
        np.testing.assert_allclose(step.new, after[node][name], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(step.old - step.step, step.new, rtol=1e-5, atol=1e-7)


def test_captured_output_gradients_follow_the_chain_rule():
    """dL/da of a hidden layer is W_next delta_next; at an Add both inputs get dL/d(sum)."""
    net = Network.from_spec(ADD, seed=2)
    _, grads, dl_da = net.loss_and_gradients(X, np.array([[1.0]]), "binary_crossentropy",
                                             capture=True)
    w_out = net.get_weights()["out"]["kernel"]
    np.testing.assert_allclose(dl_da["sum"][0], w_out @ grads["out"]["bias"], rtol=1e-6)
    np.testing.assert_allclose(dl_da["a"], dl_da["sum"], rtol=1e-6)
    np.testing.assert_allclose(dl_da["b"], dl_da["sum"], rtol=1e-6)


def test_penalties_enter_the_kernels_gradients_and_the_step_as_in_training():
    spec, loss, y, opt = CASES[0]
    net = Network.from_spec(spec, seed=3)
    trainer = Trainer(net, loss=loss, optimizer=opt, batch_size=1, seed=0, l1=0.01, l2=0.02)
    trainer.fit(X, y, epochs=2)
    trace = trace_sample(net, X, y, loss, opt, trainer.optimizer.state_dict(), 0.01, 0.02)
    trainer.fit(X, y, epochs=1)
    after = net.get_weights()
    for (node, name), step in trace.params.items():
        np.testing.assert_allclose(step.new, after[node][name], rtol=1e-5, atol=1e-7)
    k = trace.params[("out", "kernel")]
    delta, x_in = trace.nodes["out"].delta, trace.nodes["h"].a
    np.testing.assert_allclose(k.grad, np.outer(x_in, delta) + 2 * 0.02 * k.old
                               + 0.01 * np.sign(k.old), rtol=1e-5, atol=1e-7)
    html = explain_weight(trace, "out", 1, 2)
    assert "2·l2·w" in html and f"<b>{num(k.grad[1, 2])}</b>" in html


def test_adam_step_is_not_plain_sgd():
    spec, loss, y, opt = CASES[0]
    net, trainer = _warmed(spec, loss, y, opt)
    trace = trace_sample(net, X, y, loss, opt, trainer.optimizer.state_dict())
    step = trace.params[("out", "kernel")]
    assert not np.allclose(step.step, opt["lr"] * step.grad)
    assert set(step.state) == {"m", "v"}
    assert trace.iteration == 4


def test_batch_of_one_normalises_to_beta():
    spec, loss, y, opt = CASES[2]
    net, _ = _warmed(spec, loss, y, opt)
    bn = trace_sample(net, X, y, loss, opt).nodes["bn"]
    np.testing.assert_allclose(bn.batch_norm.x_hat, 0.0, atol=1e-6)
    np.testing.assert_allclose(bn.a, bn.batch_norm.beta, rtol=1e-6)
    assert not np.allclose(bn.batch_norm.inference_output, bn.a)


def test_phases_go_forward_then_back_then_update():
    spec, loss, y, opt = CASES[1]
    net = Network.from_spec(spec, seed=1)
    trace = trace_sample(net, X, y, loss, opt)
    kinds = [p.kind for p in phases(trace)]
    assert kinds == ["forward"] * 4 + ["loss"] + ["backward"] * 4 + ["update"] * 6
    assert [p.node_id for p in phases(trace)][:4] == ["a", "b", "sum", "out"]
    assert trace.weight_path("a", 0, 1) == ["a", "sum", "out"]
    rows = layer_rows(trace)
    assert [r["node"] for r in rows] == list(trace.order)
    assert rows[-1]["grad_norm"] > 0


@pytest.mark.parametrize(("spec", "loss", "y", "opt"), CASES)
def test_explain_panels_print_the_traced_numbers(spec, loss, y, opt):
    net, trainer = _warmed(spec, loss, y, opt)
    trace = trace_sample(net, X, y, loss, opt, trainer.optimizer.state_dict())
    for node, v in trace.nodes.items():
        for unit in range(v.units):
            html = explain_neuron(trace, node, unit)
            assert num(v.a[unit]) in html
            if v.type == "Dense":
                assert f"<b>{num(v.z[unit])}</b>" in html
                assert f"<b>{num(v.delta[unit])}</b>" in html
                w = trace.params[(node, "kernel")].old[:, unit]
                assert all(f"({num(wk)})" in html for wk in w)
            if v.type == "BatchNormalization":
                assert "batch of one" in html
    h = trace.nodes["out"].inputs[0]
    html = explain_weight(trace, "out", 0, 0)
    step = trace.params[("out", "kernel")]
    assert f"<b>{num(step.grad[0, 0])}</b>" in html and f"<b>{num(step.new[0, 0])}</b>" in html
    assert f"{h}[0] → out[0]" in html
    html = explain_loss(trace)
    assert f"<b>{num(trace.loss)}</b>" in html


@pytest.mark.parametrize(("opt", "clipnorm"), [
    ({"type": "sgd", "lr": 0.1}, 0.05),                          # the settings' global norm
    ({"type": "adam", "lr": 0.05, "clipnorm": 0.02}, None),     # Keras' per-array norm
    ({"type": "sgd", "lr": 0.1, "momentum": 0.9, "clipvalue": 0.01}, None),
])
def test_the_step_clips_the_gradient_as_training_does(opt, clipnorm):
    """With clipping in the settings the shown step is the clipped one the Trainer takes,
    the raw gradient stays what backpropagation gives, and a note says it was clipped."""
    spec, loss, y, _ = CASES[0]
    net = Network.from_spec(spec, seed=3)
    trainer = Trainer(net, loss=loss, optimizer=opt, batch_size=1, seed=0, clipnorm=clipnorm)
    trainer.fit(X, y, epochs=2)
    _, grads = net.loss_and_gradients(X, y, loss)
    trace = trace_sample(net, X, y, loss, opt, trainer.optimizer.state_dict(),
                         clipnorm=clipnorm)
    trainer.fit(X, y, epochs=1)
    after = net.get_weights()
    for (node, name), step in trace.params.items():
        np.testing.assert_allclose(step.grad, grads[node][name], rtol=1e-6)
        np.testing.assert_allclose(step.new, after[node][name], rtol=1e-5, atol=1e-7)
    assert any(s.clipped is not None for s in trace.params.values())
    assert any("clipped" in note for note in trace.notes)
    k = trace.params[("out", "kernel")]
    html = explain_weight(trace, "out", 1, 2)
    if k.clipped is not None:
        assert "clipped gradient g =" in html and f"<b>{num(k.clipped[1, 2])}</b>" in html


def test_the_step_takes_the_schedules_learning_rate():
    """A decaying schedule: the traced step uses the rate of the next step (the
    project's epochs and steps so far), as the Trainer does."""
    from designer.lesson.trace import next_learning_rate
    spec, loss, y, _ = CASES[0]
    opt = {"type": "sgd", "lr": 0.5}
    schedule = {"type": "exponential", "decay_rate": 0.5, "decay_steps": 1, "per": "batch"}
    net = Network.from_spec(spec, seed=3)
    trainer = Trainer(net, loss=loss, optimizer=opt, batch_size=1, seed=0, schedule=schedule)
    trainer.fit(X, y, epochs=3)
    history = {"loss": [1.0] * 3, "batch_loss": [1.0] * 3, "batch_step": [1, 2, 3]}
    lr = next_learning_rate({"optimizer": opt, "schedule": schedule}, history)
    assert lr == pytest.approx(trainer.lr) and lr == pytest.approx(0.5 * 0.5 ** 3)
    trace = trace_sample(net, X, y, loss, opt, trainer.optimizer.state_dict(), lr=lr)
    trainer.fit(X, y, epochs=1)
    after = net.get_weights()
    for (node, name), step in trace.params.items():
        np.testing.assert_allclose(step.new, after[node][name], rtol=1e-5, atol=1e-7)
    html = explain_weight(trace, "out", 0, 0)
    assert "learning rate (the schedule" in html and num(lr) in html
