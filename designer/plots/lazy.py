"""A live view's place in its dock, built when first shown or after the first paint.

Building a view's pyqtgraph plots costs 40-300 ms, and at start most views wait behind
another tab (or in a closed dock): building them before the first paint delays the
window for views nobody looks at yet. :class:`LazyView` stands in the dock and the
refresher's list instead: it builds the real view the first time its dock comes on
screen (:meth:`LazyView.follow`), it is refreshed, or it is asked for
(:meth:`LazyView.view`), and :class:`BuildAfterFirstPaint` builds the rest once the
window is painted. The view gets the newest context, and the refresh protocol is passed
on to it from then on.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QVBoxLayout, QWidget

from designer.plots.common import LiveView, apply_plot_style, plot_style
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

__all__ = ["BuildAfterFirstPaint", "LazyView"]

#: About the (size hint, minimum size hint) of each view at a 9 pt font, for the docks
#: laid out before the view exists (the first frame's layout); a test keeps them within
#: 10 % of the real views'. The real ones count from the first paint on.
HINTS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "CurvesView": ((604, 552), (257, 140)), "BoundaryView": ((604, 529), (72, 117)),
    "WeightsView": ((604, 532), (257, 120)), "ConfusionView": ((604, 524), (230, 112)),
    "ImagesView": ((604, 504), (250, 92))}


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
            if self.isVisible():  # now, not when the event loop next runs: it is on screen
                view.show()
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

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self._view is not None:
            return self._view.sizeHint()
        return QSize(*HINTS.get(self.kind.__name__, ((0, 0), (0, 0)))[0])

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self._view is not None:
            return self._view.minimumSizeHint()
        return QSize(*HINTS.get(self.kind.__name__, ((0, 0), (0, 0)))[1])

    # The refresh protocol, passed on once the view exists (an unbuilt view has drawn
    # nothing, so there is nothing to clear, finish or restyle; it is styled when built).
    def set_context(self, context: ViewContext) -> None:
        self._context = context
        if self._view is not None:
            self._view.set_context(context)

    def clear(self) -> None:
        if self._view is not None:
            self._view.clear()

    def is_shown(self) -> bool:
        # The view covers this place once built, so only the view's own region tells.
        return self._view.is_shown() if self._view is not None else super().is_shown()

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        return self.view().refresh(snapshot, curves)

    def finish(self) -> None:
        if self._view is not None:
            self._view.finish()


class BuildAfterFirstPaint(QObject):
    """Builds the places' views that are still waiting once ``window`` has painted its
    first frame (in the next turn of the event loop).

    The first window comes sooner without them, and a moment later every view exists,
    as it did when all were built at start: a view's minimum size (its labels at the
    current font) then counts in the layout of its tab group again, so that docks and
    window keep the sizes they had when every view was built at start.
    """

    def __init__(self, window: QWidget, places: list[LazyView]) -> None:
        super().__init__(window)
        self.window = window
        self.places = places
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and watched is self.window:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self.build_rest)
        return False

    def build_rest(self) -> None:
        """Build every view that is still waiting (none for a window closed meanwhile)."""
        if not self.window.isVisible():
            return
        for place in self.places:
            place.view()
