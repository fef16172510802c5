"""Errors nobody caught: logged, then shown in a dialog, and the app keeps running.

An exception raised in a Qt slot or event handler reaches ``sys.excepthook``; started
from a desktop launcher, the default hook prints to a stderr nobody sees. The handler
installed here writes the traceback to the log file and shows the message with a "Copy
details" button (for a bug report) and the log file's path. PySide6 returns to the
event loop after the hook, so the window stays usable where the error allows it. A
second error while the dialog is open is only logged: one dialog, not a cascade.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from designer.menus import APP_NAME

log = logging.getLogger(__name__)
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def details_text(exc_info: ExcInfo) -> str:
    """The traceback, as pasted into a bug report."""
    return "".join(traceback.format_exception(*exc_info))


def error_box(exc_info: ExcInfo, log_file: Path | None,
              parent: QWidget | None = None) -> QMessageBox:
    """The dialog for one uncaught error; "Copy details" puts the traceback on the clipboard."""
    _, exc, _ = exc_info
    box = QMessageBox(QMessageBox.Icon.Critical, f"{APP_NAME}: unexpected error",
                      f"Something went wrong: {type(exc).__name__}: {exc}", parent=parent)
    where = (f"The details are in the log file:\n{log_file}" if log_file is not None
             else "No log file could be written.")
    box.setInformativeText(f"{APP_NAME} keeps running; if it misbehaves, save your work "
                           f"under a new name and restart it. This is a bug: please report "
                           f"it with the details.\n\n{where}")
    details = details_text(exc_info)
    box.setDetailedText(details)
    copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
    copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
    box.addButton(QMessageBox.StandardButton.Close)
    return box


class ExceptionHandler:
    """``sys.excepthook`` (and ``threading.excepthook``) for the running designer."""

    def __init__(self, log_file: Path | None) -> None:
        self.log_file = log_file
        self.showing = False

    def __call__(self, exc_type: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        if self.showing or QApplication.instance() is None:
            return
        if threading.current_thread() is not threading.main_thread():
            return  # widgets belong to the main thread; the log has it
        self.showing = True
        try:
            error_box((exc_type, exc, tb), self.log_file, QApplication.activeWindow()).exec()
        finally:
            self.showing = False

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        """Errors in other threads: logged (their windows are the main thread's)."""
        if args.exc_value is not None:
            log.error("uncaught exception in thread %s",
                      getattr(args.thread, "name", "?"),
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def install_exception_handler(log_file: Path | None) -> ExceptionHandler:
    """Route uncaught errors of the running app to the log and the dialog."""
    handler = ExceptionHandler(log_file)
    sys.excepthook = handler
    threading.excepthook = handler.thread_hook
    return handler
