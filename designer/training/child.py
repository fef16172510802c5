"""The training process: runs one :class:`RunLoop` and reports over a pipe. No Qt.

Training used to run on a thread of the designer's own process, where it shared one
interpreter lock with the window: every millisecond the window spent in Python (painting
the live views, the status labels) was a millisecond the network did not train, and the
spiral trained at 0.6-0.8x its headless speed with every view on. In a process of its
own it has a core and a lock to itself; the window only receives what it shows.

What crosses the pipes is made by this program on both ends (never a file we read):
the job (the spec, the settings, small arrays) once, the training and validation data
as raw bytes on a pipe of their own (no pickled copy of a large data set on either
side), then the loop's reports (losses, epoch
records, gradient norms, snapshots, progress), and at the end the trained weights and
the optimizer state. Control messages go the other way: ``("stop",)``, ``("pause",)``,
``("resume",)``, ``("step", n)``, ``("step_epoch",)``, ``("lr", value)``,
``("pace", epochs_per_s or None)``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from core.network import Network
from core.project import Project
from core.training import Trainer
from core.workflow import make_trainer
from designer.training.run_loop import RunLoop, TrainingJob
from designer.training.snapshots import Snapshot

#: Snapshot fields that change at their own, slower rates (the grid ~10/s, the confusion
#: matrix 2/s): sent only when new. The grid and neuron maps of the spiral are 680 kB,
#: which sent with each of the 33 snapshots a second cost 7 % of its training time.
SLOW_FIELDS = ("grid", "neuron_maps", "confusion", "sample_predictions",
               "sample_probabilities")


@dataclass
class NetworkRecipe:
    """How the training process rebuilds the designer's network and trainer exactly."""

    spec: dict
    seed: int
    weights: dict | None
    training: dict
    optimizer_state: dict | None

    def build(self) -> tuple[Network, Trainer]:
        """The network with the designer's weights and a trainer from the settings."""
        net = Network.from_spec(self.spec, seed=self.seed)
        if self.weights:
            net.set_weights(self.weights)
        project = Project(spec=self.spec, training=self.training,
                          optimizer_state=self.optimizer_state)
        return net, make_trainer(project, net)


class PipeBuffer:
    """The :class:`SnapshotBuffer` methods the loop calls, sent to the designer instead.

    A snapshot goes as ``("snapshot", snapshot, new)``: the :data:`SLOW_FIELDS` not
    named in ``new`` are left out (None) and are those of the snapshot before.
    """

    def __init__(self, events: Connection) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._sent: dict[str, Any] = {}
        self._gone = False

    def send(self, *message: Any) -> None:
        """Send one report; once the designer is gone (its end closed), send nothing:
        the control pipe's end stops the run at the next batch."""
        with self._lock:
            if self._gone:
                return
            try:
                self._events.send(message)
            except (BrokenPipeError, ConnectionResetError):
                self._gone = True

    def add_steps(self, steps: Sequence[float], losses: Sequence[float]) -> None:
        self.send("steps", steps, losses)

    def add_epochs(self, records: Sequence[Mapping[str, float]]) -> None:
        self.send("epochs", list(records))

    def add_grad_norms(self, step: float, norms: Mapping[str, float]) -> None:
        self.send("norms", step, dict(norms))

    def publish(self, snapshot: Snapshot) -> None:
        new = tuple(name for name in SLOW_FIELDS
                    if getattr(snapshot, name) is not self._sent.get(name, ()))
        self._sent.update({name: getattr(snapshot, name) for name in new})
        light = dataclasses.replace(snapshot, **{name: None for name in SLOW_FIELDS
                                                 if name not in new})
        self.send("snapshot", light, new)


def complete(snapshot: Snapshot, new: Sequence[str], before: Snapshot | None) -> Snapshot:
    """A snapshot sent by :class:`PipeBuffer` with its slow fields filled in again."""
    if before is None:
        return snapshot
    return dataclasses.replace(snapshot, **{name: getattr(before, name)
                                            for name in SLOW_FIELDS if name not in new})


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


def main(job: TrainingJob, recipe: NetworkRecipe, events: Connection,
         control: Connection, data: Connection) -> None:
    """The process' entry point: build, train, send the result, return."""
    buffer = PipeBuffer(events)
    try:
        job = receive_arrays(data, job)
        data.close()
        net, trainer = recipe.build()
    except Exception as exc:  # noqa: BLE001 - the designer checked these; say it anyway
        buffer.send("failed", f"Cannot train: {exc}")
        buffer.send("done", "error", None, None)
        return
    job.net, job.trainer = net, trainer
    loop = RunLoop(job, buffer, on_progress=lambda info: buffer.send("progress", info),
                   on_failed=lambda text: buffer.send("failed", text))
    threading.Thread(target=_listen, args=(control, loop), name="ann-control",
                     daemon=True).start()
    reason = loop.run()
    try:
        state = trainer.optimizer.state_dict()
    except Exception:  # noqa: BLE001 - a missing state only restarts the optimizer
        state = None
    buffer.send("done", reason, net.get_weights(), state)


def _listen(control: Connection, loop: RunLoop) -> None:
    """Apply the designer's control messages; a closed pipe (the designer is gone) stops."""
    actions = {"stop": loop.request_stop, "pause": loop.pause, "resume": loop.resume,
               "step": loop.step_batches, "step_epoch": loop.step_epoch,
               "lr": loop.set_learning_rate, "pace": loop.set_pace}
    while True:
        try:
            name, *args = control.recv()
        except (EOFError, OSError):
            loop.request_stop()
            return
        action = actions.get(name)
        if action is not None:
            action(*args)
