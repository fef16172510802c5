"""Start the designer: the QApplication, the main window and what it opens first.

`main(path)` opens `path` (a `.annproj`) or, without one, the default example (a small
network on the spiral data) so that a first-time user sees a network that trains at
once.  After a crash it first offers to recover the autosaved work.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from designer import lesson, training
from designer import recovery as rec
from designer.autosave import end_session_on_signals
from designer.canvas.view import FRAGMENT_MIME
from designer.main_window import APP_NAME, MainWindow

ORGANIZATION = "ANN Designer"
APPLICATION = "ANN Designer"


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once) with the names QSettings files are keyed by."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("ann-designer")
    return app


def install_training_ui(window: MainWindow) -> None:
    """Add the training UI's docks (data, training, inference, live views) and the
    lesson docks (step through, explain) to ``window``."""
    training.install(window)
    lesson.install(window)


def create_window(path: str | None = None, settings: QSettings | None = None,
                  recovery: rec.RecoveryStore | None = None,
                  offer_recovery: bool | None = None) -> MainWindow:
    """A ready main window: training UI installed, crash work recovered or `path` opened.

    `offer_recovery=None` asks unless the ANN_DESIGNER_NO_RECOVERY variable is set.
    """
    window = MainWindow(settings=settings, recovery=recovery)
    install_training_ui(window)
    if not window.layout_restored:  # arrange before the first show: unarranged docks
        window.apply_default_layout()  # side by side would force the window wider
    if offer_recovery is None:
        offer_recovery = not rec.recovery_disabled()
    if offer_recovery and window.offer_recovery():
        return window
    if path is None or not window.files.open_path(path, ask=False):
        from core.examples import DEFAULT_EXAMPLE
        window.files.new_from_example(DEFAULT_EXAMPLE, ask=False)
    return window


def main(path: str | None = None, argv: Sequence[str] | None = None) -> int:
    """Run the designer until its window closes; returns the exit status."""
    app = application(argv)
    window = create_window(path, offer_recovery=False)
    end_session_on_signals(window)  # logout/shutdown keeps unsaved work for next time
    window.show()
    QTimer.singleShot(0, window, window.fit_view)  # once the docks have their sizes
    if not rec.recovery_disabled():  # ask over the visible window, not before it
        QTimer.singleShot(200, window, window.offer_recovery)
    status = int(app.exec())
    release_clipboard()
    return status


def release_clipboard() -> None:
    """Hand copied layers back to the clipboard as plain text before Qt shuts down.

    PySide6 crashes at exit when the clipboard still owns a QMimeData made in Python (what
    Copy puts there); text set with setText() is owned by Qt and survives, so whatever was
    copied can still be pasted as JSON elsewhere.
    """
    clipboard = QApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(FRAGMENT_MIME):
        clipboard.setText(mime.text())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
