"""Windows as `ann-designer` builds them without the training UI, for the tests of the
main window, its layout and themes, and crash recovery: throw-away QSettings (an INI file
in tmp_path), message boxes replaced by a recorder, and a check that no window is left
open. Test modules import the fixtures they use by name."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from core.project import Project
from designer import app as designer_app
from designer.main_window import MainWindow

B = QMessageBox.StandardButton


def small_project(name: str = "tiny") -> Project:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid), with positions."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "h1", "type": "Dense", "units": 4, "activation": "tanh"},
                      {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
            "edges": [["in", "h1"], ["h1", "out"]]}
    layout = {"in": [0.0, 0.0], "h1": [260.0, 0.0], "out": [520.0, 0.0]}
    return Project(name=name, spec=spec, layout=layout)


class Boxes:
    """Records every message box; `answers` says what question() returns next."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answers: list[QMessageBox.StandardButton] = []

    def question(self, _parent, title, text, *args, **kwargs):
        self.shown.append(("question", title, text))
        assert self.answers, f"unexpected question: {title}: {text}"
        return self.answers.pop(0)

    def recorder(self, kind: str):
        def show(_parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            return B.Ok
        return show

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.shown]


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    """Every window or dialog a test opens is closed by its end (others' are not ours)."""
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    yield
    qapp.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    assert not left, f"windows left open: {left}"


@pytest.fixture
def boxes(monkeypatch) -> Boxes:
    recorder = Boxes()
    monkeypatch.setattr(QMessageBox, "question", recorder.question)
    for kind in ("critical", "warning", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, recorder.recorder(kind))
    return recorder


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings, boxes, monkeypatch):
    """Windows as `ann-designer` builds them, minus the training UI (tested on its own)."""
    monkeypatch.setattr(designer_app, "install_training_ui", lambda window: None)
    made: list[MainWindow] = []

    def make(**kwargs) -> MainWindow:
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("offer_recovery", False)
        window = designer_app.create_window(**kwargs)
        window.resize(1200, 800)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:  # not qtbot.addWidget: it closes before this can mark them clean
        window.editor.undo_stack.setClean()  # never ask at teardown
        window.close()
        window.deleteLater()
    qtbot.wait(1)


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def use_project(window: MainWindow, project: Project | None = None) -> None:
    window.session.new_project(project or small_project())


def action(window: MainWindow, name: str):
    return window.actions_by_name[name]
