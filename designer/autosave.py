"""Autosave and recovery for one window: what keeps unsaved work through a crash or a logout.

The window's session is copied into this process's :class:`~designer.recovery.RecoveryStore`
every minute while it has unsaved work. After a crash, every session that left work behind
is offered in one list (:class:`~designer.dialogs.RecoveryDialog`): *Recover* opens one in
this window, *Discard* deletes one for good, *Later* keeps them all (offered again at the
next start and from File > Recover unsaved work).

Recovered work is never only in memory: the left-over files of a crashed session are
deleted only once this session has written the same work to its own recovery copy (at
once, on recovery), or once the user saved it. A second crash right after a recovery
therefore loses nothing.
"""

from __future__ import annotations

import logging
import signal
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from designer import recovery as rec
from designer.dialogs import RecoveryDialog

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from designer.main_window import MainWindow
    from designer.session import Session

#: Signals that mean "the session is ending" (logout, shutdown, a closed terminal).
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                       if hasattr(signal, name))

log = logging.getLogger(__name__)


def default_recovery_store() -> rec.RecoveryStore | None:
    """The per-user recovery store, or None when turned off or its folder is unusable."""
    if rec.recovery_disabled():
        return None
    try:
        return rec.RecoveryStore()
    except OSError:  # a read-only home must not stop the designer from starting
        return None


class AutosaveController(QObject):
    """Autosaves ``session`` into ``store`` and offers what crashed sessions left."""

    def __init__(self, window: QMainWindow, session: Session,
                 store: rec.RecoveryStore | None) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.store = store
        self._unsafe: list[rec.OrphanSession] = []  # recovered, not yet written again
        self.timer = QTimer(self)
        self.timer.setInterval(rec.AUTOSAVE_INTERVAL_MS)
        self.timer.timeout.connect(self.autosave)
        if store is not None:
            self.timer.start()
        session.modifiedChanged.connect(self._modified_changed)

    # ------------------------------------------------------------------ autosave
    def autosave(self) -> bool:
        """Copy unsaved work where a crash cannot take it; True when it is safe now."""
        if self.store is None:
            return False
        if not self.session.is_modified:
            self.store.clear()
            return True
        from core.project import save_project
        path = self.session.file_path
        try:
            self.store.write(save_project, self.session.recovery_project(),
                             str(path) if path else None)
        except Exception as exc:  # noqa: BLE001 - autosave must never interrupt work
            log.warning("autosave failed: %s", exc)
            self._message(f"Autosave failed: {exc}")
            return False
        self._forget_recovered()
        return True

    def _modified_changed(self, modified: bool) -> None:
        """Saved (or the user discarded the changes): the recovery copy is not needed."""
        if not modified and self.store is not None:
            self.store.clear()
            self._forget_recovered()

    def _forget_recovered(self) -> None:
        """The recovered work is in this session's copy or file now: drop the originals."""
        for orphan in self._unsafe:
            orphan.discard()
        self._unsafe = []

    # ------------------------------------------------------------------ recovery
    def orphans(self) -> list[rec.OrphanSession]:
        """Work left by sessions that did not end normally (newest first)."""
        if self.store is None:
            return []
        return [o for o in self.store.orphans() if o not in self._unsafe]

    def offer(self, ask: bool = True) -> bool:
        """Offer every left-over session; True when one was recovered into this window.

        Without ``ask`` the newest is recovered (the others stay for later).
        """
        orphans = self.orphans()
        while orphans:
            if not ask:
                return self.recover(orphans[0])
            dialog = RecoveryDialog([_describe(o) for o in orphans], self.window)
            dialog.exec()
            chosen = orphans[dialog.row] if 0 <= dialog.row < len(orphans) else None
            if dialog.choice == RecoveryDialog.RECOVER and chosen is not None:
                return self.recover(chosen)
            if dialog.choice != RecoveryDialog.DISCARD or chosen is None:
                return False  # Later: everything stays for the next start
            chosen.discard()
            orphans = self.orphans()
        return False

    def recover_dialog(self) -> bool:
        """File > Recover unsaved work: the list again (after a Later, or a second crash)."""
        if not self.orphans():
            QMessageBox.information(self.window, "Recover unsaved work",
                                    "No other session left unsaved work behind.")
            return False
        return self.window.files.maybe_save() and self.offer()

    def recover(self, orphan: rec.OrphanSession) -> bool:
        """Open ``orphan``'s work as unsaved work, then make it safe in this session."""
        from core.project import load_project
        from designer.files import file_errors
        try:
            project = load_project(orphan.project_path)
        except file_errors() as exc:
            self.window.files.error("Cannot recover the project", str(orphan.project_path),
                                    exc)
            return False
        self.session.adopt_recovered(project, orphan.source_path)
        self._unsafe.append(orphan)
        self.autosave()  # deletes the orphan only once the copy is written
        self._message("Recovered the autosaved project: save it to keep it.")
        return True

    # ------------------------------------------------------------------ ending
    def keep_for_next_start(self) -> None:
        """Logout or shutdown: write the recovery copy and leave it for the next start."""
        self.timer.stop()
        if self.store is None:
            return
        if self.session.is_modified:
            self.autosave()  # if this fails, the last minute's copy is still there
            self.store.abandon()
        else:
            self.store.close()
        self.store = None

    def close(self) -> None:
        """Normal exit (the user saved or discarded): nothing is left behind."""
        self.timer.stop()
        if self.store is not None:
            self.store.close()
            self.store = None

    def _message(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)


def _describe(orphan: rec.OrphanSession) -> str:
    """One line of the recovery list: which project, autosaved when."""
    when = datetime.fromtimestamp(orphan.saved_at).strftime("%H:%M on %d %b")
    name = Path(orphan.source_path).name if orphan.source_path else "an unsaved project"
    return f"{name} (autosaved at {when})"


class EndingSignals(QObject):
    """Lets SIGTERM/SIGHUP end ``window`` the way a logout should: unsaved work goes to the
    recovery copy, training stops, settings are saved, and the app exits with status 0.

    Python runs signal handlers only between bytecodes, which a Qt event loop may not
    execute for a long time; the signal's number is therefore written to a socket that a
    QSocketNotifier watches, so the window reacts at once, on the UI thread.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.reader, self.writer = socket.socketpair()
        for end in (self.reader, self.writer):
            end.setblocking(False)
        signal.set_wakeup_fd(self.writer.fileno(), warn_on_full_buffer=False)
        for number in ENDING_SIGNALS:
            signal.signal(number, lambda *_args: None)  # the wakeup fd does the work
        self.notifier = QSocketNotifier(self.reader.fileno(), QSocketNotifier.Type.Read,
                                        self)
        self.notifier.activated.connect(self._received)

    def _received(self) -> None:
        try:
            numbers = self.reader.recv(64)
        except OSError:
            return
        if any(n in numbers for n in ENDING_SIGNALS):
            log.info("session ending (signal): keeping unsaved work for the next start")
            self.window.end_session()
            QApplication.quit()  # also ends a dialog's loop that nobody will answer


def end_session_on_signals(window: MainWindow) -> EndingSignals | None:
    """Install :class:`EndingSignals` for ``window`` (None where there are no such signals)."""
    if not ENDING_SIGNALS:  # pragma: no cover - Windows has no such signals to catch
        return None
    return EndingSignals(window)
