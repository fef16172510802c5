"""Progress and cancelling for long file reads.

Reading a gigabyte-sized CSV takes tens of seconds, so the readers open the file through
``ProgressFile``: every block it hands the parser is reported as ``(bytes read, file
size)`` to a callback. The callback may raise ``ReadCancelled`` to stop the read at the
next block; nothing read so far is kept.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

#: ``progress(bytes_read, total_bytes)``; may raise ReadCancelled to stop the read.
Progress = Callable[[int, int], None]


class ReadCancelled(Exception):
    """The user stopped a read; not a DataError, so no reader mistakes it for bad data."""


REPORT_BYTES = 1 << 20  # report at most once per MiB: parsers ask for small blocks too


class ProgressFile(io.RawIOBase):
    """A binary file that reports how far it has been read, every MiB and at the end."""

    def __init__(self, path: str | os.PathLike, progress: Progress | None) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._total = os.fstat(self._file.fileno()).st_size
        self._progress = progress
        self._reported = -REPORT_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._file.readinto(buffer)
        done = self._file.tell()
        if self._progress is not None and (not count or done - self._reported >= REPORT_BYTES):
            self._reported = done
            self._progress(done, self._total)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def open_binary(path: str | os.PathLike, progress: Progress | None) -> io.BufferedReader:
    """``path`` for reading bytes, reporting progress."""
    return io.BufferedReader(ProgressFile(path, progress), buffer_size=1 << 20)


def open_text(path: str | os.PathLike, encoding: str, progress: Progress | None
              ) -> io.TextIOWrapper:
    """``path`` as text with ``newline=""`` (as the csv module wants), reporting progress."""
    return io.TextIOWrapper(open_binary(path, progress), encoding=encoding, newline="")
