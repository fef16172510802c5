"""Finite-difference checks of every layer, activation and loss (float64).

Each test builds a small network, computes the analytic gradient of the batch loss with
``compute_gradients`` and compares it with central differences of the same loss in
every parameter (or a random sample of them for the larger networks).  The gradient of a
layer's input is checked through the parameters of the layers before it.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.activations import ACTIVATIONS
from core.network import Network

H = 1e-6


def chain(input_shape, *layers):
    """A spec: Input -> layers[0] -> layers[1] ... (ids l0, l1, ...)."""
    nodes = [{"id": "in", "type": "Input", "shape": list(input_shape)}]
    edges, prev = [], "in"
    for i, layer in enumerate(layers):
        nid = layer.pop("id", f"l{i}")
        nodes.append({"id": nid, **layer})
        edges.append([prev, nid])
        prev = nid
    return {"nodes": nodes, "edges": edges}


def _fix_rngs(net: Network) -> None:
    for layer in net.layers.values():
        layer.rng = np.random.default_rng(1234)


def gradcheck(spec, X, Y, loss, samples=None, seed=0, tol=1e-6):
    """Assert analytic == numeric gradient; returns the number of entries checked."""
    net = Network.from_spec(spec, seed=seed, dtype="float64")
    rng = np.random.default_rng(seed + 1)
    # Random, non-trivial values everywhere (BN gamma/beta and biases start constant).
    net.params[:] = rng.uniform(-0.8, 0.8, net.params.size)
    _fix_rngs(net)
    net.compute_gradients(X, Y, loss)
    analytic = net.grads.copy()
    idx = np.arange(net.params.size)
    if samples is not None and idx.size > samples:
        idx = rng.choice(idx, samples, replace=False)
    for i in idx:
        old = net.params[i]
        net.params[i] = old + H
        _fix_rngs(net)
        up = net.compute_gradients(X, Y, loss)
        net.params[i] = old - H
        _fix_rngs(net)
        down = net.compute_gradients(X, Y, loss)
        net.params[i] = old
        numeric = (up - down) / (2 * H)
        err = abs(numeric - analytic[i]) - tol * (abs(numeric) + abs(analytic[i]))
        assert err < 1e-8, (f"parameter {i} ({_where(net, i)}): analytic {analytic[i]:.8g} "
                           f"numeric {numeric:.8g}")
    return len(idx)


def _where(net, i):
    for r in net.param_refs:
        if r.offset <= i < r.offset + r.size:
            return f"{r.node_id}.{r.name}"
    return "?"


def data(shape, n=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, *shape))


def onehot(n, k, seed=0):
    return np.eye(k)[np.random.default_rng(seed).integers(0, k, n)]


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_activation_gradients(act):
    spec = chain([3], {"type": "Dense", "units": 4, "activation": act},
                 {"type": "Dense", "units": 2})
    gradcheck(spec, data([3]), data([2], seed=1), "mse")


@pytest.mark.parametrize("act", [a for a in ACTIVATIONS if a != "linear"])
def test_activation_layer_gradients(act):
    spec = chain([3], {"type": "Dense", "units": 4}, {"type": "Activation", "activation": act},
                 {"type": "Dense", "units": 2})
    gradcheck(spec, data([3]), data([2], seed=1), "mse")


@pytest.mark.parametrize("loss,act,units", [
    ("mse", "linear", 3), ("mae", "linear", 3), ("huber", "linear", 3),
    ("mse", "tanh", 1),
    ("binary_crossentropy", "sigmoid", 1),      # fused with sigmoid
    ("binary_crossentropy", "sigmoid", 3),      # multi-label, fused
    ("binary_crossentropy", "softmax", 3),      # probabilities, not fused
    ("categorical_crossentropy", "softmax", 4),  # fused with softmax
    ("categorical_crossentropy", "sigmoid", 4),  # probabilities, not fused
    ("sparse_categorical_crossentropy", "softmax", 4),
    ("sparse_categorical_crossentropy", "sigmoid", 4),
])
def test_loss_gradients(loss, act, units):
    n = 6
    spec = chain([3], {"type": "Dense", "units": 5, "activation": "tanh"},
                 {"type": "Dense", "units": units, "activation": act})
    rng = np.random.default_rng(3)
    if loss == "categorical_crossentropy":
        Y = onehot(n, units)
    elif loss == "sparse_categorical_crossentropy":
        Y = rng.integers(0, units, n)
    elif loss == "binary_crossentropy":
        Y = rng.integers(0, 2, (n, units)).astype(float)
    else:
        Y = rng.normal(size=(n, units))
    gradcheck(spec, data([3], n), Y, loss)


def test_softmax_fused_through_activation_layer():
    spec = chain([3], {"type": "Dense", "units": 4},
                 {"type": "Activation", "activation": "softmax"})
    gradcheck(spec, data([3], 6), onehot(6, 4), "categorical_crossentropy")


def test_dropout_gradients_in_training_mode():
    spec = chain([4], {"type": "Dense", "units": 6, "activation": "tanh"},
                 {"type": "Dropout", "rate": 0.4}, {"type": "Dense", "units": 2})
    gradcheck(spec, data([4], 8), data([2], 8, seed=1), "mse")


def test_batchnorm_dense_gradients():
    spec = chain([4], {"type": "Dense", "units": 5},
                 {"type": "BatchNormalization", "momentum": 0.9},
                 {"type": "Dense", "units": 3, "activation": "softmax"})
    gradcheck(spec, data([4], 7), onehot(7, 3), "categorical_crossentropy")


def test_reshape_flatten_gradients():
    spec = chain([12], {"type": "Dense", "units": 12},
                 {"type": "Reshape", "target_shape": [2, 3, 2]},
                 {"type": "Conv2D", "filters": 2, "kernel_size": [1, 2]},
                 {"type": "Flatten"}, {"type": "Dense", "units": 2})
    gradcheck(spec, data([12], 4), data([2], 4, seed=2), "mse")


@pytest.mark.parametrize("conv", [
    {"kernel_size": 3, "padding": "valid"},
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": [2, 3], "strides": 2, "padding": "same"},
    {"kernel_size": 3, "strides": [2, 1], "padding": "valid", "activation": "relu"},
    {"kernel_size": 2, "use_bias": False, "activation": "gelu"},
])
def test_conv2d_gradients(conv):
    # Conv -> Conv so that the second conv's input gradient is checked by the first.
    spec = chain([6, 5, 2], {"type": "Conv2D", "filters": 3, "kernel_size": 2,
                             "padding": "same", "activation": "tanh"},
                 {"type": "Conv2D", "filters": 2, **conv},
                 {"type": "Flatten"}, {"type": "Dense", "units": 2})
    gradcheck(spec, data([6, 5, 2], 3), data([2], 3, seed=1), "mse", samples=80)


@pytest.mark.parametrize("pool_type", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("pool", [
    {"pool_size": 2},
    {"pool_size": 3, "strides": 1},
    {"pool_size": [2, 3], "strides": 2, "padding": "same"},
])
def test_pooling_gradients(pool_type, pool):
    spec = chain([7, 6, 2], {"type": "Conv2D", "filters": 3, "kernel_size": 2,
                             "activation": "tanh"},
                 {"type": pool_type, **pool}, {"type": "Flatten"},
                 {"type": "Dense", "units": 2})
    gradcheck(spec, data([7, 6, 2], 3), data([2], 3, seed=1), "mse", samples=60)


def test_dag_with_add_and_concatenate():
    spec = {
        "nodes": [
            {"id": "in", "type": "Input", "shape": [4]},
            {"id": "a", "type": "Dense", "units": 5, "activation": "tanh"},
            {"id": "b", "type": "Dense", "units": 3, "activation": "sigmoid"},
            {"id": "c", "type": "Dense", "units": 3, "activation": "elu"},
            {"id": "sum", "type": "Add"},
            {"id": "cat", "type": "Concatenate"},
            {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"},
        ],
        # a feeds b and cat (a branch point); in feeds a and c (skip past a).
        "edges": [["in", "a"], ["a", "b"], ["in", "c"], ["b", "sum"], ["c", "sum"],
                  ["sum", "cat"], ["a", "cat"], ["cat", "out"]],
    }
    gradcheck(spec, data([4], 6), onehot(6, 3), "categorical_crossentropy")


def test_concatenate_channels_and_three_way_add():
    spec = {
        "nodes": [
            {"id": "in", "type": "Input", "shape": [5, 5, 1]},
            {"id": "c1", "type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
            {"id": "c2", "type": "Conv2D", "filters": 3, "kernel_size": 1},
            {"id": "cat", "type": "Concatenate", "axis": 3},
            {"id": "c3", "type": "Conv2D", "filters": 5, "kernel_size": 1},
            {"id": "c4", "type": "Conv2D", "filters": 5, "kernel_size": 1,
             "activation": "sigmoid"},
            {"id": "add", "type": "Add"},
            {"id": "f", "type": "Flatten"},
            {"id": "out", "type": "Dense", "units": 2},
        ],
        "edges": [["in", "c1"], ["in", "c2"], ["in", "c4"], ["c1", "cat"], ["c2", "cat"],
                  ["cat", "c3"], ["c3", "add"], ["cat", "add"], ["c4", "add"], ["add", "f"],
                  ["f", "out"]],
    }
    gradcheck(spec, data([5, 5, 1], 3), data([2], 3, seed=1), "mse", samples=80)


def test_cnn_conv_pool_bn_flatten_dense():
    spec = chain([8, 8, 1],
                 {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same",
                  "activation": "relu"},
                 {"type": "MaxPooling2D", "pool_size": 2},
                 {"type": "BatchNormalization"},
                 {"type": "Conv2D", "filters": 3, "kernel_size": 3, "activation": "tanh"},
                 {"type": "Flatten"},
                 {"type": "Dense", "units": 3, "activation": "softmax"})
    gradcheck(spec, data([8, 8, 1], 4), np.array([0, 2, 1, 2]),
              "sparse_categorical_crossentropy", samples=120)


def test_loss_and_gradients_matches_flat_buffer():
    spec = chain([3], {"type": "Dense", "units": 4, "activation": "relu"},
                 {"type": "Dense", "units": 2})
    net = Network.from_spec(spec, dtype="float64")
    value, grads = net.loss_and_gradients(data([3]), data([2], seed=1), "mse")
    assert set(grads) == {"l0", "l1"}
    assert grads["l0"]["kernel"].shape == (3, 4) and grads["l1"]["bias"].shape == (2,)
    ref = net.param_refs[0]
    assert np.array_equal(grads[ref.node_id][ref.name].ravel(),
                          net.grads[ref.offset:ref.offset + ref.size])
    assert value == pytest.approx(net.evaluate_loss(data([3]), data([2], seed=1), "mse"))


@pytest.mark.parametrize("pool", [
    {"pool_size": 2},                                      # 2x2 pairs, 7x7 leaves a row
    {"pool_size": 3, "strides": 1},                        # overlapping windows
    {"pool_size": [2, 3], "strides": 2, "padding": "same"},
])
def test_relu_before_max_pooling(pool):
    # The pooling applies the ReLU's derivative for the conv (see Network._preact).
    spec = chain([8, 8, 1], {"type": "Conv2D", "filters": 3, "kernel_size": 2,
                             "activation": "relu"},
                 {"type": "MaxPooling2D", **pool}, {"type": "Flatten"},
                 {"type": "Dense", "units": 2})
    gradcheck(spec, data([8, 8, 1], 3), data([2], 3, seed=1), "mse", samples=60)
