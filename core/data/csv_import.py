"""CSV/TSV import: pick the columns, read them, and build a Dataset.

``sniff_csv`` (csv_sniff.py) finds the layout, the readers (csv_readers.py) turn the
chosen columns into arrays, and this module turns those into features and targets:
text features become one-hot columns, text targets become classes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.data.csv_readers import (
    CarefulReader,
    ReadPlan,
    fast_read,
    find_cell,
    parses_as_float,
)
from core.data.csv_sniff import MAX_CSV_BYTES, CsvLayout, sniff_csv
from core.data.dataset import DataError, Dataset
from core.data.read_progress import Progress

MAX_AUTO_CLASSES = 20  # an integer target with at most this many values is a class label
MAX_CLASSES = 1000
MAX_CATEGORIES = 1000  # one-hot columns per categorical feature
MAX_MATRIX_BYTES = 4 << 30  # the float32 feature matrix, one-hot columns included

ColumnRef = str | int

__all__ = ["CsvLayout", "read_csv", "read_features", "sniff_csv"]


# ------------------------------------------------------------------- column selection
def _listing(names: Sequence[ColumnRef], limit: int | None = None) -> str:
    """Names quoted and joined for a message; past ``limit`` of them, "..." and the count."""
    shown = ", ".join(map(repr, names[:limit]))
    more = limit is not None and len(names) > limit
    return shown + (f" ... ({len(names):,} in all)" if more else "")


def _resolve(ref: ColumnRef, columns: tuple[str, ...], role: str) -> int:
    """Column position of a name or a 0-based index (negative counts from the end)."""
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -len(columns) <= ref < len(columns):
            return int(ref) % len(columns)
        raise DataError(f"{role} column index {ref} is out of range; the file has "
                        f"{len(columns)} columns (0..{len(columns) - 1})")
    if isinstance(ref, str):
        j = _position(ref, columns)
        if j is not None:
            return j
        raise DataError(f"no column named {ref!r} for the {role}; the columns are "
                        f"{_listing(columns, 20)}")
    raise DataError(f"{role} column must be a name or an index, got {ref!r}")


def _position(name: str, columns: tuple[str, ...]) -> int | None:
    """Position of the column called ``name``: the exact spelling first, then any case."""
    if name in columns:
        return columns.index(name)
    folded = [c.strip().lower() for c in columns]
    key = name.strip().lower()
    return folded.index(key) if key in folded else None


def _resolve_all(refs: ColumnRef | Sequence[ColumnRef], columns: tuple[str, ...],
                 role: str) -> list[int]:
    if isinstance(refs, (str, int, np.integer)):
        refs = [refs]
    out: list[int] = []
    for ref in refs:
        j = _resolve(ref, columns, role)
        if j not in out:
            out.append(j)
    return out


def _plan(layout: CsvLayout, target, features, categorical, task: str | None) -> ReadPlan:
    columns = layout.columns
    targets = _resolve_all(target, columns, "target")
    if not targets:
        raise DataError(f"choose a target column (what the network should predict); the "
                        f"columns are {_listing(columns, 20)}")
    if features is None:
        blank = {j for j, b in enumerate(layout.blank) if b}
        feats = [j for j in range(len(columns)) if j not in targets and j not in blank]
    else:
        feats = _resolve_all(features, columns, "feature")
    clash = [columns[j] for j in feats if j in targets]
    if clash:
        raise DataError(f"column {clash[0]!r} is both a feature and the target; "
                        f"leave it out of the features")
    if not feats:
        raise DataError("no feature columns are left; the file needs at least one column "
                        "besides the target")
    cats = _resolve_all(categorical or [], columns, "categorical")
    stray = [columns[j] for j in cats if j not in feats]
    if stray:
        raise DataError(f"categorical column {stray[0]!r} is not among the features")
    text = set(cats) | {j for j in feats if not layout.numeric[j]}
    text_targets = [j for j in targets if not layout.numeric[j]]
    if len(targets) > 1 and (text_targets or task == "classification"):
        raise DataError("several target columns make a regression problem; they must all "
                        "be numeric. For classes choose a single target column")
    if text_targets and task == "regression":
        raise DataError(f"target {columns[text_targets[0]]!r} holds text, so it cannot be "
                        "a regression target; choose the task classification "
                        "(--task classification)")
    if task not in (None, "classification", "regression"):
        raise DataError(f"task must be 'classification', 'regression' or None, not {task!r}")
    _refuse_repeats(layout, [target, features, categorical], set(targets) | set(feats))
    return ReadPlan(targets, feats, frozenset(text | set(text_targets)))


def _refuse_repeats(layout: CsvLayout, refs, used: set[int]) -> None:
    """Refuse a header name given to several columns when the choice would be a guess.

    Renaming the repeat silently ("label.2") once made the real labels a feature; so a
    read may use only one column of such a group, picked by position or by its listed
    name, and naming the shared name itself is refused as ambiguous.
    """
    names = set()
    for ref in refs:
        if isinstance(ref, str):
            names.add(ref.strip().lower())
        elif isinstance(ref, Sequence):
            names.update(r.strip().lower() for r in ref if isinstance(r, str))
    columns = layout.columns
    for group in layout.repeats:
        name = columns[group[0]]
        taken = [j for j in group if j in used]
        if len(taken) < 2 and name.strip().lower() not in names:
            continue
        where = ", ".join(str(j + 1) for j in group[:5]) + (" ..." if len(group) > 5 else "")
        listed = _listing([columns[j] for j in group], 5)
        raise DataError(f"line 1 of {Path(layout.path).name}: the header gives {len(group)} "
                        f"columns the name {name!r} (columns {where}), so which one is meant "
                        f"is a guess; rename them in the file, or use just one: choose it by "
                        f"its position or its listed name ({listed}) and leave the "
                        f"others out of the features")


# ------------------------------------------------------------------------ assembling
def _number_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _encode(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes and sorted distinct text values; numeric order when all are numbers (2 < 10)."""
    distinct, codes = np.unique(values, return_inverse=True)
    names = distinct.tolist()
    if all(parses_as_float(v) for v in names):
        order = sorted(range(len(names)), key=lambda i: float(names[i]))
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        codes, names = rank[codes], [names[i] for i in order]
    return codes.reshape(-1), names


def _small_int_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct values) in one O(N) pass for integers in a small range, else None.

    Faster than np.unique's sort on a million labels, and labels are usually like that.
    """
    if len(values) == 0 or values.dtype.kind != "f":
        return None
    lo, hi = values.min(), values.max()
    if hi - lo > 100_000 or not np.array_equal(values, np.floor(values)):
        return None
    offsets = (values - lo).astype(np.int64)
    present = np.bincount(offsets) > 0
    lookup = np.cumsum(present) - 1
    return lookup[offsets], np.flatnonzero(present) + lo


def _classes(values: np.ndarray, column: str) -> tuple[np.ndarray, list[str]]:
    if values.dtype.kind == "U":
        y, names = _encode(values)
    else:
        fast = _small_int_codes(values)
        if fast is not None:
            y, uniq = fast
        else:
            uniq, y = np.unique(values, return_inverse=True)
        names = [_number_name(v) for v in uniq]
    if len(names) > MAX_CLASSES:
        raise DataError(f"target {column!r} has {len(names):,} distinct values, too many "
                        f"classes (limit {MAX_CLASSES}); choose the task regression "
                        "(--task regression)")
    return y.astype(np.int64).reshape(-1), names


def _auto_task(values: np.ndarray) -> str:
    """Integers with few distinct values are class labels; anything else is regression."""
    if values.dtype.kind == "U":
        return "classification"
    fast = _small_int_codes(values)
    if fast is not None:
        return "classification" if len(fast[1]) <= MAX_AUTO_CLASSES else "regression"
    if not np.array_equal(values, np.round(values)):
        return "regression"
    return "classification" if len(np.unique(values)) <= MAX_AUTO_CLASSES else "regression"


def _known_codes(values: np.ndarray, known: Sequence[str], layout: CsvLayout,
                 j: int, fixed: bool = True) -> np.ndarray:
    """Codes of ``values`` in a category list fixed earlier (by the training data).

    A value outside the list would need a one-hot column the network does not have, so it
    is an error that names the first line holding such a value.
    """
    lookup = {c: i for i, c in enumerate(known)}
    distinct, inverse = np.unique(values, return_inverse=True)
    unknown = [v for v in distinct.tolist() if v not in lookup]
    if unknown:
        found = find_cell(layout, j, frozenset(unknown))
        where, value = (f"line {found[0]}, ", found[1]) if found else ("", unknown[0])
        raise DataError(f"{where}column {layout.columns[j]!r} holds {value!r}, a value the "
                        f"training data did not have; known values are "
                        f"{_listing(known, 10)}. Use one of those or delete the row"
                        + ("" if fixed else ", or create the project again ('ann-designer "
                           "new --data', or import the file again) to give the network an "
                           "input for it"))
    return np.array([lookup[v] for v in distinct.tolist()], np.int64)[inverse.reshape(-1)]


def _features(data: dict[int, np.ndarray], plan: ReadPlan, layout: CsvLayout, n: int,
              known: Mapping[str, Sequence[str]] | None = None
              ) -> tuple[np.ndarray, list[str], dict[str, list[str]]]:
    """The feature matrix: numeric columns as they are, text columns one-hot.

    ``known`` fixes the categories of some columns (those of the training data), so that
    new data gets the same one-hot columns in the same order. The matrix size is checked
    before it is allocated: one-hot columns can make it far larger than the file.
    """
    columns = layout.columns
    names, categories, codes = [], {}, {}
    for j in plan.features:
        if j not in plan.text:
            names.append(columns[j])
            continue
        if known and columns[j] in known:
            cats = [str(c) for c in known[columns[j]]]
            codes[j] = _known_codes(data[j], cats, layout, j, plan.fixed)
        else:
            codes[j], cats = _encode(data[j])
        if len(cats) > MAX_CATEGORIES:
            raise DataError(f"column {columns[j]!r} has {len(cats):,} distinct values; one-hot "
                            f"encoding would add that many features. Leave it out of the "
                            f"features (it may be an identifier)")
        categories[columns[j]] = cats
        names.extend(f"{columns[j]}={c}" for c in cats)
    size = n * len(names) * 4
    if size > MAX_MATRIX_BYTES:
        raise DataError(f"the features would take {size / 2**30:,.1f} GiB ({n:,} rows x "
                        f"{len(names):,} columns after one-hot encoding), more than the "
                        f"{MAX_MATRIX_BYTES / 2**30:,.0f} GiB limit; use fewer categorical "
                        f"columns or fewer rows")
    X = np.zeros((n, len(names)), np.float32)
    k, rows = 0, np.arange(n)
    for j in plan.features:
        if j in codes:
            X[rows, k + codes[j]] = 1.0
            k += len(categories[columns[j]])
        else:
            X[:, k] = data[j]
            k += 1
    return X, names, categories


def _read_features(layout: CsvLayout, plan: ReadPlan, drop: bool,
                   known: Mapping[str, Sequence[str]] | None,
                   progress: Progress | None = None):
    """(columns by position, X, feature names, categories, dropped line numbers)."""
    fast = fast_read(layout, plan, progress)
    if fast is not None:
        (data, matrix), dropped = fast, []
    else:
        reader = CarefulReader(layout, plan, drop, progress)
        (data, dropped), matrix = reader.read(), None
    n = len(data[plan.features[0]])
    if n == 0:
        why = f"all {len(dropped)} data rows had bad cells" if dropped else "it has no data rows"
        raise DataError(f"nothing to load from {Path(layout.path).name}: {why}")
    if matrix is not None:
        return data, matrix, [layout.columns[j] for j in plan.features], {}, dropped
    X, names, categories = _features(data, plan, layout, n, known)
    return data, X, names, categories, dropped


def read_csv(path: str | os.PathLike, target: ColumnRef | Sequence[ColumnRef],
             features: Sequence[ColumnRef] | None = None,
             categorical: Sequence[ColumnRef] = (), delimiter: str | None = None,
             header: bool | None = None, drop_bad_rows: bool = False,
             task: str | None = None, categories: dict[str, list[str]] | None = None,
             max_bytes: int = MAX_CSV_BYTES, progress: Progress | None = None) -> Dataset:
    """Read a CSV/TSV file into a Dataset.

    Columns are named or 0-based indices. ``features`` defaults to every column but the
    target; text columns among them become one-hot ("color=red"), as do those listed in
    ``categorical`` (``categories`` can fix each one's values, e.g. from
    ``source["categories"]`` of an earlier load). A text target gives classes (sorted
    names); a numeric one gives classes when it holds at most 20 distinct integers, else
    regression (``task`` overrides). Several targets make a regression. A bad cell raises
    DataError naming the line and column, unless ``drop_bad_rows``: then
    ``source["dropped_rows"]`` counts the rows left out. ``progress(bytes read, file
    size)`` is called as the file is read and may raise ReadCancelled to stop it.
    """
    layout = sniff_csv(path, delimiter, header, max_bytes)
    plan = _plan(layout, target, features, categorical, task)
    columns = layout.columns
    data, X, names, found, dropped = _read_features(layout, plan, drop_bad_rows,
                                                    categories, progress)
    target_names = [columns[j] for j in plan.targets]
    first = data[plan.targets[0]]
    task = task or ("regression" if len(plan.targets) > 1 else _auto_task(first))
    source = {"kind": "file", "format": "csv", "path": str(path), "target":
              target_names[0] if len(target_names) == 1 else target_names,
              "features": [columns[j] for j in plan.features],
              "categorical": [columns[j] for j in plan.features if j in plan.text],
              "categories": found, "delimiter": layout.delimiter,
              "header": layout.has_header, "task": task, "dropped_rows": len(dropped),
              "dropped_lines": dropped[:20], "embedded": False}
    name = Path(path).stem
    if task == "classification":
        y, class_names = _classes(first, target_names[0])
        return Dataset(X=X, y=y, task=task, feature_names=names, class_names=class_names,
                       name=name, source=source, target_names=target_names)
    y = np.column_stack([data[j] for j in plan.targets]).astype(np.float32)
    return Dataset(X=X, y=y, task=task, feature_names=names, name=name, source=source,
                   target_names=target_names)


def read_features(path: str | os.PathLike, features: Sequence[ColumnRef],
                  categorical: Sequence[ColumnRef] = (),
                  categories: Mapping[str, Sequence[str]] | None = None,
                  delimiter: str | None = None, header: bool | None = None,
                  max_bytes: int = MAX_CSV_BYTES) -> tuple[np.ndarray, list[str]]:
    """(X, feature names) of new data without targets, encoded like the training data.

    For prediction and evaluation on new files: pass the training Dataset's
    ``source["features"]``, ``source["categorical"]`` and ``source["categories"]``. The
    columns are found by their header names (in any order, case aside; a target and other
    columns are ignored); a file without a header must hold exactly the feature columns,
    in order. When ``categories`` is given it fixes the encoding: exactly its columns (and
    ``categorical``) become one-hot blocks over its values, in its order, so a file holding
    fewer categories still gives the training data's columns, a category the training
    data lacked is an error naming its line, and text in any other column is an error
    too. Every row must be valid: rows are never dropped, so that predictions line up
    with the file's rows.
    """
    layout = _named_columns(sniff_csv(path, delimiter, header, max_bytes), features)
    feats = _feature_positions(layout, features)
    cats = set(_resolve_all(categorical or [], layout.columns, "categorical"))
    if categories is None:  # no training encoding to follow: text columns are categories
        known, text = None, cats | {j for j in feats if not layout.numeric[j]}
    else:
        known = _known_by_column(layout, categories)
        text = cats | {j for j in feats if layout.columns[j] in known}
    plan = ReadPlan([], feats, frozenset(text), fixed=categories is not None)
    _, X, names, _, _ = _read_features(layout, plan, False, known)
    return X, names


def _named_columns(layout: CsvLayout, features: Sequence[ColumnRef]) -> CsvLayout:
    """A headerless file holding exactly the named features takes their names, in order."""
    if (layout.has_header or len(layout.columns) != len(features)
            or not all(isinstance(f, str) for f in features)):
        return layout
    return dataclasses.replace(layout, columns=tuple(str(f) for f in features))


def _feature_positions(layout: CsvLayout, features: Sequence[ColumnRef]) -> list[int]:
    """Column positions of ``features``; the error lists every one the file lacks."""
    missing = [f for f in features if isinstance(f, str)
               and _position(f, layout.columns) is None]
    if not missing:
        return _resolve_all(features, layout.columns, "feature")
    hint = ("give the file a header row naming its columns" if not layout.has_header
            else "add the missing columns")
    raise DataError(f"{Path(layout.path).name} lacks the feature column(s) "
                    f"{_listing(missing, 5)}; the network was trained on {len(features)} "
                    f"columns ({_listing(features, 8)}); {hint}")


def _known_by_column(layout: CsvLayout, categories: Mapping[str, Sequence[str]]
                     ) -> dict[str, list[str]]:
    """Training categories keyed by this file's spelling of the column names."""
    columns = layout.columns
    return {columns[j]: [str(c) for c in values] for name, values in categories.items()
            if (j := _position(str(name), columns)) is not None}
