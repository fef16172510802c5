"""The Dataset every part of ANN Designer trains on, and the error its loaders raise.

A Dataset keeps its targets in one canonical form (class indices, or a float matrix for
regression) and hands each loss the shape that loss wants through ``targets(loss)``, so
that no caller has to remember which loss takes one-hot rows and which takes indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

TASKS = ("classification", "regression")
REGRESSION_LOSSES = ("mse", "mae", "huber")
CLASSIFICATION_LOSSES = ("binary_crossentropy", "categorical_crossentropy",
                         "sparse_categorical_crossentropy")


FLOAT32_MAX = float(np.finfo(np.float32).max)  # about 3.4e38: larger values become inf


class DataError(ValueError):
    """A data set could not be built or read; the message says where and how to fix it."""


def unreadable(path: object, exc: OSError) -> DataError:
    """A DataError for a file that could not be opened, with what to do about it."""
    if isinstance(exc, IsADirectoryError):
        why = "it is a folder, not a file; give the path of the data file inside it"
    elif isinstance(exc, FileNotFoundError):
        why = "no such file; check the path (relative paths start from the current folder)"
    elif isinstance(exc, PermissionError):
        why = "permission denied; make the file readable (chmod +r) or copy it elsewhere"
    else:
        why = str(exc.strerror or exc)
    return DataError(f"cannot read {path}: {why}")


def fits_float32(values: np.ndarray) -> np.ndarray:
    """Mask of values that stay finite as float32 (the dtype everything trains in).

    A finite float64 such as 1e300 turns into infinity on the cast, so the loaders check
    this, not just ``np.isfinite``, before they hand data to a network.
    """
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return np.ones(values.shape, bool)
    with np.errstate(invalid="ignore"):
        return np.abs(values) <= FLOAT32_MAX  # False for NaN and infinity too


@dataclass
class Dataset:
    """Samples-first features ``X`` (float32) with targets ``y``.

    ``y`` holds int64 class indices 0..k-1 for classification (``class_names[i]`` names
    class i) and a float32 (N, k) matrix for regression (``target_names`` names its
    columns). ``source`` says where the data came from, in the project file's form.
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: list[str]
    class_names: list[str] | None = None
    name: str = ""
    source: dict = field(default_factory=dict)
    target_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"task must be one of {TASKS}, not {self.task!r}")
        self.X = np.asarray(self.X)
        if self.X.dtype != np.float32:
            self.X = self.X.astype(np.float32)
        if self.X.ndim < 2:
            raise DataError(f"X must be samples-first with at least 2 dimensions, "
                            f"got shape {self.X.shape}")
        if self.task == "classification":
            self._check_classes()
        else:
            self._check_regression()
        if len(self.y) != len(self.X):
            raise DataError(f"X has {len(self.X)} samples but y has {len(self.y)}")
        self.feature_names = [str(n) for n in self.feature_names]

    def _check_classes(self) -> None:
        y = np.asarray(self.y)
        if y.ndim != 1 or y.dtype.kind not in "iub":
            raise DataError(f"classification targets must be a 1-D array of class indices, "
                            f"got shape {y.shape} dtype {y.dtype}")
        self.y = y.astype(np.int64, copy=False)
        if self.class_names is None:
            self.class_names = [str(i) for i in range(int(self.y.max(initial=-1)) + 1)]
        self.class_names = [str(c) for c in self.class_names]
        if len(self.y) and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise DataError(f"class indices must lie in 0..{len(self.class_names) - 1}, got "
                            f"{int(self.y.min())}..{int(self.y.max())}")

    def _check_regression(self) -> None:
        y = np.asarray(self.y, dtype=np.float32)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise DataError(f"regression targets must be (N, k), got shape {y.shape}")
        self.y = y
        self.class_names = None
        if not self.target_names:
            self.target_names = ["y"] if y.shape[1] == 1 else [f"y{i + 1}"
                                                               for i in range(y.shape[1])]

    def __len__(self) -> int:
        return len(self.X)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample (what the network's Input node takes)."""
        return tuple(self.X.shape[1:])

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names is not None else 0

    @property
    def n_outputs(self) -> int:
        """Output units a network needs: one per class, or one per regression target."""
        return self.n_classes if self.task == "classification" else int(self.y.shape[1])

    def subset(self, index: np.ndarray) -> Dataset:
        """The samples at ``index`` (array of positions), with the same names and source."""
        return replace(self, X=self.X[index], y=self.y[index], source=dict(self.source))

    def targets(self, loss: str) -> np.ndarray:
        """Targets shaped for ``loss``.

        sparse_categorical_crossentropy: int64 indices (N,); categorical_crossentropy:
        float32 one-hot (N, k); binary_crossentropy: float32 (N, 1) 0/1 (two classes only);
        mse/mae/huber: the regression matrix, or for classification (N, 1) 0/1 with two
        classes and one-hot rows with more.
        """
        if loss not in REGRESSION_LOSSES + CLASSIFICATION_LOSSES:
            raise DataError(f"unknown loss {loss!r}; choose one of "
                            f"{', '.join(REGRESSION_LOSSES + CLASSIFICATION_LOSSES)}")
        if self.task == "regression":
            return self._regression_targets(loss)
        k = self.n_classes
        if loss == "sparse_categorical_crossentropy":
            return self.y.copy()
        if loss == "binary_crossentropy" or (loss in REGRESSION_LOSSES and k <= 2):
            if k > 2:
                raise DataError(f"binary_crossentropy needs two classes but "
                                f"{self.name or 'this data set'} has {k}; use "
                                f"categorical_crossentropy with a softmax output")
            return self.y.astype(np.float32)[:, None]
        return np.eye(k, dtype=np.float32)[self.y]

    def _regression_targets(self, loss: str) -> np.ndarray:
        if loss in REGRESSION_LOSSES:
            return self.y.copy()
        if loss == "binary_crossentropy" and len(self.y) and (
                self.y.min() >= 0 and self.y.max() <= 1):
            return self.y.copy()
        raise DataError(f"{loss} needs class labels but {self.name or 'this data set'} is a "
                        f"regression data set; use mse, mae or huber")
