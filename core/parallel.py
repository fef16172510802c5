"""Large matrix products split over two threads of the engine's own.

The calling thread computes half of the product's rows and one helper thread (asleep
when idle) the other half, each with BLAS on one thread. OpenBLAS's own threads keep
spinning for a while after each multi-threaded product, on the core where the NumPy
passes that follow (im2col, pooling, the optimizer) then run at half speed; a helper
that sleeps leaves that core free. See the README's "Speed and memory" for figures.

Only products of at least :data:`MIN_FLOPS` multiply-adds and :data:`MIN_ROWS` rows
are split. One split product runs at a time: a second thread asking meanwhile computes
its product the usual way. A thread that must not use the second core (the designer's
training thread shares the machine with the window) wraps its work in
:func:`one_thread`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

MIN_FLOPS = 2_000_000
MIN_ROWS = 32


class _Splitter:
    """The helper thread and the hand-over of one half product at a time."""

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self._go = threading.Event()
        self._done = threading.Event()
        self._job: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._blas: Any = None  # threadpoolctl's controller, made on first use

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        """``out[:] = a @ b``, the first half of the rows on the helper (lock held)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="core-matmul",
                                            daemon=True)
            self._thread.start()
        half = a.shape[0] // 2
        with self._one_blas_thread():
            self._job = (a[:half], b, out[:half])
            self._done.clear()
            self._go.set()
            try:
                np.matmul(a[half:], b, out=out[half:])
            finally:
                self._done.wait()
                error, self._error = self._error, None  # never left for the next call
        if error is not None:
            raise error

    def _serve(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            a, b, out = self._job
            try:
                np.matmul(a, b, out=out)
            except BaseException as exc:  # noqa: BLE001 - raised again by the caller
                self._error = exc
            self._done.set()

    def _one_blas_thread(self) -> Any:
        if self._blas is None:
            try:
                from threadpoolctl import ThreadpoolController
                self._blas = ThreadpoolController()
            except ImportError:  # optional: then both halves use BLAS as configured
                self._blas = False
        return self._blas.limit(limits=1, user_api="blas") if self._blas else nullcontext()


_SPLITTER = _Splitter()
_local = threading.local()
#: Whether products are split at all (two or more cores).
ENABLED = (os.cpu_count() or 1) >= 2


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-D arrays, split over two threads when large."""
    rows = a.shape[0]
    if (not ENABLED or rows < MIN_ROWS or rows * a.shape[1] * b.shape[1] < MIN_FLOPS
            or getattr(_local, "one_thread", False)
            or not _SPLITTER.busy.acquire(blocking=False)):
        return np.matmul(a, b, out=out)
    try:
        _SPLITTER.matmul(a, b, out)
    finally:
        _SPLITTER.busy.release()
    return out


@contextmanager
def one_thread() -> Iterator[None]:
    """Products made by this thread inside the block are not split."""
    before = getattr(_local, "one_thread", False)
    _local.one_thread = True
    try:
        yield
    finally:
        _local.one_thread = before
