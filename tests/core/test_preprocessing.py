"""Scaling (hand-computed values, dict round trip), Playground features, and splits."""

import numpy as np
import pytest

from core.data import DataError, Dataset, Scaler, feature_transforms, load_builtin, split


def test_standardize_by_hand():
    X = np.array([[1.0, 10.0], [3.0, 10.0]])
    scaler = Scaler("standardize").fit(X)
    # column 0: mean 2, population std 1; column 1 is constant: scale 1, never 0
    assert scaler.to_dict() == {"method": "standardize", "offset": [2.0, 10.0],
                                "scale": [1.0, 1.0]}
    np.testing.assert_array_equal(scaler.transform(X), [[-1, 0], [1, 0]])
    assert scaler.transform(X.astype(np.float32)).dtype == np.float32


def test_minmax_by_hand_and_inverse():
    X = np.array([[0.0, 5.0], [4.0, 5.0], [2.0, 5.0]])
    scaler = Scaler("minmax").fit(X)
    assert scaler.to_dict() == {"method": "minmax", "offset": [0.0, 5.0], "scale": [4.0, 1.0]}
    Z = scaler.transform(X)
    np.testing.assert_array_equal(Z, [[0, 0], [1, 0], [0.5, 0]])
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)


def test_none_is_identity_with_unit_scale():
    X = np.array([[1.0, -2.0]])
    scaler = Scaler("none").fit(X)
    assert scaler.to_dict() == {"method": "none", "offset": [0.0, 0.0], "scale": [1.0, 1.0]}
    np.testing.assert_array_equal(scaler.transform(X), X)


def test_images_are_scaled_per_channel():
    X = np.zeros((4, 2, 2, 3))
    X[..., 1] = np.arange(4)[:, None, None]
    scaler = Scaler().fit(X)
    assert len(scaler.to_dict()["offset"]) == 3
    assert scaler.to_dict()["offset"][1] == 1.5


def test_dict_round_trip_and_validation():
    scaler = Scaler("standardize").fit(np.random.default_rng(0).normal(size=(50, 3)))
    again = Scaler.from_dict(scaler.to_dict())
    X = np.ones((2, 3))
    np.testing.assert_array_equal(again.transform(X), scaler.transform(X))
    assert Scaler.from_dict({"method": "minmax", "offset": [], "scale": []}).is_fitted is False
    for bad, match in [({"method": "zscore", "offset": [], "scale": []}, "unknown scaling"),
                       ({"method": "minmax", "offset": [0], "scale": [0]}, "never 0"),
                       ({"method": "minmax", "offset": [0, 1], "scale": [1]}, "equally"),
                       ({"method": "minmax", "offset": ["a"], "scale": [1]}, "numbers"),
                       ("minmax", "dict")]:
        with pytest.raises(DataError, match=match):
            Scaler.from_dict(bad)


def test_scaler_errors_are_explained():
    with pytest.raises(DataError, match="not fitted"):
        Scaler().transform(np.ones((2, 2)))
    with pytest.raises(DataError, match="fitted on 2 features"):
        Scaler().fit(np.ones((2, 2))).transform(np.ones((2, 3)))
    with pytest.raises(DataError, match="NaN"):
        Scaler().fit(np.array([[1.0], [np.nan]]))


def test_scaler_is_fitted_on_the_training_split_only():
    ds = load_builtin("iris")
    train, val, _ = split(ds, val=0.3, seed=0)
    scaler = Scaler().fit(train.X)
    np.testing.assert_allclose(scaler.to_dict()["offset"], train.X.mean(axis=0), rtol=1e-6)
    assert not np.allclose(scaler.to_dict()["offset"], ds.X.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(scaler.transform(train.X).mean(axis=0), 0, atol=1e-5)
    assert np.abs(scaler.transform(val.X).mean(axis=0)).max() > 1e-3  # not refitted on val


# -- Playground's feature transforms ----------------------------------------------------
def test_feature_transforms_by_hand():
    X = np.array([[2.0, 3.0], [-1.0, 0.5]])
    names = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    out = feature_transforms(X, names)
    assert out.dtype == np.float32 and out.shape == (2, 7)
    np.testing.assert_allclose(out[0], [2, 3, 4, 9, 6, np.sin(2), np.sin(3)], rtol=1e-6)
    np.testing.assert_allclose(out[1], [-1, 0.5, 1, 0.25, -0.5, np.sin(-1), np.sin(0.5)],
                               rtol=1e-6)
    aliases = feature_transforms(X, ["sin x1", "X1X2", "x2²"])
    np.testing.assert_allclose(aliases, out[:, [5, 4, 3]])


def test_feature_transforms_refuse_bad_input():
    with pytest.raises(DataError, match="unknown input feature 'x3'"):
        feature_transforms(np.zeros((1, 2)), ["x3"])
    with pytest.raises(DataError, match=r"\(N, 2\)"):
        feature_transforms(np.zeros((1, 3)), ["x1"])
    with pytest.raises(DataError, match="at least one"):
        feature_transforms(np.zeros((1, 2)), [])


# -- splits -----------------------------------------------------------------------------
def _unbalanced(n0=180, n1=20):
    y = np.array([0] * n0 + [1] * n1)
    X = np.arange(len(y), dtype=np.float32)[:, None]
    return Dataset(X=X, y=y, task="classification", feature_names=["i"],
                   class_names=["common", "rare"])


def test_split_sizes_cover_everything_once():
    ds = _unbalanced()
    train, val, test = split(ds, val=0.2, test=0.1, seed=0)
    assert (len(train), len(val), len(test)) == (140, 40, 20)
    ids = np.concatenate([train.X[:, 0], val.X[:, 0], test.X[:, 0]])
    assert sorted(ids.tolist()) == list(range(200))
    assert val.class_names == ds.class_names and train.source == ds.source


def test_stratification_keeps_class_ratios():
    ds = _unbalanced()
    train, val, test = split(ds, val=0.2, test=0.1, seed=5)
    assert np.bincount(val.y).tolist() == [36, 4]
    assert np.bincount(test.y).tolist() == [18, 2]
    assert np.bincount(train.y).tolist() == [126, 14]
    # without stratification the rare class share wanders (seeded: this seed shows it)
    shares = [np.bincount(split(ds, val=0.2, seed=s, stratify=False)[1].y, minlength=2)[1]
              for s in range(10)]
    assert len(set(shares)) > 1


def test_split_is_deterministic_and_seeded():
    ds = load_builtin("spiral", n_samples=100)
    a = split(ds, val=0.25, seed=1)
    b = split(ds, val=0.25, seed=1)
    c = split(ds, val=0.25, seed=2)
    np.testing.assert_array_equal(a[0].X, b[0].X)
    np.testing.assert_array_equal(a[1].y, b[1].y)
    assert not np.array_equal(a[0].X, c[0].X)
    assert a[2] is None


def test_every_class_keeps_a_training_sample():
    y = np.array([0] * 10 + [1, 2])
    ds = Dataset(X=np.zeros((12, 1)), y=y, task="classification", feature_names=["a"])
    train, val, _ = split(ds, val=0.5, seed=0)
    assert set(train.y.tolist()) == {0, 1, 2}
    assert len(train) + len(val) == 12


def test_regression_split_and_refusals():
    ds = load_builtin("sine", n_samples=50)
    train, val, _ = split(ds, val=0.2)
    assert (len(train), len(val)) == (40, 10)
    with pytest.raises(DataError, match="regression"):
        split(ds, stratify=True)
    with pytest.raises(DataError, match="no training data"):
        split(ds, val=0.6, test=0.4)
    with pytest.raises(DataError, match=r"\[0, 1\)"):
        split(ds, val=-0.1)


def _peak_bytes(work) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("method", ["standardize", "minmax"])
def test_fitting_float32_needs_no_float64_copy_and_gives_the_same_figures(method):
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((250_000, 20)) * 40 + 7).astype(np.float32)  # 20 MB
    by_copy = Scaler(method).fit(X.astype(np.float64))
    scaler = Scaler(method)
    peak = _peak_bytes(lambda: scaler.fit(X))
    assert np.array_equal(scaler.offset, by_copy.offset)
    assert np.array_equal(scaler.scale, by_copy.scale)
    # at most one float64 temporary (the deviations); a float64 copy first made it two
    assert peak < 1.5 * X.size * 8


def test_transform_scales_a_block_of_rows_at_a_time_with_the_same_figures(monkeypatch):
    import core.data.preprocessing as preprocessing

    rng = np.random.default_rng(4)
    X = (rng.standard_normal((250_000, 20)) * 40 + 7).astype(np.float32)
    scaler = Scaler("standardize").fit(X)
    whole = ((X - scaler.offset) / scaler.scale).astype(np.float32)
    out: list[np.ndarray] = []
    peak = _peak_bytes(lambda: out.append(scaler.transform(X)))
    assert np.array_equal(out[0], whole) and out[0].dtype == np.float32
    assert peak < X.nbytes + 3 * preprocessing.TRANSFORM_BLOCK * 8  # not two float64 copies
    monkeypatch.setattr(preprocessing, "TRANSFORM_BLOCK", 7 * 20 + 3)  # uneven blocks
    assert np.array_equal(scaler.transform(X[:1001]), whole[:1001])
    assert np.array_equal(scaler.transform(X[:1001].astype(np.float64)),
                          (X[:1001].astype(np.float64) - scaler.offset) / scaler.scale)
