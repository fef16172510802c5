"""Network: building, running, weights, summary, config round trip, layer numerics."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import tracemalloc

import numpy as np
import pytest

from core.fusion import FusionPlan
from core.initializers import initialize
from core.layers import LAYER_TYPES
from core.network import Network

MLP = {"nodes": [{"id": "in", "type": "Input", "shape": [4]},
                 {"id": "h", "type": "Dense", "units": 8, "activation": "relu"},
                 {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
       "edges": [["in", "h"], ["h", "out"]]}


def one(node, input_shape):
    """Input -> node."""
    return {"nodes": [{"id": "in", "type": "Input", "shape": list(input_shape)},
                      {"id": "x", **node}], "edges": [["in", "x"]]}


def test_float32_by_default_float64_on_request():
    X = np.random.default_rng(0).normal(size=(5, 4))
    n32 = Network.from_spec(MLP)
    n64 = Network.from_spec(MLP, dtype="float64")
    assert n32.dtype == np.float32 and n32.params.dtype == np.float32
    assert n32.predict(X).dtype == np.float32 and n64.predict(X).dtype == np.float64
    np.testing.assert_allclose(n32.predict(X), n64.predict(X), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="float32 or float64"):
        Network.from_spec(MLP, dtype="int32")


def test_attributes_of_the_contract():
    net = Network.from_spec(MLP, seed=3)
    assert net.order == ["in", "h", "out"] and net.input_id == "in" and net.output_id == "out"
    assert net.output_shapes == {"in": (4,), "h": (8,), "out": (3,)}
    assert net.param_count == 4 * 8 + 8 + 8 * 3 + 3 == net.params.size == net.grads.size
    assert net.output_activation == "softmax"
    assert net.spec == MLP and net.spec is not MLP
    refs = [(r.node_id, r.name, r.shape, r.decay) for r in net.param_refs]
    assert refs == [("h", "kernel", (4, 8), True), ("h", "bias", (8,), False),
                    ("out", "kernel", (8, 3), True), ("out", "bias", (3,), False)]
    assert sum(r.size for r in net.param_refs) == net.params.size


def test_weights_are_views_into_the_flat_buffer():
    net = Network.from_spec(MLP)
    net.params[:] = 0.5
    assert np.all(net.get_weights()["out"]["kernel"] == 0.5)
    net.set_weights({"h": {"bias": np.arange(8)}})
    r = net.param_refs[1]
    assert net.params[r.offset:r.offset + r.size].tolist() == list(range(8))


def test_get_set_weights_round_trip_and_errors():
    a, b = Network.from_spec(MLP, seed=1), Network.from_spec(MLP, seed=2)
    X = np.random.default_rng(0).normal(size=(6, 4))
    assert not np.allclose(a.predict(X), b.predict(X))
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    with pytest.raises(ValueError, match="no node 'zz'"):
        b.set_weights({"zz": {}})
    with pytest.raises(ValueError, match="no weight 'gamma'"):
        b.set_weights({"h": {"gamma": np.ones(8)}})
    before = b.get_weights()
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        b.set_weights({"out": {"bias": np.ones(3)}, "h": {"bias": np.ones(9)}})
    np.testing.assert_array_equal(before["out"]["bias"], b.get_weights()["out"]["bias"])


def test_same_seed_same_weights():
    w1 = Network.from_spec(MLP, seed=7).params
    assert np.array_equal(w1, Network.from_spec(MLP, seed=7).params)
    assert not np.array_equal(w1, Network.from_spec(MLP, seed=8).params)


@pytest.mark.parametrize("init,check", [
    ("glorot_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / 600)),
    ("he_normal", lambda w: abs(w.std() - np.sqrt(2 / 400)) < 0.004),
    ("lecun_uniform", lambda w: np.abs(w).max() <= np.sqrt(3 / 400)),
    ("zeros", lambda w: not w.any()),
    ("ones", lambda w: np.all(w == 1)),
])
def test_initializers(init, check):
    spec = one({"type": "Dense", "units": 200, "kernel_initializer": init}, [400])
    assert check(Network.from_spec(spec, dtype="float64").get_weights()["x"]["kernel"])


def test_initializer_details():
    rng = np.random.default_rng(0)
    w = np.empty((300, 200))
    initialize("glorot_normal", w, rng)
    assert np.abs(w).max() <= 2 * np.sqrt(2 / 500) / 0.8796 + 1e-12  # truncated at 2 std
    assert abs(w.std() - np.sqrt(2 / 500)) < 0.002
    initialize("constant", w, rng, value=0.3)
    assert np.all(w == 0.3)
    k = np.empty((3, 3, 4, 8))
    initialize("he_uniform", k, rng)  # fan_in of a conv kernel = 3*3*4
    assert np.abs(k).max() <= np.sqrt(6 / 36)
    with pytest.raises(KeyError, match="glorot_uniform"):
        initialize("glorot", w, rng)


def test_forward_capture_and_predict_batches():
    net = Network.from_spec(MLP)
    X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    y, acts = net.forward(X, capture=True)
    assert set(acts) == {"in", "h", "out"} and acts["h"].shape == (10, 8)
    assert np.all(acts["h"] >= 0)
    np.testing.assert_allclose(y.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(net.predict(X, batch_size=3), y, rtol=1e-6)
    y2 = net.forward(X)
    y2[:] = 0  # the caller owns what it gets back
    assert np.array_equal(net.forward(X), y)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\), got shape \(2, 5\)"):
        net.predict(np.zeros((2, 5)))


@pytest.mark.parametrize("bad, pattern", [
    (np.float32(1.0), r"\(n_samples, 4\), got shape \(\)"),      # a scalar: no len()
    (np.zeros(4), r"got shape \(4,\); for a single sample use X.reshape\(1, 4\)"),
    (np.zeros((3, 2, 2)), r"\(n_samples, 4\), got shape \(3, 2, 2\)"),
    (np.array([["a", "b", "c", "d"]]), "must hold numbers"),
])
def test_wrong_input_is_a_clear_value_error_naming_the_expected_shape(bad, pattern):
    net = Network.from_spec(MLP)
    for call in (net.predict, net.forward,
                 lambda X: net.loss_and_gradients(X, np.zeros((1, 3)), "mse")):
        with pytest.raises(ValueError, match=pattern):
            call(bad)


def test_summary_rows():
    rows = Network.from_spec(MLP).summary()
    assert [(r.node_id, r.type, r.output_shape, r.params) for r in rows] == [
        ("in", "Input", (4,), 0), ("h", "Dense", (8,), 40), ("out", "Dense", (3,), 27)]
    assert "Total parameters: 67" in Network.from_spec(MLP).summary_text()


def test_config_round_trip_through_json():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 2]},
                      {"id": "c", "type": "Conv2D", "filters": 3, "kernel_size": [3, 2],
                       "strides": 1, "padding": "same", "activation": "elu"},
                      {"id": "bn", "type": "BatchNormalization", "momentum": 0.9},
                      {"id": "p", "type": "AveragePooling2D", "pool_size": 2},
                      {"id": "d", "type": "Dropout", "rate": 0.25},
                      {"id": "f", "type": "Flatten"},
                      {"id": "r", "type": "Reshape", "target_shape": [3, -1]},
                      {"id": "f2", "type": "Flatten"},
                      {"id": "out", "type": "Dense", "units": 2, "activation": "sigmoid"}],
            "edges": [["in", "c"], ["c", "bn"], ["bn", "p"], ["p", "d"], ["d", "f"],
                      ["f", "r"], ["r", "f2"], ["f2", "out"]]}
    net = Network.from_spec(spec)
    # Each layer's config (defaults filled in) rebuilds the same layer.
    nodes = [{"id": n, "type": type(net.layers[n]).TYPE, **net.layers[n].get_config()}
             for n in net.order]
    rebuilt = Network.from_spec(json.loads(json.dumps({"nodes": nodes,
                                                        "edges": spec["edges"]})))
    for n in net.order:
        assert rebuilt.layers[n].get_config() == net.layers[n].get_config()
    rebuilt.set_weights(net.get_weights())
    X = np.random.default_rng(0).normal(size=(3, 6, 6, 2))
    np.testing.assert_array_equal(rebuilt.predict(X), net.predict(X))
    assert [r[:4] for r in rebuilt.summary()] == [r[:4] for r in net.summary()]
    again = Network.from_spec(json.loads(json.dumps(net.spec)))
    assert again.summary() == net.summary()


SINGLE_INPUT_CASES = {
    "Dense": ({"units": 3, "activation": "elu", "use_bias": False}, [4]),
    "Activation": ({"activation": "tanh"}, [4]),
    "Dropout": ({"rate": 0.3}, [4]),
    "BatchNormalization": ({"momentum": 0.8}, [4]),
    "Flatten": ({}, [2, 2, 1]),
    "Reshape": ({"target_shape": [2, -1]}, [4]),
    "Conv2D": ({"filters": 2, "kernel_size": [2, 1], "strides": [1, 2]}, [4, 4, 1]),
    "MaxPooling2D": ({"strides": 1}, [4, 4, 1]),
    "AveragePooling2D": ({"padding": "same", "pool_size": [3, 2]}, [5, 5, 1]),
}


@pytest.mark.parametrize("layer_type", sorted(set(LAYER_TYPES) - {"Input"}))
def test_every_layer_type_round_trips_its_config(layer_type):
    if layer_type in ("Add", "Concatenate"):
        given = {"axis": 1} if layer_type == "Concatenate" else {}
        spec = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                          {"id": "a", "type": "Dense", "units": 3},
                          {"id": "x", "type": layer_type, **given}],
                "edges": [["in", "a"], ["in", "x"], ["a", "x"]]}
    else:
        given, shape = SINGLE_INPUT_CASES[layer_type]
        spec = one({"type": layer_type, **given}, shape)
    net = Network.from_spec(spec)
    cfg = net.layers["x"].get_config()
    assert set(cfg) == {p.name for p in LAYER_TYPES[layer_type].PARAMS}
    assert {k: cfg[k] for k in given} == given  # what was set survives, defaults fill in
    nodes = [dict(n) for n in spec["nodes"]]
    nodes[-1] = {"id": "x", "type": layer_type, **json.loads(json.dumps(cfg))}
    again = Network.from_spec({"nodes": nodes, "edges": spec["edges"]})
    assert again.layers["x"].get_config() == cfg
    assert again.output_shapes == net.output_shapes


def test_concatenate_follows_edge_order():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "a", "type": "Dense", "units": 1, "kernel_initializer": "ones"},
                      {"id": "b", "type": "Dense", "units": 3, "kernel_initializer": "zeros"},
                      {"id": "cat", "type": "Concatenate"}],
            "edges": [["in", "a"], ["in", "b"], ["b", "cat"], ["a", "cat"]]}
    y = Network.from_spec(spec).predict(np.array([[1.0, 2.0]]))
    assert y.tolist() == [[0, 0, 0, 3]]


def _naive_conv(x, k, b, stride, pad):
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    xp = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    ho = (xp.shape[1] - kh) // stride + 1
    wo = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((n, ho, wo, f))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


@pytest.mark.parametrize("padding,stride,pad", [
    ("valid", 1, ((0, 0), (0, 0))), ("valid", 2, ((0, 0), (0, 0))),
    ("same", 1, ((1, 1), (0, 1))), ("same", 2, ((1, 1), (0, 0))),
])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_conv2d_matches_a_naive_loop(padding, stride, pad, channels):
    # Input 7x6, kernel 3x2: TensorFlow's "same" puts the odd padding pixel last.
    spec = one({"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "strides": stride,
                "padding": padding, "bias_initializer": "ones"}, [7, 6, channels])
    net = Network.from_spec(spec, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 7, 6, channels))
    w = net.get_weights()["x"]
    want = _naive_conv(x, w["kernel"], w["bias"], stride, pad)
    np.testing.assert_allclose(net.predict(x), want, atol=1e-12)


def test_pooling_by_hand():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    mx = Network.from_spec(one({"type": "MaxPooling2D"}, [4, 4, 1])).predict(x)
    assert mx[0, :, :, 0].tolist() == [[5, 7], [13, 15]]
    avg = Network.from_spec(one({"type": "AveragePooling2D", "pool_size": 3, "strides": 2,
                                 "padding": "same"}, [4, 4, 1])).predict(x)
    # "same" pads one row/column at the end; windows cover {0,1,2} and {2,3,pad}, and
    # the padding is left out of the average: mean(10, 11, 14, 15) = 12.5.
    assert avg[0, :, :, 0].tolist() == [[5.0, 6.5], [11.0, 12.5]]


def test_maxpool_ties_send_the_gradient_to_one_input():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2, 2, 1]},
                      {"id": "c", "type": "Conv2D", "filters": 1, "kernel_size": 1,
                       "use_bias": False, "kernel_initializer": "ones"},
                      {"id": "p", "type": "MaxPooling2D"}, {"id": "f", "type": "Flatten"}],
            "edges": [["in", "c"], ["c", "p"], ["p", "f"]]}
    net = Network.from_spec(spec, dtype="float64")
    x = np.array([[[[2.0], [2.0]], [[2.0], [1.0]]]])  # three tied maxima
    _, grads = net.loss_and_gradients(x, np.array([[0.0]]), "mse")
    assert grads["c"]["kernel"].item() == pytest.approx(2 * 2.0 * 2.0)  # 2 (y - t) x_max


def test_dropout_is_seeded_and_off_when_predicting():
    spec = one({"type": "Dropout", "rate": 0.5}, [1000])
    net = Network.from_spec(spec, seed=0)
    X = np.ones((4, 1000), dtype=np.float32)
    assert np.array_equal(net.predict(X), X)
    y1 = net.layers["x"].forward([X], training=True).copy()
    assert set(np.unique(y1)) == {0.0, 2.0} and 0.4 < (y1 == 0).mean() < 0.6
    again = Network.from_spec(spec, seed=0).layers["x"].forward([X], training=True)
    assert np.array_equal(y1, again)


def test_batchnorm_moving_statistics_follow_keras():
    spec = one({"type": "BatchNormalization", "momentum": 0.9, "epsilon": 1e-3}, [2])
    net = Network.from_spec(spec, dtype="float64")
    X = np.array([[1.0, 10.0], [3.0, 20.0]])
    net.compute_gradients(X, np.zeros((2, 2)), "mse")
    w = net.get_weights()["x"]
    np.testing.assert_allclose(w["moving_mean"], 0.1 * X.mean(0))
    np.testing.assert_allclose(w["moving_variance"], 0.9 + 0.1 * X.var(0))
    y = net.predict(X)
    want = (X - w["moving_mean"]) / np.sqrt(w["moving_variance"] + 1e-3)
    np.testing.assert_allclose(y, want)
    assert set(w) == {"gamma", "beta", "moving_mean", "moving_variance"}
    assert {r.name for r in net.param_refs} == {"gamma", "beta"}


def test_training_step_allocates_nothing_parameter_sized():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [784]},
                      {"id": "h1", "type": "Dense", "units": 256, "activation": "relu"},
                      {"id": "h2", "type": "Dense", "units": 128, "activation": "relu"},
                      {"id": "out", "type": "Dense", "units": 10, "activation": "softmax"}],
            "edges": [["in", "h1"], ["h1", "h2"], ["h2", "out"]]}
    net = Network.from_spec(spec)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 784)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]
    net.compute_gradients(X, Y, "categorical_crossentropy")  # warm the work buffers
    tracemalloc.start()
    for _ in range(3):
        net.compute_gradients(X, Y, "categorical_crossentropy")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200_000  # the 784x256 kernel alone is 800 kB


def test_predict_from_another_thread_does_not_disturb_training():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 1]},
                      {"id": "c", "type": "Conv2D", "filters": 3, "activation": "relu"},
                      {"id": "bn", "type": "BatchNormalization"},
                      {"id": "f", "type": "Flatten"},
                      {"id": "out", "type": "Dense", "units": 2, "activation": "softmax"}],
            "edges": [["in", "c"], ["c", "bn"], ["bn", "f"], ["f", "out"]]}
    net = Network.from_spec(spec, dtype="float64")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(32, 6, 6, 1)), np.eye(2)[rng.integers(0, 2, 32)]
    want = net.loss_and_gradients(X, Y, "categorical_crossentropy")[1]
    other = rng.normal(size=(7, 6, 6, 1))
    stop = threading.Event()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible

    def viewer():
        while not stop.is_set():
            net.predict(other)
            net.forward(other[:3], capture=True)

    thread = threading.Thread(target=viewer)
    thread.start()
    try:
        for _ in range(30):
            got = net.loss_and_gradients(X, Y, "categorical_crossentropy")[1]
            for n in want:
                for k in want[n]:
                    np.testing.assert_allclose(got[n][k], want[n][k], rtol=1e-12)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed_is_a_clear_value_error(seed):
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        Network.from_spec(MLP, seed=seed)
    assert Network.from_spec(MLP, seed=np.int64(3)).seed == 3


def _conv_relu_pool(input_shape, pool, activation="relu", filters=3):
    conv = {"type": "Conv2D", "filters": filters, "kernel_size": 3, "padding": "same",
            "activation": activation}
    return {"nodes": [{"id": "in", "type": "Input", "shape": list(input_shape)},
                      {"id": "c", **conv}, {"id": "p", "type": "MaxPooling2D", **pool},
                      {"id": "f", "type": "Flatten"}],
            "edges": [["in", "c"], ["c", "p"], ["p", "f"]]}


def _without(net, **off):
    """Apply the network's fusion plan with the named fusions turned off."""
    net.apply_fusion(FusionPlan(tuple(dataclasses.replace(f, **dict.fromkeys(off, False))
                                      for f in net.fusion_plan.layers)))


def _gradients_without_relu_absorption(net, X, Y, loss):
    _without(net, relu_input=1, gradient_before_activation=1)
    return net.loss_and_gradients(X, Y, loss)


@pytest.mark.parametrize("pool", [{"pool_size": 2}, {"pool_size": 3, "strides": 1},
                                  {"pool_size": 2, "strides": 1, "padding": "same"}])
def test_relu_absorbed_by_max_pooling_gives_the_same_gradients(pool):
    # Integer-valued inputs make ties and zero pre-activations common.
    spec = _conv_relu_pool([7, 7, 2], pool)
    net = Network.from_spec(spec, dtype="float64")
    assert net._preact[net.order.index("c")] and net.layers["p"].fusion.relu_input
    rng = np.random.default_rng(0)
    X = rng.integers(-2, 3, size=(3, 7, 7, 2)).astype(float)
    Y = rng.normal(size=(3, int(np.prod(net.output_shape))))
    loss, grads = net.loss_and_gradients(X, Y, "mse")
    loss2, grads2 = _gradients_without_relu_absorption(net, X, Y, "mse")
    assert loss == loss2
    for name in grads["c"]:
        np.testing.assert_array_equal(grads["c"][name], grads2["c"][name])


def test_relu_is_not_absorbed_when_its_output_feeds_two_nodes():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [4, 4, 1]},
                      {"id": "c", "type": "Conv2D", "filters": 2, "kernel_size": 1,
                       "activation": "relu"},
                      {"id": "p", "type": "MaxPooling2D"}, {"id": "q", "type": "MaxPooling2D"},
                      {"id": "a", "type": "Add"}, {"id": "f", "type": "Flatten"}],
            "edges": [["in", "c"], ["c", "p"], ["c", "q"], ["p", "a"], ["q", "a"], ["a", "f"]]}
    net = Network.from_spec(spec)
    assert not any(net._preact)
    assert not net.layers["p"].fusion.relu_input and not net.layers["q"].fusion.relu_input


@pytest.mark.parametrize("size", [(6, 6), (7, 5)])
def test_max_pooling_pairs_path_matches_the_general_one(size):
    # The 2x2 stride-2 fast path against the per-offset loop, with many ties.
    layer = Network.from_spec(one({"type": "MaxPooling2D"}, [*size, 3]),
                              dtype="float64").layers["x"]
    assert layer._pairs
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=(4, *size, 3)).astype(float)
    dy = rng.normal(size=(4, size[0] // 2, size[1] // 2, 3))
    fast_y = layer.forward([x], training=True).copy()
    fast_dx = layer.backward(dy, [True])[0].copy()
    layer._pairs = False
    np.testing.assert_array_equal(layer.forward([x], training=True), fast_y)
    np.testing.assert_array_equal(layer.backward(dy, [True])[0], fast_dx)


def test_conv_input_gradient_same_padding_path_matches_the_general_one():
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 5, 3]},
                      {"id": "c", "type": "Conv2D", "filters": 4, "kernel_size": [3, 2],
                       "padding": "same"}], "edges": [["in", "c"]]}
    layer = Network.from_spec(spec, dtype="float64").layers["c"]
    rng = np.random.default_rng(2)
    layer.forward([rng.normal(size=(2, 6, 5, 3))], training=True)
    dz = rng.normal(size=(2 * 6 * 5, 4))
    fast = layer._input_grad(dz).copy()
    kt = np.ascontiguousarray(layer.w["kernel"].reshape(6, 3, 4).transpose(0, 2, 1))
    np.testing.assert_allclose(layer._input_grad_padded(dz, kt), fast, atol=1e-12)


def test_conv_without_adjacent_bias_adds_it_separately():
    # Arrays the network did not lay out: the kernel+bias matrix view is not possible.
    spec = one({"type": "Conv2D", "filters": 2, "kernel_size": 2, "bias_initializer": "ones"},
               [4, 4, 3])
    net = Network.from_spec(spec, dtype="float64")
    layer = net.layers["x"]
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 3))
    want = net.predict(x)
    layer.w = {k: v.copy() for k, v in layer.w.items()}
    assert layer._weight_matrix(layer.w) is None
    np.testing.assert_allclose(layer.forward([x], training=False), want, atol=1e-12)


@pytest.mark.parametrize("shape,strides", [([6, 8, 2], 1), ([8, 6, 1], 1), ([12, 8, 1], 2)])
def test_first_conv_trains_planar_into_max_pooling_with_the_same_numbers(shape, strides):
    # A first Conv2D whose only consumer is a 2x2 max pooling writes its training output
    # in the planar layout (core.layers.conv.planar_to_nhwc); nothing may differ.
    spec = _conv_relu_pool(shape, {"pool_size": 2})
    spec["nodes"][1]["strides"] = strides
    net = Network.from_spec(spec, dtype="float64")
    conv = net.layers["c"]
    assert conv.fusion.planar_output
    rng = np.random.default_rng(4)
    X = rng.integers(-2, 3, size=(3, *shape)).astype(float)  # ties and zeros
    Y = rng.normal(size=(3, int(np.prod(net.output_shape))))
    np.testing.assert_array_equal(net.forward(X, training=True), net.predict(X))
    _, train_maps = net.forward(X, training=True, capture=True)
    _, maps = net.forward(X, capture=True)
    for node_id, value in maps.items():
        np.testing.assert_array_equal(train_maps[node_id], value)
    loss, grads = net.loss_and_gradients(X, Y, "mse")
    assert conv._y.ndim == 6  # the planar path ran
    _without(net, planar_output=1)
    loss2, grads2 = net.loss_and_gradients(X, Y, "mse")
    assert conv._y.ndim == 4
    assert loss == pytest.approx(loss2, abs=1e-12)
    for name in grads["c"]:
        np.testing.assert_allclose(grads["c"][name], grads2["c"][name], atol=1e-12)


def test_planar_output_only_where_it_is_safe():
    def planar(spec):
        net = Network.from_spec(spec)
        return {n: layer.fusion.planar_output for n, layer in net.layers.items()}

    assert planar(_conv_relu_pool([6, 6, 4], {"pool_size": 2}))["c"]
    assert not planar(_conv_relu_pool([7, 7, 1], {"pool_size": 2}))["c"]  # odd size
    assert not planar(_conv_relu_pool([6, 6, 1], {"pool_size": 2, "strides": 1}))["c"]
    conv = {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"}
    two = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 1]},
                     {"id": "a", **conv}, {"id": "p", "type": "MaxPooling2D"},
                     {"id": "q", "type": "MaxPooling2D"}, {"id": "m", "type": "Add"},
                     {"id": "f", "type": "Flatten"}],
           "edges": [["in", "a"], ["a", "p"], ["a", "q"], ["p", "m"], ["q", "m"], ["m", "f"]]}
    assert not planar(two)["a"]  # two consumers see its output


def test_planar_conv_gives_the_same_input_gradient():
    conv = {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"}
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 4, 1]},
                      {"id": "a", **conv}, {"id": "b", **conv, "activation": "relu"},
                      {"id": "p", "type": "MaxPooling2D"}, {"id": "f", "type": "Flatten"}],
            "edges": [["in", "a"], ["a", "b"], ["b", "p"], ["p", "f"]]}
    net = Network.from_spec(spec, dtype="float64")
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(2, 6, 4, 1)), rng.normal(size=(2, 3 * 2 * 2))
    assert net.layers["b"].fusion.planar_output and not net.layers["a"].fusion.planar_output
    loss2, grads2 = net.loss_and_gradients(X, Y, "mse")
    assert net.layers["b"]._y.ndim == 6
    net.layers["b"].planar_output = False
    loss, grads = net.loss_and_gradients(X, Y, "mse")
    assert loss == pytest.approx(loss2, abs=1e-12)
    for node_id in ("a", "b"):
        for name in grads[node_id]:
            np.testing.assert_allclose(grads2[node_id][name], grads[node_id][name], atol=1e-12)


def test_fusion_plan_is_one_named_object():
    """The network decides every fusion once; the plan says which layers take part."""
    net = Network.from_spec(_conv_relu_pool([8, 8, 1], {"pool_size": 2}), dtype="float64")
    lines = net.fusion_plan.describe(net.order)
    assert "c: gradient_before_activation, planar_output" in lines
    assert "p: relu_input" in lines
    assert f"{net.output_id}: keep_preactivation" in lines
    assert all(layer.fusion is f for layer, f in
               zip((net.layers[n] for n in net.order), net.fusion_plan.layers, strict=True))
