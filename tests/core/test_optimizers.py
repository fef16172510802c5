"""Optimizers, schedules, penalties and clipping against values worked out by hand.

The reference updates below are written out per scalar from Keras' documented rules, so
they share nothing with the vectorised, rescaled implementation they check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.network import Network
from core.optimizers import DEFAULTS, make_optimizer, normalize_config
from core.schedules import make_schedule
from core.training import Trainer
from core.training.guard import StepBound

W0 = [1.0, -2.0, 0.5]
GRADS = [[0.5, -1.0, 0.0], [0.1, 0.2, -0.3], [-0.3, 0.4, 2.0]]


def run_steps(config: dict, steps: int = 3, dtype=np.float64, decay=None) -> list[list[float]]:
    """Weights after each of the first ``steps`` updates of GRADS."""
    opt = make_optimizer(config, 3, dtype, decay_slices=decay)
    w = np.array(W0, dtype)
    g = np.empty(3, dtype)
    out = []
    for k in range(steps):
        g[:] = GRADS[k]
        opt.update(w, g, opt.lr)
        out.append(w.tolist())
    return out


# ---- scalar references (Keras 3 update rules) -----------------------------------------

def ref_sgd(lr, momentum=0.0, nesterov=False):
    w, v, out = list(W0), [0.0] * 3, []
    for g in GRADS:
        for i in range(3):
            v[i] = momentum * v[i] - lr * g[i]
            if nesterov:
                w[i] += momentum * v[i] - lr * g[i]
            elif momentum:
                w[i] += v[i]
            else:
                w[i] -= lr * g[i]
        out.append(list(w))
    return out


def ref_rmsprop(lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False):
    w, s, a, mom, out = list(W0), [0.0] * 3, [0.0] * 3, [0.0] * 3, []
    for g in GRADS:
        for i in range(3):
            s[i] = rho * s[i] + (1 - rho) * g[i] ** 2
            den = s[i]
            if centered:
                a[i] = rho * a[i] + (1 - rho) * g[i]
                den = s[i] - a[i] ** 2
            inc = lr * g[i] / math.sqrt(den + eps)
            if momentum:
                mom[i] = momentum * mom[i] + inc
                inc = mom[i]
            w[i] -= inc
        out.append(list(w))
    return out


def ref_adagrad(lr, init=0.1, eps=1e-7):
    w, acc, out = list(W0), [init] * 3, []
    for g in GRADS:
        for i in range(3):
            acc[i] += g[i] ** 2
            w[i] -= lr * g[i] / math.sqrt(acc[i] + eps)
        out.append(list(w))
    return out


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-7, wd=0.0, decays=(True, True, True)):
    w, m, v, out = list(W0), [0.0] * 3, [0.0] * 3, []
    for t, g in enumerate(GRADS, start=1):
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for i in range(3):
            if wd and decays[i]:
                w[i] -= w[i] * wd * lr
            m[i] += (g[i] - m[i]) * (1 - b1)
            v[i] += (g[i] ** 2 - v[i]) * (1 - b2)
            w[i] -= alpha * m[i] / (math.sqrt(v[i]) + eps)
        out.append(list(w))
    return out


CASES = {
    "sgd": ({"type": "sgd", "lr": 0.1}, ref_sgd(0.1)),
    "sgd_momentum": ({"type": "sgd", "lr": 0.1, "momentum": 0.9}, ref_sgd(0.1, 0.9)),
    "sgd_nesterov": ({"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
                     ref_sgd(0.1, 0.9, True)),
    "rmsprop": ({"type": "rmsprop", "lr": 0.01}, ref_rmsprop(0.01)),
    "rmsprop_momentum_centered": (
        {"type": "rmsprop", "lr": 0.01, "momentum": 0.5, "centered": True},
        ref_rmsprop(0.01, momentum=0.5, centered=True)),
    "adagrad": ({"type": "adagrad", "lr": 0.1}, ref_adagrad(0.1)),
    "adam": ({"type": "adam", "lr": 0.1}, ref_adam(0.1)),
    "adamw": ({"type": "adamw", "lr": 0.1, "weight_decay": 0.05}, ref_adam(0.1, wd=0.05)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_first_steps_match_reference(name):
    config, expected = CASES[name]
    np.testing.assert_allclose(run_steps(config), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_compute_then_apply_equals_update(name):
    """The trainer's two-phase path (look at the step, then apply) is the same update."""
    config, expected = CASES[name]
    opt = make_optimizer(config, 3, np.float64)
    w = np.array(W0)
    for g in GRADS:
        d = opt.compute_step(w, np.array(g), opt.lr)
        opt.apply_step(w, d)
    np.testing.assert_allclose(w, expected[-1], rtol=1e-12, atol=1e-12)


def test_first_steps_by_hand():
    """A few values worked out on paper."""
    # SGD with momentum 0.9, lr 0.1: v = -0.05, 0.9 * -0.05 - 0.01 = -0.055, ...
    sgd = run_steps({"type": "sgd", "lr": 0.1, "momentum": 0.9})
    assert sgd[0][:2] == pytest.approx([0.95, -1.9])
    assert sgd[1][:2] == pytest.approx([0.895, -1.83])
    assert sgd[2][:2] == pytest.approx([0.8755, -1.807])
    # Nesterov: w += 0.9 v - lr g = -0.045 - 0.05 on the first step
    nes = run_steps({"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}, 2)
    assert nes[0][:2] == pytest.approx([0.905, -1.81])
    assert nes[1][:2] == pytest.approx([0.8455, -1.767])
    # Adam's first step is lr * sign(g) (up to epsilon); zero gradient -> no move
    adam = run_steps({"type": "adam", "lr": 0.1}, 1)[0]
    assert adam == pytest.approx([0.9, -1.9, 0.5], abs=1e-5)
    # RMSprop: s = 0.1 * 0.25; step 0.01 * 0.5 / sqrt(0.025)
    rms = run_steps({"type": "rmsprop", "lr": 0.01}, 1)[0]
    assert rms[0] == pytest.approx(1.0 - 0.005 / math.sqrt(0.025), rel=1e-6)
    # Adagrad: accumulator 0.1 + 0.25
    ada = run_steps({"type": "adagrad", "lr": 0.1}, 1)[0]
    assert ada[0] == pytest.approx(1.0 - 0.05 / math.sqrt(0.35), rel=1e-6)


def test_adamw_decays_every_parameter_as_keras():
    """Keras' AdamW decays every variable unless excluded: biases too."""
    got = run_steps({"type": "adamw", "lr": 0.1, "weight_decay": 0.05}, decay=[(0, 2)])
    ref = ref_adam(0.1, wd=0.05, decays=(True, True, True))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_adamw_decays_only_kernels_when_asked():
    """decay_kernels_only keeps the decay to the kernel ranges (biases are left alone)."""
    got = run_steps({"type": "adamw", "lr": 0.1, "weight_decay": 0.05,
                     "decay_kernels_only": True}, decay=[(0, 2)])
    ref = ref_adam(0.1, wd=0.05, decays=(True, True, False))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_float32_state_and_no_reallocation():
    opt = make_optimizer({"type": "adam"}, 5, np.float32)
    w, g = np.ones(5, np.float32), np.full(5, 0.5, np.float32)
    ids = {k: id(v) for k, v in opt.state.items()} | {"scratch": id(opt.scratch)}
    for _ in range(3):
        opt.update(w, g, 1e-3)
    assert w.dtype == np.float32 and opt.state["m"].dtype == np.float32
    assert ids == {k: id(v) for k, v in opt.state.items()} | {"scratch": id(opt.scratch)}
    with pytest.raises(ValueError, match="made for 5"):
        opt.update(np.ones(5), np.ones(5), 1e-3)  # float64 buffers


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd_nesterov", "rmsprop"])
def test_updates_allocate_nothing_per_step(name):
    """In-place updates: no array the size of the parameters is made per step."""
    import tracemalloc
    size = 200_000
    config = dict(CASES[name][0])
    opt = make_optimizer(config, size, np.float32, decay_slices=[(0, size // 2)])
    w, g = np.ones(size, np.float32), np.full(size, 0.5, np.float32)
    backup = np.empty_like(w)
    opt.update(w, g, 1e-3, backup=backup)  # first use makes the work arrays
    tracemalloc.start()
    for _ in range(3):
        opt.update(w, g, 1e-3, backup=backup)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20_000, f"{name} allocated {peak} bytes in a step"


@pytest.mark.parametrize("name", list(CASES))
def test_backup_receives_the_weights_from_before_the_step(name, monkeypatch):
    import core.optimizers as optimizers
    monkeypatch.setattr(optimizers, "CHUNK", 2)  # several blocks even for 3 weights
    opt = make_optimizer(CASES[name][0], 3, np.float64)
    w, backup = np.array(W0), np.zeros(3)
    for g in GRADS:
        before = w.copy()
        opt.update(w, np.array(g), opt.lr, backup=backup)
        np.testing.assert_array_equal(backup, before)
    np.testing.assert_allclose(w, CASES[name][1][-1], rtol=1e-12, atol=1e-12)


def test_adam_chunks_match_one_block(monkeypatch):
    """Buffers longer than one block give the same update as a single block."""
    import core.optimizers as optimizers
    rng = np.random.default_rng(0)
    w0, g = rng.standard_normal(1000), rng.standard_normal(1000)
    results = []
    for chunk in (1 << 16, 96):
        monkeypatch.setattr(optimizers, "CHUNK", chunk)
        opt = make_optimizer({"type": "adamw"}, 1000, np.float64, decay_slices=[(10, 500)])
        w = w0.copy()
        for _ in range(3):
            opt.update(w, g, 0.01)
        results.append(w)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip(name):
    """Saving after two steps and loading into a fresh optimizer continues identically."""
    config, expected = CASES[name]
    opt = make_optimizer(config, 3, np.float64)
    w = np.array(W0)
    for g in GRADS[:2]:
        opt.update(w, np.array(g), opt.lr)
    state = opt.state_dict()
    assert all(isinstance(v, (int, float, np.ndarray)) for v in state.values())
    fresh = make_optimizer(config, 3, np.float64)
    fresh.load_state_dict(state)
    fresh.update(w, np.array(GRADS[2]), fresh.lr)
    np.testing.assert_allclose(w, expected[2], rtol=1e-12, atol=1e-12)


def test_adam_state_dict_uses_keras_moments():
    opt = make_optimizer({"type": "adam", "lr": 0.1}, 3, np.float64)
    opt.update(np.array(W0), np.array(GRADS[0]), 0.1)
    state = opt.state_dict()
    np.testing.assert_allclose(state["m"], 0.1 * np.array(GRADS[0]))
    np.testing.assert_allclose(state["v"], 0.001 * np.array(GRADS[0]) ** 2)
    assert state["iterations"] == 1


def test_load_state_dict_rejects_what_does_not_fit():
    opt = make_optimizer({"type": "adam"}, 3, np.float64)
    with pytest.raises(ValueError, match="lacks"):
        opt.load_state_dict({"iterations": 1, "velocity": np.zeros(3)})
    with pytest.raises(ValueError, match="network changed"):
        opt.load_state_dict({"iterations": 1, "m": np.zeros(4), "v": np.zeros(4)})


def test_config_defaults_and_errors():
    assert normalize_config({"type": "adam"}) == {"type": "adam", **DEFAULTS["adam"]}
    assert DEFAULTS["sgd"]["lr"] == 0.01 and DEFAULTS["adam"]["epsilon"] == 1e-7
    assert normalize_config({"type": "sgd", "learning_rate": 0.5})["lr"] == 0.5
    with pytest.raises(ValueError, match="did you mean 'adam'"):
        normalize_config({"type": "adma"})
    with pytest.raises(ValueError, match="did you mean 'momentum'"):
        normalize_config({"type": "sgd", "momentun": 0.9})
    with pytest.raises(ValueError, match="out of range"):
        normalize_config({"type": "adam", "beta_1": 1.0})
    with pytest.raises(ValueError, match="out of range"):
        normalize_config({"type": "sgd", "lr": -1})


def test_step_bounds_hold():
    """The bound the trainer relies on is never below the real step, also after the
    state was saved and loaded into a fresh optimizer halfway."""
    rng = np.random.default_rng(1)
    for name, (config, _) in CASES.items():
        opt = make_optimizer(config, 50, np.float64)
        step_bound = StepBound(opt)
        w = rng.standard_normal(50)
        for k in range(40):
            if k == 20:
                state, opt = opt.state_dict(), make_optimizer(config, 50, np.float64)
                opt.load_state_dict(state)
                step_bound = StepBound(opt)
                step_bound.sync()
            scale = 1e3 if k < 20 else 1e-3  # large gradients before the reload only
            g = rng.standard_normal(50) * scale
            bound = step_bound(opt.lr, float(np.linalg.norm(g)))
            d = opt.compute_step(w, g, opt.lr)
            assert np.abs(d).max() <= bound * (1 + 1e-9), (name, k)
            opt.apply_step(w, d)


# ---- schedules ------------------------------------------------------------------------

def test_schedules():
    const = make_schedule(None, 0.1)
    assert const(0, 0) == const(50, 9999) == 0.1
    step = make_schedule({"type": "step", "step_size": 2, "gamma": 0.5}, 0.1)
    assert [step(e, 0) for e in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    exp = make_schedule({"type": "exponential", "decay_rate": 0.5, "decay_steps": 2}, 1.0)
    assert [exp(e, 0) for e in (0, 1, 2, 4)] == pytest.approx([1, 2 ** -0.5, 0.5, 0.25])
    stair = make_schedule({"type": "exponential", "decay_rate": 0.5, "decay_steps": 2,
                           "staircase": True}, 1.0)
    assert [stair(e, 0) for e in (0, 1, 2, 3)] == pytest.approx([1, 1, 0.5, 0.5])
    cos = make_schedule({"type": "cosine", "decay_steps": 10, "alpha": 0.1}, 1.0)
    assert cos(0, 0) == pytest.approx(1.0)
    assert cos(5, 0) == pytest.approx(0.55)  # 0.9 * 0.5 * (1 + cos(pi/2)) + 0.1
    assert cos(10, 0) == pytest.approx(0.1) and cos(20, 0) == pytest.approx(0.1)
    per_batch = make_schedule({"type": "step", "step_size": 100, "gamma": 0.1,
                               "per": "batch"}, 1.0)
    assert per_batch(5, 99) == 1.0 and per_batch(0, 100) == pytest.approx(0.1)


def test_schedule_errors():
    with pytest.raises(ValueError, match="did you mean 'cosine'"):
        make_schedule({"type": "cosin"}, 0.1)
    with pytest.raises(ValueError, match="did you mean 'gamma'"):
        make_schedule({"type": "step", "gama": 0.1}, 0.1)
    with pytest.raises(ValueError, match="greater than zero"):
        make_schedule({"type": "step", "step_size": 0}, 0.1)


# ---- penalties and clipping through the trainer ---------------------------------------

def tiny_net() -> Network:
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                      {"id": "out", "type": "Dense", "units": 2}],
            "edges": [["in", "out"]]}
    return Network.from_spec(spec, seed=3, dtype="float64")


def one_sgd_step(**options):
    """(weights before, weights after, data gradient, reported loss, data loss)."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    net = tiny_net()
    before = net.params.copy()
    data_loss, _ = net.loss_and_gradients(X, Y, "mse")
    g = net.grads.copy()
    trainer = Trainer(net, "mse", {"type": "sgd", "lr": 0.1}, batch_size=8, **options)
    trainer.prepare(X, Y)
    event = trainer.step()
    return before, net.params.copy(), g, event.loss, data_loss, net


def test_l2_and_l1_penalties_on_kernels_only():
    l1, l2 = 0.01, 0.05
    before, after, g, loss, data_loss, net = one_sgd_step(l1=l1, l2=l2)
    mask = np.zeros_like(before)
    for ref in net.param_refs:
        if ref.decay:
            mask[ref.offset:ref.offset + ref.size] = 1.0
    assert mask.sum() == 6  # the 3x2 kernel, not the bias
    expected = before - 0.1 * (g + mask * (2 * l2 * before + l1 * np.sign(before)))
    np.testing.assert_allclose(after, expected, rtol=1e-10, atol=1e-12)
    kernel = before[mask == 1]
    penalty = l1 * np.abs(kernel).sum() + l2 * (kernel ** 2).sum()
    assert loss == pytest.approx(data_loss + penalty, rel=1e-10)


def test_clipnorm_limits_the_global_gradient_norm():
    before, after, g, *_ = one_sgd_step()
    norm = np.linalg.norm(g)
    before, after, g, *_ = one_sgd_step(clipnorm=norm / 4)
    step = (before - after) / 0.1
    assert np.linalg.norm(step) == pytest.approx(norm / 4, rel=1e-10)
    np.testing.assert_allclose(step, g / 4, rtol=1e-10)  # same direction
    before, after, g, *_ = one_sgd_step(clipnorm=norm * 2)  # not reached: untouched
    np.testing.assert_allclose((before - after) / 0.1, g, rtol=1e-10)


@pytest.mark.parametrize("config", [{"type": "adam"}, {"type": "rmsprop", "rho": 0.9},
                                    {"type": "sgd", "momentum": 0.9}])
def test_state_of_a_parameter_without_gradient_never_turns_subnormal(config):
    """A dead unit's moments decay by beta each step; subnormal floats would make every
    later step many times slower on most CPUs, so they are flushed to 0 first."""
    opt = make_optimizer(config, 4, np.float32)
    w = np.ones(4, np.float32)
    opt.update(w, np.full(4, 1e-2, np.float32), 1e-3)
    tiny = np.finfo(np.float32).tiny
    zeros = np.zeros(4, np.float32)
    for _ in range(1500):  # Adam's m reaches 1e-38 after ~800 steps without the flush
        opt.update(w, zeros, 1e-3)
        for array in opt.state.values():
            assert np.all((array == 0) | (np.abs(array) >= tiny)), opt.iterations
    assert all(np.all(a == 0) for name, a in opt.state.items() if name != "v")
