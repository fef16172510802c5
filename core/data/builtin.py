"""Built-in data sets: TensorFlow Playground's toy problems and five small real ones.

The Playground generators follow playground.tensorflow.org's ``src/dataset.ts`` (same
shapes, radii, noise rules and label functions) but draw from a seeded NumPy generator,
so a project reproduces its data exactly. Playground labels -1/+1 become classes 0/1.
``noise`` uses Playground's scale: its noise slider (0-50 %) divided by 100.
The real sets (iris, wine, breast cancer, diabetes, digits) are the copies scikit-learn
ships, bundled here as ``core/data/sets/NAME.npz`` (made by ``tools/bundle_datasets.py``)
so that loading them needs neither scikit-learn nor a download.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np

from core.data.dataset import DataError, Dataset
from core.data.split import stratified_take

MAX_SAMPLES = 1_000_000
POS_NEG = ["negative", "positive"]


@dataclass(frozen=True)
class DatasetInfo:
    """What the data panel shows about a built-in data set before loading it."""

    name: str
    title: str
    task: str
    n_samples: int
    noise: float | None  # default noise; None: the set has no noise setting
    n_features: int
    description: str
    n_classes: int = 0
    input_shape: tuple[int, ...] = ()
    synthetic: bool = True


# ----------------------------------------------------------------- Playground generators
def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def circle(n: int, noise: float, rng: np.random.Generator):
    """Class 1 inside radius 2.5, class 0 on a ring 3.5-5; labels from the noisy point."""
    radius = 5.0
    parts = []
    for r_lo, r_hi, count in ((0.0, radius * 0.5, _halves(n)[0]),
                              (radius * 0.7, radius, _halves(n)[1])):
        r = rng.uniform(r_lo, r_hi, count)
        angle = rng.uniform(0, 2 * np.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        nx = rng.uniform(-radius, radius, count) * noise
        ny = rng.uniform(-radius, radius, count) * noise
        label = (np.hypot(x + nx, y + ny) < radius * 0.5).astype(np.int64)
        parts.append((np.column_stack([x, y]), label))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def xor(n: int, noise: float, rng: np.random.Generator):
    """Quadrants: class 1 where x*y >= 0; points pushed 0.3 away from the axes."""
    padding = 0.3
    x = rng.uniform(-5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = rng.uniform(-5, 5, n)
    y += np.where(y > 0, padding, -padding)
    nx = rng.uniform(-5, 5, n) * noise
    ny = rng.uniform(-5, 5, n) * noise
    label = ((x + nx) * (y + ny) >= 0).astype(np.int64)
    return np.column_stack([x, y]), label


def gauss(n: int, noise: float, rng: np.random.Generator):
    """Two Gaussian blobs at (2, 2) (class 1) and (-2, -2); variance 0.5 + 7 * noise."""
    variance = 0.5 + noise * (4 - 0.5) / 0.5
    pos, neg = _halves(n)
    a = rng.normal(2.0, np.sqrt(variance), (pos, 2))
    b = rng.normal(-2.0, np.sqrt(variance), (neg, 2))
    label = np.concatenate([np.ones(pos, np.int64), np.zeros(neg, np.int64)])
    return np.concatenate([a, b]), label


def _spiral_arms(n: int, noise: float, rng: np.random.Generator, arms: int):
    counts = [n // arms + (1 if k < n % arms else 0) for k in range(arms)]
    xs, labels = [], []
    for k, count in enumerate(counts):
        i = np.arange(count)
        r = i / max(count, 1) * 5
        t = 1.75 * i / max(count, 1) * 2 * np.pi + 2 * np.pi * k / arms
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise
        xs.append(np.column_stack([x, y]))
        labels.append(np.full(count, k, np.int64))
    return np.concatenate(xs), np.concatenate(labels)


def spiral(n: int, noise: float, rng: np.random.Generator):
    """Playground's two-arm spiral; arm 0 is Playground's positive class (mapped to 1)."""
    X, arm = _spiral_arms(n, noise, rng, 2)
    return X, 1 - arm


def spiral3(n: int, noise: float, rng: np.random.Generator):
    """Three interleaved Playground-style spiral arms, 120 degrees apart."""
    return _spiral_arms(n, noise, rng, 3)


def moons(n: int, noise: float, rng: np.random.Generator):
    """scikit-learn's two half moons, centred and scaled by 3.5 (x in about [-5.3, 5.3]).

    ``noise`` is scikit-learn's (Gaussian std in the unscaled moon units).
    """
    outer, inner = _halves(n)
    t_out = rng.uniform(0, np.pi, outer)
    t_in = rng.uniform(0, np.pi, inner)
    a = np.column_stack([np.cos(t_out), np.sin(t_out)])
    b = np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)])
    X = np.concatenate([a, b]) + rng.normal(0, 1, (n, 2)) * noise
    X = (X - [0.5, 0.25]) * 3.5
    label = np.concatenate([np.zeros(outer, np.int64), np.ones(inner, np.int64)])
    return X, label


def plane(n: int, noise: float, rng: np.random.Generator):
    """Regression target (x1 + x2) / 10 of the noise-shifted point, x in [-6, 6]^2."""
    radius = 6.0
    X = rng.uniform(-radius, radius, (n, 2))
    shift = rng.uniform(-radius, radius, (n, 2)) * noise
    return X, (X + shift).sum(axis=1) / 10.0


GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                      [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def multigauss(n: int, noise: float, rng: np.random.Generator):
    """Six signed bumps; the target is the bump value largest in magnitude, in [-1, 1]."""
    radius = 6.0
    X = rng.uniform(-radius, radius, (n, 2))
    p = X + rng.uniform(-radius, radius, (n, 2)) * noise
    d = np.hypot(p[:, None, 0] - GAUSSIANS[:, 0], p[:, None, 1] - GAUSSIANS[:, 1])
    values = GAUSSIANS[:, 2] * np.clip(1 - d / 2, 0, 1)
    best = np.argmax(np.abs(values), axis=1)
    return X, values[np.arange(n), best]


def sine(n: int, noise: float, rng: np.random.Generator):
    """y = sin(x) plus Gaussian noise of std ``noise``, x uniform in [-6, 6]."""
    x = rng.uniform(-6, 6, n)
    return x[:, None], np.sin(x) + rng.normal(0, 1, n) * noise


Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]

# name: (generator, class names or None for regression, feature names)
_SYNTHETIC: dict[str, tuple[Generator, list[str] | None, list[str]]] = {
    "circle": (circle, ["outside", "inside"], ["x1", "x2"]),
    "xor": (xor, POS_NEG, ["x1", "x2"]),
    "gauss": (gauss, POS_NEG, ["x1", "x2"]),
    "spiral": (spiral, POS_NEG, ["x1", "x2"]),
    "moons": (moons, ["upper moon", "lower moon"], ["x1", "x2"]),
    "spiral3": (spiral3, ["arm 1", "arm 2", "arm 3"], ["x1", "x2"]),
    "plane": (plane, None, ["x1", "x2"]),
    "multigauss": (multigauss, None, ["x1", "x2"]),
    "sine": (sine, None, ["x"]),
}


def _info(name, title, task, n, noise, nf, desc, k=0, shape=None, synthetic=True):
    return DatasetInfo(name, title, task, n, noise, nf, desc, k, shape or (nf,), synthetic)


_CLS, _REG = "classification", "regression"
BUILTIN_DATASETS: dict[str, DatasetInfo] = {i.name: i for i in [
    _info("circle", "Circle", _CLS, 500, 0.0, 2,
          "A disc of one class inside a ring of the other (Playground).", 2),
    _info("xor", "Exclusive or", _CLS, 500, 0.0, 2,
          "Opposite quadrants share a class (Playground).", 2),
    _info("gauss", "Two Gaussians", _CLS, 500, 0.0, 2,
          "Two Gaussian blobs; separable by a line (Playground).", 2),
    _info("spiral", "Spiral", _CLS, 500, 0.0, 2,
          "Two interleaved spiral arms, the hardest Playground set.", 2),
    _info("moons", "Two moons", _CLS, 500, 0.1, 2,
          "Two interleaving half circles (scikit-learn's make_moons, scaled).", 2),
    _info("spiral3", "Three-arm spiral", _CLS, 600, 0.0, 2,
          "Three interleaved spiral arms: a three-class problem.", 3),
    _info("plane", "Plane", _REG, 1200, 0.0, 2,
          "Regression: the target rises linearly with x1 + x2 (Playground).", 0),
    _info("multigauss", "Multi-Gaussian", _REG, 1200, 0.0, 2,
          "Regression: six positive and negative bumps (Playground).", 0),
    _info("sine", "Sine", _REG, 400, 0.1, 1,
          "Regression in one dimension: y = sin(x) with Gaussian noise.", 0),
    _info("iris", "Iris", _CLS, 150, None, 4,
          "Three iris species from four flower measurements (Fisher, 1936).", 3,
          synthetic=False),
    _info("wine", "Wine", _CLS, 178, None, 13,
          "Three wine cultivars from 13 chemical measurements.", 3, synthetic=False),
    _info("breast_cancer", "Breast cancer", _CLS, 569, None, 30,
          "Malignant or benign tumour from 30 cell-nucleus features (Wisconsin).", 2,
          synthetic=False),
    _info("diabetes", "Diabetes", _REG, 442, None, 10,
          "Regression: disease progression after one year from 10 baseline values.", 0,
          synthetic=False),
    _info("digits", "Digits (flat)", _CLS, 1797, None, 64,
          "Handwritten digits 0-9, 8x8 pixels as 64 features (values 0-16).", 10,
          synthetic=False),
    _info("digits_images", "Digits (images)", _CLS, 1797, None, 64,
          "Handwritten digits 0-9 as 8x8x1 images for convolutional networks.", 10,
          shape=(8, 8, 1), synthetic=False),
]}


# ------------------------------------------------------------------------ loading
def load_builtin(name: str, n_samples: int | None = None, noise: float | None = None,
                 seed: int = 0, **params) -> Dataset:
    """Generate (or load) the built-in data set ``name``; same arguments, same data.

    For the real sets ``n_samples`` takes a seeded, class-balanced subset and
    ``noise`` must be left unset (they are real measurements).
    """
    info = BUILTIN_DATASETS.get(name)
    if info is None:
        raise DataError(f"unknown built-in data set {name!r}; choose one of "
                        f"{', '.join(BUILTIN_DATASETS)}")
    if params:
        raise DataError(f"{name} takes no parameter(s) {', '.join(sorted(params))}; "
                        f"only n_samples, noise and seed")
    n = info.n_samples if n_samples is None else int(n_samples)
    if not 1 <= n <= MAX_SAMPLES:
        raise DataError(f"n_samples must be between 1 and {MAX_SAMPLES:,}, got {n_samples}")
    source = {"kind": "builtin", "name": name,
              "params": {"n_samples": n, "noise": noise, "seed": int(seed)}}
    rng = np.random.default_rng(seed)
    if info.synthetic:
        return _load_synthetic(info, n, noise, rng, source)
    if noise not in (None, 0, 0.0):
        raise DataError(f"{name} is real data and has no noise setting; leave noise unset")
    return _load_bundled(info, n_samples, rng, source)


def _load_synthetic(info: DatasetInfo, n: int, noise: float | None,
                    rng: np.random.Generator, source: dict) -> Dataset:
    level = info.noise if noise is None else float(noise)
    if not 0.0 <= level <= 1.0:
        raise DataError(f"noise must be between 0 and 1 (Playground's 0-50 % is 0-0.5), "
                        f"got {noise}")
    source["params"]["noise"] = level
    generate, class_names, features = _SYNTHETIC[info.name]
    X, y = generate(n, level, rng)
    order = rng.permutation(n)  # Playground shuffles too: batches mix the classes
    X, y = X[order], y[order]
    return Dataset(X=X.astype(np.float32), y=y if class_names else y.astype(np.float32),
                   task=info.task, feature_names=features, class_names=class_names,
                   name=info.name, source=source)


def _load_bundled(info: DatasetInfo, n_samples: int | None, rng: np.random.Generator,
                  source: dict) -> Dataset:
    arrays = bundled_arrays(info.name.removesuffix("_images"))
    X, y = arrays["X"], arrays["y"]
    index = np.arange(len(X))
    if n_samples is not None and n_samples < len(X):
        index = _balanced_subset(y, n_samples, info.task == _CLS, rng)
    X, y = X[index].reshape((len(index),) + info.input_shape), y[index]
    source["params"]["n_samples"] = len(index)
    features = [str(f) for f in arrays["feature_names"]]
    if info.task == _CLS:
        return Dataset(X=X.astype(np.float32), y=y.astype(np.int64), task=_CLS,
                       feature_names=features,
                       class_names=[str(c) for c in arrays["class_names"]],
                       name=info.name, source=source)
    return Dataset(X=X.astype(np.float32), y=y.astype(np.float32), task=_REG,
                   feature_names=features, name=info.name, source=source,
                   target_names=["progression"])


def bundled_arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays of bundled set ``name``: X, y, feature_names and (classes) class_names.

    Class labels come back as int64 whatever width the file stores them in, so that the
    class-balanced subsets draw exactly as they always have.
    """
    resource = resources.files("core.data") / "sets" / f"{name}.npz"
    with resources.as_file(resource) as path, np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if "class_names" in arrays:
        arrays["y"] = arrays["y"].astype(np.int64)
    return arrays


def _balanced_subset(y: np.ndarray, n: int, stratify: bool,
                     rng: np.random.Generator) -> np.ndarray:
    """``n`` sorted positions; for classes, as close to the original class ratios as can be."""
    if not stratify:
        return np.sort(rng.permutation(len(y))[:n])
    return np.sort(stratified_take(y, n, rng))
