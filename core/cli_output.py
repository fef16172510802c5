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
    """A tqdm bar over the epochs whose postfix shows the latest loss and accuracy.

    Batch events refresh the postfix (tqdm throttles the redraws); epoch events advance
    the bar. Every epoch's numbers stay in ``last_epoch`` for the closing line.
    """

    def __init__(self, epochs: int, stream: TextIO, enabled: bool = True) -> None:
        self.epochs, self.stream, self.enabled = epochs, stream, enabled
        self._bar: tqdm | None = None  # created at the first event: errors before it
        self.last_epoch: dict[str, float | None] = {}  # stay alone on stderr

    @property
    def bar(self) -> tqdm:
        if self._bar is None:
            self._bar = tqdm(total=self.epochs, unit="epoch", file=self.stream,
                             disable=not self.enabled, dynamic_ncols=True, desc="training")
        return self._bar

    def __call__(self, event: TrainEvent) -> None:
        if event.kind == "batch":
            self._postfix({"loss": event.loss, **dict(event.metrics or {})})
        elif event.kind == "epoch":
            self.last_epoch = event_values(event)
            self._postfix(self.last_epoch)
            self.bar.update(1)

    def _postfix(self, values: Mapping[str, float | None]) -> None:
        shown = {SHORT_NAMES.get(k, k): f"{v:.4f}" for k, v in values.items()
                 if v is not None and k in ("loss", "accuracy", "val_loss", "val_accuracy",
                                            "mae", "val_mae")}
        self.bar.set_postfix(shown, refresh=False)

    def write(self, message: str) -> None:
        """A line above the bar (tqdm.write keeps the bar intact)."""
        tqdm.write(message, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
