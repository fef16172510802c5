"""The two CSV readers: a fast C parser for clean files, a careful one that explains.

The fast reader (pandas' C parser) only has to succeed on a clean file or give up. The
careful reader goes through the file in chunks and knows the line number of every row,
so it is the only one that reports problems: every message names the 1-based line and the column,
whichever reader met the problem first. Nothing in a cell is ever evaluated.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.csv_sniff import MISSING, CsvLayout
from core.data.dataset import FLOAT32_MAX, DataError, fits_float32
from core.data.read_progress import Progress, open_binary, open_text

CHUNK_ROWS = 50_000
MAX_LINE_CHARS = 8 << 20  # a longer line is refused before it is split into fields
DROP_HINT = ("or let the import skip such rows ('ann-designer new --drop-bad-rows', "
             "drop_bad_rows=True in Python)")


@dataclass(frozen=True)
class ReadPlan:
    """Which columns to read and how: the result of the user's choices plus sniffing."""

    targets: list[int]
    features: list[int]
    text: frozenset[int]  # columns read as text: categorical features, text targets
    fixed: bool = False  # columns and categories fixed by training: new data to predict on

    @property
    def drop_hint(self) -> str:
        """The advice to drop bad rows, left out where predictions must line up with rows."""
        return "" if self.fixed else f", {DROP_HINT}"


def fast_read(layout: CsvLayout, plan: ReadPlan, progress: Progress | None = None):
    """``(columns by position, float32 feature matrix or None)`` from pandas' C parser,
    or None.

    The fast reader only has to succeed on a clean file or give up: any oddity (an empty
    cell, a short or long line, a non-number, NaN) sends the file to the careful reader,
    which finds and describes it, so every file is accepted or refused the same way. When
    every column is a number, the features are parsed straight into float32 (what the
    network computes with; a value past its range becomes inf and is refused), which
    halves the peak memory of a large file; the targets stay float64 (exact labels).
    """
    n = len(layout.columns)
    floats = [j for j in range(n) if layout.numeric[j] and j not in plan.text]
    used = set(plan.features) | set(plan.targets)
    if any(not layout.numeric[j] for j in used if j not in plan.text):
        return None  # text where numbers must be (new data to predict on): say where
    if not layout.first_row_fits:
        return None  # an odd first row: pandas would take its field count as the columns
    try:
        frame = _read_pandas(layout, floats, set(plan.targets), progress)
    except (ValueError, UnicodeDecodeError, IndexError, OverflowError, TypeError, Warning):
        return None  # pandas' ParserError is a ValueError
    if frame.shape[1] != n:
        return None
    if len(floats) == n:
        data = {j: frame[j].to_numpy() for j in used}
        if not all(fits_float32(data[j]).all() for j in used):
            return None
        return data, frame[plan.features].to_numpy(np.float32)
    data = {}
    for j in range(n):
        if j in floats:
            if j in used:
                data[j] = frame[j].to_numpy(np.float64)
                if not fits_float32(data[j]).all():
                    return None
            continue
        text = frame[j].str.strip().to_numpy(dtype=str)
        if (text == "").any():  # a missing value, or a short line: let the careful reader say
            return None
        if j in used:
            data[j] = text
    return data, None


def _read_pandas(layout: CsvLayout, floats: list[int], targets: set[int],
                 progress: Progress | None):
    """The file as a frame: text columns as str, numbers as float64, or, when every
    column is a number, as float32 but for the ``targets``."""
    import pandas  # imported here: a second of start-up that only reading a CSV needs

    n = len(layout.columns)
    narrow = np.float32 if len(floats) == n else np.float64
    dtype = {j: (str if j not in floats else np.float64 if j in targets else narrow)
             for j in range(n)}
    # pandas parses a path about twice as fast as a file object: only a read that
    # reports progress goes through one
    with warnings.catch_warnings(), (contextlib.nullcontext(layout.path) if progress is None
                                     else open_binary(layout.path, progress)) as file:
        # a first row longer than the header would be cut with only a warning
        warnings.simplefilter("error", pandas.errors.ParserWarning)
        # a number past float32's range becomes inf, which fast_read refuses
        warnings.filterwarnings("ignore", "overflow encountered in cast", RuntimeWarning)
        # names fix the column count: without them one line of 8 million fields made
        # as many columns (7 GB, minutes); with them it is a ParserError at once
        return pandas.read_csv(file, sep=layout.delimiter, header=None,
                               names=list(range(n)), index_col=False,
                               skiprows=int(layout.has_header), dtype=dtype,
                               quotechar='"', keep_default_na=False,
                               skip_blank_lines=True, encoding=layout.encoding,
                               engine="c")


def _cell_problem(line: int, column: str, cell: str, plan: ReadPlan) -> str:
    value = cell.strip()
    if value.lower() in MISSING:
        what = "the cell is empty" if not value else f"{value!r} marks a missing value"
        fix = "fill it in or delete the row"
    elif parses_as_float(value) and np.isfinite(float(value)):
        what = f"{value!r} is too large: beyond +-{FLOAT32_MAX:.3g}, the range of the " \
               "32-bit numbers networks compute with"
        fix = "rescale the column (e.g. to other units) or delete the row"
    elif parses_as_float(value):
        what, fix = f"{value!r} is not a finite number", "replace it or delete the row"
    else:
        what = f"{value!r} is not a number"
        fix = ("the network was trained on numbers in this column; fix the cell or delete "
               "the row" if plan.fixed else
               "fix the cell, or list the column as categorical if it holds categories")
        if "," in value and parses_as_float(value.replace(",", ".")):
            fix = "write numbers with '.' as the decimal point"
    return f"line {line}, column {column!r}: {what}; {fix}{plan.drop_hint}"


def parses_as_float(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _ragged_problem(line: int, found: int, columns: tuple[str, ...], delimiter: str,
                    plan: ReadPlan) -> str:
    n = len(columns)
    if found < n:
        where = f"so column {columns[found]!r} has no value"
    else:
        where = f"an extra field after column {columns[-1]!r}"
    return (f"line {line}, column {columns[min(found, n - 1)]!r}: the line has {found} "
            f"fields but the header has {n} ({where}); check that line for a missing or "
            f"extra {delimiter!r}{plan.drop_hint}")


class CarefulReader:
    """Chunked reader that knows the line number of every row and explains every problem.

    Chunks of lines without quote characters are first tried with NumPy's C parser (one
    delimiter count per line proves the field count); a chunk it refuses, and everything
    from the first quote character on, goes through the ``csv`` module row by row. So a
    million-row file with a few bad rows costs seconds, not minutes, and still every
    message names the exact line.
    """

    def __init__(self, layout: CsvLayout, plan: ReadPlan, drop: bool,
                 progress: Progress | None = None) -> None:
        self.layout, self.plan, self.drop = layout, plan, drop
        self.progress = progress
        self.n = len(layout.columns)
        self.used = sorted(set(plan.features) | set(plan.targets))
        self.text = plan.text
        self.parts: dict[int, list[np.ndarray]] = {j: [] for j in self.used}
        self.dropped: list[int] = []  # line numbers

    def read(self) -> tuple[dict[int, np.ndarray], list[int]]:
        """The used columns (float64, or str for text columns) and the dropped lines."""
        layout = self.layout
        try:
            with open_text(layout.path, layout.encoding, self.progress) as file:
                done = 0  # lines consumed so far
                if layout.has_header:
                    header = csv.reader(file, delimiter=layout.delimiter, quotechar='"')
                    next(header, None)
                    done = header.line_num
                f = self._bounded(file, done)
                while lines := list(itertools.islice(f, CHUNK_ROWS)):
                    if any('"' in line for line in lines):  # quoted fields may span lines
                        self._csv_rows(itertools.chain(lines, f), done)
                        break
                    if not self._fast_chunk(lines):
                        self._csv_rows(lines, done)
                    done += len(lines)
        except UnicodeDecodeError as exc:
            encoding = "UTF-8" if layout.encoding.startswith("utf") else layout.encoding
            raise DataError(f"{Path(layout.path).name} is not valid {encoding} text further "
                            f"down the file ({exc.reason}); save it as UTF-8 CSV") from None
        except csv.Error as exc:
            raise DataError(f"{Path(layout.path).name} is not readable as CSV: {exc}") from None
        data = {j: np.concatenate(p) if p else np.zeros(0) for j, p in self.parts.items()}
        return data, sorted(self.dropped)

    def _bounded(self, lines: Iterator[str], done: int) -> Iterator[str]:
        """The lines, with each one longer than MAX_LINE_CHARS refused or dropped unparsed.

        Parsing such a line (one of 8 million fields) took gigabytes and minutes, only to
        report that its field count is wrong. A dropped line is replaced by an empty one,
        so the line numbers of the csv module stay right.
        """
        for number, line in enumerate(lines, done + 1):
            if len(line) <= MAX_LINE_CHARS:
                yield line
                continue
            if not self.drop:
                fields = line.count(self.layout.delimiter) + 1
                raise DataError(f"line {number} is {len(line) / 2**20:,.0f} MiB long "
                                f"(about {fields:,} fields, the header has {self.n}), "
                                f"more than the {MAX_LINE_CHARS >> 20} MiB a line may have; "
                                f"check it for missing line ends{self.plan.drop_hint}")
            self.dropped.append(number)
            yield "\n"

    def _fast_chunk(self, lines: list[str]) -> bool:
        """Parse a quote-free chunk with NumPy; False (nothing kept) at the first oddity."""
        d, fields = self.layout.delimiter, self.n - 1
        rows = [line.rstrip("\r\n") for line in lines]
        # blank like the csv path: nothing but spaces, and not a full row of empty cells
        rows = [row for row in rows if row.strip() or row.count(d) == fields]
        if not rows:
            return True
        if any(row.count(d) != fields for row in rows):
            return False
        numeric = [j for j in self.used if j not in self.text]
        text = [j for j in self.used if j in self.text]
        options = {"delimiter": d, "comments": None, "quotechar": None, "ndmin": 2}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                values = np.loadtxt(rows, usecols=numeric, dtype=np.float64, **options) \
                    if numeric else np.zeros((len(rows), 0))
                words = np.char.strip(np.loadtxt(rows, usecols=text, dtype=str, **options)) \
                    if text else np.zeros((len(rows), 0), str)
        except ValueError:
            return False
        if (len(values) != len(rows) or len(words) != len(rows)
                or not fits_float32(values).all() or (words == "").any()):
            return False
        for k, j in enumerate(numeric):
            self.parts[j].append(values[:, k])
        for k, j in enumerate(text):
            self.parts[j].append(words[:, k])
        return True

    def _csv_rows(self, source, done: int) -> None:
        """Rows of ``source`` (lines after the first ``done`` of the file) one by one."""
        layout, n = self.layout, self.n
        reader = csv.reader(source, delimiter=layout.delimiter, quotechar='"')
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            if len(row) != n:
                if not any(c.strip() for c in row):
                    continue  # blank line
                if not self.drop:
                    self._flush(rows, lines)  # an earlier bad cell is reported first
                    raise DataError(_ragged_problem(done + reader.line_num, len(row),
                                                    layout.columns, layout.delimiter,
                                                    self.plan))
                self.dropped.append(done + reader.line_num)
                continue
            rows.append(row)
            lines.append(done + reader.line_num)
            if len(rows) >= CHUNK_ROWS:
                self._flush(rows, lines)
                rows, lines = [], []
        self._flush(rows, lines)

    def _flush(self, rows: list[list[str]], lines: list[int]) -> None:
        if not rows:
            return
        cells = {j: [row[j] for row in rows] for j in self.used}  # faster than zip(*rows)
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
                                              cells[j][first], self.plan))
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
        return out, ~fits_float32(out)


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return np.nan


def find_cell(layout: CsvLayout, column: int, values: frozenset[str]) -> tuple[int, str] | None:
    """(1-based line, value) of the first data row whose ``column`` holds one of ``values``.

    The fast readers do not keep line numbers; this second pass runs only to name the
    line of a problem found after reading, such as a category the training data lacked.
    """
    with open(layout.path, encoding=layout.encoding, newline="") as f:
        reader = csv.reader(f, delimiter=layout.delimiter, quotechar='"')
        if layout.has_header:
            next(reader, None)
        for row in reader:
            if column < len(row) and row[column].strip() in values:
                return reader.line_num, row[column].strip()
    return None
