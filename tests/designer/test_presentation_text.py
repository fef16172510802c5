"""Presentation mode reads from the back of a classroom: every text a class sees (panels,
dock titles, menus, status bar, lesson bar) is at least 18 px, the epoch and the loss
larger, on a window started in the mode and through live switches both ways, and the
window still fits a 1920x1080 projector."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont, QFontInfo, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTabBar,
    QWidget,
)

from designer import app as designer_app
from designer.panels.palette import _EntryDelegate
from designer.presentation import (
    EMPHASIS,
    FONT_POINTS,
    MIN_TEXT_PT,
    MIN_TEXT_PX,
    SETTINGS_KEY,
    secondary_font,
)

TEXT_WIDGETS = (QLabel, QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QTabBar,
                QAbstractItemView, QDockWidget, QMenuBar)
#: Normal mode's 10 pt are 13 px at 96 dpi; presentation text must be well above it.
NORMAL_PX = 14


def px(widget: QWidget) -> int:
    """The pixel size a widget's text is drawn at."""
    return QFontInfo(widget.font()).pixelSize()


def texts_in_sight(window) -> dict[str, int]:
    """Pixel size of every text-bearing widget a class sees, and of every menu (shown
    when opened), by a name that says where it is."""
    found = {}
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QMenu):
            found[f"menu {widget.title()}"] = px(widget)
        elif (isinstance(widget, TEXT_WIDGETS) and widget.isVisible()
                and not widget.visibleRegion().isEmpty()):
            text = getattr(widget, "text", None)
            label = text() if callable(text) else widget.windowTitle()
            found[f"{type(widget).__name__} {widget.objectName()} {label!r:.30}"] = px(widget)
    return found


def title_ink_height(dock: QDockWidget) -> int:
    """Height in pixels of the dock title's drawn text (the left half of its title bar,
    away from the float and close buttons)."""
    bar = dock.widget().geometry().top()
    image = dock.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    background = image.pixelColor(2, 2).lightness()
    rows = [y for y in range(bar) if any(
        abs(image.pixelColor(x, y).lightness() - background) > 100
        for x in range(4, dock.width() // 2))]
    rows = [y for y in rows if y < bar - 3]  # not the border under the title
    return rows[-1] - rows[0] + 1 if rows else 0


def start_without_a_stylesheet(app: QApplication) -> None:
    """The application as a real start has it: no stylesheet yet, the platform's font.
    (Earlier tests left theirs; the first theme of a window lands on this state.)"""
    app.setStyleSheet("")
    base = app.property("annDesignerBaseFont")
    if isinstance(base, QFont):
        app.setFont(base)
    app.processEvents()


@pytest.fixture
def projector(qtbot, tmp_path, qapp):
    """A window started in presentation mode, 1920x1080 like a classroom projector."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SETTINGS_KEY, True)
    start_without_a_stylesheet(qapp)
    window = designer_app.create_window(settings=settings, offer_recovery=False)
    window.setWindowState(Qt.WindowState.WindowNoState)  # not the test screen's size
    window.setFixedSize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    yield window
    window.session.mark_clean()
    window.close()
    window.deleteLater()
    qtbot.wait(1)


def switch(window, qtbot, on: bool) -> None:
    assert window.theme()[1] != on
    window.actions_by_name["presentation"].trigger()
    qtbot.wait(50)  # the docks settle on the new fonts


def test_started_in_presentation_mode_every_text_is_18_px(projector, qtbot):
    """The palette, inspector, problems, menus and status bar were 12 px in a window
    started in the mode (the training docks, made later, were 20 px)."""
    texts = texts_in_sight(projector)
    for must in ("Layers", "Inspector", "Problems", "Training", "Output"):
        assert any(must in where for where in texts), must
    small = {where: size for where, size in texts.items() if size < MIN_TEXT_PX}
    assert not small, small
    for widget in (projector.palette.tree, projector.inspector, projector.problems,
                   projector.statusBar(), projector.menuBar()):
        assert px(widget) >= MIN_TEXT_PX, widget
    description = _EntryDelegate.description_font(projector.palette.tree.font())
    assert description.pointSizeF() >= MIN_TEXT_PT  # not 17.6 px rounded up to 18


def test_switching_off_and_on_again_follows_live(projector, qtbot):
    panel = projector.training_ui.training_panel
    bar = projector.training_ui.lesson_bar
    docks = [projector.palette_dock, projector.inspector_dock,
             projector.training_ui.docks["Output"]]
    big_titles = [title_ink_height(dock) for dock in docks]
    switch(projector, qtbot, False)
    texts = texts_in_sight(projector)
    headings = ("lessonLosses", "inspectorTitle")  # larger than the text in both modes
    large = {where: size for where, size in texts.items()
             if size > NORMAL_PX and not any(h in where for h in headings)}
    assert not large, large
    normal_px = px(projector.palette.tree)
    assert px(panel.epoch_label) == px(panel.loss_label) == normal_px  # no emphasis
    assert px(bar.loss_label) >= 1.4 * normal_px  # the lesson bar's losses, as before
    small_titles = [title_ink_height(dock) for dock in docks]
    for big, small in zip(big_titles, small_titles, strict=True):
        assert big >= 1.3 * small > 0, (big_titles, small_titles)

    switch(projector, qtbot, True)
    small = {where: size for where, size in texts_in_sight(projector).items()
             if size < MIN_TEXT_PX}
    assert not small, small
    assert [title_ink_height(dock) for dock in docks] == big_titles
    body = px(projector.palette.tree)
    assert body >= MIN_TEXT_PX
    for figure in (panel.epoch_label, panel.loss_label):  # what a class watches
        assert px(figure) >= round(EMPHASIS["value"] * body) - 1
        assert figure.font().bold()
    assert px(bar.loss_label) >= 1.4 * body


def test_at_1920x1080_the_larger_text_still_fits(projector, qtbot):
    """Names in the palette in full, the counters' widest text, the lesson bar's
    controls and the status bar's figures are not cut, and no dock scrolls sideways."""
    window = projector
    qtbot.wait(200)
    assert window.palette_dock.width() >= window.palette.names_width()
    panel = window.training_ui.training_panel
    for label, widest in ((panel.epoch_label, "Epoch 00000 / 00000"),
                          (panel.loss_label, "Loss 0.00000")):  # shown once training runs
        assert label.sizeHint().width() >= label.fontMetrics().horizontalAdvance(widest)
    training = window.training_ui.docks["Training"].widget()
    assert panel.counters.sizeHint().width() <= training.viewport().width()
    bar = window.training_ui.lesson_bar
    for action in bar.actions():
        widget = bar.widgetForAction(action)
        if widget is not None and not action.isSeparator():
            assert widget.isVisible(), widget  # not moved behind the toolbar's >> menu
    for label in window.statusBar().findChildren(QLabel):
        if label.isVisible() and label.text():
            assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
    assert not training.horizontalScrollBar().isVisible()
    assert window.width() == 1920


def test_secondary_text_never_drops_below_18_px_on_a_projector():
    for points, floor in ((FONT_POINTS[0], 8), (FONT_POINTS[1], MIN_TEXT_PX)):
        font = QFont()
        font.setPointSizeF(points)
        small = secondary_font(font)
        assert small.pointSizeF() < points
        assert small.pointSizeF() * 96 / 72 >= floor
    pixel = QFont()
    pixel.setPixelSize(20)
    assert secondary_font(pixel).pixelSize() >= MIN_TEXT_PX
