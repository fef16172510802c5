"""Fixtures for the designer's tests: one small open project (model, editor, session),
windows with the training UI that fail a test leaving a training thread or process
running or a window open, and a training job for the default example."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import pytest
from project_state import small_project
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from designer import app as designer_app
from designer.editor import Editor
from designer.model.document import Document
from designer.run.protocol import TrainingJob
from designer.session import Session


@pytest.fixture
def session(qapp) -> Session:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid), open and unmodified."""
    return Session(small_project())


@pytest.fixture
def doc(session: Session) -> Document:
    return session.document


@pytest.fixture
def editor(session: Session) -> Editor:
    return session.editor


@pytest.fixture(scope="session")
def spiral_job() -> Callable[..., TrainingJob]:
    """Makes a training job for the default example, as the run session makes it:
    ``spiral_job(epochs, **other_fields)``."""
    from core.examples import load_example
    from designer.run.data import load_training_data

    project = load_example("spiral")
    data = load_training_data(project)
    X, Y = data.prepared.arrays("train")

    def make(epochs: int, **fields) -> TrainingJob:
        return TrainingJob(spec=project.spec, training=project.training, X=X, Y=Y,
                           epochs=epochs, validation=data.prepared.arrays("val"),
                           grid=data.grid(), **fields)

    return make


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    for kind in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, lambda *a, **k: QMessageBox.StandardButton.No)
    made = []

    def make(first_start: bool = False, **kwargs):
        """A window as the tests use it; ``first_start`` keeps what a user gets at the
        first start (the slower default speed); ``kwargs`` go to ``create_window``."""
        settings = QSettings(str(tmp_path / f"settings{len(made)}.ini"),
                             QSettings.Format.IniFormat)
        kwargs.setdefault("offer_recovery", False)
        window = designer_app.create_window(settings=settings, **kwargs)
        if not first_start:  # tests train at full speed (the class's default is slower)
            panel = window.training_ui.training_panel
            panel.speed_box.setCurrentIndex(panel.speed_box.findData(None))
        window.resize(1400, 900)
        window.show()
        made.append(window)
        return window

    yield make
    threads = []
    for window in made:
        ui = window.training_ui
        if ui.run._thread is not None:
            threads.append(ui.run._thread)
        window.session.mark_clean()  # never ask at teardown
        window.close()
        window.deleteLater()
    qtbot.wait(1)
    assert all(not t.isRunning() for t in threads), "a training thread is still running"
    processes = [p for p in multiprocessing.active_children() if p.name == "ann-training"]
    assert not processes, f"training processes still running: {processes}"
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not left, f"windows left open: {left}"


@pytest.fixture
def window(make_window):
    return make_window()
