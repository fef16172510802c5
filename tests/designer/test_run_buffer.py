"""The snapshot buffer between the training process and the views: bounded curves and
the project file's history."""

from __future__ import annotations

import numpy as np
import pytest

from designer.run.buffer import DecimatedSeries, SnapshotBuffer


def test_decimated_series_keeps_the_mean_and_a_bounded_size():
    series = DecimatedSeries(capacity=8)
    xs = np.arange(1, 101, dtype=float)
    series.extend(xs, 2 * xs)
    x, y = series.arrays()
    assert len(x) <= 8
    assert np.allclose(y, 2 * x)  # averaging pairs of a line stays on the line
    assert x[0] == pytest.approx(np.mean(xs[: series.stride]))


def test_history_round_trip_through_the_buffer():
    buffer = SnapshotBuffer()
    buffer.add_steps([1, 2, 3, 4], [1.0, 0.8, 0.6, 0.5])
    buffer.add_epoch({"epoch": 1.0, "step": 2.0, "loss": 0.9, "accuracy": 0.5})
    buffer.add_epoch({"epoch": 2.0, "step": 4.0, "loss": 0.55, "accuracy": 0.75})
    history = buffer.to_history()
    again = SnapshotBuffer()
    again.load_history(history)
    curves = again.curves()
    assert [e["loss"] for e in curves.epochs] == [0.9, 0.55]
    assert curves.step_loss.tolist() == [1.0, 0.8, 0.6, 0.5]
    assert again.last_step == 4 and again.last_epoch == 2
