"""Crash recovery: autosave the open project to a private file and find it after a crash.

Each running window owns one *session* in the recovery folder: a lock file held while the
window lives (QLockFile, so a crashed process leaves a lock that the next start can tell
is stale, on every platform), a `.annproj` copy of the unsaved project written every
minute, and a small JSON note saying which file it came from.  A clean exit removes all
three; a logout (SIGTERM) writes the copy and keeps it.  On the next start, any session
whose lock is no longer held by a live process is an orphan that can be offered to the
user (``designer.autosave`` decides when an orphan may be deleted).

Only the engine's own reader and writer touch the project copy, so a recovery file is as
safe to open as any `.annproj` (no pickles, sizes checked before allocating).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QStandardPaths

#: Environment variable that turns recovery off (no autosave, no prompt); tests set it.
DISABLE_ENV = "ANN_DESIGNER_NO_RECOVERY"
#: How often the main window autosaves, in milliseconds.
AUTOSAVE_INTERVAL_MS = 60_000
_MAX_NOTE_BYTES = 64 * 1024


def recovery_disabled() -> bool:
    """True when the user or a test asked for no autosave and no recovery prompt."""
    return os.environ.get(DISABLE_ENV, "").strip() not in ("", "0", "false", "no")


def default_recovery_dir() -> Path:
    """The per-user folder for recovery files (next to Qt's other application data)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".ann-designer") / "recovery"


@dataclass(frozen=True)
class OrphanSession:
    """What a crashed session left behind: the autosaved project and where it came from."""

    project_path: Path
    note_path: Path
    lock_path: Path
    source_path: str | None
    saved_at: float

    def discard(self) -> None:
        """Delete the leftover files once the user recovered or declined them."""
        for path in (self.project_path, self.note_path, self.lock_path):
            path.unlink(missing_ok=True)


class RecoveryStore:
    """The recovery folder of this process: one live session plus orphans of crashed ones."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_recovery_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.session_id = uuid.uuid4().hex[:12]
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # a lock is stale only when its process is gone
        self._lock.tryLock(0)

    # -- this session ---------------------------------------------------------------
    @property
    def project_path(self) -> Path:
        return self.directory / f"session-{self.session_id}.annproj"

    @property
    def note_path(self) -> Path:
        return self.directory / f"session-{self.session_id}.json"

    @property
    def lock_path(self) -> Path:
        return self.directory / f"session-{self.session_id}.lock"

    def write(self, save_project, project, source_path: str | None) -> None:
        """Autosave: `save_project(project, path)` writes the copy, then the note.

        The note is written last, so an orphan always has a complete project next to it.
        """
        save_project(project, str(self.project_path))
        note = {"source_path": source_path, "saved_at": time.time(), "pid": os.getpid()}
        tmp = self.note_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(note), encoding="utf-8")
        os.replace(tmp, self.note_path)

    def clear(self) -> None:
        """Forget the autosaved copy (after a save, or when the project became clean)."""
        self.note_path.unlink(missing_ok=True)
        self.project_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Clean exit: remove this session's files and release its lock."""
        self.clear()
        self._lock.unlock()
        self.lock_path.unlink(missing_ok=True)

    def abandon(self) -> None:
        """Release the lock but keep the files: what a crash leaves behind, and what a
        logout keeps on purpose so that the next start offers the work."""
        self._lock.unlock()

    # -- other sessions -------------------------------------------------------------
    def orphans(self) -> list[OrphanSession]:
        """Sessions whose process is gone but whose autosaved project is still here."""
        found = []
        for note_path in sorted(self.directory.glob("session-*.json")):
            if note_path == self.note_path:
                continue
            lock_path = note_path.with_suffix(".lock")
            if lock_path.exists() and not _lock_is_stale(lock_path):
                continue  # another window is alive and owns it
            project_path = note_path.with_suffix(".annproj")
            note = _read_note(note_path)
            if note is None or not project_path.is_file():
                continue
            source = note.get("source_path")
            found.append(OrphanSession(
                project_path=project_path, note_path=note_path, lock_path=lock_path,
                source_path=source if isinstance(source, str) else None,
                saved_at=float(note.get("saved_at") or project_path.stat().st_mtime)))
        return sorted(found, key=lambda orphan: orphan.saved_at, reverse=True)


def _lock_is_stale(lock_path: Path) -> bool:
    """True if no live process holds `lock_path` (taking it proves that, then give it back)."""
    probe = QLockFile(str(lock_path))
    probe.setStaleLockTime(0)
    if probe.tryLock(0):
        probe.unlock()
        return True
    return False


def _read_note(path: Path) -> dict | None:
    """The JSON note of a session, or None when it is unreadable (never trusted blindly)."""
    try:
        if path.stat().st_size > _MAX_NOTE_BYTES:
            return None
        note = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None
