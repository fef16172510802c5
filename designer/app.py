"""The ``ann-designer`` launcher, and the start of the designer's window.

``main()`` is the console script: with no arguments (or one ``FILE.annproj``) it opens
the window, with ``--install-desktop`` it adds the app to the desktop's menu, and every
other command line goes to :mod:`core.cli`. Qt is imported inside the functions that
start the window, so ``ann-designer train ...`` never loads it.

`run(path)` opens `path` or, without one, the default example (a small network on the
spiral data) so that a first-time user sees a network that trains at once. After a
crash it first offers to recover the autosaved work.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core import cli
from core.log_setup import setup_logging
from designer import leave_quietly

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from designer import recovery as rec
    from designer.main_window import MainWindow

ORGANIZATION = "ann-designer"  # QSettings: ~/.config/ann-designer/ann-designer.conf
APPLICATION = "ann-designer"
OLD_SETTINGS = ("ANN Designer", "ANN Designer")  # (organization, application) of 0.1
VERBOSE_FLAGS = ("-v", "-vv", "--verbose")
DESKTOP_FLAGS = ("--install-desktop", "--uninstall-desktop")
log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- launcher
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ann-designer`` console script; returns the exit status.

    Started as the script, Ctrl-C is ignored once the command is done: the interpreter
    is only exiting then, and a KeyboardInterrupt there would print a traceback.
    """
    if signal.getsignal(signal.SIGINT) is not leave_quietly:
        return _main(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _main(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbosity = sum(2 if a == "-vv" else 1 for a in args if a in VERBOSE_FLAGS)
    rest = [a for a in args if a not in VERBOSE_FLAGS]
    if len(rest) == 1 and rest[0] in DESKTOP_FLAGS:
        from designer import desktop

        return desktop.main(install_files=rest[0] == "--install-desktop")
    if not rest or (len(rest) == 1 and rest[0].endswith(".annproj")):
        return open_designer(rest[0] if rest else None, verbosity)
    return cli.main(args)


def open_designer(path: str | None, verbosity: int = 0) -> int:
    """Open the window (on ``path`` if given) unless there is nothing to open it on."""
    if path is not None and not Path(path).is_file():
        return cli.fail(f"{path}: no such project file", cli.EXIT_FAILURE)
    if not has_display():  # Qt would abort the process (core dump) with a page of text
        return cli.fail("no display to open the designer on (DISPLAY and WAYLAND_DISPLAY "
                        f"are not set); use a command instead, see '{cli.PROG} --help', or "
                        "set QT_QPA_PLATFORM=offscreen", cli.EXIT_FAILURE)
    log_file = setup_logging(verbosity)
    log.info("starting the designer %s on %s", cli.version(), path or "the default example")
    try:
        return run(path, log_file)
    except ImportError as exc:
        return cli.fail(f"cannot start the designer ({exc}); install the package with its "
                        f"dependencies (pip install ann-designer) or use a command, see "
                        f"'{cli.PROG} --help'", cli.EXIT_FAILURE)


def has_display() -> bool:
    """False on a Linux machine without a screen (no X11/Wayland, no Qt platform chosen)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY",
                                                  "QT_QPA_PLATFORM"))


# ------------------------------------------------------------------------------ window
def application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once) with its names, desktop file and icon."""
    from PySide6.QtWidgets import QApplication

    from designer.icons import app_icon
    from designer.menus import APP_NAME

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("ann-designer")  # resources/ann-designer.desktop
    app.setWindowIcon(app_icon())
    return app


def migrate_settings(new: QSettings, old: QSettings) -> bool:
    """Copy the settings of the old names into the new, empty store; True if it did.

    Window layout, recent files and the theme were kept under "ANN Designer"; the old
    file stays where it was, so an older version still finds its own.
    """
    keys = old.allKeys()
    if new.allKeys() or not keys:
        return False
    for key in keys:
        new.setValue(key, old.value(key))
    new.sync()
    log.info("copied %d settings from %s", len(keys), old.fileName())
    return True


def install_training_ui(window: MainWindow) -> None:
    """Add the training UI's docks (data, training, inference, live views) and the
    lesson docks (step through, explain) to ``window``."""
    from designer import lesson, training

    training.install(window)
    lesson.install(window)


def create_window(path: str | None = None, settings: QSettings | None = None,
                  recovery: rec.RecoveryStore | None = None,
                  offer_recovery: bool | None = None) -> MainWindow:
    """A ready main window: training UI installed, crash work recovered or `path` opened.

    `offer_recovery=None` asks unless the ANN_DESIGNER_NO_RECOVERY variable is set.
    """
    from core.examples import DEFAULT_EXAMPLE
    from designer import recovery as rec
    from designer.main_window import MainWindow

    window = MainWindow(settings=settings, recovery=recovery)
    install_training_ui(window)
    if not window.layout_restored:  # arrange before the first show: unarranged docks
        window.apply_default_layout()  # side by side would force the window wider
    if offer_recovery is None:
        offer_recovery = not rec.recovery_disabled()
    if offer_recovery and window.offer_recovery():
        return window
    if path is None or not window.files.open_path(path, ask=False):
        window.files.new_from_example(DEFAULT_EXAMPLE, ask=False)
    return window


def run(path: str | None = None, log_file: Path | None = None,
        argv: Sequence[str] | None = None) -> int:
    """Run the designer until its window closes; returns the exit status."""
    from PySide6.QtCore import QSettings, QTimer

    from designer import recovery as rec
    from designer.autosave import end_session_on_signals
    from designer.error_dialog import install_exception_handler

    app = application(argv)
    migrate_settings(QSettings(), QSettings(*OLD_SETTINGS))
    install_exception_handler(log_file)
    window = create_window(path, offer_recovery=False)
    end_session_on_signals(window)  # logout/shutdown keeps unsaved work for next time
    window.show()
    QTimer.singleShot(0, window, window.fit_view)  # once the docks have their sizes
    if not rec.recovery_disabled():  # ask over the visible window, not before it
        QTimer.singleShot(200, window, window.offer_recovery)
    status = int(app.exec())
    release_clipboard()
    log.info("the designer closed (status %d)", status)
    return status


def release_clipboard() -> None:
    """Hand copied layers back to the clipboard as plain text before Qt shuts down.

    PySide6 crashes at exit when the clipboard still owns a QMimeData made in Python (what
    Copy puts there); text set with setText() is owned by Qt and survives, so whatever was
    copied can still be pasted as JSON elsewhere.
    """
    from PySide6.QtWidgets import QApplication

    from designer.canvas.view import FRAGMENT_MIME

    clipboard = QApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(FRAGMENT_MIME):
        clipboard.setText(mime.text())


if __name__ == "__main__":
    sys.exit(main())
