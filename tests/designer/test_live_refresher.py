"""The refresher hands the canvas new neuron maps, not the same maps again."""

from __future__ import annotations

import numpy as np

from designer.run.buffer import SnapshotBuffer
from designer.run.protocol import Snapshot
from designer.training.live import LiveRefresher


class Session:
    """The two calls the refresher makes on the document's session."""

    def __init__(self) -> None:
        self.maps: list[dict] = []

    def set_live_weights(self, weights: dict) -> None:
        pass

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
