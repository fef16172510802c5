"""Built-in data sets: shapes, seeds, Playground's label rules, the bundled real sets, targets."""

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.data import BUILTIN_DATASETS, DataError, Dataset, load_builtin

PLAYGROUND = ["circle", "xor", "gauss", "spiral", "plane", "multigauss"]
SYNTHETIC = PLAYGROUND + ["moons", "spiral3", "sine"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(BUILTIN_DATASETS))
def test_every_builtin_matches_its_info(name):
    info = BUILTIN_DATASETS[name]
    ds = load_builtin(name, n_samples=120 if info.synthetic else None)
    assert ds.X.dtype == np.float32 and ds.name == name and ds.task == info.task
    assert ds.input_shape == info.input_shape
    assert math.prod(ds.input_shape) == info.n_features == len(ds.feature_names)
    assert np.isfinite(ds.X).all()
    if info.task == "classification":
        assert ds.y.dtype == np.int64 and ds.y.ndim == 1
        assert ds.n_classes == info.n_classes == len(set(ds.y.tolist()))
        assert ds.y.min() == 0 and ds.y.max() == info.n_classes - 1
    else:
        assert ds.y.dtype == np.float32 and ds.y.shape == (len(ds), 1)
    assert info.title and info.description and "\n" not in info.description


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_sets_are_seeded_and_sized(name):
    a = load_builtin(name, n_samples=101, noise=0.2, seed=3)
    b = load_builtin(name, n_samples=101, noise=0.2, seed=3)
    c = load_builtin(name, n_samples=101, noise=0.2, seed=4)
    assert len(a) == 101
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    again = load_builtin(a.source["name"], **a.source["params"])
    np.testing.assert_array_equal(again.X, a.X)


@pytest.mark.parametrize("name", PLAYGROUND + ["moons", "spiral3"])
def test_playground_features_lie_in_the_playground_square(name):
    ds = load_builtin(name, n_samples=2000, seed=1)
    assert np.abs(ds.X).max() <= 6.5
    assert np.abs(ds.X).max() >= 3.5  # spread over the square, not squeezed


def test_noise_level_is_validated():
    with pytest.raises(DataError, match="noise"):
        load_builtin("circle", noise=3)
    with pytest.raises(DataError, match="n_samples"):
        load_builtin("xor", n_samples=0)
    with pytest.raises(DataError, match="no noise"):
        load_builtin("iris", noise=0.1)


def test_unknown_name_or_parameter_lists_the_choices():
    with pytest.raises(DataError, match="spiral"):
        load_builtin("spirals")
    with pytest.raises(DataError, match="radius"):
        load_builtin("circle", radius=3)


# -- Playground's label rules, with noise 0 the labels follow the clean point exactly --
def test_circle_labels_inside_radius_2_5():
    ds = load_builtin("circle", n_samples=400, noise=0.0)
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    np.testing.assert_array_equal(ds.y, (r < 2.5).astype(int))
    assert ((r < 2.5) | (r >= 3.5 - 1e-5)).all()  # the gap between disc and ring
    assert np.bincount(ds.y).tolist() == [200, 200]


def test_noise_moves_labels_off_the_clean_rule():
    ds = load_builtin("circle", n_samples=1000, noise=0.5)
    r = np.hypot(ds.X[:, 0], ds.X[:, 1])
    wrong = np.mean(ds.y != (r < 2.5))
    assert 0.02 < wrong < 0.5


def test_xor_labels_and_padding():
    ds = load_builtin("xor", n_samples=500, noise=0.0)
    np.testing.assert_array_equal(ds.y, (ds.X[:, 0] * ds.X[:, 1] >= 0).astype(int))
    assert np.abs(ds.X).min() >= 0.3 - 1e-6
    assert ds.class_names == ["negative", "positive"]


def test_gauss_blobs_centres():
    ds = load_builtin("gauss", n_samples=2000, noise=0.0)
    np.testing.assert_allclose(ds.X[ds.y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(ds.X[ds.y == 0].mean(axis=0), [-2, -2], atol=0.1)
    # Playground: variance 0.5 at noise 0, 4 at noise 0.5
    np.testing.assert_allclose(ds.X[ds.y == 1].var(axis=0), [0.5, 0.5], rtol=0.15)
    wide = load_builtin("gauss", n_samples=2000, noise=0.5)
    np.testing.assert_allclose(wide.X[wide.y == 1].var(axis=0), [4, 4], rtol=0.15)


def test_spiral_arms_are_point_symmetric():
    ds = load_builtin("spiral", n_samples=200, noise=0.0)
    pos, neg = ds.X[ds.y == 1], ds.X[ds.y == 0]
    # the negative arm is the positive one turned by pi: (x, y) -> (-x, -y)
    key = lambda a: a[np.lexsort((a[:, 1], a[:, 0]))]  # noqa: E731
    np.testing.assert_allclose(key(-pos), key(neg), atol=1e-5)
    assert np.hypot(*pos.T).max() < 5


def test_plane_and_sine_targets_at_zero_noise():
    ds = load_builtin("plane", n_samples=300, noise=0.0)
    np.testing.assert_allclose(ds.y[:, 0], ds.X.sum(axis=1) / 10, atol=1e-6)
    ds = load_builtin("sine", n_samples=300, noise=0.0)
    np.testing.assert_allclose(ds.y[:, 0], np.sin(ds.X[:, 0]), atol=1e-6)


def _multigauss_label(x, y):
    """Playground's getLabel, written out the way dataset.ts does it."""
    label = 0.0
    for cx, cy, sign in [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1),
                         (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]:
        d = math.hypot(x - cx, y - cy)
        new = sign * min(1.0, max(0.0, 1 - d / 2))
        if abs(new) > abs(label):
            label = new
    return label


def test_multigauss_matches_playground_label_function():
    ds = load_builtin("multigauss", n_samples=200, noise=0.0)
    expected = [_multigauss_label(float(x), float(y)) for x, y in ds.X.astype(np.float64)]
    np.testing.assert_allclose(ds.y[:, 0], expected, atol=1e-5)


def test_three_arm_spiral_has_three_balanced_classes():
    ds = load_builtin("spiral3", n_samples=301)
    assert np.bincount(ds.y).tolist() == [101, 100, 100]


# -- bundled real data sets -----------------------------------------------------------
# Recorded from scikit-learn 1.9.1's copies through the loader that used them, before the
# sets were bundled: (X shape, sha256 of X, sha256 of y, first feature, class names).
BUNDLED = {
    ("iris", None): ((150, 4), "2374923a3acd29a6", "734737f111629912", "sepal length (cm)",
                     ["setosa", "versicolor", "virginica"]),
    ("wine", None): ((178, 13), "fdd1a162030a8e5b", "b6514e07a6d27854", "alcohol",
                     ["class_0", "class_1", "class_2"]),
    ("breast_cancer", None): ((569, 30), "ace340f3a4f89247", "1763c0f8cd3f454b",
                              "mean radius", ["malignant", "benign"]),
    ("diabetes", None): ((442, 10), "cddb77116cf70a8d", "64c6aa6f4027afae", "age", None),
    ("digits", None): ((1797, 64), "a627aed550b0b29b", "a3c91c262eddcf7b", "pixel_0_0",
                       [str(d) for d in range(10)]),
    ("digits_images", None): ((1797, 8, 8, 1), "a627aed550b0b29b", "a3c91c262eddcf7b",
                              "pixel_0_0", [str(d) for d in range(10)]),
    ("iris", (30, 2)): ((30, 4), "5c6862041043a457", "ca7eaa11b24553ba",
                        "sepal length (cm)", ["setosa", "versicolor", "virginica"]),
    ("diabetes", (100, 1)): ((100, 10), "1bf93b54513f4d7f", "a1a4acf3fc77a3fc", "age", None),
}


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


@pytest.mark.parametrize(("name", "subset"), list(BUNDLED))
def test_bundled_sets_load_the_arrays_scikit_learn_gave(name, subset):
    kwargs = {"n_samples": subset[0], "seed": subset[1]} if subset else {}
    ds = load_builtin(name, **kwargs)
    shape, x_sha, y_sha, first_feature, classes = BUNDLED[name, subset]
    assert ds.X.shape == shape and ds.X.dtype == np.float32 and _sha(ds.X) == x_sha
    assert ds.y.dtype == (np.int64 if classes else np.float32) and _sha(ds.y) == y_sha
    assert ds.feature_names[0] == first_feature and ds.class_names == classes


def test_loading_a_bundled_set_needs_no_scikit_learn():
    code = ("import sys; from core.data import load_builtin; load_builtin('wine'); "
            "assert 'sklearn' not in sys.modules and 'scipy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_iris_and_subsets_keep_class_ratios():
    iris = load_builtin("iris")
    assert iris.X.shape == (150, 4) and iris.class_names == ["setosa", "versicolor",
                                                            "virginica"]
    small = load_builtin("iris", n_samples=30, seed=2)
    assert np.bincount(small.y).tolist() == [10, 10, 10]
    assert not np.array_equal(small.X, load_builtin("iris", n_samples=30, seed=3).X)


def test_digits_images_are_the_flat_digits_reshaped():
    flat, images = load_builtin("digits"), load_builtin("digits_images")
    assert images.X.shape == (1797, 8, 8, 1)
    np.testing.assert_array_equal(images.X.reshape(1797, 64), flat.X)
    np.testing.assert_array_equal(images.y, flat.y)


def test_diabetes_is_regression():
    ds = load_builtin("diabetes")
    assert ds.task == "regression" and ds.y.shape == (442, 1) and ds.n_outputs == 1


# -- Dataset.targets -------------------------------------------------------------------
def _tiny(task="classification"):
    if task == "classification":
        return Dataset(X=np.zeros((3, 2)), y=np.array([0, 2, 1]), task=task,
                       feature_names=["a", "b"], class_names=["r", "g", "b"])
    return Dataset(X=np.zeros((3, 2)), y=np.array([0.5, 1.0, 0.0]), task=task,
                   feature_names=["a", "b"])


def test_targets_are_shaped_for_each_loss():
    ds = _tiny()
    np.testing.assert_array_equal(ds.targets("sparse_categorical_crossentropy"), [0, 2, 1])
    onehot = ds.targets("categorical_crossentropy")
    assert onehot.dtype == np.float32
    np.testing.assert_array_equal(onehot, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    with pytest.raises(DataError, match="two classes"):
        ds.targets("binary_crossentropy")
    binary = load_builtin("xor", n_samples=10)
    bce = binary.targets("binary_crossentropy")
    assert bce.shape == (10, 1) and bce.dtype == np.float32
    np.testing.assert_array_equal(bce[:, 0], binary.y)
    np.testing.assert_array_equal(binary.targets("mse"), bce)
    reg = _tiny("regression")
    assert reg.targets("mse").shape == (3, 1)
    np.testing.assert_array_equal(reg.targets("huber")[:, 0], [0.5, 1.0, 0.0])
    with pytest.raises(DataError, match="regression"):
        reg.targets("categorical_crossentropy")
    with pytest.raises(DataError, match="unknown loss"):
        ds.targets("hinge")


def test_one_hot_width_counts_classes_missing_from_a_subset():
    ds = _tiny().subset(np.array([0, 1]))
    assert ds.targets("categorical_crossentropy").shape == (2, 3)


def test_dataset_rejects_bad_labels():
    with pytest.raises(DataError, match="0..1"):
        Dataset(X=np.zeros((2, 1)), y=np.array([0, 2]), task="classification",
                feature_names=["a"], class_names=["a", "b"])
    with pytest.raises(DataError, match="samples"):
        Dataset(X=np.zeros((2, 1)), y=np.array([0.0]), task="regression", feature_names=["a"])
