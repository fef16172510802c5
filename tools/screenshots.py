"""Render the README's screenshots offscreen into docs/images/*.png.

    .venv/bin/python tools/screenshots.py                  # every shot
    .venv/bin/python tools/screenshots.py designer         # only the shots named
    .venv/bin/python tools/screenshots.py lesson-runs training-digits

The window is built exactly as `ann-designer` builds it (default example, training UI if
installed) but with throw-away settings, so the pictures never depend on the machine's
remembered layout.  The training UI's shots are `SHOTS` (a list of
`(file_stem, setup(window))`) in `tools/training_shots.py`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OUT_DIR = ROOT / "docs" / "images"
SIZE = (1600, 1000)  # a common projector / laptop screen

Setup = Callable[[object], None]


def _designer(window) -> None:
    """The default example on the canvas, its first hidden layer selected."""
    window.fit_view()  # before selecting: Fit shows the selection when there is one
    ids = window.document.node_ids()
    dense = [n for n in ids if window.document.node_type(n) == "Dense"]
    if dense:
        window.select_nodes([dense[0]])


def _designer_dark_presentation(window) -> None:
    """The same network in the dark theme and presentation mode, on a 1920x1080
    projector (at 1600 px the canvas, whose text never drops below 18 px, shows the
    middle of the network)."""
    window.resize(1920, 1080)
    window.set_theme("dark")
    window.set_presentation(True)
    _settle(QApplication.instance())
    _designer(window)
    _settle(QApplication.instance())
    window.view.fit_to_view(selection=False)  # the whole network, not the selected card
    _settle(QApplication.instance())


def _neuron_view(window) -> None:
    """The spiral network drawn as neurons, like TensorFlow Playground."""
    window.set_neuron_view(True)
    window.select_nodes([])
    _settle(QApplication.instance())
    window.fit_view()


def _problems(window) -> None:
    """An invalid network: a 2-D convolution on flat data, badges and the Problems dock."""
    doc = window.document
    dense = [n for n in doc.node_ids() if doc.node_type(n) == "Dense"]
    conv = window.editor.add_node_after("Conv2D", dense[0]) if dense else ""
    _settle(QApplication.instance())
    window.fit_view()
    if conv:
        window.select_nodes([conv])


SHOTS: list[tuple[str, Setup]] = [
    ("designer", _designer),
    ("designer-dark-presentation", _designer_dark_presentation),
    ("designer-neuron-view", _neuron_view),
    ("designer-problems", _problems),
]


def all_shots() -> list[tuple[str, Setup]]:
    """The designer's shots, the training UI's (``tools/training_shots.py``) and the lesson
    tools' (``tools/lesson_shots.py``); render some of them by name."""
    from lesson_shots import SHOTS as LESSON_SHOTS  # this script's folder is on the path
    from training_shots import SHOTS as TRAINING_SHOTS

    return list(SHOTS) + list(TRAINING_SHOTS) + list(LESSON_SHOTS)


def render(stem: str, setup: Setup, out_dir: Path = OUT_DIR) -> Path:
    """Build a fresh window, run `setup`, let it settle, save `out_dir/stem.png`."""
    from designer.app import application, create_window

    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = create_window(settings=settings, offer_recovery=False)
        window.setWindowState(Qt.WindowState.WindowNoState)  # not the offscreen "screen"
        window.resize(*SIZE)
        _settle(app)
        window.show()
        _settle(app)
        window.fit_view()
        setup(window)
        _settle(app)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{stem}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        window.editor.undo_stack.setClean()
        window.set_theme("light")
        window.set_presentation(False)
        window.close()
        window.deleteLater()
        _settle(app)
    return path


def _settle(app: QApplication, seconds: float = 0.3) -> None:
    """Let layouts, deferred fits and the plots' first refresh happen."""
    from PySide6.QtCore import QDeadlineTimer, QEventLoop
    deadline = QDeadlineTimer(int(seconds * 1000))
    while not deadline.hasExpired():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for stem, setup in all_shots():
        if not wanted or stem in wanted:
            print(render(stem, setup).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
