"""Seeded train/validation/test splits; stratified for classification.

Stratifying keeps each class's share the same in every part, which matters for small or
unbalanced data: a random 20 % of iris could otherwise miss most of one species.
"""

from __future__ import annotations

import numpy as np

from core.data.dataset import DataError, Dataset


def _largest_remainder(counts: np.ndarray, total: int) -> np.ndarray:
    """Integer shares of ``total`` proportional to ``counts`` that sum exactly to ``total``."""
    if counts.sum() == 0:
        return np.zeros_like(counts)
    exact = counts * (total / counts.sum())
    share = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - share), kind="stable")
    share[order[: total - int(share.sum())]] += 1
    return np.minimum(share, counts)


def stratified_take(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` samples drawn so that each class keeps its share of ``y``."""
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    shares = _largest_remainder(counts, n)
    picks = [rng.permutation(np.flatnonzero(inverse == c))[:k] for c, k in enumerate(shares)]
    return np.concatenate(picks) if picks else np.zeros(0, np.int64)


def _part_sizes(n: int, val: float, test: float) -> tuple[int, int]:
    for label, frac in (("val", val), ("test", test)):
        if not 0.0 <= frac < 1.0:
            raise DataError(f"{label} must be a fraction in [0, 1), got {frac}")
    if val + test >= 1.0:
        raise DataError(f"val + test = {val + test:g} leaves no training data; keep it below 1")
    n_val, n_test = int(round(n * val)), int(round(n * test))
    if n - n_val - n_test < 1:
        raise DataError(f"{n} samples are too few for val={val:g}, test={test:g}")
    return n_val, n_test


def split(ds: Dataset, val: float = 0.2, test: float = 0.0, seed: int = 0,
          stratify: bool | None = None) -> tuple[Dataset, Dataset | None, Dataset | None]:
    """Shuffle and cut ``ds`` into (train, val, test); a part with fraction 0 is None.

    ``stratify`` defaults to True for classification. The same seed gives the same split.
    """
    train, v, t = split_indices(ds, val, test, seed, stratify)
    return (ds.subset(train), None if v is None else ds.subset(v),
            None if t is None else ds.subset(t))


def split_indices(ds: Dataset, val: float = 0.2, test: float = 0.0, seed: int = 0,
                  stratify: bool | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The sample positions of ``split``'s (train, val, test), None for a fraction 0.

    The positions depend only on the targets, the task and the settings, so one split
    cuts a data set and its transformed copy alike (the designer keeps both).
    """
    n = len(ds)
    n_val, n_test = _part_sizes(n, val, test)
    rng = np.random.default_rng(seed)
    if stratify is None:
        stratify = ds.task == "classification"
    if stratify and ds.task != "classification":
        raise DataError("stratify needs class labels; this is a regression data set")
    if stratify:
        parts = _stratified_parts(ds.y, n_val, n_test, rng)
    else:
        order = rng.permutation(n)
        parts = [order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]]
    train, v, t = (rng.permutation(p) for p in parts)
    return train, v if val > 0 else None, t if test > 0 else None


def _stratified_parts(y: np.ndarray, n_val: int, n_test: int,
                      rng: np.random.Generator) -> list[np.ndarray]:
    """Per class: shuffle, then deal out val and test shares; the rest is training data."""
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    # keep one sample of every class for training where the class has any to spare
    spare = np.maximum(counts - 1, 0)
    val_k = _largest_remainder(counts, n_val)
    val_k = np.minimum(val_k, spare)
    test_k = np.minimum(_largest_remainder(counts, n_test), spare - val_k)
    train, val, test = [], [], []
    for c in range(len(classes)):
        idx = rng.permutation(np.flatnonzero(inverse == c))
        val.append(idx[: val_k[c]])
        test.append(idx[val_k[c]: val_k[c] + test_k[c]])
        train.append(idx[val_k[c] + test_k[c]:])
    return [np.concatenate(p) for p in (train, val, test)]
