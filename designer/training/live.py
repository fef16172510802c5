"""The UI side of the snapshot buffer: one QTimer pulls the newest snapshot and hands
it to the visible views, and passes live weights and neuron maps to the session.

The timer runs at 25 Hz while training and stops when idle, so an idle designer costs
nothing. Per tick the work is bounded: each visible view calls ``setData``/``setImage``
on items it created once; hidden views are skipped. The session's live weights (the
canvas redraws its edges from them) are throttled to ~5 Hz, and further where one
repaint of the canvas costs more than 1/10 of the interval (a slow or busy machine: its
Dense columns, weight lines and neuron maps take tens of ms there), so that the canvas
takes at most ~10 % of a core from training however long its repaints are; it still
updates at least once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from designer.plots.common import LiveView
from designer.run.buffer import SnapshotBuffer
from designer.run.data import ViewContext

REFRESH_MS = 40
DOCUMENT_INTERVAL_S = 0.2
DOCUMENT_MAX_SHARE = 0.1
DOCUMENT_MAX_INTERVAL_S = 1.0


class LiveRefresher(QObject):
    """Pull-based refresh of the live views from a :class:`SnapshotBuffer`."""

    refreshed = Signal()  # the visible views were redrawn from a newer snapshot

    def __init__(self, buffer: SnapshotBuffer, session: Any = None,
                 parent: QObject | None = None,
                 canvas_cost: Callable[[], float] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.session = session
        self.canvas_cost = canvas_cost  # seconds of the canvas' last repaint
        self.clock = clock
        self.views: list[LiveView] = []
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.tick)
        self._version = -1
        self._doc_seq = -1
        self._doc_maps: Any = None  # the neuron maps last given to the session
        self._doc_time = 0.0
        self._last_drawn: dict[int, float] = {}

    def add_view(self, view: LiveView) -> None:
        """Register a view (created once; refreshed while visible)."""
        self.views.append(view)

    def set_context(self, context: ViewContext) -> None:
        """New data/network: every view rebuilds what depends on it."""
        for view in self.views:
            view.set_context(context)
        self._version = -1

    def clear(self) -> None:
        """Reset weights: forget what was drawn."""
        for view in self.views:
            view.clear()
        self._version = -1

    def start(self) -> None:
        """Begin ticking (training started)."""
        if not self.timer.isActive():
            self.timer.start()

    def stop(self) -> None:
        """Stop ticking after one last full refresh (training ended)."""
        self.timer.stop()
        self.tick(final=True)

    def tick(self, final: bool = False) -> None:
        """Refresh the visible views from the newest snapshot if anything changed."""
        version = self.buffer.version
        if version == self._version and not final:
            return
        self._version = version
        drawn = self._refresh_views(final)
        self._push_to_session(self.buffer.latest(), final)
        if drawn:
            self.refreshed.emit()

    def _refresh_views(self, final: bool) -> bool:
        """Update the due views (Qt paints them after this tick)."""
        snapshot = self.buffer.latest()
        now = self.clock()
        due = [v for v in self.views if v.is_shown() and (
            final or now - self._last_drawn.get(id(v), 0.0) >= v.min_interval_s)]
        curves = self.buffer.curves() if any(v.wants_curves for v in due) else None
        drawn = False
        for view in due:
            if view.refresh(snapshot, curves):
                drawn = True
                self._last_drawn[id(view)] = now
            if final:
                view.finish()
        return drawn

    def document_interval(self) -> float:
        """Seconds between the canvas' training updates: 0.2, longer when one repaint
        of the canvas costs more than a tenth of that (at most 1 s)."""
        cost = self.canvas_cost() if self.canvas_cost is not None else 0.0
        return min(DOCUMENT_MAX_INTERVAL_S, max(DOCUMENT_INTERVAL_S, cost / DOCUMENT_MAX_SHARE))

    def _push_to_session(self, snapshot: Any, final: bool) -> None:
        """Live weights and neuron maps to the session for the canvas (~5 Hz)."""
        if self.session is None or snapshot is None or snapshot.params is None:
            return
        now = self.clock()
        if not final and now - self._doc_time < self.document_interval():
            return
        self._doc_time = now
        if snapshot.seq != self._doc_seq and not final:
            self._doc_seq = snapshot.seq
            self.session.set_live_weights(snapshot.weights())
        # new maps come with every other grid or so: a new grid alone is no news here
        if snapshot.neuron_maps and snapshot.neuron_maps is not self._doc_maps:
            self._doc_maps = snapshot.neuron_maps
            self.session.set_neuron_maps(snapshot.neuron_maps)
