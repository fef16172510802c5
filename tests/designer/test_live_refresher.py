"""The refresher: the canvas gets new neuron maps only, at a rate bounded by what its
repaints cost (a fake clock; nothing is timed)."""

from __future__ import annotations

import numpy as np
import pytest

from designer.run.buffer import SnapshotBuffer
from designer.run.protocol import Snapshot
from designer.training.live import LiveRefresher


class Session:
    """The two calls the refresher makes on the document's session."""

    def __init__(self) -> None:
        self.maps: list[dict] = []
        self.weights = 0

    def set_live_weights(self, weights: dict) -> None:
        self.weights += 1

    def set_neuron_maps(self, maps: dict) -> None:
        self.maps.append(maps)


def _snapshot(seq: int, grid_seq: int, maps: dict) -> Snapshot:
    return Snapshot(seq=seq, epoch=0, step=seq, samples_seen=seq, samples_per_s=0.0,
                    elapsed_s=0.0, lr=0.1, loss=1.0, params=np.zeros(1), refs=(),
                    grid=np.zeros((2, 2, 1)), grid_seq=grid_seq, neuron_maps=maps)


def test_a_new_grid_with_the_same_maps_does_not_redraw_the_neurons(qapp):
    buffer, session = SnapshotBuffer(), Session()
    refresher = LiveRefresher(buffer, session)
    first = {"h": np.zeros((2, 2, 2), np.float32)}
    buffer.publish(_snapshot(1, 1, first))
    refresher.tick(final=True)
    buffer.publish(_snapshot(2, 2, first))  # a new grid; the maps as they were
    refresher.tick(final=True)
    assert session.maps == [first]
    second = {"h": np.ones((2, 2, 2), np.float32)}
    buffer.publish(_snapshot(3, 3, second))
    refresher.tick(final=True)
    assert session.maps == [first, second]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("paint_s", "most"), [(0.005, 10 / 0.2), (0.05, 10 / 0.5),
                                               (0.5, 10 / 1.0)])
def test_the_canvas_updates_at_most_every_0_2_s_or_ten_times_its_repaint(qapp, paint_s,
                                                                        most):
    """10 simulated seconds of new snapshots every 40 ms: the canvas gets the weights
    every 0.2 s when its repaint is cheap, every 10 repaints' time when it is not (it
    takes ~10 % of a core), and at least once a second."""
    clock, buffer, session = Clock(), SnapshotBuffer(), Session()
    refresher = LiveRefresher(buffer, session, canvas_cost=lambda: paint_s, clock=clock)
    for seq in range(1, 251):
        clock.now += 0.04
        buffer.publish(_snapshot(seq, seq, {}))
        refresher.tick()
    assert most - 2 <= session.weights <= most + 1
