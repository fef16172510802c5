"""CSV/TSV import: detect the layout, pick columns, and say exactly where a file is wrong.

Two readers share one set of rules. The fast one hands an all-numeric file to NumPy's C
parser (``np.loadtxt``); if that parser objects, or the file has text columns, the careful
one reads the file with the ``csv`` module in chunks. Only the careful reader reports
problems, by 1-based line number and column name, so every error message reads the same
whichever path found it. Files are untrusted: the size is checked before anything big is
allocated, and nothing in a cell is ever evaluated.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.dataset import DataError, Dataset

MAX_CSV_BYTES = 1 << 30  # refuse larger files: the parsed floats would not fit comfortably
SAMPLE_BYTES = 64 * 1024
SAMPLE_ROWS = 200
CHUNK_ROWS = 50_000
MAX_AUTO_CLASSES = 20  # an integer target with at most this many values is a class label
MAX_CLASSES = 1000
MAX_CATEGORIES = 1000  # one-hot columns per categorical feature
DELIMITERS = ("\t", ";", ",", "|", " ")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
DROP_HINT = "or pass drop_bad_rows=True (tick 'Drop bad rows') to skip such rows"

ColumnRef = str | int


@dataclass(frozen=True)
class CsvLayout:
    """What sniffing found: shown by the import dialog before the user picks columns."""

    path: str
    delimiter: str
    has_header: bool
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]  # per column: do the sampled cells look like numbers?
    preview: tuple[tuple[str, ...], ...]  # first data rows, as text
    encoding: str
    size_bytes: int


# ------------------------------------------------------------------------- sniffing
def _is_number(cell: str) -> bool:
    try:
        return np.isfinite(float(cell))
    except ValueError:
        return False


def _read_sample(path: Path, max_bytes: int) -> tuple[str, str, int]:
    """The first ~64 KiB as text (cut at a line end), the encoding, the file size."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            raw = f.read(SAMPLE_BYTES)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise DataError(f"{path.name} is {size / 2**20:,.0f} MiB, more than the "
                        f"{max_bytes / 2**20:,.0f} MiB limit; use a sample of the rows or "
                        f"raise max_bytes")
    if not raw.strip():
        raise DataError(f"{path.name} is empty; a CSV file needs a row per sample")
    if b"\x00" in raw:
        raise DataError(f"{path.name} is not a text file (it contains NUL bytes); export "
                        f"it as CSV, or use an .npy/.npz file with read_npy")
    complete = len(raw) == size
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)
            break
        except UnicodeDecodeError:
            continue
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # drop the partial last line
    return text, encoding, size


def _rows(text: str, delimiter: str, limit: int = SAMPLE_ROWS) -> list[list[str]]:
    rows = []
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if any(cell.strip() for cell in row):
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def _detect_delimiter(text: str) -> str:
    """The delimiter giving the same number (>= 2) of fields on every sampled line.

    Several candidates can be consistent (a TSV whose text holds commas); the one giving
    the most fields wins, ties going to the order tab, semicolon, comma, pipe, space.
    """
    consistent, modal = [], []
    for d in DELIMITERS:
        counts = [len(r) for r in _rows(text, d)]
        if not counts:
            continue
        values, freq = np.unique(counts, return_counts=True)
        if len(values) == 1 and values[0] > 1:
            consistent.append((-int(values[0]), DELIMITERS.index(d), d))
        elif values[np.argmax(freq)] > 1:
            modal.append((-int(freq.max()), DELIMITERS.index(d), d))
    if consistent:
        return min(consistent)[2]
    if modal:  # ragged file: the parser will name the odd lines
        return min(modal)[2]
    return ","  # one column


def _detect_header(rows: list[list[str]]) -> bool:
    """A header row has a text cell above a column whose other cells are numbers."""
    first, rest = rows[0], rows[1:]
    if not rest:
        return not all(_is_number(c) for c in first)
    for j, cell in enumerate(first):
        below = [r[j] for r in rest if j < len(r) and r[j].strip().lower() not in MISSING]
        if not _is_number(cell) and below and all(_is_number(c) for c in below):
            return True
    if any(_is_number(c) for c in first):
        return False
    try:  # all text: let the standard library's heuristics decide
        sample = "\n".join(",".join(f'"{c}"' for c in r) for r in rows[:50])
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return True


def _column_names(first: list[str], n: int, has_header: bool) -> tuple[str, ...]:
    if not has_header:
        return tuple(f"column{j + 1}" for j in range(n))
    names: list[str] = []
    for j in range(n):
        name = first[j].strip() if j < len(first) else ""
        name = name or f"column{j + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}.{k}", k + 1
        names.append(name)
    return tuple(names)


def sniff_csv(path: str | os.PathLike, delimiter: str | None = None,
              header: bool | None = None, max_bytes: int = MAX_CSV_BYTES) -> CsvLayout:
    """Delimiter, header, column names and kinds of a CSV file, from its first rows."""
    path = Path(path)
    text, encoding, size = _read_sample(path, max_bytes)
    if delimiter is not None and len(delimiter) != 1:
        raise DataError(f"the delimiter must be one character, got {delimiter!r}")
    delimiter = delimiter or _detect_delimiter(text)
    rows = _rows(text, delimiter)
    has_header = _detect_header(rows) if header is None else bool(header)
    data = rows[1:] if has_header else rows
    if has_header:
        n = len(rows[0])
    else:  # the usual field count; lines that differ are reported when reading
        counts, freq = np.unique([len(r) for r in rows], return_counts=True)
        n = int(counts[np.argmax(freq)])
    columns = _column_names(rows[0], n, has_header)
    numeric = tuple(_looks_numeric([r[j] for r in data if j < len(r)]) for j in range(n))
    preview = tuple(tuple(r) for r in data[:20])
    return CsvLayout(str(path), delimiter, has_header, columns, numeric, preview, encoding,
                     size)


def _looks_numeric(cells: list[str]) -> bool:
    """Numeric unless most non-missing cells are text (a few bad cells are errors, later)."""
    present = [c for c in cells if c.strip().lower() not in MISSING]
    if not present:
        return True
    text = sum(not _is_number(c) for c in present)
    return text * 2 <= len(present)


# ------------------------------------------------------------------- column selection
def _resolve(ref: ColumnRef, columns: tuple[str, ...], role: str) -> int:
    """Column position of a name or a 0-based index (negative counts from the end)."""
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        if -len(columns) <= ref < len(columns):
            return int(ref) % len(columns)
        raise DataError(f"{role} column index {ref} is out of range; the file has "
                        f"{len(columns)} columns (0..{len(columns) - 1})")
    if isinstance(ref, str):
        if ref in columns:
            return columns.index(ref)
        folded = [c.strip().lower() for c in columns]
        if ref.strip().lower() in folded:
            return folded.index(ref.strip().lower())
        raise DataError(f"no column named {ref!r} for the {role}; the columns are "
                        f"{', '.join(repr(c) for c in columns)}")
    raise DataError(f"{role} column must be a name or an index, got {ref!r}")


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


@dataclass(frozen=True)
class _Plan:
    """Which columns to read and how: the result of the user's choices plus sniffing."""

    targets: list[int]
    features: list[int]
    text: frozenset[int]  # columns read as text: categorical features, text targets


def _plan(layout: CsvLayout, target, features, categorical, task: str | None) -> _Plan:
    columns = layout.columns
    targets = _resolve_all(target, columns, "target")
    if features is None:
        feats = [j for j in range(len(columns)) if j not in targets]
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
                        f"a regression target; choose task='classification'")
    if task not in (None, "classification", "regression"):
        raise DataError(f"task must be 'classification', 'regression' or None, not {task!r}")
    return _Plan(targets, feats, frozenset(text | set(text_targets)))


# ------------------------------------------------------------------------- parsing
def _fast_numeric(layout: CsvLayout, engine: str) -> np.ndarray | None:
    """The whole file as float64 by a C parser, or None if anything is amiss.

    pandas' parser is used when pandas is installed (about twice as fast as NumPy's);
    otherwise ``np.loadtxt``. Either only has to succeed or give up: the careful reader
    finds and describes whatever made it give up.
    """
    if engine not in ("auto", "pandas", "numpy"):
        raise DataError(f"engine must be 'auto', 'pandas' or 'numpy', not {engine!r}")
    pandas = None
    if engine != "numpy":
        try:
            import pandas
        except ImportError:
            if engine == "pandas":
                raise DataError("engine='pandas' needs pandas; install it or use "
                                "engine='auto'") from None
    try:
        table = _read_pandas(pandas, layout) if pandas else _read_numpy(layout)
    except (ValueError, UnicodeDecodeError, IndexError, OverflowError):
        return None  # pandas' ParserError is a ValueError
    if table.shape[1] != len(layout.columns) or not np.isfinite(table).all():
        return None
    return table


def _read_numpy(layout: CsvLayout) -> np.ndarray:
    return np.loadtxt(layout.path, delimiter=layout.delimiter, comments=None,
                      skiprows=int(layout.has_header), quotechar='"', ndmin=2,
                      encoding=layout.encoding, dtype=np.float64)


def _read_pandas(pandas, layout: CsvLayout) -> np.ndarray:
    frame = pandas.read_csv(layout.path, sep=layout.delimiter, header=None,
                            skiprows=int(layout.has_header), dtype=np.float64, quotechar='"',
                            skip_blank_lines=True, encoding=layout.encoding, engine="c")
    return frame.to_numpy(np.float64)


def _cell_problem(line: int, column: str, cell: str) -> str:
    value = cell.strip()
    if value.lower() in MISSING:
        what = "the cell is empty" if not value else f"{value!r} marks a missing value"
        fix = "fill it in or delete the row"
    elif _is_number_text(value):
        what, fix = f"{value!r} is not a finite number", "replace it or delete the row"
    else:
        what = f"{value!r} is not a number"
        fix = "fix the cell, or list the column as categorical if it holds categories"
        if "," in value and _is_number_text(value.replace(",", ".")):
            fix = "write numbers with '.' as the decimal point"
    return f"line {line}, column {column!r}: {what}; {fix}, {DROP_HINT}"


def _is_number_text(value: str) -> bool:
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


class _Careful:
    """Chunked reader with the csv module that knows the line number of every row."""

    def __init__(self, layout: CsvLayout, plan: _Plan, drop: bool) -> None:
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
        return {j: np.concatenate(p) if p else np.zeros(0) for j, p in self.parts.items()}, \
            self.dropped

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


# ------------------------------------------------------------------------ assembling
def _number_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _categories(values: np.ndarray) -> list[str]:
    """Sorted distinct values; numerically when they are all numbers (2 before 10)."""
    distinct = np.unique(values).tolist()
    if all(_is_number_text(v) for v in distinct):
        distinct.sort(key=float)
    return distinct


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
        names = _categories(values)
        lookup = {name: i for i, name in enumerate(names)}
        y = np.fromiter((lookup[v] for v in values), np.int64, len(values))
    else:
        fast = _small_int_codes(values)
        if fast is not None:
            y, uniq = fast
        else:
            uniq, y = np.unique(values, return_inverse=True)
        names = [_number_name(v) for v in uniq]
    if len(names) > MAX_CLASSES:
        raise DataError(f"target {column!r} has {len(names):,} distinct values, too many "
                        f"classes (limit {MAX_CLASSES}); choose task='regression'")
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


def _features(data: dict[int, np.ndarray], plan: _Plan, columns: tuple[str, ...],
              n: int) -> tuple[np.ndarray, list[str], dict[str, list[str]]]:
    blocks, names, categories = [], [], {}
    for j in plan.features:
        if j not in plan.text:
            blocks.append(data[j])
            names.append(columns[j])
            continue
        cats = _categories(data[j])
        if len(cats) > MAX_CATEGORIES:
            raise DataError(f"column {columns[j]!r} has {len(cats):,} distinct values; one-hot "
                            f"encoding would add that many features. Leave it out of the "
                            f"features (it may be an identifier)")
        categories[columns[j]] = cats
        names.extend(f"{columns[j]}={c}" for c in cats)
        blocks.append(("onehot", data[j], cats))
    X = np.empty((n, len(names)), np.float32)
    k = 0
    for block in blocks:
        if isinstance(block, tuple):
            _, values, cats = block
            lookup = {c: i for i, c in enumerate(cats)}
            codes = np.fromiter((lookup[v] for v in values), np.int64, n)
            X[:, k:k + len(cats)] = np.eye(len(cats), dtype=np.float32)[codes]
            k += len(cats)
        else:
            X[:, k] = block
            k += 1
    return X, names, categories


def _take_columns(table: np.ndarray, cols: list[int]) -> np.ndarray:
    """float32 copy of some columns in one pass (a slice when they are adjacent)."""
    if cols == list(range(cols[0], cols[0] + len(cols))):
        return table[:, cols[0]:cols[0] + len(cols)].astype(np.float32)
    return table.take(cols, axis=1).astype(np.float32)


def read_csv(path: str | os.PathLike, target: ColumnRef | Sequence[ColumnRef],
             features: Sequence[ColumnRef] | None = None,
             categorical: Sequence[ColumnRef] = (), delimiter: str | None = None,
             header: bool | None = None, drop_bad_rows: bool = False,
             task: str | None = None, max_bytes: int = MAX_CSV_BYTES,
             engine: str = "auto") -> Dataset:
    """Read a CSV/TSV file into a Dataset.

    Columns are named or 0-based indices. ``features`` defaults to every column but the
    target; text columns among them become one-hot ("color=red"), as do those listed in
    ``categorical``. A text target gives classes (sorted names); a numeric one gives
    classes when it holds at most 20 distinct integers, else regression (``task``
    overrides). Several targets make a regression. A bad cell raises DataError naming the
    line and column, unless ``drop_bad_rows``: then ``source["dropped_rows"]`` counts them.
    ``engine`` picks the fast parser for all-numeric files: "auto" (pandas if installed,
    else NumPy), "pandas" or "numpy"; results are the same.
    """
    layout = sniff_csv(path, delimiter, header, max_bytes)
    plan = _plan(layout, target, features, categorical, task)
    columns = layout.columns
    dropped: list[int] = []
    table = None
    if not plan.text and all(layout.numeric):
        table = _fast_numeric(layout, engine)
    if table is not None:
        data = {j: table[:, j] for j in plan.targets}
        n = len(table)
        X = _take_columns(table, plan.features)
        names, categories = [columns[j] for j in plan.features], {}
    else:
        data, dropped = _Careful(layout, plan, drop_bad_rows).read()
        n = len(data[plan.targets[0]])
        X, names, categories = _features(data, plan, columns, n)
    if n == 0:
        why = f"all {len(dropped)} data rows had bad cells" if dropped else "it has no data rows"
        raise DataError(f"nothing to load from {Path(path).name}: {why}")
    target_names = [columns[j] for j in plan.targets]
    first = data[plan.targets[0]]
    task = task or ("regression" if len(plan.targets) > 1 else _auto_task(first))
    source = {"kind": "file", "format": "csv", "path": str(path), "target":
              target_names[0] if len(target_names) == 1 else target_names,
              "features": [columns[j] for j in plan.features],
              "categorical": [columns[j] for j in plan.features if j in plan.text],
              "categories": categories, "delimiter": layout.delimiter,
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
