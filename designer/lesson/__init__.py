"""Classroom features: one sample stepped through and explained (more to come here).

``install(window)`` adds the lesson docks to a main window that already has the training
UI (``designer.training.install``). ``trace.py`` and ``explain.py`` import no Qt: they are
the numbers, tested against the engine alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(window: Any) -> Any:
    """Add the lesson docks to ``window``; returns the ``LessonUI`` it made."""
    from designer.lesson.docks import install as install_ui

    return install_ui(window)
