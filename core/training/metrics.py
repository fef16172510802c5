"""Metrics: running sums for loss, accuracy, MAE and R^2, and the helpers the views and
the command line share (class probabilities, confusion matrix)."""

from __future__ import annotations

import numpy as np

Array = np.ndarray
CLASSIFICATION_LOSSES = frozenset(
    {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"})
#: Losses that compare values; on class data they train against 0/1 or one-hot targets.
SQUARED_ERROR_LOSSES = frozenset({"mse", "mae", "huber"})
TASKS = ("classification", "regression")


def metric_task(loss: str, task: str | None = None) -> str:
    """The task whose metrics a run reports: the data's ``task`` when known (accuracy
    for classes even with mse), else the loss's (mse/mae/huber: regression)."""
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
        return task
    return "classification" if loss in CLASSIFICATION_LOSSES else "regression"


class MetricAccumulator:
    """Running sums from which loss and metrics of many batches follow exactly.

    Classification: accuracy, whatever the loss (a squared-error loss on classes, as in
    the TensorFlow Playground, too): argmax against the class for the categorical
    cross-entropies and for several outputs of mse/mae/huber (Keras'
    ``categorical_accuracy``), else each output above 0.5 against a target above 0.5
    (Keras' ``binary_accuracy``: binary cross-entropy, or one output of mse/mae/huber
    against 0/1 targets).  Regression: MAE and R^2 (R^2 per output column from
    sums of y, y^2 and squared errors, then averaged over columns, as scikit-learn).
    """

    def __init__(self, task: str, loss_name: str) -> None:
        self.task, self.loss_name = task, loss_name
        self.reset()

    def reset(self) -> None:
        self.n = 0
        self.loss_sum = 0.0
        self.correct = 0.0
        self.count = 0
        self.abs_sum = 0.0
        self.sq: Array | None = None  # per column: squared errors, target mean, M2
        self.mean: Array | None = None
        self.m2: Array | None = None
        self.rows = 0

    def add(self, loss: float, pred: Array, target: Array, n: int) -> dict[str, float]:
        """Add one batch (``n`` samples, mean ``loss``); returns that batch's metrics."""
        self.n += n
        self.loss_sum += loss * n
        if self.task == "classification":
            return self._add_classification(pred, target)
        return self._add_regression(pred, target)

    def _add_classification(self, pred: Array, target: Array) -> dict[str, float]:
        t = np.asarray(target)
        if self.loss_name == "sparse_categorical_crossentropy":
            hit = pred.argmax(axis=-1).reshape(-1) == t.reshape(-1)
        elif self.loss_name == "categorical_crossentropy" or (
                self.loss_name in SQUARED_ERROR_LOSSES and pred.shape[-1] > 1):
            hit = pred.argmax(axis=-1) == t.reshape(pred.shape).argmax(axis=-1)
        else:  # binary: every output unit is a yes/no answer (Keras' binary_accuracy)
            hit = (pred > 0.5) == (t.reshape(pred.shape) > 0.5)
        correct, count = float(np.count_nonzero(hit)), int(hit.size)
        self.correct += correct
        self.count += count
        return {"accuracy": correct / max(count, 1)}

    def _add_regression(self, pred: Array, target: Array) -> dict[str, float]:
        # few NumPy calls: with the small batches of the designer, calls cost, not data
        p = pred.reshape(len(pred), -1)
        t = np.asarray(target).reshape(p.shape)
        err = np.subtract(p, t, dtype=np.float64)
        sq = np.add.reduce(err * err, axis=0)
        abs_sum = float(np.add.reduce(np.abs(err, out=err), axis=None))
        nb = len(t)
        mean_b = np.add.reduce(t, axis=0, dtype=np.float64) / nb
        dev = np.subtract(t, mean_b, dtype=np.float64)
        m2_b = np.add.reduce(np.multiply(dev, dev, out=dev), axis=0)
        if self.sq is None:
            self.sq, self.mean, self.m2, self.rows = sq, mean_b, m2_b, nb
        else:  # merge column means and squared deviations (Chan et al.): no cancellation
            delta, total = mean_b - self.mean, self.rows + nb
            self.mean = self.mean + delta * (nb / total)
            self.m2 = self.m2 + m2_b + delta * delta * (self.rows * nb / total)
            self.sq = self.sq + sq
            self.rows = total
        self.abs_sum += abs_sum
        self.count += err.size
        return {"mae": abs_sum / max(err.size, 1), "r2": _r2(sq, m2_b)}

    def result(self) -> tuple[float, dict[str, float]]:
        """(mean loss, metrics) over everything added since the last reset."""
        loss = self.loss_sum / max(self.n, 1)
        if self.count == 0:
            return loss, {}
        if self.task == "classification":
            return loss, {"accuracy": self.correct / self.count}
        return loss, {"mae": self.abs_sum / self.count, "r2": _r2(self.sq, self.m2)}


def _r2(ss_res: Array, ss_tot: Array) -> float:
    """Mean over output columns of 1 - SS_res / SS_tot; a constant column scores 1 if
    fitted exactly, else 0 (scikit-learn's convention)."""
    total = 0.0
    for r, t in zip(ss_res.tolist(), ss_tot.tolist(), strict=True):
        total += 1.0 - r / t if t > 0 else (1.0 if r == 0 else 0.0)
    return total / len(ss_res) if len(ss_res) else 0.0


def class_predictions(outputs: np.ndarray) -> np.ndarray:
    """Class indices from outputs: one sigmoid unit is thresholded at 0.5, else argmax."""
    outputs = np.asarray(outputs).reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return np.argmax(outputs, axis=1)


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """(N, k) class probabilities; one sigmoid unit p becomes the two columns 1-p, p.

    Outputs trained with a squared-error loss on 0/1 or one-hot targets estimate the
    probabilities but a tanh or linear output can step outside [0, 1] (-0.2, 1.1):
    they are clipped into it (sigmoid and softmax outputs never change)."""
    outputs = np.clip(np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1),
                      0.0, 1.0)
    return np.hstack([1.0 - outputs, outputs]) if outputs.shape[1] == 1 else outputs


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j]: samples of true class i predicted as class j."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return counts
