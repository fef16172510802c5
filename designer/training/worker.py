"""The designer's side of a training run: a QObject on a QThread that starts the
training process (``designer.training.child``), copies what it reports into the
:class:`SnapshotBuffer` and turns it into Qt signals.

It never touches a widget. Its thread does nothing but wait on the pipe and copy each
report into the buffer as soon as it arrives (microseconds, so the window hardly ever
waits for the interpreter lock; a process whose report is not read waits in ``send``).
The control methods (any thread) send one message each, which the process applies at
its next batch. Stopping is cooperative; :meth:`kill` ends a process that does not
answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from designer.training import child
from designer.training.child import NetworkRecipe
from designer.training.run_loop import TrainingJob
from designer.training.snapshots import Snapshot, SnapshotBuffer

#: Modules the fork server imports once, so that each run starts in milliseconds.
PRELOAD = ["designer.training.child"]


def process_context() -> Any:
    """A fork server where there is one (a clean process to fork from: forking the
    designer itself would copy Qt's threads' locks), else a fresh interpreter per run."""
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def main_script_hidden() -> Iterator[None]:
    """Start processes without the program's main script.

    multiprocessing runs the parent's ``__main__`` file again in every new process (and
    in the fork server), to find functions defined there. The training process needs
    none of it (its code is in ``designer.training.child``), and a script that opens the
    designer without an ``if __name__ == "__main__":`` guard would open a second window
    there and never train. An empty ``__main__`` while starting says "nothing to run".
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def warm_up() -> None:
    """Start the fork server now (in the background) so that the first Train is quick."""
    ctx = process_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        with main_script_hidden():
            forkserver.ensure_running()


class TrainingWorker(QObject):
    """One run in its own process; the signals arrive as the process reports."""

    progress = Signal(dict)
    failed = Signal(str)
    finished = Signal(str)

    def __init__(self, job: TrainingJob, recipe: NetworkRecipe,
                 buffer: SnapshotBuffer) -> None:
        super().__init__()
        self.job = dataclasses.replace(job, trainer=None, net=None)  # rebuilt over there
        self.recipe = recipe
        self.buffer = buffer
        self.reason = "stopped"
        self.result: tuple[dict, dict | None] | None = None  # (weights, optimizer state)
        self.waiting = False  # True while the run waits at a pause (tests and the UI read it)
        self._paused = job.start_paused
        self._ctx = process_context()
        self._events, self._events_child = self._ctx.Pipe(duplex=False)
        self._control_child, self._control = self._ctx.Pipe(duplex=False)
        self._data_child, self._data = self._ctx.Pipe(duplex=False)
        self._send_lock = threading.Lock()
        self._process: Any = None
        self._last_snapshot: Snapshot | None = None  # fills in what the next one leaves out

    # -- control (any thread) ----------------------------------------------------------
    def _send(self, *message: Any) -> None:
        # OSError/ValueError: the process has ended, there is nothing left to control
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self._control.send(message)

    def request_stop(self) -> None:
        """Cooperative stop: the run returns at the next batch, paused or not."""
        self._send("stop")

    def pause(self) -> None:
        """Stop pulling batches after the current one."""
        self._paused = True
        self._send("pause")

    def resume(self) -> None:
        """Continue without limit."""
        self._paused = False
        self._send("resume")

    def step_batches(self, n: int = 1) -> None:
        """Run ``n`` more batches, then pause."""
        self._paused = False
        self._send("step", max(1, int(n)))

    def step_epoch(self) -> None:
        """Run to the end of the current epoch, then pause."""
        self._paused = False
        self._send("step_epoch")

    def set_learning_rate(self, lr: float) -> None:
        """Takes effect at the next batch."""
        self._send("lr", float(lr))

    def set_pace(self, epochs_per_s: float | None) -> None:
        """At most this many epochs a second (None: full speed), from the next batch."""
        self._send("pace", epochs_per_s)

    @property
    def paused(self) -> bool:
        """True while the run waits for resume/step (as last asked or reported)."""
        return self._paused

    def kill(self) -> None:
        """End a process that did not stop when asked (the run's weights are lost)."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    # -- the run (this worker's QThread) ----------------------------------------------
    @Slot()
    def run(self) -> None:
        """Start the process, relay its reports until it is done; always emits
        ``finished`` with a stop reason."""
        try:
            job, arrays = child.split_arrays(self.job)
            self._process = self._ctx.Process(
                target=child.main, name="ann-training", daemon=True,
                args=(job, self.recipe, self._events_child, self._control_child,
                      self._data_child))
            with main_script_hidden():
                self._process.start()
            for end in (self._events_child, self._control_child, self._data_child):
                end.close()  # only the process holds these now: when it ends, recv()
            child.send_arrays(self._data, arrays)  # below raises EOFError
            self._data.close()
            self._relay()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            self.reason = "error"
            self.failed.emit(f"Training could not run: {exc}.")
        finally:
            self._close()
            self.finished.emit(self.reason)

    def _relay(self) -> None:
        while True:
            try:
                message = self._events.recv()
            except EOFError:  # the process ended without its last report
                self._process.join(1.0)
                self.reason = "error"
                self.failed.emit(ended_message(self._process.exitcode))
                return
            if self._handle(*message):
                return

    def _handle(self, kind: str, *args: Any) -> bool:
        """Apply one report; True for the last one."""
        buffer = self.buffer
        if kind == "steps":
            buffer.add_steps(*args)
        elif kind == "epochs":
            buffer.add_epochs(args[0])
        elif kind == "norms":
            buffer.add_grad_norms(*args)
        elif kind == "snapshot":
            snapshot, new = args
            self._last_snapshot = child.complete(snapshot, new, self._last_snapshot)
            buffer.publish(self._last_snapshot)
        elif kind == "progress":
            info = args[0]
            state = info.get("state")
            if state in ("paused", "running"):
                self.waiting = self._paused = state == "paused"
            self.progress.emit(info)
        elif kind == "failed":
            self.failed.emit(args[0])
        elif kind == "done":
            self.reason, weights, state = args
            self.waiting = False
            if weights is not None:
                self.result = (weights, state)
            return True
        return False

    def _close(self) -> None:
        process = self._process
        if process is not None and process.pid is not None:  # started
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
        with self._send_lock:  # not while another thread sends a control message
            for conn in (self._events, self._control, self._data, self._events_child,
                         self._control_child, self._data_child):
                conn.close()


def ended_message(exitcode: int | None) -> str:
    """What the Training panel says when the training process died mid-run."""
    how = (f"was ended by signal {-exitcode}" if exitcode is not None and exitcode < 0
           else f"ended unexpectedly (exit code {exitcode})")
    return (f"The training process {how}; the network keeps its weights from before "
            "this run. Train again, or with a smaller batch size if memory ran out.")
