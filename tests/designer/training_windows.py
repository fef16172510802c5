"""Helpers to drive a run in a real main window (the ``make_window`` and ``window``
fixtures are in conftest.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from core.examples import load_example

WAIT_MS = 60_000


def ui_of(window):
    return window.training_ui


def wait_idle(qtbot, ui) -> None:
    qtbot.waitUntil(lambda: not ui.run.is_running, timeout=WAIT_MS)


def wait_paused(qtbot, ui) -> None:
    """The training process waits at a batch boundary and the panel knows it (buttons enabled)."""
    qtbot.waitUntil(lambda: ui.run.waiting and ui.run.state == "paused"
                    and ui.training_panel.step_button.isEnabled(), timeout=WAIT_MS)


def use_example(window, name: str) -> None:
    window.session.new_project(load_example(name))


def ask_returns(monkeypatch, answer) -> list[str]:
    """Make QMessageBox.question answer ``answer``; returns the titles of the questions."""
    asked: list[str] = []

    def question(parent, title, *args, **kwargs):
        asked.append(title)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked
