"""Plain-text output of the command line: tables, metrics, the training progress bar.

Kept apart from argument parsing so that the formats can be tested on their own and the
command functions in :mod:`core.cli` read as a list of steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm

from core.training import TrainEvent

METRIC_ORDER = ("loss", "accuracy", "mse", "mae", "r2")
SHORT_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc"}


def table(rows: Sequence[Sequence[Any]], header: Sequence[str],
          right: Iterable[int] = ()) -> str:
    """Columns padded to their widest cell; columns in ``right`` are right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    right = set(right)

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def fmt_number(value: float) -> str:
    """Four significant decimals, 'nan' for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.4f}"


def ordered_metrics(metrics: Mapping[str, float]) -> list[str]:
    """Metric names, the familiar ones first."""
    known = [name for name in METRIC_ORDER if name in metrics]
    return known + sorted(name for name in metrics if name not in known)


def metrics_line(values: Mapping[str, float | None]) -> str:
    """"loss 0.1234  accuracy 0.9500 ..." skipping missing values."""
    return "  ".join(f"{name} {fmt_number(v)}" for name, v in values.items() if v is not None)


def confusion_table(counts: np.ndarray, class_names: Sequence[str]) -> str:
    """Confusion matrix: rows are the true classes, columns the predicted ones."""
    names = [str(n) for n in class_names]
    rows = [[f"true {name}"] + [int(c) for c in counts[i]] for i, name in enumerate(names)]
    return table(rows, [""] + names, right=range(1, len(names) + 1))


def event_values(event: TrainEvent) -> dict[str, float | None]:
    """The numbers worth showing for a training event, validation included."""
    values: dict[str, float | None] = {"loss": event.loss}
    values.update({name: float(v) for name, v in (event.metrics or {}).items()})
    if event.val_loss is not None:
        values["val_loss"] = event.val_loss
    values.update({f"val_{name}": float(v) for name, v in (event.val_metrics or {}).items()})
    return values


class TrainingProgress:
    """A tqdm bar over all batches of the run, showing the epoch, loss and accuracy.

    Batch events advance the bar and show that batch's loss and accuracy (tqdm throttles
    the redraws); epoch events show the epoch's means and the validation numbers, which
    stay visible until the next epoch ends. Each epoch's numbers are kept in
    ``last_epoch`` for the closing line. ``done`` epochs of earlier runs come first in
    the numbering: a project trained 10 epochs and now 5 more shows "epoch 11/15".
    """

    SHOWN = ("loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae")

    def __init__(self, epochs: int, stream: TextIO, enabled: bool = True,
                 done: int = 0) -> None:
        self.epochs, self.stream, self.enabled = epochs, stream, enabled
        self.done = done
        self._bar: tqdm | None = None  # made at the first batch: errors before it
        self.last_epoch: dict[str, float | None] = {}  # stay alone on stderr
        self._values: dict[str, float] = {}

    def _bar_for(self, batches: int) -> tqdm:
        if self._bar is None:
            self._bar = tqdm(total=self.epochs * max(batches, 1), unit="batch",
                             file=self.stream, disable=not self.enabled, dynamic_ncols=True,
                             desc=f"epoch {self.done + 1}/{self.done + self.epochs}")
        return self._bar

    def __call__(self, event: TrainEvent) -> None:
        if event.kind == "batch":
            bar = self._bar_for(event.batches)
            bar.set_description(f"epoch {event.epoch}/{self.done + self.epochs}",
                                refresh=False)
            self._show({"loss": event.loss, **dict(event.metrics or {})})
            bar.update(1)
        elif event.kind == "epoch":
            self.last_epoch = event_values(event)
            self._show(self.last_epoch)

    def _show(self, values: Mapping[str, float | None]) -> None:
        self._values.update({k: float(v) for k, v in values.items()
                             if v is not None and k in self.SHOWN})
        if self._bar is not None:
            self._bar.set_postfix({SHORT_NAMES.get(k, k): f"{v:.4f}"
                                   for k, v in self._values.items()}, refresh=False)

    def write(self, message: str) -> None:
        """A line above the bar (tqdm.write keeps the bar intact)."""
        tqdm.write(message, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class ReadProgress:
    """A tqdm bar of the bytes of a data file read so far (``new --data`` on a large file).

    Called as ``progress(bytes read, file size)`` by the CSV readers; the bar is made at
    the first call, so an error found before reading starts stays alone on the stream.
    """

    def __init__(self, name: str, stream: TextIO, enabled: bool = True) -> None:
        self.name, self.stream, self.enabled = name, stream, enabled
        self._bar: tqdm | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=f"reading {self.name}", file=self.stream,
                             disable=not self.enabled, dynamic_ncols=True, leave=False)
        self._bar.update(done - self._bar.n)  # a re-read (the careful reader) goes back

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
