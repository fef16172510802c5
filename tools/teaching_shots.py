"""Screenshots for docs/teaching.md: the window at 1920x1080 in presentation mode.

    .venv/bin/python tools/teaching_shots.py                # every shot
    .venv/bin/python tools/teaching_shots.py teaching-start # only the shots named here

Each shot builds a fresh window as ``ann-designer`` does (throw-away settings, so the
pictures never depend on this machine's remembered layout), turns presentation mode on,
runs a step of the lesson and saves ``docs/images/<name>.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QDeadlineTimer, QEventLoop, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OUT_DIR = ROOT / "docs" / "images"
SIZE = (1920, 1080)  # a projector

Setup = Callable[[object], None]


def _wait(seconds: float) -> None:
    app = QApplication.instance()
    deadline = QDeadlineTimer(int(seconds * 1000))
    while not deadline.hasExpired():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def _open(window, example: str) -> None:
    from core.examples import load_example
    window.session.new_project(load_example(example))
    _wait(0.3)


def _train_until(window, epoch: int, seconds: float = 30.0) -> None:
    """Train at full speed to ``epoch`` (or the end), then pause for the picture."""
    ui = window.training_ui
    panel = ui.training_panel
    panel.speed_box.setCurrentIndex(panel.speed_box.findData(None))
    panel.train()
    start = time.perf_counter()
    while ui.run.is_running and time.perf_counter() - start < seconds:
        if ui.run.buffer.last_epoch >= epoch:
            break
        _wait(0.01)
    if ui.run.is_running:
        ui.run.pause()
        while ui.run.is_running and not ui.run.waiting:
            _wait(0.02)
    _wait(0.5)
    ui.refresher.tick(final=True)


def _start(window) -> None:
    """First start: the spiral as neurons, the hint, the lesson bar."""
    _open(window, "spiral")


def _circle_trained(window) -> None:
    """The circle after 40 epochs: neuron maps, the plane, the losses."""
    _open(window, "circle")
    _train_until(window, 40)


def _weight_edited(window) -> None:
    """A weight of the trained circle typed in: the line and the plane change."""
    _circle_trained(window)
    ui = window.training_ui
    ui.run.stop()
    window.editor.set_weight("output", "kernel", (0, 0), -6.0)
    _wait(0.5)


def _diverged(window) -> None:
    """The spiral with plain SGD at learning rate 10: the blown-up boundary stays."""
    _open(window, "spiral")
    panel = window.training_ui.training_panel
    panel.optimizer_box.setCurrentText("sgd")
    panel.lr_box.setValue(10.0)
    _train_until(window, 150)
    while window.training_ui.run.is_running:
        _wait(0.05)
    _wait(0.5)


def _regression(window) -> None:
    """Multi-Gaussian: Regression in the lesson bar sets mse and a linear output."""
    _open(window, "xor")
    ui = window.training_ui
    ui.lesson_bar.thumbnails.choose("multigauss")
    ui.lesson_bar.problem_box.setCurrentIndex(1)
    _wait(0.3)
    _train_until(window, 30)


def _features(window) -> None:
    """The circle with the Playground's x1² and sin x1: labelled inputs with their maps."""
    _open(window, "circle")
    panel = window.training_ui.data_panel
    for name in ("x1^2", "sin(x1)"):
        panel.transform_boxes[name].setChecked(True)
    panel.fix_button.click()  # the Input takes the four features
    _wait(0.3)
    _train_until(window, 20)


SHOTS: list[tuple[str, Setup]] = [
    ("teaching-start", _start),
    ("teaching-circle-trained", _circle_trained),
    ("teaching-weight-edited", _weight_edited),
    ("teaching-diverged", _diverged),
    ("teaching-regression", _regression),
    ("teaching-features", _features),
]


def render(stem: str, setup: Setup, out_dir: Path = OUT_DIR) -> Path:
    """A fresh 1920x1080 window in presentation mode, ``setup``, then the picture."""
    from designer.app import application, create_window

    application()  # the QApplication, set up as ann-designer sets it up
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("view/presentation", True)
        window = create_window(settings=settings, offer_recovery=False)
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.setFixedSize(*SIZE)
        window.show()
        _wait(0.5)
        setup(window)
        window.fit_view()
        _wait(0.5)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{stem}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        window.training_ui.run.stop()
        window.session.mark_clean()
        window.close()
        window.deleteLater()
        _wait(0.2)
    return path


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for stem, setup in SHOTS:
        if not wanted or stem in wanted:
            print(render(stem, setup).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
