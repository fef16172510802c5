"""The frozen events a training run yields, one per batch, per epoch and at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

STOP_REASONS = ("completed", "stopped", "early_stopping", "diverged")
_EMPTY: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True)
class TrainEvent:
    """What happened in one batch ("batch"), one epoch ("epoch") or the run ("end").

    ``epoch`` counts from 1 (the epoch the event belongs to; for "end", the last epoch
    started), ``step`` is the number of optimizer steps taken so far, ``batch`` the batch
    number inside the epoch (1..``batches``).  ``loss`` and ``metrics`` are the batch's
    for "batch" events and the epoch's running means for "epoch" and "end" events; loss
    values include the L1/L2 penalty, as in Keras.
    """

    kind: str
    epoch: int
    step: int
    loss: float
    metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    val_loss: float | None = None
    val_metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    lr: float = 0.0
    samples_seen: int = 0
    elapsed_s: float = 0.0
    stop_reason: str | None = None
    batch: int = 0
    batches: int = 0

