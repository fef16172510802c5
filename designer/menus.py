"""The main window's actions and menus: File, Edit, View, Help, with standard shortcuts.

Every command is a QAction added to the window itself as well as to its menu, so its
shortcut works while the menu bar is hidden (full screen).  Shortcuts are the platform's
QKeySequence standard keys where Qt has one, with a fixed fallback where a platform binds
nothing (Save as on Windows, for example).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from designer.files import EXPORTS
from designer.themes import THEMES

APP_NAME = "ANN Designer"
#: A standard key, a fixed key string, or (standard key, fallback where it has no binding)
Shortcut = QKeySequence.StandardKey | str | tuple


def make_action(window, name: str, text: str, slot: Callable | None = None,
                shortcut: Shortcut | None = None, checkable: bool = False,
                tip: str = "") -> QAction:
    """A window action named `name` (tests and the shortcuts dialog find it by name)."""
    action = QAction(text, window)
    action.setObjectName(name)
    label = text.replace("&", "").rstrip("…. ")
    action.setProperty("label", f"Export {label}" if name.startswith("export_") else label)
    if shortcut is not None:
        action.setShortcuts(_key_sequences(shortcut))
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    if slot is not None:
        action.triggered.connect(lambda checked=False, f=slot: f(checked)
                                 if checkable else f())
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    window.actions_by_name[name] = action
    return action


def build_actions(window) -> None:
    """Every command of the menus, in `window.actions_by_name`."""
    key = QKeySequence.StandardKey

    def a(*args, **kwargs) -> QAction:
        return make_action(window, *args, **kwargs)

    a("new_example", "&New from example…", window.files.new_from_example_dialog, key.New,
      tip="Start from one of the example networks")
    a("open", "&Open…", window.files.open_dialog, key.Open, tip="Open a .annproj project")
    a("save", "&Save", window.files.save, key.Save, tip="Save the project")
    a("save_as", "Save &as…", window.files.save_as, (key.SaveAs, "Ctrl+Shift+S"),
      tip="Save the project under a new name")
    a("recover", "Recover unsaved &work…", window.autosaver.recover_dialog,
      tip="Open work that a crashed or killed session left behind")
    for fmt, (text, _suffix, _filter) in EXPORTS.items():
        a(f"export_{fmt}", text, lambda f=fmt: window.files.export(f),
          "Ctrl+E" if fmt == "onnx" else None, tip=f"Export the model: {text.rstrip('…')}")
    a("copy_project_text", "Copy project as &text", window.files.copy_as_text,
      "Ctrl+Shift+C", tip="The whole project as one line to post in a chat")
    a("paste_project", "&Paste project", window.files.paste_project, "Ctrl+Shift+V",
      tip="Open a project copied as text")
    a("quit", "&Quit", window.close, (key.Quit, "Ctrl+Q")).setMenuRole(
        QAction.MenuRole.QuitRole)
    a("undo", "&Undo", window.undo, key.Undo)
    a("redo", "&Redo", window.redo, key.Redo)
    a("cut", "Cu&t", window.cut, key.Cut)
    a("copy", "&Copy", window.copy, key.Copy)
    a("paste", "&Paste", window.paste, key.Paste)
    a("duplicate", "D&uplicate", window.duplicate, "Ctrl+D")
    a("delete", "&Delete", window.delete_selection, (key.Delete, "Del"))
    a("select_all", "Select &all", window.select_all, key.SelectAll)
    a("zoom_in", "Zoom &in", window.view_call("zoom_in"), key.ZoomIn)
    a("zoom_out", "Zoom &out", window.view_call("zoom_out"), key.ZoomOut)
    a("fit", "&Fit to window", window.fit_view, "Ctrl+0")
    a("auto_layout", "&Auto layout", window.auto_layout, "Ctrl+L",
      tip="Arrange the layers left to right")
    a("snap", "&Snap to grid", window.set_snap_to_grid, checkable=True,
      tip="Align moved layers on the background grid")
    a("neuron_view", "&Neuron view", window.set_neuron_view, "Ctrl+Shift+N", checkable=True,
      tip="Draw small Dense layers as columns of neurons")
    group = QActionGroup(window)
    for theme in THEMES:
        action = a(f"theme_{theme}", f"{theme.capitalize()} theme",
                   lambda checked, t=theme: checked and window.set_theme(t), checkable=True)
        group.addAction(action)
    a("presentation", "&Presentation mode", window.set_presentation, "F5", checkable=True,
      tip="Large fonts, thick lines and high contrast for projectors")
    a("reset_layout", "&Reset layout", window.reset_layout,
      tip="Put every panel back in its default place and size")
    a("full_screen", "F&ull screen", window.set_full_screen, (key.FullScreen, "F11"),
      checkable=True)
    a("shortcuts", "&Keyboard shortcuts", window.show_shortcuts, (key.HelpContents, "F1"))
    a("about", f"&About {APP_NAME}", window.show_about).setMenuRole(
        QAction.MenuRole.AboutRole)


def build_menus(window) -> None:
    """The menu bar; keeps `window.menus`, `window.recent_menu` and `window.panels_menu`."""
    act = window.actions_by_name
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([act["new_example"], act["open"]])
    window.recent_menu = file_menu.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(
        lambda: window.files.fill_recent_menu(window.recent_menu))
    file_menu.addAction(act["recover"])
    file_menu.addSeparator()
    file_menu.addActions([act["save"], act["save_as"]])
    file_menu.addActions([act["copy_project_text"], act["paste_project"]])
    export_menu = file_menu.addMenu("&Export")
    export_menu.addActions([act[f"export_{fmt}"] for fmt in EXPORTS])
    file_menu.addSeparator()
    file_menu.addAction(act["quit"])
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([act["undo"], act["redo"]])
    edit_menu.addSeparator()
    edit_menu.addActions([act[n] for n in ("cut", "copy", "paste", "duplicate", "delete")])
    edit_menu.addSeparator()
    edit_menu.addAction(act["select_all"])
    view_menu = bar.addMenu("&View")
    view_menu.addActions([act[n] for n in ("zoom_in", "zoom_out", "fit")])
    view_menu.addSeparator()
    view_menu.addActions([act["auto_layout"], act["snap"], act["neuron_view"]])
    view_menu.addSeparator()
    view_menu.addActions([act[f"theme_{t}"] for t in THEMES])
    view_menu.addActions([act["presentation"], act["full_screen"]])
    view_menu.addSeparator()
    window.panels_menu = view_menu.addMenu("&Panels")
    view_menu.addAction(act["reset_layout"])
    for dock in (window.palette_dock, window.inspector_dock, window.problems_dock):
        window.panels_menu.addAction(dock.toggleViewAction())
    help_menu = bar.addMenu("&Help")
    help_menu.addActions([act["shortcuts"], act["about"]])
    window.menus = {"file": file_menu, "edit": edit_menu, "view": view_menu,
                  "help": help_menu, "export": export_menu}


def _key_sequences(shortcut: Shortcut) -> list[QKeySequence]:
    """The key sequences of a shortcut; a fallback where the platform binds nothing."""
    fallback = None
    if isinstance(shortcut, tuple):
        shortcut, fallback = shortcut
    if isinstance(shortcut, QKeySequence.StandardKey):
        keys = QKeySequence.keyBindings(shortcut)
        if keys:
            return keys
        return [QKeySequence(fallback)] if fallback else []
    return [QKeySequence(shortcut)]



def menu_actions(window) -> list[QAction]:
    """Every action of the menus, in menu order (for the shortcuts dialog and tests)."""
    found: list[QAction] = []

    def walk(menu: QMenu) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu())
            elif not action.isSeparator():
                found.append(action)

    for menu in window.menus.values():
        walk(menu)
    return list(dict.fromkeys(found))
