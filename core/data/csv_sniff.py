"""CSV layout detection: encoding, delimiter, header, column names and kinds.

Only the first 64 KiB are read, so the import dialog can show the columns of a huge file
at once, unless that does not hold a few whole lines (a file thousands of columns wide):
then reading goes on to whole lines, up to a bound, so that a header is never cut. The
file size is checked against the limit before anything else.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.dataset import DataError, unreadable

MAX_CSV_BYTES = 1 << 30  # refuse larger files: the parsed floats would not fit comfortably
SAMPLE_BYTES = 64 * 1024
SAMPLE_LINES = 21  # whole lines the sample should hold: the header and 20 rows
MAX_SAMPLE_BYTES = 16 << 20  # but never read more than this to detect the layout
MAX_LINE_BYTES = 8 << 20  # a first line longer than this is refused (no header is that long)
SAMPLE_ROWS = 200
DELIMITERS = ("\t", ";", ",", "|", " ")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})


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
    blank: tuple[bool, ...] = ()  # unnamed and empty in the sample (trailing delimiter)
    #: positions of columns whose header gives the same name (the repeats get "name.2");
    #: a read that uses two of them, or names the shared name, is refused
    repeats: tuple[tuple[int, ...], ...] = ()
    #: the sample holds a first data row with one field per column; if not, the fast
    #: reader is not tried, as pandas would make a column per field of that row
    first_row_fits: bool = True


def is_number(cell: str) -> bool:
    """True for a finite number (what a numeric cell must hold)."""
    try:
        return bool(np.isfinite(float(cell)))
    except ValueError:
        return False


def _head(path: Path) -> tuple[bytes, int]:
    """The first 64 KiB, or more until they hold SAMPLE_LINES whole lines (bounded)."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            raw = f.read(SAMPLE_BYTES)
            while (len(raw) < min(size, MAX_SAMPLE_BYTES)
                   and raw.count(b"\n") < SAMPLE_LINES):
                more = f.read(min(len(raw), MAX_SAMPLE_BYTES - len(raw)))
                if not more:
                    break
                raw += more
    except OSError as exc:
        raise unreadable(path, exc) from None
    return raw, size


def _read_sample(path: Path, max_bytes: int) -> tuple[str, str, int]:
    """The first lines as text (cut at a line end), the encoding, the file size."""
    raw, size = _head(path)
    if size > max_bytes:
        raise DataError(f"{path.name} is {size / 2**20:,.0f} MiB, more than the "
                        f"{max_bytes / 2**20:,.0f} MiB limit; use a sample of the rows or "
                        f"raise max_bytes")
    if not raw.strip():
        raise DataError(f"{path.name} is empty; a CSV file needs a row per sample")
    if b"\x00" in raw:
        numpy = path.suffix.lower() in (".npy", ".npz")
        raise DataError(f"{path.name} is not a text file (it contains NUL bytes); "
                        + ("only 'new --data' (read_npy in Python) reads NumPy files; give "
                           "the rows as a CSV file" if numpy else
                           "export it as CSV, or use an .npy/.npz file with read_npy"))
    complete = len(raw) == size
    first_end = raw.find(b"\n")
    if (first_end if first_end >= 0 else len(raw)) > MAX_LINE_BYTES:
        raise DataError(f"line 1 of {path.name} is longer than {MAX_LINE_BYTES >> 20} MiB, "
                        f"too long for a header or a row; check that the file is a CSV "
                        f"with a line per row")
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
        try:
            counts = [len(r) for r in _rows(text, d)]
        except csv.Error:  # a field over the csv module's limit: not this delimiter
            continue
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
        return not all(is_number(c) for c in first)
    for j, cell in enumerate(first):
        below = [r[j] for r in rest if j < len(r) and r[j].strip().lower() not in MISSING]
        if not is_number(cell) and below and all(is_number(c) for c in below):
            return True
    if any(is_number(c) for c in first):
        return False
    return _text_header_votes(first, rest[:21]) > 0


def _text_header_votes(first: list[str], rest: list[list[str]]) -> int:
    """For all-text rows: the votes of the standard library's header heuristic.

    ``csv.Sniffer.has_header`` looks at columns whose cells below share one length (or
    are all numbers): a first cell that differs votes for a header, one that fits
    votes against. It is done here on the parsed rows because the Sniffer itself,
    given one column, cannot guess a delimiter and raises on Python 3.13.
    """
    kinds: dict[int, object] = {}
    for row in (r for r in rest if len(r) == len(first)):
        for j, cell in enumerate(row):
            kind = "number" if is_number(cell) else len(cell)
            kinds[j] = kind if kinds.get(j, kind) == kind else "mixed"
    votes = 0
    for j, kind in kinds.items():
        if kind == "mixed":
            continue
        fits = is_number(first[j]) if kind == "number" else len(first[j]) == kind
        votes += -1 if fits else 1
    return votes


def _column_names(first: list[str], n: int, has_header: bool) -> tuple[str, ...]:
    if not has_header:
        return tuple(f"column{j + 1}" for j in range(n))
    names: list[str] = []
    taken: set[str] = set()  # a set: a list made 50,000 columns take a minute
    for j in range(n):
        name = first[j].strip() if j < len(first) else ""
        name = name or f"column{j + 1}"
        base, k = name, 2
        while name in taken:
            name, k = f"{base}.{k}", k + 1
        names.append(name)
        taken.add(name)
    return tuple(names)


def sniff_csv(path: str | os.PathLike, delimiter: str | None = None,
              header: bool | None = None, max_bytes: int = MAX_CSV_BYTES) -> CsvLayout:
    """Delimiter, header, column names and kinds of a CSV file, from its first rows."""
    path = Path(path)
    text, encoding, size = _read_sample(path, max_bytes)
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.lower().startswith("sep=") and len(first) <= 6:
        raise DataError(f"line 1 of {path.name} is Excel's delimiter line {first!r}, not "
                        "data or a header; delete that line (the delimiter is detected)")
    if delimiter is not None and len(delimiter) != 1:
        raise DataError(f"the delimiter must be one character, got {delimiter!r}")
    delimiter = delimiter or _detect_delimiter(text)
    try:
        rows = _rows(text, delimiter)
    except csv.Error as exc:
        raise DataError(f"{path.name} is not readable as CSV with the delimiter "
                        f"{delimiter!r}: {exc}") from None
    if not rows:
        raise DataError(f"{path.name} holds no values, only delimiters, quotes or spaces; "
                        f"a CSV file needs a row per sample")
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
    blank = tuple((not has_header or j >= len(rows[0]) or not rows[0][j].strip())
                  and all(j >= len(r) or not r[j].strip() for r in data) for j in range(n))
    repeats = _repeated_names(rows[0][:n]) if has_header else ()
    fits = bool(data) and len(data[0]) == n
    return CsvLayout(str(path), delimiter, has_header, columns, numeric, preview, encoding,
                     size, blank, repeats, fits)


def _repeated_names(first: list[str]) -> tuple[tuple[int, ...], ...]:
    """Groups of positions whose header cells hold the same (non-blank) name."""
    groups: dict[str, list[int]] = {}
    for j, cell in enumerate(first):
        if cell.strip():
            groups.setdefault(cell.strip(), []).append(j)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def _looks_numeric(cells: list[str]) -> bool:
    """Numeric unless most non-missing cells are text (a few bad cells are errors, later)."""
    present = [c for c in cells if c.strip().lower() not in MISSING]
    if not present:
        return True
    text = sum(not is_number(c) for c in present)
    return text * 2 <= len(present)
