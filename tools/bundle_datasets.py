"""Write the five real data sets that ship with the package (needs scikit-learn).

ANN Designer's built-in real data sets (iris, wine, breast cancer, diabetes, digits) are
bundled as small ``core/data/sets/NAME.npz`` files so that users need no scikit-learn
(and SciPy) to load them. This script made those files from scikit-learn's own copies;
run it again only to re-create them:

    pip install scikit-learn && python tools/bundle_datasets.py

Features are stored as float32 (the precision the app trains in, so the loaded arrays
are bit for bit what scikit-learn's float64 copies gave after conversion); the digits'
pixels and all class labels as the smallest unsigned integers that hold them. Names are
plain string arrays: the files load with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SETS_DIR = Path(__file__).resolve().parent.parent / "core" / "data" / "sets"
LOADERS = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer",
           "diabetes": "load_diabetes", "digits": "load_digits"}


def arrays(name: str) -> dict[str, np.ndarray]:
    """The arrays stored for data set ``name``."""
    from sklearn import datasets

    bunch = getattr(datasets, LOADERS[name])()
    X = np.asarray(bunch.data, np.float64)
    stored = {"X": X.astype(np.uint8) if name == "digits" else X.astype(np.float32)}
    if name == "digits":
        assert np.array_equal(stored["X"], X), "digits pixels are whole numbers 0-16"
        stored["feature_names"] = np.array([f"pixel_{r}_{c}" for r in range(8)
                                            for c in range(8)])
    else:
        stored["feature_names"] = np.array([str(f) for f in bunch.feature_names])
    if name == "diabetes":
        stored["y"] = np.asarray(bunch.target, np.float32)
    else:
        stored["y"] = np.asarray(bunch.target).astype(np.uint8)
        stored["class_names"] = np.array([str(t) for t in bunch.target_names])
    return stored


def main() -> None:
    SETS_DIR.mkdir(parents=True, exist_ok=True)
    for name in LOADERS:
        path = SETS_DIR / f"{name}.npz"
        np.savez_compressed(path, **arrays(name))
        print(f"{path.name}: {path.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
