"""Logging for the command line and the designer: a log file per user, ``-v`` for more.

Both write to ``ann-designer.log`` in the user's log folder (``$XDG_STATE_HOME`` or
``~/.local/state/ann-designer`` on Linux, ``~/Library/Logs/ann-designer`` on macOS,
``%LOCALAPPDATA%\\ann-designer\\Logs`` on Windows; ``ANN_DESIGNER_LOG_DIR`` overrides).
A program started from a desktop launcher has no terminal, so the file is where an error
can be read afterwards. On the terminal, log lines appear only with ``-v`` (info) or
``-vv`` (debug): the command line's own output stays one clear line per error.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

APP = "ann-designer"
LOG_DIR_VARIABLE = "ANN_DESIGNER_LOG_DIR"
LOG_FILE = f"{APP}.log"
MAX_BYTES = 1_000_000  # then rotate, keeping three older files
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
_MARK = "_ann_designer_handler"  # set on our handlers, so a second setup replaces them


def log_dir() -> Path:
    """The folder this platform keeps per-user logs in, for this app."""
    override = os.environ.get(LOG_DIR_VARIABLE)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP / "Logs"
    if sys.platform == "darwin":
        return home / "Library" / "Logs" / APP
    state = os.environ.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    return Path(state) / APP


def setup_logging(verbosity: int = 0) -> Path | None:
    """Log to the user's log file (and to stderr with ``verbosity`` >= 1).

    Returns the log file's path, or None when its folder cannot be written (the program
    then runs without a log file rather than failing).
    """
    root = stop_logging()
    level = logging.DEBUG if verbosity >= 1 else logging.INFO
    root.setLevel(level)
    path = _add_file_handler(root, level)
    if verbosity >= 1:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        setattr(console, _MARK, True)
        root.addHandler(console)
    return path


def _add_file_handler(root: logging.Logger, level: int) -> Path | None:
    path = log_dir() / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES,
                                                       backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    return path


def stop_logging() -> logging.Logger:
    """Close and remove the handlers :func:`setup_logging` added; returns the root logger."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    return root
