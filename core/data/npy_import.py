"""NumPy .npy/.npz import that never unpickles and never trusts a declared size.

Every array's header (shape and dtype) is read and checked before its data: object
dtypes (which need pickle) are refused, and the declared byte count must be within the
limit and actually present in the file, so a 20-byte file claiming a terabyte array costs
nothing. Data is then read with exactly that many bytes.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from core.data.dataset import FLOAT32_MAX, DataError, Dataset, fits_float32, unreadable

MAX_NPY_BYTES = 1 << 30
MAX_NPZ_MEMBERS = 1000
MAX_AUTO_CLASSES = 20
X_KEYS = ("X", "x", "features", "data", "inputs")
Y_KEYS = ("y", "Y", "targets", "target", "labels", "outputs")
PICKLE_HINT = ("ANN Designer never unpickles files; save plain numeric arrays "
               "(np.savez(path, X=X.astype('float32'), y=y))")


def _read_header(fp: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from a .npy header, refusing what we cannot load."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, SyntaxError, EOFError) as exc:
        raise DataError(f"{where} is not a valid .npy array: {exc}") from None
    if dtype.hasobject:
        raise DataError(f"{where} holds Python objects (dtype {dtype}); {PICKLE_HINT}")
    if dtype.names is not None or dtype.kind not in "biufU":
        raise DataError(f"{where} has dtype {dtype}; use numbers (or text labels for y)")
    return tuple(int(s) for s in shape), bool(fortran), dtype


def _read_array(fp: IO[bytes], where: str, available: int, max_bytes: int) -> np.ndarray:
    """One array from ``fp`` whose remaining size is ``available`` bytes (after checks)."""
    start = fp.tell()
    shape, fortran, dtype = _read_header(fp, where)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_bytes:
        raise DataError(f"{where} declares shape {shape} ({nbytes / 2**20:,.0f} MiB), more "
                        f"than the {max_bytes / 2**20:,.0f} MiB limit")
    if nbytes > available - (fp.tell() - start):
        raise DataError(f"{where} is truncated: its header declares shape {shape} but the "
                        f"file holds less data; save it again")
    data = fp.read(nbytes)
    if len(data) != nbytes:
        raise DataError(f"{where} is truncated; save it again")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def load_arrays(path: str | os.PathLike, max_bytes: int = MAX_NPY_BYTES) -> dict[str, np.ndarray]:
    """All arrays of a .npy (key "arr") or .npz file, each checked before it is read."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise DataError(f"{path.name} is {size / 2**20:,.0f} MiB, more than the "
                            f"{max_bytes / 2**20:,.0f} MiB limit")
        if zipfile.is_zipfile(path):
            return _load_npz(path, max_bytes)
        with open(path, "rb") as f:
            return {"arr": _read_array(f, path.name, size, max_bytes)}
    except OSError as exc:
        raise unreadable(path, exc) from None


def _load_npz(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if len(archive.infolist()) > MAX_NPZ_MEMBERS:
                raise DataError(f"{path.name} holds {len(archive.infolist())} files; an .npz "
                                f"data set should hold a few arrays")
            total, arrays = 0, {}
            for member in members:
                where = f"{path.name}:{member.filename}"
                with archive.open(member) as fp:
                    arrays[member.filename[:-4]] = _read_array(
                        fp, where, member.file_size, max_bytes - total)
                total += arrays[member.filename[:-4]].nbytes
            return arrays
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DataError(f"{path.name} is a damaged .npz archive: {exc}") from None


def _pick(arrays: dict[str, np.ndarray], key: str | None, keys: tuple[str, ...],
          role: str, path: Path) -> np.ndarray:
    if key is not None:
        if key not in arrays:
            raise DataError(f"{path.name} has no array {key!r}; it holds "
                            f"{', '.join(arrays) or 'nothing'}")
        return arrays[key]
    for k in keys:
        if k in arrays:
            return arrays[k]
    raise DataError(f"{path.name} has no {role} array; name it one of {', '.join(keys)} "
                    f"(it holds {', '.join(arrays) or 'nothing'})")


def _names(arrays: dict[str, np.ndarray], key: str, count: int) -> list[str] | None:
    names = arrays.get(key)
    if names is None or names.dtype.kind != "U" or names.shape != (count,):
        return None
    return [str(n) for n in names]


def read_npy(path: str | os.PathLike, target: int | None = None, x_key: str | None = None,
             y_key: str | None = None, task: str | None = None,
             max_bytes: int = MAX_NPY_BYTES) -> Dataset:
    """A Dataset from an .npz (arrays X and y) or a 2-D .npy whose ``target`` column is y.

    ``target`` defaults to the last column of an .npy. Integer, boolean or text targets
    are classes; float targets are classes only if they hold at most 20 distinct integers
    (``task`` overrides). Optional .npz arrays ``class_names`` and ``feature_names`` (text)
    name the classes and features.
    """
    path = Path(path)
    arrays = load_arrays(path, max_bytes)
    if "arr" in arrays and len(arrays) == 1 and path.suffix.lower() != ".npz":
        X, y = _split_table(arrays["arr"], target, path)
    else:
        X = _pick(arrays, x_key, X_KEYS, "feature", path)
        y = _pick(arrays, y_key, Y_KEYS, "target", path)
    if X.dtype.kind not in "biuf":
        raise DataError(f"{path.name}: features must be numbers, got dtype {X.dtype}")
    if X.ndim == 1:
        X = X[:, None]
    if len(y) != len(X):
        raise DataError(f"{path.name}: X has {len(X)} samples but y has {len(y)}")
    if not fits_float32(X).all():
        row = int(np.argwhere(~fits_float32(X.reshape(len(X), -1)))[0, 0])
        raise DataError(f"{path.name}: sample {row} of X holds NaN, infinity or a number "
                        f"beyond +-{FLOAT32_MAX:.3g} (too large for float32); clean the data")
    n_feat = math.prod(X.shape[1:])
    features = _names(arrays, "feature_names", n_feat) or [f"x{i + 1}" for i in range(n_feat)]
    source = {"kind": "file", "format": path.suffix.lower().lstrip("."), "path": str(path),
              "target": y_key if y_key is not None else target, "features": features,
              "categorical": [], "embedded": False}
    task = task or _auto_task(y)
    source["task"] = task
    if task == "classification":
        y_idx, names = _classes(y, path)
        names = _names(arrays, "class_names", len(names)) or names
        return Dataset(X=X, y=y_idx, task=task, feature_names=features, class_names=names,
                       name=path.stem, source=source)
    if y.dtype.kind not in "biuf":
        raise DataError(f"{path.name}: regression targets must be numbers, got {y.dtype}")
    if not fits_float32(y).all():
        row = int(np.argwhere(~fits_float32(y.reshape(len(y), -1)))[0, 0])
        raise DataError(f"{path.name}: target of sample {row} is NaN, infinity or too large "
                        f"for float32 (beyond +-{FLOAT32_MAX:.3g}); clean the data")
    return Dataset(X=X, y=y.reshape(len(y), -1).astype(np.float32), task="regression",
                   feature_names=features, name=path.stem, source=source)


def _split_table(table: np.ndarray, target: int | None, path: Path):
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError(f"{path.name} holds shape {table.shape}; an .npy data set must be a "
                        f"table (samples, columns) with the target in one column, or use an "
                        f".npz with arrays X and y")
    t = table.shape[1] - 1 if target is None else int(target)
    if not -table.shape[1] <= t < table.shape[1]:
        raise DataError(f"target column {target} is out of range for {table.shape[1]} columns")
    t %= table.shape[1]
    return np.delete(table, t, axis=1), table[:, t]


def _auto_task(y: np.ndarray) -> str:
    if y.dtype.kind in "biuU":
        return "classification"
    if y.ndim > 1 and y.shape[1:] != (1,):
        return "regression"
    if not np.isfinite(y).all() or not np.array_equal(y, np.round(y)):
        return "regression"
    return "classification" if len(np.unique(y)) <= MAX_AUTO_CLASSES else "regression"


def _classes(y: np.ndarray, path: Path) -> tuple[np.ndarray, list[str]]:
    y = y.reshape(len(y)) if y.ndim > 1 and math.prod(y.shape[1:]) == 1 else y
    if y.ndim != 1:
        raise DataError(f"{path.name}: class labels must be one per sample, got y shape "
                        f"{y.shape}")
    uniq, idx = np.unique(y, return_inverse=True)
    if y.dtype.kind in "iub" and len(uniq) and uniq[0] >= 0 and uniq[-1] < 1000:
        # labels already 0..k-1 style: keep the numbering, so class 3 stays class 3
        return y.astype(np.int64), [str(i) for i in range(int(uniq[-1]) + 1)]
    names = [str(int(u)) if y.dtype.kind == "f" else str(u) for u in uniq]
    return idx.astype(np.int64).reshape(-1), names
