"""Live views behind another tab are built when their tab is first shown or right after
the window's first paint, not before it."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from designer.plots.common import plot_style
from designer.plots.confusion import ConfusionView
from designer.plots.lazy import LazyView
from designer.run.data import ViewContext
from designer.training.docks import VIEW_KINDS


def test_the_first_paint_comes_before_the_views_behind_a_tab(qtbot, window):
    lazy = window.training_ui.lazy  # shown, but no event has run: nothing painted yet
    assert lazy["boundary"].is_built  # the Output dock is on screen
    assert not lazy["confusion"].is_built and not lazy["images"].is_built
    assert window.findChildren(ConfusionView) == []

    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: all(place.is_built for place in lazy.values()))
    view = window.findChildren(ConfusionView)[0]
    assert view.parent() is lazy["confusion"]
    assert window.training_ui.docks["Confusion"].widget() is lazy["confusion"]
    assert view._n == 2  # the spiral's context reached the view built after it
    axis = view.plot.getAxis("left")
    assert axis.style["tickFont"].pixelSize() == plot_style().font_px  # styled too


def test_a_view_is_built_when_its_tab_is_raised(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    places = [LazyView(ConfusionView), LazyView(ConfusionView)]
    docks = [QDockWidget(title, window) for title in ("A", "B")]
    for dock, place in zip(docks, places, strict=True):
        dock.setWidget(place)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        place.follow(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    docks[0].raise_()
    window.show()
    qtbot.waitExposed(window)
    assert places[0].is_built and not places[1].is_built
    docks[1].raise_()
    qtbot.waitUntil(lambda: places[1].is_built)
    assert places[1].view().parent() is places[1]


def test_a_closed_dock_in_a_restored_layout_waits_for_the_first_paint(qtbot, make_window,
                                                                     tmp_path):
    first = make_window()
    qtbot.waitExposed(first)
    first.training_ui.docks["Output"].close()
    first.save_settings()
    first.settings.sync()
    # The next window reads the same settings (make_window numbers its files).
    shutil.copy(tmp_path / "settings0.ini", tmp_path / "settings1.ini")

    second = make_window()
    assert second.layout_restored
    ui = second.training_ui
    assert not ui.docks["Output"].isVisible() and not ui.lazy["boundary"].is_built
    qtbot.waitExposed(second)
    qtbot.waitUntil(lambda: ui.lazy["boundary"].is_built)
    ui.docks["Output"].show()  # a closed dock opened again (View > Panels)
    assert ui.lesson_bar.loss_label.parent() is ui.boundary  # its losses above the plane


def test_a_lazy_view_gets_the_newest_context_and_waiting_actions(qtbot):
    place = LazyView(ConfusionView)
    qtbot.addWidget(place)
    seen: list = []
    place.when_built(seen.append)
    place.set_context(ViewContext(task="classification", class_names=["a", "b", "c"]))
    assert seen == [] and not place.is_built
    view = place.view()
    assert seen == [view] and view._n == 3
    place.when_built(seen.append)  # already built: at once
    assert seen == [view, view] and place.view() is view


@pytest.mark.parametrize("kind", list(VIEW_KINDS.values()), ids=list(VIEW_KINDS))
def test_a_waiting_place_asks_about_the_size_of_its_view(qtbot, kind):
    """The first layout is made before the views behind tabs exist: their places ask
    for about the room the views will (the fonts of a machine move it a little)."""
    place = LazyView(kind)
    qtbot.addWidget(place)
    view = kind()
    qtbot.addWidget(view)
    for wanted, real in ((place.sizeHint(), view.sizeHint()),
                         (place.minimumSizeHint(), view.minimumSizeHint())):
        assert abs(wanted.width() - real.width()) <= 0.1 * real.width(), kind
        assert abs(wanted.height() - real.height()) <= 0.1 * real.height(), kind
