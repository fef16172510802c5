"""The main window's default dock arrangement, applied on a first start and by View >
Reset layout.

A teacher projects two things: the network on the canvas and what it learns (the
decision boundary in the "Output" dock). So the default gives the canvas the middle, the
Output dock a square at the bottom left of the canvas, the palette a readable column on
the left (with Problems under it), and the Inspector over the Training / Data / Inference
tabs on the right. Loss curves sit next to the Output dock, and the other live views are
tabs beside them, or behind the curves when the window is narrow (presentation fonts).

Docks are found by object name, so panels that are not installed are simply skipped and
docks that this module does not know keep the place they were given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QTabBar

log = logging.getLogger(__name__)

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
H = Qt.Orientation.Horizontal
V = Qt.Orientation.Vertical

#: Each area: a list of stacks (split along the area); a stack is a tab group.
LEFT_STACKS = (("paletteDock",), ("problemsDock",))
RIGHT_STACKS = (("inspectorDock",), ("TrainingDock", "DataDock", "InferenceDock",
                                     "StepthroughDock", "RunsDock"))
BOTTOM_STACKS = (("OutputDock",), ("LosscurvesDock",),
                 ("WeightsDock", "ConfusionDock", "ImagesDock"))
Stacks = tuple[tuple[str, ...], ...]

#: The dock raised in each tab group (the others are one click away).
RAISED = ("TrainingDock", "WeightsDock", "LosscurvesDock")
#: Below this bottom-row width per view the curves share a tab group with the weights.
MIN_VIEW_WIDTH = 300

PALETTE_WIDTH = 250  # pixels at least: names in full, descriptions shortened
LEFT_SHARE = 0.2  # at most this much of the window's width for the palette
PROBLEMS_SHARE = 0.22  # of the left column's height: room for two problems
INSPECTOR_SHARE = 0.36  # of the right column's height
#: At most this much of the window's width for the right column (normal, presentation).
RIGHT_SHARE = (0.3, 0.38)
#: The bottom row's share of the height and its largest height (normal, presentation).
BOTTOM_SHARE = ((0.4, 440), (0.5, 560))


def find_docks(window: QMainWindow, names: Sequence[str]) -> list[QDockWidget]:
    """The window's docks with these object names, in that order (missing ones skipped)."""
    found = {d.objectName(): d for d in window.findChildren(QDockWidget)
             if d.parent() is window}
    return [found[n] for n in names if n in found]


def default_stacks(window: QMainWindow, presentation: bool = False) -> tuple[Stacks, ...]:
    """The stacks of every area that ``apply_default_layout`` would build now."""
    return (LEFT_STACKS, *_stacks(window, presentation))


def apply_default_layout(window: QMainWindow, presentation: bool = False) -> None:
    """Place every known dock where the default arrangement puts it (see module doc).

    Every dock is placed again, so whatever the user dragged around is undone and closed
    docks come back; a tab group is built by tabifying every member onto the group's
    first dock (not in a chain), which leaves fewer stray tab bars behind.
    """
    right, bottom = _stacks(window, presentation)
    for area, stacks, orientation in ((LEFT, LEFT_STACKS, V), (RIGHT, right, V),
                                      (BOTTOM, bottom, H)):
        _place_area(window, area, stacks, orientation)
    for dock in find_docks(window, RAISED):
        dock.raise_()
    window.setCorner(Qt.Corner.BottomLeftCorner, LEFT)
    window.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
    size_default_docks(window, presentation)


def _stacks(window: QMainWindow, presentation: bool) -> tuple[Stacks, Stacks]:
    """(right, bottom) stacks: three bottom columns when each view gets a useful width;
    else Output | the live views as tabs (with presentation fonts the image grid is too
    wide for them and joins the training tabs instead)."""
    free = window.width() - _left_width(window, presentation) - _right_width(window,
                                                                             presentation)
    if free - _bottom_height(window, presentation) >= 2 * MIN_VIEW_WIDTH:
        return RIGHT_STACKS, BOTTOM_STACKS
    views = BOTTOM_STACKS[1] + BOTTOM_STACKS[2]
    if not presentation:
        return RIGHT_STACKS, (BOTTOM_STACKS[0], views)
    right = (RIGHT_STACKS[0], RIGHT_STACKS[1] + views[-1:])  # the widest view, large fonts
    return right, (BOTTOM_STACKS[0], views[:-1])


def _place_area(window: QMainWindow, area: Qt.DockWidgetArea,
                stacks: Sequence[Sequence[str]], orientation: Qt.Orientation) -> None:
    """Dock the stacks side by side along ``area``; Qt moves docks that are docked elsewhere.

    Only closed docks are shown again: calling show() on a dock that waits behind another
    tab would make it visible for a moment, and live views refresh when they appear."""
    groups = [find_docks(window, names) for names in stacks]
    groups = [g for g in groups if g]
    for group in groups:
        for dock in group:
            if dock.isFloating():
                dock.setFloating(False)
    previous: QDockWidget | None = None
    for group in groups:
        first = group[0]
        if previous is None:
            window.addDockWidget(area, first)
        else:
            window.splitDockWidget(previous, first, orientation)
        for dock in group[1:]:
            window.tabifyDockWidget(first, dock)
        for dock in group:
            if not dock.toggleViewAction().isChecked():
                dock.show()
        previous = first


def placed_docks(window: QMainWindow, names: Sequence[str]) -> list[QDockWidget]:
    """Docks with these names that are shown and docked (the ones resizeDocks can size)."""
    return [d for d in find_docks(window, names)
            if not d.isFloating() and d.toggleViewAction().isChecked()]


def size_default_docks(window: QMainWindow, presentation: bool = False) -> None:
    """Sizes of the default arrangement for the window's current size (docks the user
    closed or floated are left alone)."""
    find = placed_docks
    left = find(window, ("paletteDock",))
    right = find(window, ("inspectorDock",))
    widths = ([_left_width(window, presentation)] * len(left)
              + [_right_width(window, presentation)] * len(right))
    window.resizeDocks(left + right, widths, H)
    problems = find(window, ("problemsDock",))
    if left and problems:
        height = _area_height(window)
        share = int(height * PROBLEMS_SHARE)
        window.resizeDocks(left + problems, [height - share, share], V)
    training = find(window, RIGHT_STACKS[1])
    if right and training:
        height = _area_height(window)
        share = int(height * INSPECTOR_SHARE)
        window.resizeDocks([right[0], training[0]], [share, height - share], V)
    output = find(window, ("OutputDock",))
    if output:
        side = _bottom_height(window, presentation)
        window.resizeDocks(output, [side], V)
        groups = [find(window, names) for names in _stacks(window, presentation)[1][1:]]
        others = [group[0] for group in groups if group]
        free = max(window.width() - _left_width(window, presentation)
                   - _right_width(window, presentation) - side, 0)
        each = free // max(len(others), 1)
        if each > 0:
            window.resizeDocks(output + others, [side] + [each] * len(others), H)


def _area_height(window: QMainWindow) -> int:
    """Height left for docks between the menu bar and the status bar."""
    used = window.menuBar().sizeHint().height() + window.statusBar().sizeHint().height()
    return max(window.height() - used, 200)


def _bottom_height(window: QMainWindow, presentation: bool = False) -> int:
    """The bottom row: about 40 % of the window, so the Output dock is a real square;
    half of it in presentation mode, where the large fonts would squeeze the loss and
    accuracy plots to a few lines and a class looks at the views more than the cards."""
    share, most = BOTTOM_SHARE[presentation]
    return int(min(max(_area_height(window) * share, 260), most))


def _left_width(window: QMainWindow, presentation: bool) -> int:
    """The palette column: every layer name in full, at most ``LEFT_SHARE`` of the window."""
    wanted = PALETTE_WIDTH
    for dock in find_docks(window, ("paletteDock",)):
        names_width = getattr(dock.widget(), "names_width", None)
        if callable(names_width):
            wanted = max(wanted, names_width())
    return min(wanted, int(window.width() * LEFT_SHARE))


def _right_width(window: QMainWindow, presentation: bool = False) -> int:
    """Wide enough for the training and data panels without a scroll bar, but never more
    than ``RIGHT_SHARE`` of the window (the canvas comes first)."""
    wanted = 340
    for dock in find_docks(window, ("inspectorDock",) + RIGHT_STACKS[1]):
        wanted = max(wanted, content_width(dock))
    return min(wanted, int(window.width() * RIGHT_SHARE[presentation]))


def content_width(dock: QDockWidget) -> int:
    """The width a dock's content asks for (a scroll area's inner widget, plus its bar)."""
    widget = dock.widget()
    if isinstance(widget, QScrollArea) and widget.widget() is not None:
        bar = widget.verticalScrollBar().sizeHint().width()
        return widget.widget().sizeHint().width() + bar + 2 * widget.frameWidth() + 4
    return widget.sizeHint().width() if widget is not None else 0


def hide_stray_tab_bars(window: QMainWindow) -> int:
    """Hide tab bars left over from intermediate tabifyDockWidget() steps; returns how many.
    The live bars get whole titles (no eliding).

    Qt keeps the tab bar of a two-dock group on screen after a third dock joins the group
    (chained tabify calls), where it floats over a panel. Such a bar lists a strict subset
    of the tabs of a live group's bar, or no tabs at all.
    """
    bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window
            and bar.isVisible()]
    for bar in bars:  # "Loss curves", not "Loss cu…": scroll arrows when space runs out
        bar.setElideMode(Qt.TextElideMode.ElideNone)
        bar.setUsesScrollButtons(True)
    tabs = {bar: [bar.tabText(i) for i in range(bar.count())] for bar in bars}
    hidden = 0
    for bar in bars:
        mine = set(tabs[bar])
        if not mine or any(other is not bar and mine < set(tabs[other]) for other in bars):
            bar.hide()
            hidden += 1
    return hidden


def saved_bytes(settings: QSettings, key: str) -> QByteArray | None:
    """The window geometry or dock state saved under ``key``, or None when there is none or
    it is not what Qt saved (text, a number, a file cut in half, a value edited by hand).

    A damaged value is only logged: the window then starts with the default layout, and
    the next clean exit writes a good one over it.
    """
    value = settings.value(key)
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = QByteArray(bytes(value))
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    log.warning("ignoring the saved %s in %s: not a saved window layout (%s); using the "
                "default layout", key, settings.fileName(), type(value).__name__)
    return None


def restore_window(window: QMainWindow, settings: QSettings, geometry_key: str,
                   state_key: str, version: int) -> tuple[bool, bool]:
    """Restore geometry and dock state from ``settings``; (geometry, state) restored.

    Either is False when nothing usable was saved or Qt refused it (a truncated state);
    the caller then arranges the defaults.
    """
    geometry = saved_bytes(settings, geometry_key)
    state = saved_bytes(settings, state_key)
    geometry_ok = geometry is not None and window.restoreGeometry(geometry)
    state_ok = state is not None and window.restoreState(state, version)
    for key, value, ok in ((geometry_key, geometry, geometry_ok), (state_key, state, state_ok)):
        if value is not None and not ok:
            log.warning("ignoring the saved %s in %s: Qt could not read it; using the "
                        "default layout", key, settings.fileName())
    return geometry_ok, state_ok
