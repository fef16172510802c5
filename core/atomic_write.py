"""Saving a file atomically: the old file stays intact until the new one is complete.

Used for project files and for every export. The temp file is written beside the target,
flushed, fsynced and renamed over it; what the user made around the file is kept (a
symbolic link is followed, hard links stay joined) and a read-only file is refused. Every
failure is one :class:`ProjectError` line.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from core.project_errors import ProjectError


def write_atomically(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write through ``write`` into a temp file beside ``path``, fsync, then rename it.

    The temp file lives in the same folder so that ``os.replace`` is an atomic rename on
    the same file system; readers see either the old file or the complete new one.
    What the user made around the file is kept: a symbolic link is followed (its target
    is replaced, the link stays a link), a file with several hard links is rewritten in
    place from the complete temp file (so every link sees the new content), and a
    read-only file is refused rather than replaced.
    """
    path = _save_target(Path(path))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ProjectError(f"Cannot save {path}: the folder {folder} does not exist.")
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        old = path.stat() if path.exists() else None
        if old is not None and old.st_nlink > 1:
            _copy_in_place(temp, path)
            _remove_quietly(temp)
        else:
            if old is not None:
                os.chmod(temp, old.st_mode & 0o7777)
            os.replace(temp, path)
    except OSError as exc:
        _remove_quietly(temp)
        raise ProjectError(f"Cannot save {path}: {exc.strerror or exc}; "
                           "check that the folder is writable and the disk not full.") from exc
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_folder(folder)


def _save_target(path: Path) -> Path:
    """The file a save must write: a symlink's target; ProjectError for a link loop or a
    read-only file (its mode bits, so that root is refused as a normal user is)."""
    if path.is_symlink():
        try:
            path = path.resolve(strict=False)
        except (RuntimeError, OSError) as exc:  # a loop: RuntimeError before Python 3.13
            raise ProjectError(f"Cannot save {path}: it is a symbolic link that points to "
                               "itself in a loop; save under another name.") from exc
        if path.is_symlink():  # resolve() stops on a loop on some systems
            raise ProjectError(f"Cannot save {path}: it is a symbolic link loop; "
                               "save under another name.")
    if path.exists() and not path.stat().st_mode & 0o222:
        raise ProjectError(f"Cannot save {path}: the file is read-only; use Save as with "
                           "another name, or make the file writable first.")
    return path


def _copy_in_place(source: Path, target: Path) -> None:
    """Overwrite ``target``'s content (same inode, so hard links stay joined)."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

