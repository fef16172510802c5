"""End the UI's turn (``UiTurn``) only after the repaints a refresh has asked for.

``QWidget.update()`` posts the window's paint request at *low* event priority, so a
``QTimer.singleShot(0, ...)`` (normal priority) would end the turn before the paint:
each live canvas would then start a turn of its own from outside one, which costs a
GIL hand-over with the training thread per canvas. An event posted at low priority
after the refresh is delivered after the paint request queued before it, so the whole
paint happens inside the refresh's turn.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt

from designer.training.snapshots import UI_TURN

_LEAVE = QEvent.Type(QEvent.registerEventType())


class _TurnEnder(QObject):
    """Receives the posted "leave" events on the UI thread."""

    def event(self, event: QEvent) -> bool:  # noqa: D102 - Qt's name
        if event.type() == _LEAVE:
            UI_TURN.leave()
            return True
        return super().event(event)


_ender: _TurnEnder | None = None


def leave_after_paint() -> None:
    """Schedule the end of the current turn after the paints queued so far (UI thread)."""
    global _ender
    if _ender is None:
        _ender = _TurnEnder(QCoreApplication.instance())
    QCoreApplication.postEvent(_ender, QEvent(_LEAVE), Qt.EventPriority.LowEventPriority.value)
