"""The window's arrangement and looks: the default dock layout, what is remembered, damaged
settings, themes and presentation mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from bare_window import (  # noqa: F401 - fixtures, used by name
    action,
    boxes,
    make_window,
    no_leaked_windows,
    settings,
    window,
)
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QLabel

from designer import app as designer_app
from designer.main_window import MainWindow
from designer.menus import menu_actions


def test_themes_and_presentation_mode(window, qapp):
    from designer.themes import FONT_POINTS
    base = qapp.palette().color(qapp.palette().ColorRole.Window).lightness()
    action(window, "theme_dark").trigger()
    assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < base
    assert window.scene.style.name == "dark"
    action(window, "presentation").trigger()
    assert qapp.font().pointSizeF() == FONT_POINTS[1]
    assert window.scene.style.is_presentation
    action(window, "theme_light").trigger()
    action(window, "presentation").trigger()
    assert qapp.font().pointSizeF() == FONT_POINTS[0]
    assert window.scene.style.name == "light"
    assert window.settings.value("view/theme") == "light"


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("presentation", [False, True])
def test_disabled_controls_look_disabled_in_every_theme(theme, presentation):
    """A disabled button's text is far from the enabled text (lightness) but readable."""
    from designer.themes import build_palette
    palette = build_palette(theme, presentation)
    role, group = palette.ColorRole, palette.ColorGroup
    text = palette.color(group.Active, role.ButtonText).lightness()
    off = palette.color(group.Disabled, role.ButtonText).lightness()
    button = palette.color(group.Active, role.Button).lightness()
    assert abs(text - off) >= 80, (text, off)
    assert abs(off - button) >= 60, (off, button)


def test_dock_layout_and_geometry_are_remembered(make_window, settings, qtbot):
    first = make_window()
    extra = QDockWidget("Training")
    extra.setWidget(QLabel("curves"))
    first.add_panel(extra, Qt.DockWidgetArea.BottomDockWidgetArea)
    assert extra.toggleViewAction() in first.panels_menu.actions()
    first.problems_dock.hide()
    first.resize(1111, 777)
    first.close()
    assert settings.value("window/state") is not None
    second = make_window()
    assert not second.problems_dock.isVisible()
    assert second.inspector_dock.isVisible()
    later = QDockWidget("Training")
    later.setWidget(QLabel("curves"))
    second.add_panel(later, Qt.DockWidgetArea.RightDockWidgetArea)
    assert second.dockWidgetArea(later) == Qt.DockWidgetArea.BottomDockWidgetArea


@pytest.mark.parametrize("how", ["text", "a number", "cut in half"])
def test_damaged_window_settings_start_with_the_default_layout(make_window, tmp_path, boxes,
                                                               caplog, how):
    path = damaged_settings(tmp_path, how)
    caplog.set_level("WARNING")
    window = make_window(settings=QSettings(str(path), QSettings.Format.IniFormat))
    assert not window.layout_restored and window.default_arrangement
    assert window.palette_dock.isVisible() and window.inspector_dock.isVisible()
    assert boxes.shown == []  # nothing alarming on screen
    assert "default layout" in caplog.text
    window.close()  # the next exit writes good values over the damaged ones
    again = make_window(settings=QSettings(str(path), QSettings.Format.IniFormat))
    assert again.layout_restored


def test_first_start_is_maximized_and_later_starts_restore(settings, qtbot, boxes, monkeypatch):
    monkeypatch.setattr(designer_app, "install_training_ui", lambda window: None)
    first = designer_app.create_window(settings=settings, offer_recovery=False)
    assert first.isMaximized() or first.windowState() & Qt.WindowState.WindowMaximized
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.show()
    first.resize(700, 500)
    qtbot.wait(10)
    first.close()
    second = designer_app.create_window(settings=settings, offer_recovery=False)
    assert not second.windowState() & Qt.WindowState.WindowMaximized
    assert second.size().toTuple() == (700, 500)
    second.show()
    second.close()
    first.deleteLater()
    second.deleteLater()


def test_default_layout_gives_the_output_dock_a_real_square(full_window, qtbot):
    window = full_window
    window.reset_layout()
    qtbot.wait(20)
    output = window.training_ui.docks["Output"]
    size = output.widget().size()
    assert output.isVisible() and not output.isFloating()
    assert size.width() >= 250 and size.height() >= 250, size
    assert 0.75 < size.width() / size.height() < 1.35  # square-ish, not a sliver
    assert window.dockWidgetArea(output) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.palette_dock.width() >= max(210, window.palette.names_width())  # in full
    assert window.size().toTuple() == (1600, 1000)  # no dock minimum forced it wider
    assert window.view.width() >= 700 and window.view.height() >= 500
    training = window.training_ui.docks["Training"]
    assert training.width() >= 380
    assert visible_tab_bars(window) == [["Loss curves", "Weights", "Confusion", "Images"],
                                        ["Training", "Data", "Inference", "Step through",
                                         "Runs"]]


def test_reset_layout_puts_moved_docks_back(full_window, qtbot):
    window = full_window
    output = window.training_ui.docks["Output"]
    assert window.default_arrangement
    output.setFloating(True)
    assert not window.default_arrangement  # presentation mode will not rebuild it now
    window.problems_dock.hide()
    window.tabifyDockWidget(window.inspector_dock, window.palette_dock)
    assert "reset_layout" in [a.objectName() for a in menu_actions(window)]
    action(window, "reset_layout").trigger()
    qtbot.wait(20)
    assert not output.isFloating() and window.problems_dock.isVisible()
    assert window.dockWidgetArea(window.palette_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.tabifiedDockWidgets(window.palette_dock) == []
    assert output.widget().width() >= 250 and output.widget().height() >= 250
    assert window.default_arrangement


def test_presentation_at_1500_px_fits_the_training_panel(full_window, qtbot):
    window = full_window
    window.resize(1500, 950)
    action(window, "presentation").trigger()
    for reset in (False, True):  # as toggled, and as View > Reset layout arranges it
        if reset:
            window.reset_layout()
        qtbot.wait(30)
        training = window.training_ui.docks["Training"].widget()
        inner = training.widget()
        assert inner.width() >= inner.minimumSizeHint().width()
        assert not training.horizontalScrollBar().isVisible()  # nothing clipped at the side
        output = window.training_ui.docks["Output"].widget()
        assert output.width() >= 250 and output.height() >= 250
        assert window.width() == 1500  # no dock minimum forces the window wider
        # large fonts: the bottom row (views) takes about half the height, not 40 %
        assert window.training_ui.docks["Output"].height() >= 0.45 * window.height()
    action(window, "presentation").trigger()


@pytest.fixture
def full_window(qtbot, settings, boxes):
    """A window with the real training UI, 1600 x 1000 as on a projector's screen."""
    window = designer_app.create_window(settings=settings, offer_recovery=False)
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.show()
    window.resize(1600, 1000)
    qtbot.waitExposed(window)
    qtbot.wait(20)
    yield window
    window.editor.undo_stack.setClean()
    window.close()
    window.deleteLater()
    qtbot.wait(1)


def damaged_settings(tmp_path: Path, how: str) -> Path:
    """A settings file whose window geometry and state are text, a number, or whose file
    was cut in half (as a full disk or a crash while writing leaves it)."""
    path = tmp_path / "damaged.ini"
    if how == "cut in half":
        good = QSettings(str(path), QSettings.Format.IniFormat)
        window = MainWindow(settings=good)
        window.save_settings()
        window.deleteLater()
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        value = {"text": "hello world", "a number": "42"}[how]
        path.write_text(f"[window]\ngeometry={value}\nstate={value}\n", encoding="utf-8")
    return path


def visible_tab_bars(window) -> list[list[str]]:
    from PySide6.QtWidgets import QTabBar
    return sorted([bar.tabText(i) for i in range(bar.count())]
                  for bar in window.findChildren(QTabBar)
                  if bar.parent() is window and bar.isVisible())


@pytest.mark.parametrize("size", [(1600, 1000), (1920, 1080)])
def test_no_live_view_is_cut_off_at_the_side(full_window, qtbot, size):
    """Every plot of every live view fits its canvas's width, also with presentation
    fonts: a long title (the Weights view's kernel title) made pyqtgraph's layout wider
    than the dock at 1920x1080, and Qt cut off the histograms on its right."""
    import pyqtgraph as pg
    window = full_window
    window.resize(*size)
    for presentation in (False, True):
        if presentation:
            action(window, "presentation").trigger()
        for name in ("Weights", "Loss curves"):
            dock = window.training_ui.docks[name]
            dock.show()
            dock.raise_()
        qtbot.wait(50)
        for canvas in window.findChildren(pg.GraphicsLayoutWidget):
            if not canvas.isVisible():
                continue
            width = canvas.viewport().width()
            assert canvas.ci.geometry().width() <= width + 1, (canvas.parent(), width)
            for item in canvas.ci.items:
                title = getattr(item, "titleLabel", None)
                if title is not None and title.isVisible() and title.text:
                    text_width = title.item.boundingRect().width()
                    assert text_width <= title.width() + 1, (title.text, presentation)
    action(window, "presentation").trigger()
