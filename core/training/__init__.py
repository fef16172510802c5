"""Training with the NumPy engine: the Trainer, its events, metrics, callbacks and the
divergence guard.

- :mod:`core.training.trainer`: :class:`Trainer`, the loop over batches and epochs;
- :mod:`core.training.events`: :class:`TrainEvent`, the frozen events a run yields;
- :mod:`core.training.metrics`: running metrics, class predictions, confusion matrix;
- :mod:`core.training.callbacks`: :class:`EarlyStopping` and :class:`Callback`;
- :mod:`core.training.guard`: every piece of divergence handling
  (:class:`TrainingDiverged`, the loss watch, step bounds, the weights put back);
- :mod:`core.training.checks`: argument and data checks with readable messages.
"""

from core.training.callbacks import Callback, EarlyStopping
from core.training.events import STOP_REASONS, TrainEvent
from core.training.guard import TrainingDiverged
from core.training.metrics import CLASSIFICATION_LOSSES, MetricAccumulator
from core.training.trainer import EVAL_BATCH, Trainer

__all__ = ["CLASSIFICATION_LOSSES", "EVAL_BATCH", "STOP_REASONS", "Callback",
           "EarlyStopping", "MetricAccumulator", "TrainEvent", "Trainer", "TrainingDiverged"]
