"""Early stopping and the callback base class (plain callables work as callbacks too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.training.checks import check_float, check_int
from core.training.events import TrainEvent

if TYPE_CHECKING:
    from core.training.trainer import Trainer


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` defaults to ``val_loss`` (``loss`` when there is no validation data);
    ``mode`` "auto" maximizes accuracy and r2 and minimizes everything else.  With
    ``restore_best_weights`` the best epoch's weights are put back when it stops.
    """

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = True
    mode: str = "auto"

    @classmethod
    def from_config(cls, config: Any) -> EarlyStopping | None:
        """From None/False (off), True (defaults), an int (patience), a dict or itself."""
        if config is None or config is False:
            return None
        if isinstance(config, EarlyStopping):
            return config
        if config is True:
            return cls()
        if isinstance(config, (int, np.integer)):
            return cls(patience=check_int("early_stopping (the patience)", config, 0))
        if isinstance(config, Mapping):
            unknown = [k for k in config if k not in cls.__dataclass_fields__]
            if unknown:
                raise ValueError(f"early_stopping has no setting {unknown[0]!r}; its "
                                 f"settings are {', '.join(cls.__dataclass_fields__)}")
            return cls(**_checked_early_stopping(config))
        raise ValueError(f"early_stopping must be a dict, an int (the patience) or a bool, "
                         f"got {config!r}")

    def maximize(self, monitor: str) -> bool:
        if self.mode != "auto":
            return self.mode == "max"
        return monitor.endswith("accuracy") or monitor.endswith("r2")


def _checked_early_stopping(config: Mapping[str, Any]) -> dict[str, Any]:
    """The early-stopping settings with their types and ranges checked (ValueError)."""
    out = dict(config)
    if "monitor" in out and (not isinstance(out["monitor"], str) or not out["monitor"]):
        raise ValueError("early_stopping['monitor'] must be the name of a reported value "
                         f"such as 'val_loss' or 'val_accuracy', got {out['monitor']!r}")
    if "patience" in out:
        out["patience"] = check_int("early_stopping['patience']", out["patience"], 0)
    if "min_delta" in out:
        out["min_delta"] = check_float("early_stopping['min_delta']", out["min_delta"])
    if "restore_best_weights" in out and not isinstance(out["restore_best_weights"],
                                                        (bool, np.bool_)):
        raise ValueError("early_stopping['restore_best_weights'] must be true or false, "
                         f"got {out['restore_best_weights']!r}")
    if "mode" in out and out["mode"] not in ("auto", "min", "max"):
        raise ValueError("early_stopping['mode'] must be 'auto', 'min' or 'max', got "
                         f"{out['mode']!r}")
    return out


class Callback:
    """Base class for callbacks; override what you need.  Plain callables also work
    as callbacks: they receive every event."""

    def on_batch_end(self, trainer: Trainer, event: TrainEvent) -> None:
        """After every batch."""

    def on_epoch_end(self, trainer: Trainer, event: TrainEvent) -> None:
        """After every epoch, validation included."""

    def on_train_end(self, trainer: Trainer, event: TrainEvent) -> None:
        """When ``run()`` finishes, for whatever reason."""

