"""The two CSV readers: a fast C parser for clean files, a careful one that explains.

A fast reader (pandas' parser when pandas is installed, else ``np.loadtxt`` for
all-numeric files) only has to succeed on a clean file or give up. The careful reader
uses the ``csv`` module in chunks and knows the line number of every row, so it is the
only one that reports problems: every message names the 1-based line and the column,
whichever reader met the problem first. Nothing in a cell is ever evaluated.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.csv_sniff import MISSING, CsvLayout
from core.data.dataset import DataError

CHUNK_ROWS = 50_000
DROP_HINT = "or pass drop_bad_rows=True (tick 'Drop bad rows') to skip such rows"


@dataclass(frozen=True)
class ReadPlan:
    """Which columns to read and how: the result of the user's choices plus sniffing."""

    targets: list[int]
    features: list[int]
    text: frozenset[int]  # columns read as text: categorical features, text targets


def import_pandas(engine: str):
    """pandas if it should and can be used, else None."""
    if engine not in ("auto", "pandas", "numpy"):
        raise DataError(f"engine must be 'auto', 'pandas' or 'numpy', not {engine!r}")
    if engine == "numpy":
        return None
    try:
        import pandas
    except ImportError:
        if engine == "pandas":
            raise DataError("engine='pandas' needs pandas; install it or use "
                            "engine='auto'") from None
        return None
    return pandas


def fast_read(layout: CsvLayout, plan: ReadPlan, engine: str):
    """``(columns by position, all-float table or None)`` from a C parser, or None.

    pandas' parser is used when pandas is installed (about twice as fast as NumPy's and
    able to read text columns); otherwise ``np.loadtxt`` for all-numeric files. A fast
    reader only has to succeed on a clean file or give up: any oddity (an empty cell, a
    short or long line, a non-number, NaN) sends the file to the careful reader, which
    finds and describes it, so both readers accept exactly the same files.
    """
    n = len(layout.columns)
    floats = [j for j in range(n) if layout.numeric[j] and j not in plan.text]
    used = set(plan.features) | set(plan.targets)
    pandas = import_pandas(engine)
    if pandas is None and len(floats) < n:
        return None
    try:
        if pandas is None:
            frame, table = None, _read_numpy(layout)
        else:
            frame, table = _read_pandas(pandas, layout, floats)
    except (ValueError, UnicodeDecodeError, IndexError, OverflowError, TypeError):
        return None  # pandas' ParserError is a ValueError
    if table is not None:
        if table.shape[1] != n or not np.isfinite(table[:, sorted(used)]).all():
            return None
        return {j: table[:, j] for j in used}, table
    if frame.shape[1] != n:
        return None
    data = {}
    for j in range(n):
        if j in floats:
            if j in used:
                data[j] = frame[j].to_numpy(np.float64)
                if not np.isfinite(data[j]).all():
                    return None
            continue
        text = frame[j].str.strip().to_numpy(dtype=str)
        if (text == "").any():  # a missing value, or a short line: let the careful reader say
            return None
        if j in used:
            data[j] = text
    return data, None


def _read_numpy(layout: CsvLayout) -> np.ndarray:
    with warnings.catch_warnings():  # "input contained no data": the careful reader says so
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(layout.path, delimiter=layout.delimiter, comments=None,
                          skiprows=int(layout.has_header), quotechar='"', ndmin=2,
                          encoding=layout.encoding, dtype=np.float64)


def _read_pandas(pandas, layout: CsvLayout, floats: list[int]):
    """(frame, None) for mixed files, (None, float table) when every column is a number."""
    n = len(layout.columns)
    all_float = len(floats) == n
    dtype = np.float64 if all_float else {j: (np.float64 if j in floats else str)
                                           for j in range(n)}
    frame = pandas.read_csv(layout.path, sep=layout.delimiter, header=None,
                            skiprows=int(layout.has_header), dtype=dtype, quotechar='"',
                            keep_default_na=False, skip_blank_lines=True,
                            encoding=layout.encoding, engine="c")
    return (None, frame.to_numpy(np.float64)) if all_float else (frame, None)


def _cell_problem(line: int, column: str, cell: str) -> str:
    value = cell.strip()
    if value.lower() in MISSING:
        what = "the cell is empty" if not value else f"{value!r} marks a missing value"
        fix = "fill it in or delete the row"
    elif parses_as_float(value):
        what, fix = f"{value!r} is not a finite number", "replace it or delete the row"
    else:
        what = f"{value!r} is not a number"
        fix = "fix the cell, or list the column as categorical if it holds categories"
        if "," in value and parses_as_float(value.replace(",", ".")):
            fix = "write numbers with '.' as the decimal point"
    return f"line {line}, column {column!r}: {what}; {fix}, {DROP_HINT}"


def parses_as_float(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _ragged_problem(line: int, found: int, columns: tuple[str, ...], delimiter: str) -> str:
    n = len(columns)
    if found < n:
        where = f"so column {columns[found]!r} has no value"
    else:
        where = f"an extra field after column {columns[-1]!r}"
    return (f"line {line}, column {columns[min(found, n - 1)]!r}: the line has {found} "
            f"fields but the header has {n} ({where}); check that line for a missing or "
            f"extra {delimiter!r}, {DROP_HINT}")


class CarefulReader:
    """Chunked reader with the csv module that knows the line number of every row."""

    def __init__(self, layout: CsvLayout, plan: ReadPlan, drop: bool) -> None:
        self.layout, self.drop = layout, drop
        self.used = sorted(set(plan.features) | set(plan.targets))
        self.text = plan.text
        self.parts: dict[int, list[np.ndarray]] = {j: [] for j in self.used}
        self.dropped: list[int] = []  # line numbers

    def read(self) -> tuple[dict[int, np.ndarray], list[int]]:
        layout, n = self.layout, len(self.layout.columns)
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            with open(layout.path, encoding=layout.encoding, newline="") as f:
                reader = csv.reader(f, delimiter=layout.delimiter, quotechar='"')
                if layout.has_header:
                    next(reader, None)
                for row in reader:
                    if len(row) != n:
                        if not any(c.strip() for c in row):
                            continue  # blank line
                        if not self.drop:
                            self._flush(rows, lines)  # an earlier bad cell is reported first
                            raise DataError(_ragged_problem(reader.line_num, len(row),
                                                            layout.columns, layout.delimiter))
                        self.dropped.append(reader.line_num)
                        continue
                    rows.append(row)
                    lines.append(reader.line_num)
                    if len(rows) >= CHUNK_ROWS:
                        self._flush(rows, lines)
                        rows, lines = [], []
        except UnicodeDecodeError as exc:
            raise DataError(f"{Path(layout.path).name} is not valid {layout.encoding} text "
                            f"near byte {exc.start}; save it as UTF-8 CSV") from None
        except csv.Error as exc:
            raise DataError(f"{Path(layout.path).name} is not readable as CSV: {exc}") from None
        self._flush(rows, lines)
        data = {j: np.concatenate(p) if p else np.zeros(0) for j, p in self.parts.items()}
        return data, sorted(self.dropped)

    def _flush(self, rows: list[list[str]], lines: list[int]) -> None:
        if not rows:
            return
        cells = list(zip(*rows, strict=True))
        values, bad = {}, np.zeros(len(rows), bool)
        for j in self.used:
            values[j], bad_j = self._convert(cells[j], j in self.text)
            bad |= bad_j
        if bad.any():
            first = int(np.argmax(bad))
            if not self.drop:
                j = next(j for j in self.used if self._convert(cells[j][first:first + 1],
                                                                j in self.text)[1][0])
                raise DataError(_cell_problem(lines[first], self.layout.columns[j],
                                              cells[j][first]))
            self.dropped.extend(np.asarray(lines)[bad].tolist())
        for j in self.used:
            self.parts[j].append(values[j][~bad])

    @staticmethod
    def _convert(cells: Sequence[str], text: bool) -> tuple[np.ndarray, np.ndarray]:
        """Values and a mask of bad cells (missing, not a number, not finite)."""
        if text:
            out = np.array([c.strip() for c in cells], dtype=str)
            return out, out == ""
        try:
            out = np.array(cells, dtype=np.float64)
        except ValueError:
            out = np.array([_to_float(c) for c in cells], dtype=np.float64)
        return out, ~np.isfinite(out)


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return np.nan
