"""Feature scaling kept with the project, and Playground's feature transforms.

Scaling is always ``x' = (x - offset) / scale`` per feature (the last axis, i.e. per
channel for images), so exporters can bake it into a model as one Sub and one Div.
It is fitted on the training split only: statistics from validation or test data would
leak into training and flatter the reported scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.data.dataset import DataError

METHODS = ("standardize", "minmax", "none")
TRANSFORM_BLOCK = 1 << 20  # values scaled at a time (8 MiB of float64 temporaries)


class Scaler:
    """Per-feature affine scaling: standardize (mean 0, std 1), minmax ([0, 1]) or none."""

    def __init__(self, method: str = "standardize") -> None:
        if method not in METHODS:
            raise DataError(f"unknown scaling {method!r}; choose one of {', '.join(METHODS)}")
        self.method = method
        self.offset: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    @property
    def is_fitted(self) -> bool:
        return self.offset is not None

    def fit(self, X: np.ndarray) -> Scaler:
        """Learn offset and scale from ``X`` (the training split); returns self.

        Sums run in float64. float32 data is summed in float64 as it is, not copied to
        float64 first: the same figures (a test checks it), without a float64 copy of a
        large training set.
        """
        X = np.asarray(X)
        if X.dtype != np.float32:
            X = X.astype(np.float64, copy=False)
        if X.ndim < 2 or len(X) == 0:
            raise DataError(f"fit the scaler on samples-first data with at least one sample, "
                            f"got shape {X.shape}")
        flat = X.reshape(-1, X.shape[-1])
        if not np.isfinite(flat).all():
            raise DataError("the training data contains NaN or infinite values; "
                            "clean the data before scaling")
        if self.method == "standardize":
            offset = flat.mean(axis=0, dtype=np.float64)
            scale = flat.std(axis=0, dtype=np.float64)
        elif self.method == "minmax":
            offset = flat.min(axis=0).astype(np.float64)
            scale = flat.max(axis=0).astype(np.float64) - offset
        else:
            offset, scale = np.zeros(flat.shape[1]), np.ones(flat.shape[1])
        # a constant feature would divide by zero: leave it merely shifted
        tiny = 10 * np.finfo(np.float32).eps * np.maximum(1.0, np.abs(offset))
        self.offset, self.scale = offset, np.where(scale > tiny, scale, 1.0)
        return self

    def _check(self, X: np.ndarray) -> np.ndarray:
        if not self.is_fitted:
            raise DataError("the scaler is not fitted yet; call fit(X_train) first")
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[-1] != len(self.offset):
            raise DataError(f"the scaler was fitted on {len(self.offset)} features but this "
                            f"data has shape {X.shape}")
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scaled copy of ``X`` (float32 unless ``X`` is float64).

        Computed in float64 a block of rows at a time: the same figures as the whole
        array at once, without two float64 temporaries the size of a large data set.
        """
        X = self._check(X)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float32
        out = np.empty(X.shape, dtype=dtype)
        rows = max(1, TRANSFORM_BLOCK // max(1, X[:1].size))
        for start in range(0, len(X), rows):
            out[start:start + rows] = (X[start:start + rows] - self.offset) / self.scale
        return out

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Undo ``transform`` (e.g. to show predictions in the data's own units)."""
        X = self._check(X)
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float32
        return (X * self.scale + self.offset).astype(dtype, copy=False)

    def to_dict(self) -> dict:
        """``{"method", "offset": [...], "scale": [...]}``; empty lists before fitting."""
        return {"method": self.method,
                "offset": [] if self.offset is None else [float(v) for v in self.offset],
                "scale": [] if self.scale is None else [float(v) for v in self.scale]}

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        """Rebuild a scaler saved by ``to_dict``; rejects anything that is not one."""
        if not isinstance(d, dict) or "method" not in d:
            raise DataError(f"preprocessing must be a dict with 'method', got {d!r:.80}")
        scaler = cls(d["method"])
        offset, scale = d.get("offset", []), d.get("scale", [])
        try:
            offset = np.asarray(offset, dtype=np.float64)
            scale = np.asarray(scale, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"preprocessing offset/scale must be lists of numbers: {exc}") from None
        if offset.ndim != 1 or offset.shape != scale.shape:
            raise DataError(f"preprocessing offset and scale must be equally long lists, got "
                            f"{offset.shape} and {scale.shape}")
        if len(offset):
            if not (np.isfinite(offset).all() and np.isfinite(scale).all()) or (scale == 0).any():
                raise DataError("preprocessing offset/scale must be finite and scale never 0")
            scaler.offset, scaler.scale = offset, scale
        return scaler


# ----------------------------------------------------------- Playground feature transforms
_Transform = Callable[[np.ndarray, np.ndarray], np.ndarray]
FEATURE_TRANSFORMS: dict[str, _Transform] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}
_ALIASES = {"x1²": "x1^2", "x2²": "x2^2", "x1x2": "x1*x2", "x1 x2": "x1*x2",
            "sin x1": "sin(x1)", "sin x2": "sin(x2)", "sin_x1": "sin(x1)",
            "sin_x2": "sin(x2)", "x1_squared": "x1^2", "x2_squared": "x2^2"}


def canonical_feature(name: str) -> str:
    """The canonical spelling of a Playground feature name (``"sin x1"`` -> ``"sin(x1)"``)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in FEATURE_TRANSFORMS:
        raise DataError(f"unknown input feature {name!r}; choose from "
                        f"{', '.join(FEATURE_TRANSFORMS)}")
    return key


def feature_transforms(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Playground's input features of 2-D points: one column per name, in that order.

    ``feature_transforms(X, ["x1", "x2", "x1*x2"])`` returns (N, 3) float32.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise DataError(f"feature transforms need 2-D points (N, 2), got shape {X.shape}")
    if not names:
        raise DataError("choose at least one input feature")
    keys = [canonical_feature(n) for n in names]
    a, b = X[:, 0].astype(np.float64), X[:, 1].astype(np.float64)
    return np.column_stack([FEATURE_TRANSFORMS[k](a, b) for k in keys]).astype(np.float32)
