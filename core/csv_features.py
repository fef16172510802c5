"""Read the feature columns of a CSV file exactly as a trained project expects them.

Predicting and evaluating on a new file must encode it the way the training data was
encoded: the same columns in the same order and categorical columns one-hot over the
categories seen in training (a new file may hold fewer, or list them in another order).
``core.data.read_csv`` derives all of that from the file itself, so this reader takes the
column list and the categories from the project instead. The target column may be
present or not; it and any other extra columns are ignored.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.data import CsvLayout, DataError, sniff_csv

CHUNK_ROWS = 50_000
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})


def feature_columns(layout: CsvLayout, wanted: Sequence[str], n_values: int) -> list[int]:
    """Positions of the ``wanted`` columns; by name if the file names them, else all.

    A file without the column names is accepted when it has exactly as many columns as
    there are features (its columns are taken in order); otherwise the error lists the
    columns that are missing.
    """
    if layout.has_header:
        folded = {name.strip().lower(): j for j, name in enumerate(layout.columns)}
        found = [folded.get(name.strip().lower()) for name in wanted]
        if all(j is not None for j in found):
            return [int(j) for j in found]
    if len(layout.columns) in (len(wanted), n_values):
        return list(range(len(layout.columns)))
    missing = [name for name in wanted if name.strip().lower() not in
               {c.strip().lower() for c in layout.columns}]
    shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
    raise DataError(f"{Path(layout.path).name} lacks the feature column(s) {shown}; the "
                    f"network was trained on {len(wanted)} columns: "
                    f"{', '.join(wanted[:8])}{' ...' if len(wanted) > 8 else ''}")


def read_features(path: str | os.PathLike, wanted: Sequence[str],
                  categories: Mapping[str, Sequence[str]] | None = None,
                  n_values: int | None = None) -> np.ndarray:
    """(N, features) float32 from the ``wanted`` columns of a CSV/TSV file.

    Columns named in ``categories`` become one-hot blocks over those categories, in that
    order; a value outside them, an empty or non-numeric cell, or a short row is an
    error naming the line and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    layout = sniff_csv(path)  # checks the file's size before anything is read
    categories = {str(k): [str(c) for c in v] for k, v in (categories or {}).items()}
    width = sum(len(categories[name]) if name in categories else 1 for name in wanted)
    positions = feature_columns(layout, list(wanted), n_values or width)
    names = [wanted[i] if i < len(wanted) else layout.columns[j]
             for i, j in enumerate(positions)]
    if not any(name in categories for name in names):
        fast = _fast_numeric(layout, positions)
        if fast is not None:
            return fast
    return _careful(layout, positions, names, categories)


def _fast_numeric(layout: CsvLayout, positions: list[int]) -> np.ndarray | None:
    """All-numeric columns through NumPy's C parser; None lets the careful reader report."""
    try:
        X = np.loadtxt(layout.path, delimiter=layout.delimiter, dtype=np.float32, ndmin=2,
                       skiprows=1 if layout.has_header else 0, usecols=positions,
                       encoding=layout.encoding, comments=None)
    except (ValueError, IndexError):
        return None
    return X if len(X) and np.isfinite(X).all() else None


def _careful(layout: CsvLayout, positions: list[int], names: list[str],
             categories: Mapping[str, list[str]]) -> np.ndarray:
    """Row by row with the csv module, naming the line and column of any bad cell."""
    path = Path(layout.path)
    chunks: list[np.ndarray] = []
    rows: list[list[float]] = []
    with open(path, newline="", encoding=layout.encoding) as stream:
        reader = csv.reader(stream, delimiter=layout.delimiter)
        if layout.has_header:
            next(reader, None)
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            rows.append(_encode_row(row, reader.line_num, positions, names, categories,
                                    layout))
            if len(rows) == CHUNK_ROWS:  # Python floats take ~8x the room of float32
                chunks.append(np.asarray(rows, dtype=np.float32))
                rows = []
    if rows:
        chunks.append(np.asarray(rows, dtype=np.float32))
    if not chunks:
        raise DataError(f"{path.name} has no data rows")
    return np.concatenate(chunks)


def _encode_row(row: list[str], line: int, positions: list[int], names: list[str],
                categories: Mapping[str, list[str]], layout: CsvLayout) -> list[float]:
    """One row's feature values: numbers as they are, categories one-hot."""
    if len(row) <= max(positions):
        raise DataError(f"line {line} of {Path(layout.path).name} has {len(row)} fields but "
                        f"{len(layout.columns)} were expected; fix or remove that line")
    values: list[float] = []
    for j, name in zip(positions, names, strict=True):
        cell = row[j].strip()
        if name in categories:
            values.extend(_one_hot(cell, categories[name], line, name))
        else:
            values.append(_number(cell, line, name))
    return values


def _number(cell: str, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        what = "is empty" if cell.lower() in MISSING else f"holds {cell[:30]!r}, not a number"
        raise DataError(f"line {line}, column {column!r} {what}; fix the cell or remove "
                        "the row")
    return value


def _one_hot(cell: str, choices: list[str], line: int, column: str) -> list[float]:
    if cell not in choices:
        raise DataError(f"line {line}, column {column!r} holds {cell[:30]!r}, a category the "
                        f"network was not trained on ({', '.join(choices[:10])})")
    return [1.0 if cell == choice else 0.0 for choice in choices]
