"""The keys of a lesson: Space plays and pauses, Right steps one batch, R resets.

A teacher at a projector reaches the run without the mouse. The actions live in a
Training menu (so Help > Keyboard shortcuts lists them) and on the canvas and the
docks, so they work while the menu bar is hidden (full screen). Text fields keep their
keys: Qt gives a focused line edit the letters and arrows first. On the canvas a held
Space still pans and the arrows still move selected cards (the canvas view claims those
keys); a tapped Space reaches play/pause through ``CanvasView.spaceTapped``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from designer.menus import make_action

#: (action name, menu text, key, tool tip) of the lesson keys.
LESSON_KEYS = [
    ("train_toggle", "&Train / pause", "Space", "Start training, pause it, or go on."),
    ("train_step", "&Step one batch", "Right", "Train one batch, then pause."),
    ("train_reset", "&Reset weights", "R", "New random weights; the curves start again."),
]


def toggle(ui: Any) -> None:
    """Idle: train; running: pause; paused: go on (the Train and Pause buttons' work)."""
    panel = ui.training_panel
    if ui.run.state == "idle":
        panel.train()
    else:
        panel.toggle_pause()


def _reach(window: Any, ui: Any) -> list[Any]:
    """Where the lesson keys work: the canvas, the training docks and the window's own
    docks. Not the whole window: a panel with arrow keys of its own (stepping through
    one sample, say) keeps them, where a window-wide Right would make both ambiguous."""
    widgets = [getattr(window, "view", None), *ui.docks.values()]
    widgets += [getattr(window, name, None)
                for name in ("palette_dock", "inspector_dock", "problems_dock")]
    return [w for w in widgets if w is not None]


def install_keys(window: Any, ui: Any) -> None:
    """Add the lesson actions to ``window`` and a Training menu before Help."""
    panel = ui.training_panel
    slots = {"train_toggle": lambda: toggle(ui), "train_step": panel.step,
             "train_reset": panel.reset_weights}
    actions = [make_action(window, name, text, slots[name], key, tip=tip)
               for name, text, key, tip in LESSON_KEYS]
    for action in actions:  # see _reach: the keys work where the lesson happens
        window.removeAction(action)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    for widget in _reach(window, ui):
        widget.addActions(actions)
    menus = getattr(window, "menus", None)
    if menus is not None and "help" in menus:
        menu = window.menuBar().addMenu("&Training")
        window.menuBar().insertMenu(menus["help"].menuAction(), menu)
        menu.addActions(actions)
        menus["training"] = menu
    view = getattr(window, "view", None)
    if view is not None and hasattr(view, "spaceTapped"):
        view.spaceTapped.connect(lambda: toggle(ui))
