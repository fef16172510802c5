"""The latest-snapshot buffer between the training process and the live views.

The session's relay thread writes what the training process reports, the UI thread
reads, and neither waits for the other: every write replaces the previous snapshot
under a short lock, so a slow view never slows the training down and never sees
half-written data (snapshots hold copies, never views of the
network's live buffers). Loss curves are kept here as well, decimated so that a long run
still costs the UI a bounded ``setData`` per refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from designer.run.protocol import (
    Checkpoint,
    Epochs,
    GradNorms,
    Published,
    Report,
    Snapshot,
    Steps,
)

CURVE_CAPACITY = 512


class DecimatedSeries:
    """An (x, y) series that never holds more than ``capacity`` points.

    Points are averaged in buckets; when the series is full, neighbouring points are
    merged pairwise and the bucket doubles. The curve keeps its shape (a running mean of
    the batch loss) while the UI's work per refresh stays constant.
    """

    def __init__(self, capacity: int = CURVE_CAPACITY) -> None:
        self.capacity = capacity - capacity % 2
        self.x = np.zeros(self.capacity, dtype=np.float64)
        self.y = np.zeros(self.capacity, dtype=np.float64)
        self.n = 0
        self.stride = 1
        self._acc_x = 0.0
        self._acc_y = 0.0
        self._acc_n = 0

    def extend(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Add points in order; NaN/inf losses are kept out of the curve (divergence).

        Vectorised: whole buckets are averaged with one reshape, so a flush of a few
        hundred batch losses costs microseconds of the training thread's time.
        """
        x = np.asarray(xs, dtype=np.float64)
        y = np.asarray(ys, dtype=np.float64)
        ok = np.isfinite(y)
        if not ok.all():
            x, y = x[ok], y[ok]
        i, n = 0, len(x)
        while i < n:
            if self._acc_n or n - i < self.stride:  # fill the open bucket first
                k = min(self.stride - self._acc_n, n - i)
                self._acc_x += float(x[i:i + k].sum())
                self._acc_y += float(y[i:i + k].sum())
                self._acc_n += k
                i += k
                if self._acc_n == self.stride:
                    count = self._acc_n
                    mean_x, mean_y = self._acc_x / count, self._acc_y / count
                    self._acc_x = self._acc_y = 0.0
                    self._acc_n = 0
                    self._push(mean_x, mean_y, count)
                continue
            if self.n == self.capacity:
                self._compress()
            m = min((n - i) // self.stride, self.capacity - self.n)
            stop = i + m * self.stride
            self.x[self.n:self.n + m] = x[i:stop].reshape(m, self.stride).mean(axis=1)
            self.y[self.n:self.n + m] = y[i:stop].reshape(m, self.stride).mean(axis=1)
            self.n += m
            i = stop

    def _compress(self) -> None:
        """Merge neighbouring points pairwise; every bucket doubles."""
        half = self.capacity // 2
        self.x[:half] = self.x.reshape(half, 2).mean(axis=1)
        self.y[:half] = self.y.reshape(half, 2).mean(axis=1)
        self.n = half
        self.stride *= 2

    def _push(self, x: float, y: float, count: int) -> None:
        if self.n == self.capacity:
            self._compress()
            # This point covers only half a bucket now: it waits for its other half.
            self._acc_x, self._acc_y, self._acc_n = x * count, y * count, count
            return
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the points so far (safe to hand to another thread)."""
        return self.x[: self.n].copy(), self.y[: self.n].copy()

    def count_until(self, x_max: float) -> int:
        """How many points lie wholly at or before ``x_max``: a point is the mean of
        ``stride`` consecutive steps, so its last step is ``x + (stride - 1) / 2``."""
        ends = self.x[: self.n] + (self.stride - 1) / 2
        return int(np.searchsorted(ends, x_max + 1e-9, side="right"))

    def trim(self, x_max: float) -> None:
        """Forget every point (and the open bucket) that reaches past ``x_max``."""
        self.n = self.count_until(x_max)
        self._acc_x = self._acc_y = 0.0
        self._acc_n = 0


class EpochTable:
    """Per-epoch figures as growing columns (NaN where an epoch lacks a figure).

    Columns make the UI's copy per refresh one ``memcpy`` per figure, however many
    epochs there are, instead of rebuilding arrays from a list of dicts.
    """

    def __init__(self) -> None:
        self.n = 0
        self._capacity = 64
        self._columns: dict[str, np.ndarray] = {}

    def append(self, record: Mapping[str, float]) -> None:
        """Add one epoch's figures."""
        if self.n == self._capacity:
            self._capacity *= 2
            for key, col in self._columns.items():
                grown = np.full(self._capacity, np.nan)
                grown[: self.n] = col[: self.n]
                self._columns[key] = grown
        for key, value in record.items():
            if key not in self._columns:
                self._columns[key] = np.full(self._capacity, np.nan)
            self._columns[key][self.n] = value
        for key, col in self._columns.items():
            if key not in record:
                col[self.n] = np.nan
        self.n += 1

    def columns(self) -> dict[str, np.ndarray]:
        """Copies of every column, ``n`` long."""
        return {k: c[: self.n].copy() for k, c in self._columns.items()}

    def count_until(self, step: float) -> int:
        """How many leading epochs ended at or before ``step`` (all, without steps)."""
        steps = self._columns.get("step")
        if steps is None:
            return self.n
        late = np.flatnonzero(steps[: self.n] > step)
        return int(late[0]) if len(late) else self.n

    def trim(self, n: int) -> None:
        """Keep the first ``n`` epochs (the next append overwrites the rest)."""
        self.n = max(0, min(self.n, n))


@dataclass(frozen=True)
class CurveData:
    """Copies of the loss/metric curves for the UI: per step (decimated) and per epoch."""

    version: int
    step_x: np.ndarray
    step_loss: np.ndarray
    columns: Mapping[str, np.ndarray]
    n_epochs: int
    grad_norm_x: np.ndarray
    grad_norms: Mapping[str, np.ndarray]

    def column(self, key: str) -> np.ndarray:
        """One per-epoch figure (all NaN when it was never reported)."""
        col = self.columns.get(key)
        return col if col is not None else np.full(self.n_epochs, np.nan)

    @property
    def epochs(self) -> tuple[dict[str, float], ...]:
        """The epochs as dicts of their finite figures (for read-outs and tests)."""
        return tuple({k: float(c[i]) for k, c in self.columns.items() if np.isfinite(c[i])}
                     for i in range(self.n_epochs))


class SnapshotBuffer:
    """Lock-protected latest snapshot plus the curves; written by one relay thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._version = 0
        self._steps = DecimatedSeries()
        self._epochs = EpochTable()
        self._norm_x = DecimatedSeries()
        self._norms: dict[str, DecimatedSeries] = {}
        self._checkpoints: list[Checkpoint] = []

    # -- writer side (the session's relay thread) ---------------------------------------
    def apply(self, report: Report) -> None:
        """Record a report of the training loop; those that are no data are ignored."""
        match report:
            case Steps(steps, losses):
                self.add_steps(steps, losses)
            case Epochs(records):
                self.add_epochs(records)
            case GradNorms(step, norms):
                self.add_grad_norms(step, norms)
            case Published():
                self.publish(report.complete(self.latest()))
            case Checkpoint():
                with self._lock:
                    self._checkpoints.append(report)

    def add_steps(self, steps: Sequence[float], losses: Sequence[float]) -> None:
        """Append a run of per-batch losses (the loop reports them in chunks)."""
        with self._lock:
            self._steps.extend(steps, losses)
            self._version += 1

    def add_epoch(self, record: Mapping[str, float]) -> None:
        """Append one epoch's figures: ``epoch``, ``loss``, ``val_loss``, metrics, ``lr``."""
        with self._lock:
            self._epochs.append(record)
            self._version += 1

    def add_epochs(self, records: Sequence[Mapping[str, float]]) -> None:
        """Append several epochs at once (the loop collects them between flushes)."""
        with self._lock:
            for record in records:
                self._epochs.append(record)
            self._version += 1

    def add_grad_norms(self, step: float, norms: Mapping[str, float]) -> None:
        """Append the gradient norm of each layer at ``step`` (sampled, not every batch)."""
        with self._lock:
            self._norm_x.extend([step], [0.0])
            for node_id, value in norms.items():
                series = self._norms.setdefault(node_id, DecimatedSeries())
                series.extend([step], [float(value) if np.isfinite(value) else 0.0])
            self._version += 1

    def publish(self, snapshot: Snapshot) -> None:
        """Replace the latest snapshot."""
        with self._lock:
            self._snapshot = snapshot
            self._version += 1

    # -- reader side (UI thread) -------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every write; a view compares it with the one it last drew."""
        return self._version

    def latest(self) -> Snapshot | None:
        """The newest snapshot (immutable, so it may be read without the lock)."""
        with self._lock:
            return self._snapshot

    def curves(self) -> CurveData:
        """Consistent copies of every curve."""
        with self._lock:
            sx, sy = self._steps.arrays()
            nx, _ = self._norm_x.arrays()
            norms = {k: s.arrays()[1] for k, s in self._norms.items()}
            return CurveData(self._version, sx, sy, self._epochs.columns(), self._epochs.n,
                             nx, norms)

    def take_checkpoints(self) -> list[Checkpoint]:
        """The checkpoints reported since the last call (the run recorder takes them)."""
        with self._lock:
            taken, self._checkpoints = self._checkpoints, []
            return taken

    @property
    def last_step(self) -> int:
        """The last step recorded, so that a new run continues the step axis."""
        with self._lock:
            return int(self._steps.x[self._steps.n - 1]) if self._steps.n else 0

    @property
    def last_epoch(self) -> int:
        """The number of epochs recorded, so that a new run continues the epoch axis."""
        with self._lock:
            if not self._epochs.n:
                return 0
            last = self._epochs.columns().get("epoch", np.array([self._epochs.n]))[-1]
            return int(last) if np.isfinite(last) else self._epochs.n

    # -- history (project file) --------------------------------------------------------
    def clear(self) -> None:
        """Forget everything (Reset weights)."""
        with self._lock:
            self._snapshot = None
            self._version += 1
            self._steps = DecimatedSeries()
            self._epochs = EpochTable()
            self._norm_x = DecimatedSeries()
            self._norms = {}

    def trim(self, step: float) -> None:
        """Forget what was recorded after ``step``: the curves then end where the weights
        that came back from a killed or hung run end."""
        with self._lock:
            self._epochs.trim(self._epochs.count_until(step))
            self._steps.trim(step)
            self._norm_x.trim(step)
            for series in self._norms.values():
                series.n = min(series.n, self._norm_x.n)
            self._version += 1

    def to_history(self, until_step: float | None = None) -> dict[str, list[float]]:
        """The curves as the project file's ``history``: per-epoch lists plus ``batch_loss``
        (only what was recorded up to ``until_step``, when given).

        ``batch_step`` keeps the decimated step axis so that a reopened project draws the
        per-step curve where it was.
        """
        with self._lock:
            n_epochs = (self._epochs.n if until_step is None
                        else self._epochs.count_until(until_step))
            n_steps = (self._steps.n if until_step is None
                       else self._steps.count_until(until_step))
            history: dict[str, list[float]] = {
                k: [float(v) if np.isfinite(v) else None for v in col[:n_epochs]]
                for k, col in self._epochs.columns().items()}  # JSON has no NaN
            sx, sy = self._steps.arrays()
            history["batch_step"] = sx[:n_steps].tolist()
            history["batch_loss"] = sy[:n_steps].tolist()
            return history

    def load_history(self, history: Mapping[str, Sequence[float]] | None) -> None:
        """Restore curves saved by :meth:`to_history` (or by ``core.training``'s history)."""
        self.clear()
        if not history:
            return
        batch = [float(v) for v in history.get("batch_loss", [])]
        steps = history.get("batch_step") or list(range(1, len(batch) + 1))
        per_epoch = {k: list(v) for k, v in history.items()
                     if k not in ("batch_loss", "batch_step") and isinstance(v, list | tuple)}
        n_epochs = max((len(v) for v in per_epoch.values()), default=0)
        with self._lock:
            self._steps.extend([float(s) for s in steps[: len(batch)]], batch[: len(steps)])
            for i in range(n_epochs):
                record = {k: float(v[i]) for k, v in per_epoch.items() if i < len(v)
                          and _is_number(v[i])}
                record.setdefault("epoch", float(i + 1))
                self._epochs.append(record)
            self._version += 1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.floating | np.integer)
