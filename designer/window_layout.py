"""The main window's geometry and dock arrangement over a session: restored at start,
arranged by default on a first start and by View > Reset layout, saved at the end.

``designer.dock_layout`` says where each dock goes; this controller says when. It also
remembers whether the docks are still as the default put them (moving or floating one
ends that), so that a change of fonts (presentation mode) rebuilds a default
arrangement but only resizes one the user made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget

from designer import dock_layout

if TYPE_CHECKING:
    from designer.main_window import MainWindow

STATE_VERSION = 1
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"


class WindowLayoutController(QObject):
    """Restores, arranges, resets and saves ``window``'s geometry and docks."""

    def __init__(self, window: MainWindow, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        geometry_ok, self.layout_restored = dock_layout.restore_window(
            window, settings, GEOMETRY_KEY, STATE_KEY, STATE_VERSION)
        if not geometry_ok:
            self._default_geometry()
        self.default_arrangement = False  # True while the docks are as apply_default_layout
        self._watched_docks: set[str] = set()  # put them (see _customized)
        self._stacks_applied: tuple = ()
        self._first_show = True

    def _default_geometry(self) -> None:
        """First start: the whole screen (maximized), as a projector has no pixel to spare.

        The geometry is set as well as the state, for window managers (or none, as on a
        virtual screen) that ignore the maximized hint. Later starts restore what the last
        session saved."""
        window = self.window
        screen = QApplication.primaryScreen()
        if screen is None:
            window.resize(1400, 860)
            return
        window.setGeometry(screen.availableGeometry())
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)

    def apply_default_layout(self) -> None:
        """The default arrangement (canvas and Output dock large); see designer.dock_layout."""
        window = self.window
        presentation = window.theme()[1]
        self._stacks_applied = dock_layout.default_stacks(window, presentation)
        dock_layout.apply_default_layout(window, presentation)
        for dock in window.findChildren(QDockWidget):  # moving or floating one ends "default"
            if dock.parent() is window and dock.objectName() not in self._watched_docks:
                self._watched_docks.add(dock.objectName())
                dock.dockLocationChanged.connect(self._customized)
                dock.topLevelChanged.connect(self._customized)
        self.default_arrangement = True
        QTimer.singleShot(0, window, self.hide_stray_tab_bars)

    def _customized(self, *_args) -> None:
        self.default_arrangement = False

    def reset_layout(self) -> None:
        """View > Reset layout: every dock back to its default place and size."""
        self.apply_default_layout()
        QTimer.singleShot(0, self.window, self.fit_docks_to_fonts)  # again, once laid out
        self.window.show_message("Panels are back in their default places.")

    def fit_docks_to_fonts(self) -> None:
        """Once the new fonts are laid out: docks sized for their text, then Fit.

        A default arrangement is rebuilt for the new fonts (presentation mode may move a
        wide view into the tabs on the right); one the user changed is only resized."""
        window = self.window
        presentation = window.theme()[1]
        if self.default_arrangement and \
                dock_layout.default_stacks(window, presentation) != self._stacks_applied:
            self.apply_default_layout()
        else:
            dock_layout.size_default_docks(window, presentation)
        window.fit_view()

    def shown(self) -> None:
        """The window was shown: on a first start, arrange the docks once every one
        (training UI too) is added."""
        window = self.window
        if self._first_show:
            self._first_show = False
            if not self.layout_restored:
                if not self.default_arrangement:  # create_window() arranges them before
                    self.apply_default_layout()
                QTimer.singleShot(0, window, self.fit_docks_to_fonts)  # at the final size
        QTimer.singleShot(0, window, self.hide_stray_tab_bars)

    def hide_stray_tab_bars(self) -> None:
        """Hide tab bars that chained tabifyDockWidget() calls leave on screen (Qt bug)."""
        dock_layout.hide_stray_tab_bars(self.window)

    def save(self) -> None:
        """Remember window geometry and the arrangement of every dock."""
        self.settings.setValue(GEOMETRY_KEY, self.window.saveGeometry())
        self.settings.setValue(STATE_KEY, self.window.saveState(STATE_VERSION))
        self.settings.sync()
