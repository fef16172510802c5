"""Keras 3's rules where the engine once differed: exact GELU, leaky_relu's slope,
normalised and clipped cross-entropies, the three kinds of gradient clipping, AdamW's
decay, BatchNormalization's center/scale, ``loss_and_gradients(training=, l1=, l2=)``
and a diverging run that prints no NumPy warning.

Expected values come from Keras' documented formulas, worked by hand or with the
standard library's ``math.erf``; gradients from central differences.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core import Network, Trainer
from core.activations import get_activation
from core.losses import LOSSES
from core.optimizers import make_optimizer
from core.special import erf, erfc
from core.training import TrainingDiverged

H = 1e-6


def _fd(f, x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``f`` at every element of ``x``."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += H
        down[i] -= H
        g[i] = (f(up) - f(down)) / (2 * H)
    return g


# ---- erf and GELU -------------------------------------------------------------------------

def test_erf_matches_the_standard_library_to_1e_15():
    x = np.linspace(-27.0, 27.0, 20001)
    want_c = np.array([math.erfc(v) for v in x])
    normal = want_c > np.finfo(float).tiny
    rel = np.abs(erfc(x)[normal] - want_c[normal]) / want_c[normal]
    assert rel.max() < 1e-15
    want = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(erf(x) - want)) < 1e-15
    assert erfc(np.array([np.inf, -np.inf]))[:].tolist() == [0.0, 2.0]
    assert np.isnan(erfc(np.array([np.nan]))[0])


def test_gelu_is_exact_by_default_and_tanh_on_request():
    x = np.linspace(-8.0, 8.0, 321)
    # x Phi(x) = 0.5 x erfc(-x / sqrt 2): the tail keeps its digits (1 + erf would not)
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2.0)) for v in x])
    np.testing.assert_allclose(get_activation("gelu").forward(x), exact, rtol=3e-14,
                               atol=1e-300)
    k = math.sqrt(2.0 / math.pi)
    tanh_form = 0.5 * x * (1.0 + np.tanh(k * (x + 0.044715 * x ** 3)))
    approx = get_activation("gelu", approximate=True).forward(x)
    np.testing.assert_allclose(approx, tanh_form, rtol=1e-14)
    assert 4e-4 < np.max(np.abs(approx - exact)) < 5e-4   # the 4.7e-4


@pytest.mark.parametrize("options", [{}, {"approximate": True}, {"negative_slope": 0.05},
                                     {"negative_slope": 0.0}])
@pytest.mark.parametrize("name", ["gelu", "leaky_relu"])
def test_option_variants_backward_matches_finite_differences(name, options):
    act = get_activation(name, **options)
    x = np.random.default_rng(0).normal(0, 3, 40)
    x = x[np.abs(x) > 1e-3]   # away from leaky_relu's kink
    w = np.random.default_rng(1).normal(size=x.shape)
    numeric = _fd(lambda v: float(np.dot(w, act.forward(v))), x)
    analytic = act.backward(x, act.forward(x), w)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_leaky_relu_negative_slope_on_the_activation_layer():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                      {"id": "a", "type": "Activation", "activation": "leaky_relu",
                       "negative_slope": 0.05},
                      {"id": "b", "type": "Activation", "activation": "leaky_relu"}],
            "edges": [["in", "a"], ["a", "b"]]}
    net = Network.from_spec(spec, dtype="float64")
    out = net.predict(np.array([[-2.0, 0.0, 3.0]]))
    # 0.05 on the Activation node, then Keras' default 0.2 on the plain one
    np.testing.assert_allclose(out, [[-2.0 * 0.05 * 0.2, 0.0, 3.0]])
    from core import validate
    bad = dict(spec, nodes=[*spec["nodes"][:1], {**spec["nodes"][1], "negative_slope": 2}])
    assert any(p.code == "out_of_range" for p in validate(bad))


# ---- cross-entropies ----------------------------------------------------------------------

@pytest.mark.parametrize("name,target", [("categorical_crossentropy", [[0.0, 1.0]]),
                                         ("sparse_categorical_crossentropy", [1])])
def test_crossentropy_normalises_outputs_that_are_not_a_softmax(name, target):
    # the case: sigmoid outputs [0.881, 0.5] (logits 2, 0), class 1 -> 1.0158
    pred = np.array([[1.0 / (1.0 + math.exp(-2.0)), 0.5]])
    value = LOSSES[name].value(pred, np.array(target))
    assert value == pytest.approx(-math.log(0.5 / pred.sum()), rel=1e-12)
    assert value == pytest.approx(1.0158, abs=1e-4)
    numeric = _fd(lambda p: LOSSES[name].value(p, np.array(target)), pred)
    np.testing.assert_allclose(LOSSES[name].value_and_grad(pred, np.array(target))[1],
                               numeric, rtol=1e-6)


def test_clipped_predictions_get_a_zero_gradient():
    bce = LOSSES["binary_crossentropy"]
    pred = np.array([[1.5], [-0.2], [1e-9], [0.3]])
    t = np.array([[1.0], [0.0], [1.0], [1.0]])
    g = bce.value_and_grad(pred, t)[1]
    assert g[:3].tolist() == [[0.0], [0.0], [0.0]]
    assert g[3, 0] == pytest.approx(-1.0 / (0.3 * 4))
    cce = LOSSES["categorical_crossentropy"]
    p = np.array([[1e-9, 1.0, 0.5]])   # class 0 normalises to ~6.7e-10 < 1e-7: clipped
    g = cce.value_and_grad(p, np.array([[1.0, 0.0, 0.0]]))[1]
    assert np.all(g == 0.0)
    assert cce.value(p, np.array([[1.0, 0.0, 0.0]])) == pytest.approx(-math.log(1e-7))
    sparse = LOSSES["sparse_categorical_crossentropy"]
    assert np.all(sparse.value_and_grad(p, np.array([0]))[1] == 0.0)


# ---- clipping -----------------------------------------------------------------------------

SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                  {"id": "h", "type": "Dense", "units": 4, "activation": "tanh"},
                  {"id": "out", "type": "Dense", "units": 2}],
        "edges": [["in", "h"], ["h", "out"]]}


def _one_sgd_step(optimizer: dict, **trainer_args) -> tuple[np.ndarray, np.ndarray]:
    """(gradient, weights after one plain SGD step with lr 1) on fixed data."""
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(8, 3)), rng.normal(0, 5, size=(8, 2))
    net = Network.from_spec(SPEC, seed=1, dtype="float64")
    before = net.params.copy()
    net.compute_gradients(X, Y, "mse")
    grad = net.grads.copy()
    trainer = Trainer(net, "mse", {"type": "sgd", "lr": 1.0, **optimizer}, batch_size=8,
                      shuffle=False, **trainer_args)
    trainer.fit(X, Y, epochs=1)
    return grad, before - net.params   # the step taken = the clipped gradient


def test_clipnorm_clips_each_weight_array_as_keras():
    grad, step = _one_sgd_step({"clipnorm": 0.5})
    net = Network.from_spec(SPEC, dtype="float64")
    for r in net.param_refs:
        g, s = grad[r.offset:r.offset + r.size], step[r.offset:r.offset + r.size]
        norm = np.linalg.norm(g)
        want = g * 0.5 / max(norm, 0.5)   # Keras' clip_by_norm
        np.testing.assert_allclose(s, want, rtol=1e-12, atol=1e-15)
    assert np.linalg.norm(grad) > 0.5 * math.sqrt(len(net.param_refs))  # it did clip


def test_global_clipnorm_and_the_trainers_clipnorm_clip_the_whole_gradient():
    grad, step = _one_sgd_step({"global_clipnorm": 0.5})
    want = grad * 0.5 / np.linalg.norm(grad)
    np.testing.assert_allclose(step, want, rtol=1e-12, atol=1e-15)
    # the Trainer's clipnorm (and a project file's) has always meant the global norm
    _, legacy = _one_sgd_step({}, clipnorm=0.5)
    np.testing.assert_allclose(legacy, step, rtol=0, atol=0)


def test_clipvalue_clips_each_element():
    grad, step = _one_sgd_step({"clipvalue": 0.1})
    np.testing.assert_allclose(step, np.clip(grad, -0.1, 0.1), rtol=1e-12)


def test_clipping_settings_are_checked():
    assert make_optimizer({"type": "adam", "clipnorm": 1.0}, 3).config["clipnorm"] == 1.0
    with pytest.raises(ValueError, match="only one of clipnorm, global_clipnorm"):
        make_optimizer({"type": "adam", "clipnorm": 1, "global_clipnorm": 1}, 3)
    with pytest.raises(ValueError, match="out of range"):
        make_optimizer({"type": "sgd", "clipnorm": 0}, 3)
    with pytest.raises(ValueError, match=r"has no setting 'clipnrm' \(did you mean "
                                         r"'clipnorm'\?\)\. Its settings"):
        make_optimizer({"type": "adam", "clipnrm": 1}, 3)
    net = Network.from_spec(SPEC)
    with pytest.raises(ValueError, match="clipped twice"):
        Trainer(net, "mse", {"type": "adam", "clipnorm": 1.0}, clipnorm=2.0)


# ---- AdamW --------------------------------------------------------------------------------

def test_adamw_decays_biases_too_unless_kernels_only():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))

    def bias_after(opt):
        net = Network.from_spec(SPEC, seed=0, dtype="float64")
        net.set_weights({"out": {"bias": np.array([1.0, -1.0])}, "h": {"kernel": np.zeros((3, 4))}})
        # with a zero hidden kernel the output bias still gets gradients; compare decays
        Trainer(net, "mse", opt, batch_size=8).fit(X, Y, epochs=1)
        return net.get_weights()["out"]["bias"]

    base = {"type": "adamw", "lr": 0.1, "weight_decay": 0.5}
    plain = bias_after({"type": "adam", "lr": 0.1})
    every = bias_after(base)
    kernels = bias_after({**base, "decay_kernels_only": True})
    np.testing.assert_allclose(kernels, plain, rtol=1e-14)
    # Keras: w -= lr * wd * w before the Adam step, on the bias as well
    np.testing.assert_allclose(every, plain - 0.1 * 0.5 * np.array([1.0, -1.0]), rtol=1e-12)


# ---- BatchNormalization -------------------------------------------------------------------

@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_batchnorm_center_and_scale(center, scale):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                      {"id": "d", "type": "Dense", "units": 4},
                      {"id": "bn", "type": "BatchNormalization", "center": center,
                       "scale": scale},
                      {"id": "out", "type": "Dense", "units": 2}],
            "edges": [["in", "d"], ["d", "bn"], ["bn", "out"]]}
    net = Network.from_spec(spec, seed=0, dtype="float64")
    names = set(net.get_weights()["bn"])
    assert ("beta" in names) == center and ("gamma" in names) == scale
    assert {"moving_mean", "moving_variance"} <= names
    rng = np.random.default_rng(0)
    net.params[:] = rng.uniform(-1, 1, net.params.size)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))

    def loss(p):
        keep = net.params.copy()
        net.params[:] = p
        value = net.compute_gradients(X, Y, "mse")
        net.params[:] = keep
        return value

    net.compute_gradients(X, Y, "mse")
    analytic = net.grads.copy()
    np.testing.assert_allclose(analytic, _fd(loss, net.params.copy()), rtol=1e-5,
                               atol=1e-8)
    # training output: (x - mean) / sqrt(var + eps), then gamma and beta when present
    out = net.forward(X, training=True, capture=True)[1]
    z = out["d"]
    xhat = (z - z.mean(0)) / np.sqrt(z.var(0) + 1e-3)
    w = net.get_weights()["bn"]
    want = xhat * w.get("gamma", 1.0) + w.get("beta", 0.0)
    np.testing.assert_allclose(out["bn"], want, rtol=1e-12)


# ---- loss_and_gradients -------------------------------------------------------------------

BN_DROP = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                     {"id": "d", "type": "Dense", "units": 5, "activation": "relu"},
                     {"id": "bn", "type": "BatchNormalization"},
                     {"id": "drop", "type": "Dropout", "rate": 0.5},
                     {"id": "out", "type": "Dense", "units": 1}],
           "edges": [["in", "d"], ["d", "bn"], ["bn", "drop"], ["drop", "out"]]}


def test_loss_and_gradients_in_inference_mode_moves_nothing():
    net = Network.from_spec(BN_DROP, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    before = net.get_weights()["bn"]
    a, ga = net.loss_and_gradients(X, Y, "mse", training=False)
    b, gb = net.loss_and_gradients(X, Y, "mse", training=False)
    assert a == b and all(np.array_equal(ga[n][k], gb[n][k]) for n in ga for k in ga[n])
    after = net.get_weights()["bn"]
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert a == pytest.approx(net.evaluate_loss(X, Y, "mse"), rel=1e-12)
    net.loss_and_gradients(X, Y, "mse")   # training (the default) moves the statistics
    assert not np.array_equal(net.get_weights()["bn"]["moving_mean"], before["moving_mean"])


def test_loss_and_gradients_adds_l1_and_l2_as_the_trainer():
    net = Network.from_spec(SPEC, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    base, g0 = net.loss_and_gradients(X, Y, "mse")
    value, g = net.loss_and_gradients(X, Y, "mse", l1=0.01, l2=0.1)
    w = net.get_weights()
    kernels = [w["h"]["kernel"], w["out"]["kernel"]]
    pen = sum(0.01 * np.abs(k).sum() + 0.1 * (k * k).sum() for k in kernels)
    assert value == pytest.approx(base + pen, rel=1e-12)
    np.testing.assert_allclose(g["h"]["kernel"], g0["h"]["kernel"] + 0.01 *
                               np.sign(w["h"]["kernel"]) + 0.2 * w["h"]["kernel"], rtol=1e-12)
    np.testing.assert_array_equal(g["h"]["bias"], g0["h"]["bias"])   # kernels only
    # the same loss the Trainer reports for that batch
    trainer = Trainer(net, "mse", {"type": "sgd", "lr": 1e-9}, batch_size=10, l1=0.01,
                      l2=0.1, shuffle=False)
    trainer.fit(X, Y, epochs=1)
    assert trainer.history["batch_loss"][0] == pytest.approx(value, rel=1e-12)


# ---- divergence ---------------------------------------------------------------------------

@pytest.mark.parametrize("opt", [{"type": "adam", "lr": 1e30}, {"type": "adagrad", "lr": 1e38},
                                 {"type": "sgd", "lr": 1e36}])
def test_a_diverging_run_prints_no_numpy_warning(opt):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 3)).astype(np.float32)
    Y = X[:, :2] * 3
    net = Network.from_spec(SPEC, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged):
            Trainer(net, "mse", opt, batch_size=16, l2=1.0).fit(X, Y, epochs=20)
