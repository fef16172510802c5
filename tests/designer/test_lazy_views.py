"""Live views behind another tab are built when their tab is first shown, not at start."""

from __future__ import annotations

import shutil

from designer.plots.confusion import ConfusionView
from designer.plots.images import ImagesView
from designer.plots.lazy import LazyView
from designer.run.data import ViewContext

TITLES = {"boundary": "Output", "curves": "Loss curves", "weights": "Weights",
          "confusion": "Confusion", "images": "Images"}


def built(window, kind) -> list:
    return window.findChildren(kind)


def test_views_behind_a_tab_are_built_when_their_tab_is_shown(qtbot, window):
    qtbot.waitExposed(window)
    ui = window.training_ui
    lazy = ui.lazy
    assert lazy["boundary"].is_built  # the Output dock is on screen at start
    assert not lazy["confusion"].is_built and not lazy["images"].is_built
    assert built(window, ConfusionView) == [] and built(window, ImagesView) == []

    ui.docks["Confusion"].raise_()
    qtbot.waitUntil(lambda: lazy["confusion"].is_built)
    view = built(window, ConfusionView)[0]
    assert view.parent() is lazy["confusion"]
    assert ui.docks["Confusion"].widget() is lazy["confusion"]  # the dock keeps its place
    assert view._n == 2  # the spiral's context reached the view built after it
    assert not lazy["images"].is_built

    assert isinstance(ui.images, ImagesView)  # asking for a view builds it too
    assert lazy["images"].is_built and ui.images is ui.images


def test_a_restored_layout_builds_only_the_views_on_screen(qtbot, make_window, tmp_path):
    first = make_window()
    qtbot.waitExposed(first)
    first.training_ui.docks["Output"].close()
    first.save_settings()
    first.settings.sync()
    # The next window reads the same settings (make_window numbers its files).
    shutil.copy(tmp_path / "settings0.ini", tmp_path / "settings1.ini")

    second = make_window()
    assert second.layout_restored
    qtbot.waitExposed(second)
    ui = second.training_ui
    assert not ui.docks["Output"].isVisible() and ui.docks["Loss curves"].isVisible()
    qtbot.wait(50)
    # Qt keeps a dock that waits behind another tab shown, but off screen.
    on_screen = {name for name, title in TITLES.items()
                 if ui.docks[title].isVisible() and ui.docks[title].geometry().x() >= 0}
    assert on_screen and "boundary" not in on_screen
    assert {name for name, place in ui.lazy.items() if place.is_built} == on_screen

    ui.docks["Output"].show()  # a closed dock opened again (View > Panels)
    qtbot.waitUntil(lambda: ui.lazy["boundary"].is_built)
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
