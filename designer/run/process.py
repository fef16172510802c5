"""The training process and its handle: one :class:`RunLoop` that reports over a pipe. No Qt.

In a process of its own the training has a core and an interpreter lock to itself; the
window only receives what it shows (see docs/internals.md for the figures).

What crosses the pipes is made by our own code on both ends (never a file we read):
the :class:`~designer.run.protocol.TrainingJob` once, the training and validation data
as raw bytes on a pipe of their own (no pickled copy of a large data set on either
side), then the loop's reports, and commands the other way; ``designer.run.protocol``
lists them. :class:`RunProcess` is the designer's end; :func:`main` runs over there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from core.network import Network
from core.project import Project
from core.training import Callback, Trainer
from core.workflow import make_trainer
from designer.run.loop import RunLoop
from designer.run.protocol import Command, Failed, Finished, Report, Stop, TrainingJob

#: Bytes the reports' pipe holds (Linux; its default is 64 kB): a snapshot with the
#: neuron maps (760 kB for the spiral) then goes in one write instead of a dozen or more,
#: each of which made the writer thread and the training thread trade the interpreter
#: lock, and the window's reader thread wake up, again.
REPORT_PIPE_BYTES = 1 << 20

#: Modules the fork server imports once, so that each run starts in milliseconds (and
#: with the compiled path of small networks ready: :mod:`designer.run.preload`).
PRELOAD = ["designer.run.preload"]


def build(job: TrainingJob) -> tuple[Network, Trainer]:
    """The network with the designer's weights (fresh ones from the seed when those no
    longer fit the spec) and a trainer from the settings and optimizer state."""
    net = Network.from_spec(dict(job.spec), seed=job.seed)
    if job.weights:
        try:
            net.set_weights(dict(job.weights))
        except Exception:  # noqa: BLE001 - stale weights of another structure: fresh ones
            net = Network.from_spec(dict(job.spec), seed=job.seed)
    project = Project(spec=dict(job.spec), training=dict(job.training),
                      optimizer_state=dict(job.optimizer_state) if job.optimizer_state
                      else None)
    trainer = make_trainer(project, net, task=job.task)
    if job.frozen:
        trainer.callbacks.append(FrozenValues(net, job.frozen))
    return net, trainer


class FrozenValues(Callback):
    """Puts frozen parameters back after every batch, so that training leaves them
    where the run found them (a knocked-out neuron stays at zero)."""

    def __init__(self, net: Network, frozen: tuple[tuple[str, str, tuple[int, ...]], ...]
                 ) -> None:
        where = {(r.node_id, r.name): r.offset for r in net.param_refs}
        ids = [where[(node, name)] + i for node, name, flat in frozen
               if (node, name) in where for i in flat]
        self.index = np.array(sorted(set(ids)), dtype=np.intp)
        self.values = net.params[self.index].copy()
        self.params = net.params

    def on_batch_end(self, trainer: Trainer, event: Any) -> None:
        self.params[self.index] = self.values


# ------------------------------------------------------------------ the data pipe
@dataclass(frozen=True)
class ArraySlot:
    """Stands in the job for an array that follows as raw bytes on the data pipe."""

    shape: tuple[int, ...]
    dtype: str


def split_arrays(job: TrainingJob) -> tuple[TrainingJob, list[np.ndarray]]:
    """The job with its data replaced by slots, and the arrays to send in that order."""
    arrays = [np.ascontiguousarray(job.X), np.ascontiguousarray(job.Y)]
    if job.validation is not None:
        arrays += [np.ascontiguousarray(a) for a in job.validation]
    slots = [ArraySlot(a.shape, a.dtype.str) for a in arrays]
    light = dataclasses.replace(job, X=slots[0], Y=slots[1],
                                validation=tuple(slots[2:]) if job.validation else None)
    return light, arrays


def send_arrays(data: Connection, arrays: Sequence[np.ndarray]) -> None:
    """Each array's bytes straight from its memory (no copy on this side)."""
    for array in arrays:
        data.send_bytes(_raw(array))


def _raw(array: np.ndarray) -> np.ndarray:
    """The bytes of a C-contiguous array as a flat uint8 view (empty arrays too)."""
    return array.reshape(-1).view(np.uint8)


def receive_arrays(data: Connection, job: TrainingJob) -> TrainingJob:
    """The job with its slots filled by the arrays read into memory allocated once."""

    def take(slot: ArraySlot) -> np.ndarray:
        array = np.empty(slot.shape, np.dtype(slot.dtype))
        data.recv_bytes_into(_raw(array))
        return array

    X, Y = take(job.X), take(job.Y)
    validation = tuple(take(slot) for slot in job.validation) if job.validation else None
    return dataclasses.replace(job, X=X, Y=Y, validation=validation)


# ------------------------------------------------------------------ the process
class Sender:
    """Sends reports to the designer; once it is gone (its end closed), sends nothing:
    the control pipe's end then stops the run at the next batch.

    A thread of its own writes the reports, in order: a write waits while the pipe is
    full (a grid of 680 kB is ten pipe buffers), and the training should not wait with
    it (the spiral at batch 1 lost 9 % of its time there). At most ``QUEUED`` reports
    wait; then the loop waits too, so that a designer that cannot keep up slows the run
    instead of filling the memory. Reports are frozen and made of copies.
    """

    QUEUED = 64

    def __init__(self, events: Connection) -> None:
        self._events = events
        self._gone = False
        self._queue: queue.Queue[Report | None] = queue.Queue(self.QUEUED)
        self._writer = threading.Thread(target=self._write, name="ann-reports", daemon=True)
        self._writer.start()

    def __call__(self, report: Report) -> None:
        if not self._gone:
            self._queue.put(report)

    def close(self) -> None:
        """Wait until every report is written."""
        self._queue.put(None)
        self._writer.join()

    def _write(self) -> None:
        while (report := self._queue.get()) is not None:
            if self._gone:
                continue
            try:
                self._events.send(report)
            except (BrokenPipeError, ConnectionResetError):
                self._gone = True


def main(job: TrainingJob, events: Connection, control: Connection,
         data: Connection) -> None:
    """The process' entry point: build, train, send the result, return."""
    send = Sender(events)
    try:
        job = receive_arrays(data, job)
        data.close()
        net, trainer = build(job)
    except Exception as exc:  # noqa: BLE001 - a bad setting is a message, not a crash
        send(Failed(f"Cannot train: {exc}"))
        send(Finished("error"))
        send.close()
        return
    loop = RunLoop(job, net, trainer, send)
    threading.Thread(target=_listen, args=(control, loop), name="ann-control",
                     daemon=True).start()
    reason = loop.run()
    try:
        state = trainer.optimizer.state_dict()
    except Exception:  # noqa: BLE001 - a missing state only restarts the optimizer
        state = None
    send(Finished(reason, net.get_weights(), state))
    send.close()


def _listen(control: Connection, loop: RunLoop) -> None:
    """Apply the designer's commands; a closed pipe (the designer is gone) stops."""
    while True:
        try:
            command = control.recv()
        except (EOFError, OSError):
            loop.apply(Stop())
            return
        loop.apply(command)


# ------------------------------------------------------------------ the designer's end
def process_context() -> Any:
    """A fork server where there is one (a clean process to fork from: forking the
    designer itself would copy Qt's threads' locks), else a fresh interpreter per run."""
    import multiprocessing

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
    none of it, and a script that opens the designer without an
    ``if __name__ == "__main__":`` guard would open a second window there and never
    train. An empty ``__main__`` while starting says "nothing to run".
    """
    main_module = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main_module


def warm_up() -> None:
    """Start the fork server now (in the background) so that the first Train is quick."""
    ctx = process_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver
        with main_script_hidden():
            forkserver.ensure_running()


class RunProcess:
    """The designer's handle on one training process: start it, send commands (any
    thread), read its reports (one thread), end it."""

    def __init__(self) -> None:
        self._ctx = process_context()
        self._events, self._events_child = self._ctx.Pipe(duplex=False)
        widen_pipe(self._events, REPORT_PIPE_BYTES)
        self._control_child, self._control = self._ctx.Pipe(duplex=False)
        self._data_child, self._data = self._ctx.Pipe(duplex=False)
        self._send_lock = threading.Lock()
        self._process: Any = None

    def start(self, job: TrainingJob) -> None:
        """Start the process and hand it the job and its data."""
        light, arrays = split_arrays(job)
        self._process = self._ctx.Process(
            target=main, name="ann-training", daemon=True,
            args=(light, self._events_child, self._control_child, self._data_child))
        with main_script_hidden():
            self._process.start()
        for end in (self._events_child, self._control_child, self._data_child):
            end.close()  # only the process holds these now: when it ends, recv() raises
        send_arrays(self._data, arrays)
        self._data.close()

    def send(self, command: Command) -> None:
        """Deliver a command; the process applies it at its next batch (or at once)."""
        # OSError/ValueError: the process has ended, there is nothing left to control
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self._control.send(command)

    def reports(self) -> Iterator[Report]:
        """The process' reports up to its :class:`Finished`; a process that dies
        without one ends the run with a :class:`Failed` and ``Finished("error")``."""
        while True:
            try:
                report = self._events.recv()
            except EOFError:
                self._process.join(1.0)
                yield Failed(ended_message(self._process.exitcode))
                yield Finished("error")
                return
            yield report
            if isinstance(report, Finished):
                return

    @property
    def pid(self) -> int | None:
        """The process id once started."""
        return None if self._process is None else self._process.pid

    @property
    def exitcode(self) -> int | None:
        """None while it runs (or before it started)."""
        return None if self._process is None else self._process.exitcode

    def is_alive(self) -> bool:
        """True from the start until the process ends."""
        return self._process is not None and self._process.is_alive()

    def kill(self) -> None:
        """End a process that did not stop when asked (the run's weights are lost)."""
        if self.is_alive():
            self._process.kill()

    def close(self) -> None:
        """Wait for the process to end (killing it after 5 s), then close the pipes."""
        process = self._process
        if process is not None and process.pid is not None:  # started
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
        with self._send_lock:  # not while another thread sends a command
            for conn in (self._events, self._control, self._data, self._events_child,
                         self._control_child, self._data_child):
                conn.close()


def widen_pipe(conn: Connection, size: int) -> int | None:
    """Ask the kernel for a pipe buffer of ``size`` bytes; the size it gave, or None where
    pipes cannot be resized (not Linux, or above the system's limit: then the default
    stays, which only costs time)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, size)
        return fcntl.fcntl(conn.fileno(), fcntl.F_GETPIPE_SZ)
    except (ImportError, AttributeError, OSError):
        return None


def ended_message(exitcode: int | None) -> str:
    """What the Training panel says when the training process died mid-run."""
    how = (f"was ended by signal {-exitcode}" if exitcode is not None and exitcode < 0
           else f"ended unexpectedly (exit code {exitcode})")
    return (f"The training process {how}; the network keeps the last weights it sent "
            "(at most a second's training is lost) and the curves end there too. Train "
            "again, or with a smaller batch size if memory ran out.")
