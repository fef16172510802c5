"""Activations and losses on their own: hand-computed values, extremes, gradients."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core.activations import ACTIVATIONS, get_activation, zeros_like
from core.losses import LOSSES, get_loss

EXTREMES = np.array([[-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_survive_extreme_inputs(name, dtype):
    x = EXTREMES.astype(dtype)
    act = ACTIVATIONS[name]
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise",
                                                divide="raise"):
        warnings.simplefilter("error")
        y = act.forward(x)
        d = act.backward(x, y, np.ones_like(x))
    assert np.isfinite(y).all() and np.isfinite(d).all()
    assert y.dtype == dtype and d.dtype == dtype


def test_activation_values_by_hand():
    x = np.array([-2.0, 0.0, 3.0])
    f = {n: ACTIVATIONS[n].forward(x) for n in ACTIVATIONS}
    np.testing.assert_allclose(f["sigmoid"], 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(f["relu"], [0, 0, 3])
    np.testing.assert_allclose(f["leaky_relu"], [-0.4, 0, 3])
    np.testing.assert_allclose(f["elu"], [math.exp(-2) - 1, 0, 3])
    np.testing.assert_allclose(f["softplus"], np.log1p(np.exp(x)))
    np.testing.assert_allclose(f["tanh"], np.tanh(x))
    # gelu at 1: Phi(1) = 0.5 (1 + erf(1 / sqrt 2)); the tanh form gives 0.841192
    np.testing.assert_allclose(ACTIVATIONS["gelu"].forward(np.array([1.0])),
                               [0.5 * (1 + math.erf(1 / math.sqrt(2)))], rtol=1e-15)
    np.testing.assert_allclose(get_activation("gelu", approximate=True).forward(
        np.array([1.0])), [0.8411920], rtol=1e-6)
    e = np.exp(x - 3)
    np.testing.assert_allclose(f["softmax"], e / e.sum())
    np.testing.assert_allclose(f["linear"], x)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)) * 2
    dy = rng.normal(size=(3, 4))
    act = ACTIVATIONS[name]
    analytic = act.backward(x, act.forward(x), dy)
    h = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        numeric[i] = ((act.forward(xp) - act.forward(xm)) * dy).sum() / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_backward_leaves_dy_untouched_when_out_differs():
    x = np.array([[-1.0, 2.0]])
    dy = np.array([[1.0, 1.0]])
    for act in ACTIVATIONS.values():
        act.backward(x, act.forward(x), dy, out=np.empty_like(dy))
        assert dy.tolist() == [[1.0, 1.0]], act.name


def test_unknown_names_list_choices():
    with pytest.raises(KeyError, match="relu"):
        get_activation("rleu")
    with pytest.raises(KeyError, match="mse"):
        get_loss("nope")
    assert get_activation(None).name == "linear"


def test_loss_values_by_hand():
    p = np.array([[0.5, 2.0]])
    t = np.array([[0.0, 0.0]])
    assert LOSSES["mse"].value(p, t) == pytest.approx((0.25 + 4) / 2)
    assert LOSSES["mae"].value(p, t) == pytest.approx((0.5 + 2) / 2)
    assert LOSSES["huber"].value(p, t) == pytest.approx((0.125 + 1.5) / 2)
    prob = np.array([[0.8], [0.4]])
    y = np.array([1.0, 0.0])
    assert LOSSES["binary_crossentropy"].value(prob, y) == pytest.approx(
        -(math.log(0.8) + math.log(0.6)) / 2)
    q = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    onehot = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    want = -(math.log(0.7) + math.log(0.8)) / 2
    assert LOSSES["categorical_crossentropy"].value(q, onehot) == pytest.approx(want)
    assert LOSSES["sparse_categorical_crossentropy"].value(q, np.array([0, 2])) == \
        pytest.approx(want)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("name", ["categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_fused_softmax_crossentropy_is_p_minus_y_over_n(name):
    z = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    p = _softmax(z)
    y = np.array([[0, 0, 1.0], [1.0, 0, 0]])
    target = y if name.startswith("categorical") else np.array([2, 0])
    value, grad = LOSSES[name].fused(z, p, target)
    np.testing.assert_allclose(grad, (p - y) / 2)
    assert value == pytest.approx(-np.log((p * y).sum(1)).mean())


def test_fused_losses_stay_finite_for_huge_logits():
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    y = np.array([[0, 1.0], [0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        v, g = LOSSES["categorical_crossentropy"].fused(z, _softmax(z), y)
        assert v == pytest.approx(1e4)  # one sample is wrong by a logit gap of 2e4 / 2
        zb = np.array([[1e4], [-1e4]])
        pb = ACTIVATIONS["sigmoid"].forward(zb)
        vb, gb = LOSSES["binary_crossentropy"].fused(zb, pb, np.array([0.0, 0.0]))
        assert vb == pytest.approx(5e3) and np.isfinite(gb).all()
    assert np.isfinite(g).all()


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    p = rng.uniform(0.1, 0.9, size=(4, 3))
    if name == "sparse_categorical_crossentropy":
        t = rng.integers(0, 3, 4)
    elif name in ("categorical_crossentropy", "binary_crossentropy"):
        t = np.eye(3)[rng.integers(0, 3, 4)]
    else:
        t = rng.normal(size=(4, 3))
    loss = LOSSES[name]
    _, grad = loss.value_and_grad(p, t)
    h = 1e-6
    for i in np.ndindex(p.shape):
        pp, pm = p.copy(), p.copy()
        pp[i] += h
        pm[i] -= h
        numeric = (loss.value(pp, t) - loss.value(pm, t)) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (name, i)


def test_targets_of_the_wrong_shape_are_explained():
    with pytest.raises(ValueError, match="do not match"):
        LOSSES["mse"].value(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="0..2"):
        LOSSES["sparse_categorical_crossentropy"].value(np.full((2, 3), 1 / 3),
                                                        np.array([0, 3]))


def test_class_indices_with_categorical_loss_say_use_sparse():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        LOSSES["categorical_crossentropy"].value(np.full((2, 3), 1 / 3), np.array([0, 2]))


def test_in_place_activations_need_only_their_output():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5)) * 3
    dy = rng.normal(size=(4, 5))
    marked = [a for a in ACTIVATIONS.values() if a.from_output]
    assert {a.name for a in marked} >= {"relu", "tanh", "sigmoid"}
    for act in marked:
        y = act.forward(x)
        want = act.backward(x, y, dy)
        inplace = x.copy()
        act.forward(inplace, inplace)  # the layer's in-place call
        np.testing.assert_array_equal(inplace, y)
        np.testing.assert_allclose(act.backward(inplace, inplace, dy), want, rtol=1e-12)


def test_relu_against_shared_zeros_matches_the_definition_at_every_size():
    relu = ACTIVATIONS["relu"]
    rng = np.random.default_rng(0)
    for shape in [(3,), (70_000,), (2, 5, 7), (200_000, 3), (0, 4)]:  # the block grows
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal(shape).astype(dtype)
            x.flat[:1] = np.nan if x.size else 0  # NaN stays NaN, as in np.maximum(x, 0)
            np.testing.assert_array_equal(relu.forward(x), np.maximum(x, 0))
            z = zeros_like(x)
            assert z.shape == x.shape and z.dtype == x.dtype and not z.flags.writeable
            assert not z.any()
