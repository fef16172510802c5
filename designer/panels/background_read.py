"""Reading a data file on a worker thread, with a progress dialog and Cancel.

A gigabyte-sized CSV takes most of a minute to read; read on the UI thread, it froze the
window with no sign of life. ``read_in_background`` runs the read on a QThread and, until
it ends, turns a local event loop behind a window-modal progress dialog (bytes read out
of the file's size): the window repaints and answers, yet no edit can start meanwhile.
Cancel stops the read at the reader's next progress report (every MiB) and nothing read
is kept. The worker never touches widgets; its result, or its error, comes back to the
caller on the UI thread, so errors are shown as for any other import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from core.data import Progress, ReadCancelled

SHOW_AFTER_MS = 400  # a read that ends sooner never shows the dialog
STEPS = 1000


class ReadWorker(QObject):
    """Runs ``read(progress)`` once and reports how far it got and how it ended."""

    progressed = Signal(float, float)  # bytes read, file size (float: past 2 GiB)
    ended = Signal()

    def __init__(self, read: Callable[[Progress], Any]) -> None:
        super().__init__()
        self._read = read
        self._cancel = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """Ask the read to stop at its next progress report (safe from any thread)."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            result = self._read(self._report)
            self.cancelled = self._cancel.is_set()  # cancelled after the last report
            self.result = None if self.cancelled else result
        except ReadCancelled:
            self.cancelled = True
        except Exception as exc:  # noqa: BLE001 - handed to the UI thread, raised there
            self.error = exc
        self.ended.emit()

    def _report(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise ReadCancelled
        self.progressed.emit(done, total)


def read_in_background(read: Callable[[Progress], Any], parent: QWidget | None,
                       label: str) -> Any:
    """``read(progress)`` on a worker thread; its result, or None when cancelled.

    Raises on the calling (UI) thread whatever the read raised.
    """
    worker = ReadWorker(read)
    dialog = ReadProgressDialog(parent, label)
    thread = QThread()
    worker.moveToThread(thread)
    loop = QEventLoop()
    thread.started.connect(worker.run)
    worker.ended.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
    worker.progressed.connect(dialog.show_progress, Qt.ConnectionType.QueuedConnection)
    # direct: the worker's thread is busy reading and would never see a queued call
    dialog.canceled.connect(worker.cancel, Qt.ConnectionType.DirectConnection)
    thread.start()
    try:
        loop.exec()
    finally:
        thread.quit()
        thread.wait()
        dialog.close()
        dialog.deleteLater()
    if worker.error is not None:
        raise worker.error
    return worker.result


class ReadProgressDialog(QProgressDialog):
    """Bytes read out of the file's size, shown once a read lasts SHOW_AFTER_MS."""

    def __init__(self, parent: QWidget | None, label: str) -> None:
        super().__init__(label, "Cancel", 0, 0, parent)  # busy until the first report
        self.what = label
        self.setWindowTitle("Importing data")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(SHOW_AFTER_MS)
        self.setAutoReset(False)
        self.setAutoClose(False)
        self.setValue(0)  # starts the timer that shows the dialog after SHOW_AFTER_MS

    def reject(self) -> None:
        """Escape cancels the read, always. QDialog's Escape rejects, and a rejected
        progress dialog is hidden; it emits ``canceled`` only from its close event,
        which a dialog that was not yet the active window did not get: the read went on
        with no dialog and no way to stop it."""
        if not self.wasCanceled():
            self.canceled.emit()
        super().reject()

    @Slot(float, float)
    def show_progress(self, done: float, total: float) -> None:
        if self.wasCanceled():
            return
        if self.maximum() != STEPS:
            self.setRange(0, STEPS)
        self.setValue(min(STEPS, int(done * STEPS / max(total, 1))))
        if done >= total:  # read: what follows is preparing it (split, scaling)
            self.setLabelText(f"{self.what}: read, preparing the data…")
        else:
            self.setLabelText(f"{self.what}: {done / 2**20:,.1f} of {total / 2**20:,.1f} MiB")
