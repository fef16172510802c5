"""A live view's place in its dock, built when first shown.

Building a view's pyqtgraph plots costs 40-300 ms; at start most
views wait behind another tab (or in a closed dock), so building them all would delay
the first window for views nobody looks at yet. :class:`LazyView` stands in the dock
and the refresher's list instead: it builds the real view the first time its dock comes
on screen (:meth:`LazyView.follow`), it is refreshed, or it is asked for
(:meth:`LazyView.view`), hands it the newest context, and passes the refresh
protocol on to it from then on.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QVBoxLayout

from designer.plots.common import LiveView, apply_plot_style, plot_style
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

__all__ = ["LazyView"]


class LazyView(LiveView):
    """Holds the place of a view of class ``kind`` and builds it on first show or use."""

    built = Signal(object)  # the real view, once, right after it was built

    def __init__(self, kind: type[LiveView], parent=None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.wants_curves = kind.wants_curves
        self.min_interval_s = kind.min_interval_s
        self._view: LiveView | None = None
        self._context: ViewContext | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def is_built(self) -> bool:
        """True once the real view exists."""
        return self._view is not None

    def view(self) -> LiveView:
        """The real view, built now if it was not yet (with the newest context)."""
        if self._view is None:
            view = self.kind()
            # As a theme change styles the views that exist (axes added after add_plot too).
            apply_plot_style(plot_style(), [view])
            view.restyle()
            self.layout().addWidget(view)
            self._view = view
            if self._context is not None:
                view.set_context(self._context)
            self.built.emit(view)
        return self._view

    def when_built(self, action: Callable[[LiveView], object]) -> None:
        """Call ``action(view)`` now if the view exists, else right after it is built."""
        if self._view is not None:
            action(self._view)
        else:
            self.built.connect(action, Qt.ConnectionType.SingleShotConnection)

    def follow(self, dock: QDockWidget) -> None:
        """Build the view when ``dock`` (which holds this place) first comes on screen.

        The dock's ``visibilityChanged`` tells: it is False for a dock waiting behind
        another tab, which Qt still shows (off screen), so ``showEvent`` would not do."""
        def visible(shown: bool) -> None:
            if shown:
                self.view()

        dock.visibilityChanged.connect(visible)

    # The refresh protocol, passed on once the view exists (an unbuilt view has drawn
    # nothing, so there is nothing to clear, finish or restyle; it is styled when built).
    def set_context(self, context: ViewContext) -> None:
        self._context = context
        if self._view is not None:
            self._view.set_context(context)

    def clear(self) -> None:
        if self._view is not None:
            self._view.clear()

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        return self.view().refresh(snapshot, curves)

    def finish(self) -> None:
        if self._view is not None:
            self._view.finish()
