"""The main window: the canvas in the middle, palette / inspector / problems docks, menus.

The window owns no network state: it holds the `Session` (the open project: its
`document`, the single source of truth, and its `editor`), the scene that mirrors the
document, and the panels that read from it.  It wires them to the menus and shortcuts,
the title and status bar and the themes; the rest is done by controllers of its own:
files (`FileController`), file drops (`FileDropController`), the remembered dock layout
and window geometry (`WindowLayoutController`) and crash recovery (`AutosaveController`).

Seams for the training UI: `add_panel(dock, area)` adds a dock that is remembered like the
others; `data_file_importer` (a callable taking a path) imports dropped `.csv` files; the
`closing` signal fires once the user agreed to close, so that training can be stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from designer import presentation as presentation_mode
from designer import recovery as rec
from designer.autosave import AutosaveController, default_recovery_store
from designer.canvas import neuron_view
from designer.canvas.scene import CanvasScene
from designer.canvas.view import CanvasView
from designer.dialogs import ABOUT_HTML, ShortcutsDialog
from designer.editor import lock_message
from designer.file_drops import FileDropController
from designer.files import FileController
from designer.menus import APP_NAME, build_actions, build_menus
from designer.panels.inspector import InspectorPanel
from designer.panels.palette import NEURON, LayerPalette
from designer.panels.problems import ProblemsPanel
from designer.session import Session
from designer.status_bar import DocumentStatus
from designer.themes import THEMES, apply_theme
from designer.window_layout import WindowLayoutController

THEME_KEY = "view/theme"
#: Networks of at most this many layers of at most this many units open in the neuron view.
SMALL_LAYERS, SMALL_LAYER = 8, 16
PRESENTATION_KEY = presentation_mode.SETTINGS_KEY
PALETTE_MIN_WIDTH = 210
MESSAGE_MS = 6000


class MainWindow(QMainWindow):
    """ANN Designer's window; see the module docstring for what it is responsible for."""

    closing = Signal()
    themeApplied = Signal()  # the canvas got a new style (theme or presentation mode)
    themeChanged = Signal(str, bool)  # theme name, presentation mode (for the plots)

    def __init__(self, session: Session | None = None, settings: QSettings | None = None,
                 recovery: rec.RecoveryStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.session = session if session is not None else Session(parent=self)
        self.document = self.session.document
        self.editor = self.session.editor
        self.data_file_importer: Callable[[str], object] | None = None
        self.scene = CanvasScene(self.session, parent=self)
        self.view = CanvasView(self.scene, self)
        self.view.setObjectName("canvasView")
        self.setCentralWidget(self.view)
        self.files = FileController(self, self.session, self.settings)
        self.autosaver = AutosaveController(
            self, self.session, recovery if recovery is not None else default_recovery_store())
        self.actions_by_name: dict[str, QAction] = {}
        self._build_docks()
        build_actions(self)
        build_menus(self)
        self.status = DocumentStatus(self.statusBar(), self.session)
        self._connect_session()
        self.drops = FileDropController(self)
        self.window_layout = WindowLayoutController(self, self.settings)
        self._apply_theme()
        self._small_in_neuron_view()
        self._ending_session = False  # logout/shutdown: close without asking
        self._update_title()

    # ================================================================== building
    def _build_docks(self) -> None:
        self.palette = LayerPalette(parent=self)
        self.palette.layerActivated.connect(self.add_layer_from_palette)
        self.inspector = InspectorPanel(self.editor, parent=self)
        self.problems = ProblemsPanel(self.document, parent=self)
        self.problems.nodesActivated.connect(self.show_nodes)
        self.palette_dock = self._dock("Layers", "paletteDock", self.palette)
        self.palette_dock.setMinimumWidth(PALETTE_MIN_WIDTH)  # names, not "L..." and "De"
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector)
        self.problems_dock = self._dock("Problems", "problemsDock", self.problems)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.splitDockWidget(self.palette_dock, self.problems_dock, Qt.Orientation.Vertical)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _connect_session(self) -> None:
        session = self.session
        stack = self.editor.undo_stack
        self.actions_by_name["undo"].setEnabled(stack.canUndo())
        self.actions_by_name["redo"].setEnabled(stack.canRedo())
        stack.canUndoChanged.connect(self.actions_by_name["undo"].setEnabled)
        stack.canRedoChanged.connect(self.actions_by_name["redo"].setEnabled)
        stack.undoTextChanged.connect(lambda text: self.actions_by_name["undo"].setText(
            f"&Undo {text}".strip()))
        stack.redoTextChanged.connect(lambda text: self.actions_by_name["redo"].setText(
            f"&Redo {text}".strip()))
        session.modifiedChanged.connect(lambda _modified: self._update_title())
        session.filePathChanged.connect(lambda _path: self._update_title())
        self.document.projectReplaced.connect(self._on_project_replaced)
        self.scene.statusMessage.connect(self.show_message)  # refusals, from the editor too
        self.scene.nodesSelected.connect(self.inspector.set_selection)
        self.scene.nodeActivated.connect(self.edit_node)


    # ================================================================== seams
    def add_panel(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add a dock (training UI) whose place and visibility are remembered too."""
        if not dock.objectName():
            dock.setObjectName(f"{dock.windowTitle() or 'panel'}Dock".replace(" ", ""))
        if not self.restoreDockWidget(dock):  # its saved place, if the last session had it
            self.addDockWidget(area, dock)
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    # ================================================================== selection
    def selected_node_ids(self) -> list[str]:
        """Ids of the nodes selected on the canvas."""
        return list(self.scene.selected_node_ids())

    def select_nodes(self, node_ids: list[str]) -> None:
        self.scene.select_nodes(list(node_ids))

    def show_nodes(self, node_ids: list[str]) -> None:
        """Select these nodes and centre the view on them (from the Problems dock)."""
        present = [n for n in node_ids if self.document.has_node(n)]
        if not present:
            return
        self.view.center_on_nodes(present)  # selects them and scrolls them into view
        rect = self.scene.node_item(present[0]).sceneBoundingRect()
        for node_id in present[1:]:
            rect = rect.united(self.scene.node_item(node_id).sceneBoundingRect())
        self.view.centerOn(rect.center())

    def edit_node(self, node_id: str) -> None:
        """Double-click on a card: show the Inspector with the cursor in its first field."""
        self.select_nodes([node_id])
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.focus_first_field()

    # ================================================================== edit
    def undo(self) -> None:
        self.editor.undo()

    def redo(self) -> None:
        self.editor.redo()

    def cut(self) -> None:
        if not self._refused_by_lock():
            self.view.cut()

    def copy(self) -> None:
        self.view.copy()

    def paste(self) -> None:
        if not self._refused_by_lock():
            self.view.paste()

    def duplicate(self) -> None:
        if not self._refused_by_lock():
            self.view.duplicate()

    def delete_selection(self) -> None:
        """Delete the selected nodes (with their edges) and selected edges: one undo step."""
        if not self._refused_by_lock():
            self.view.delete_selected()

    def select_all(self) -> None:
        self.view.select_all()

    def auto_layout(self) -> None:
        if not self._refused_by_lock():
            self.view.auto_layout()

    def _refused_by_lock(self) -> bool:
        """While training locks the structure, say so instead of editing (no empty steps)."""
        reason = self.editor.structure_lock
        if reason:
            self.show_message(lock_message(reason))
        return bool(reason)

    def add_layer_from_palette(self, type_name: str) -> None:
        """Palette double-click: add after the (single) selected node and wire it."""
        selected = self.selected_node_ids()
        if type_name == NEURON:
            dense = [n for n in selected if self.document.node_type(n) == "Dense"]
            if not dense:
                self.show_message("Select a Dense layer first, or drop the Neuron on one.")
                return
            for node_id in dense:
                self.editor.change_units(node_id, 1)
            return
        after = selected[-1] if len(selected) == 1 else None
        new_id = self.editor.add_node_after(type_name, after)
        if new_id:
            self.select_nodes([new_id])
            self.view.center_on_nodes([new_id])

    # ================================================================== view
    def view_call(self, name: str) -> Callable[[], None]:
        """A slot that calls `self.view.<name>()` (zoom in/out, fit)."""
        return lambda: getattr(self.view, name)()

    def fit_view(self) -> None:
        """Zoom so that the whole network is visible."""
        self.view.fit()

    def set_snap_to_grid(self, on: bool) -> None:
        self.view.set_snap_to_grid(bool(on))

    def set_neuron_view(self, on: bool) -> None:
        self.view.set_neuron_view(bool(on))
        self.actions_by_name["neuron_view"].setChecked(bool(on))

    def set_theme(self, theme: str) -> None:
        self.settings.setValue(THEME_KEY, theme)
        self._apply_theme()

    def set_presentation(self, on: bool) -> None:
        """Large fonts, thick lines, full contrast; the side docks widen for the text."""
        self.settings.setValue(PRESENTATION_KEY, bool(on))
        self._apply_theme()
        QTimer.singleShot(0, self, self.window_layout.fit_docks_to_fonts)

    def theme(self) -> tuple[str, bool]:
        """(theme name, presentation mode) as remembered in the settings."""
        theme = self.settings.value(THEME_KEY, "light")
        presentation = presentation_mode.setting_on(self.settings.value(PRESENTATION_KEY, False))
        return (theme if theme in THEMES else "light"), presentation

    def _apply_theme(self) -> None:
        theme, presentation = self.theme()
        apply_theme(QApplication.instance(), theme, presentation, self.scene)
        self.actions_by_name[f"theme_{theme}"].setChecked(True)
        self.actions_by_name["presentation"].setChecked(presentation)
        self.themeChanged.emit(theme, presentation)
        self.themeApplied.emit()

    def set_full_screen(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def show_message(self, text: str) -> None:
        """A transient message on the left of the status bar (refusals, results)."""
        if text:
            self.statusBar().showMessage(text, MESSAGE_MS)

    # ================================================================== help
    def show_shortcuts(self) -> None:
        ShortcutsDialog(list(self.actions_by_name.values()), self).exec()

    def show_about(self) -> None:
        from importlib.metadata import PackageNotFoundError, version
        try:
            number = version("ann-designer")
        except PackageNotFoundError:
            number = ""
        QMessageBox.about(self, f"About {APP_NAME}", ABOUT_HTML.format(version=number))

    # ================================================================== files, title
    def open_path(self, path: str) -> bool:
        """Open a project file (asks about unsaved changes first)."""
        return self.files.open_path(path)

    def open_dropped_files(self, paths: list[str]) -> None:
        """Open the first dropped project; import dropped data files; explain the rest."""
        self.drops.open_dropped_files(paths)

    def _small_in_neuron_view(self) -> None:
        """A small network of Dense layers (a Playground-sized lesson) opens in the
        neuron view, the picture a class knows; larger ones open as cards."""
        doc = self.document
        counts = [neuron_view.neuron_count(doc, n) for n in doc.node_ids()]
        small = bool(counts) and all(c is not None and c <= SMALL_LAYER for c in counts)
        self.set_neuron_view(small and len(counts) <= SMALL_LAYERS)

    def _on_project_replaced(self) -> None:
        self._small_in_neuron_view()
        self.inspector.set_selection([])
        self._update_title()
        QTimer.singleShot(0, self, self.fit_view)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.session.is_modified)

    # ================================================================== recovery
    @property
    def recovery(self) -> rec.RecoveryStore | None:
        """This window's recovery store (None when recovery is off)."""
        return self.autosaver.store

    @recovery.setter
    def recovery(self, store: rec.RecoveryStore | None) -> None:
        self.autosaver.store = store

    @property
    def autosave_timer(self) -> QTimer:
        return self.autosaver.timer

    def autosave(self) -> bool:
        """Every minute: keep a copy of unsaved work where a crash cannot take it."""
        return self.autosaver.autosave()

    def offer_recovery(self, ask: bool = True) -> bool:
        """Offer the work crashed sessions left; True if one was restored (see autosave)."""
        return self.autosaver.offer(ask)

    def end_session(self) -> None:
        """Logout or shutdown (SIGTERM): keep unsaved work for the next start and close
        without a question nobody is there to answer."""
        self._ending_session = True
        self.closing.emit()  # a training run stops first and stores what it learned
        self.autosaver.keep_for_next_start()
        self.save_settings()  # here too: a close() during a question is not run again
        self.close()

    # ================================================================== layout, close
    @property
    def layout_restored(self) -> bool:
        """True when the last session's dock arrangement was restored at start."""
        return self.window_layout.layout_restored

    @property
    def default_arrangement(self) -> bool:
        """True while the docks stand as the default arrangement put them."""
        return self.window_layout.default_arrangement

    def apply_default_layout(self) -> None:
        """The default arrangement of the docks (see designer.window_layout)."""
        self.window_layout.apply_default_layout()

    def reset_layout(self) -> None:
        """View > Reset layout: every dock back to its default place and size."""
        self.window_layout.reset_layout()

    def save_settings(self) -> None:
        """Remember window geometry and the arrangement of every dock."""
        self.window_layout.save()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.window_layout.shown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        agreed = self._ending_session or self.files.maybe_save()
        if not (agreed or self._ending_session):  # a logout during the question ends too
            event.ignore()
            return
        self.closing.emit()
        self.save_settings()
        self.autosaver.close()
        event.accept()

