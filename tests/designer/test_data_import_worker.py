"""A CSV import reads the file once, on a worker thread, behind a progress dialog with
Cancel: the window keeps answering, Cancel leaves the project as it was, and the scatter
of a large data set draws a sample of its rows."""

from __future__ import annotations

import copy
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton
from training_windows import ui_of

import designer.panels.data_panel as data_panel
from core import workflow
from designer.model.settings import unfitted
from designer.panels.background_read import ReadProgressDialog
from designer.panels.data_import import ColumnMapping

MAPPING = ColumnMapping("label", ["a", "b"])


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "points.csv"
    rows = [f"{a:.4f},{b:.4f},{k}" for a, b, k in
            zip(*rng.normal(size=(2, 80)), rng.integers(0, 2, 80), strict=True)]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return path


def slow_read(monkeypatch, seconds: float = 1.0, steps: int = 20) -> list[str]:
    """Make the panel's reader report progress slowly before it reads; returns the names
    of the threads it ran on."""
    threads: list[str] = []

    def read(request, path, progress=None):
        import threading

        threads.append(threading.current_thread().name)
        for k in range(steps):
            time.sleep(seconds / steps)
            progress(k, steps)
        return workflow.read_source_file(request, path, progress=progress)

    monkeypatch.setattr(data_panel, "read_source_file", read)
    return threads


def test_the_read_runs_off_the_ui_thread_while_the_event_loop_turns(
        qtbot, window, csv_file, monkeypatch):
    threads = slow_read(monkeypatch, seconds=2.0, steps=40)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    shown: list[bool] = []
    QTimer.singleShot(800, lambda: shown.append(any(
        isinstance(w, ReadProgressDialog) and w.isVisible()
        for w in QApplication.topLevelWidgets())))
    ui = ui_of(window)
    try:
        assert ui.data_panel.import_with(str(csv_file), MAPPING)
    finally:
        timer.stop()
    assert threads and threads[0] != "MainThread"
    assert len(ticks) >= 20  # a frozen loop would tick once, after the read
    assert max(np.diff(ticks)) < 1.0  # the read takes 2 s; a loaded machine may lag
    assert shown == [True]
    assert window.document.project.data["path"] == str(csv_file)
    assert len(ui.run.data.raw.X) == 80


@pytest.mark.parametrize("how", ["button", "escape"])
def test_cancel_leaves_the_project_as_it_was(qtbot, window, csv_file, monkeypatch, how):
    slow_read(monkeypatch, seconds=10.0, steps=200)
    ui = ui_of(window)
    before = dict(window.document.project.data)
    undo_steps = window.session.editor.undo_stack.count()
    data_before = ui.run.data

    earlier = set(QApplication.topLevelWidgets())  # an earlier test's dialog may linger

    polls: list[int] = []

    def cancel() -> None:  # as soon as the dialog is on screen (later on a busy machine)
        polls.append(1)
        made = [w for w in QApplication.topLevelWidgets() if w not in earlier
                and isinstance(w, ReadProgressDialog)]
        if len(polls) >= 20:  # 2 s: a loaded machine may not have shown it yet
            for widget in made:
                widget.show()
        shown = [w for w in made if w.isVisible()]
        for widget in shown:
            if how == "button":
                widget.findChild(QPushButton).click()
            else:
                QTest.keyClick(widget, Qt.Key.Key_Escape)
        if shown:
            poll.stop()

    poll = QTimer(interval=100)
    poll.timeout.connect(cancel)
    poll.start()
    started = time.monotonic()
    try:
        assert not ui.data_panel.import_with(str(csv_file), MAPPING)
    finally:
        poll.stop()
    assert time.monotonic() - started < 8  # stopped at the next report, not after 10 s
    assert window.document.project.data == before
    assert ui.run.data is data_before
    assert ui.data_panel.error_label.text() == ""
    assert window.session.editor.undo_stack.count() == undo_steps


def test_the_file_is_read_once(qtbot, window, csv_file, monkeypatch):
    reads: list[str] = []
    real = workflow.read_csv

    def counting(path, *args, **kwargs):
        reads.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(workflow, "read_csv", counting)
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    assert reads == [str(csv_file)]
    assert len(ui.run.data.raw.X) == 80
    ui.training_panel.loss_box.setCurrentText("mse")  # prepared again, not read again
    assert reads == [str(csv_file)]


def test_an_error_in_the_worker_is_shown_in_the_panel(qtbot, window, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    ui = ui_of(window)
    assert not ui.data_panel.import_with(str(bad), MAPPING)
    assert "line 3, column 'b'" in ui.data_panel.error_label.text()
    assert window.document.project.data["kind"] == "builtin"


def test_the_scatter_draws_a_fixed_sample_of_a_large_data_set():
    rows = data_panel.scatter_rows(1_000_000)
    assert len(rows) == data_panel.MAX_SCATTER_POINTS
    assert len(np.unique(rows)) == len(rows) and rows.max() > 900_000
    assert np.array_equal(rows, data_panel.scatter_rows(1_000_000))
    assert np.array_equal(data_panel.scatter_rows(50), np.arange(50))


# ------------------------------------------------------------------ preparing on the worker
def spy_preparations(monkeypatch) -> list[str]:
    """The threads the scaler is fitted on: one per preparation of the data."""
    threads: list[str] = []
    real = workflow.fitted_scaler

    def fitted(project, train):
        threads.append(threading.current_thread().name)
        return real(project, train)

    monkeypatch.setattr(workflow, "fitted_scaler", fitted)
    return threads


def assert_as_the_command_line_prepares(project, data) -> None:
    """The designer's data equal ``prepare_data`` of the project with its scaling unfitted
    (the split, the scaled features, the scaler's statistics)."""
    fresh = copy.deepcopy(project)
    fresh.preprocessing = unfitted(project.preprocessing)
    cli = workflow.prepare_data(fresh, dataset=data.raw)
    assert fresh.preprocessing == project.preprocessing
    assert np.array_equal(cli.train.X, data.prepared.train.X)
    assert np.array_equal(cli.val.X, data.prepared.val.X)
    assert np.array_equal(cli.train.y, data.raw_train.y)
    raw_train, raw_val, _ = workflow.split_dataset(project, data.raw)
    assert np.array_equal(raw_train.X, data.raw_train.X)
    assert np.array_equal(raw_val.X, data.raw_val.X)


def test_the_data_is_prepared_on_the_worker_and_taken_as_it_is(
        qtbot, window, csv_file, monkeypatch):
    threads = spy_preparations(monkeypatch)
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
    project = window.document.project
    assert project.preprocessing["method"] == "standardize" and project.preprocessing["offset"]
    assert project.class_names == ["0", "1"]
    assert_as_the_command_line_prepares(project, ui.run.data)


@pytest.mark.parametrize("change", ["split", "loss", "scaling"])
def test_settings_changed_during_the_import_prepare_it_again(
        qtbot, window, csv_file, monkeypatch, change):
    threads = spy_preparations(monkeypatch)
    slow_read(monkeypatch, seconds=1.0, steps=20)
    ui = ui_of(window)
    edits = {
        "split": lambda: window.session.editor.set_split({"val": 0.3}),
        "loss": lambda: ui.training_panel.loss_box.setCurrentText("categorical_crossentropy"),
        "scaling": lambda: window.session.editor.set_data_source(
            window.document.project.data, preprocessing={"method": "minmax", "offset": [],
                                                          "scale": []})}
    QTimer.singleShot(300, edits[change])
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    assert threads[-1] == threading.main_thread().name  # prepared again for the new settings
    assert any(name != threading.main_thread().name for name in threads)
    data, project = ui.run.data, window.document.project
    if change == "split":
        assert len(data.prepared.val.X) == 24
    elif change == "loss":
        assert data.prepared.loss == "categorical_crossentropy"
    assert_as_the_command_line_prepares(project, data)


def test_the_prepared_data_keeps_no_copy_of_the_raw_split_until_a_view_asks(tmp_path):
    import tracemalloc

    from core.data import Dataset
    from core.project import Project
    from designer.run.data import load_training_data

    rng = np.random.default_rng(5)
    raw = Dataset(rng.standard_normal((200_000, 20)).astype(np.float32),
                  rng.integers(0, 3, 200_000), "classification",
                  [f"f{i}" for i in range(20)])
    project = Project(data={"kind": "csv", "path": "x.csv"},
                      preprocessing={"method": "standardize", "offset": [], "scale": []})
    tracemalloc.start()
    try:
        data = load_training_data(project, None, raw)
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 1.5 * raw.X.nbytes  # 1.2x: scaled X, targets and positions; before 2.2x
    raw_train, raw_val, _ = workflow.split_dataset(project, raw)
    assert np.array_equal(data.raw_train.X, raw_train.X)  # cut when asked, the same
    assert np.array_equal(data.raw_val.y, raw_val.y)


def test_the_panels_summaries_of_the_whole_data_set_are_computed_on_the_worker(
        qtbot, window, csv_file, monkeypatch):
    """Class counts and the Inference panel's medians are passes over every row (a
    quarter of a second each at a million rows): none of them on the UI thread."""
    passes: list[tuple[str, str]] = []

    def spying(name):
        real = getattr(np, name)

        def spy(a, *args, **kwargs):
            if len(np.asarray(a)) == 80:  # the whole data set, not a sample of it
                passes.append((name, threading.current_thread().name))
            return real(a, *args, **kwargs)

        monkeypatch.setattr(np, name, spy)

    spying("median")
    spying("bincount")
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    ui.inference_panel.rebuild()
    assert {name for name, _ in passes} == {"median", "bincount"}
    assert all(thread != threading.main_thread().name for _, thread in passes)
    assert ui.data_panel.balance_label.text().startswith("Classes: 0 ")
    assert len(ui.inference_panel.spins) == 2


def test_the_scatter_is_drawn_a_chunk_per_event_loop_turn(qtbot, window, csv_file,
                                                          monkeypatch):
    monkeypatch.setattr(data_panel, "SCATTER_CHUNK", 30)
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    scatter = ui.data_panel.scatter
    assert len(scatter.data) == 30  # the rest comes in later turns of the event loop
    qtbot.waitUntil(lambda: len(scatter.data) == 80)
    X = ui.run.data.raw.X
    assert np.array_equal(np.sort(scatter.data["x"]), np.sort(X[:, 0]))
    ui.data_panel.y_box.setCurrentIndex(0)  # drawn again: the older drawing stops
    qtbot.wait(50)
    assert len(scatter.data) == 80
    assert np.array_equal(np.sort(scatter.data["y"]), np.sort(X[:, 0]))


def test_importing_the_same_file_again_takes_the_workers_preparation(
        qtbot, window, csv_file, monkeypatch):
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    threads = spy_preparations(monkeypatch)
    undo_steps = window.session.editor.undo_stack.count()
    assert ui.data_panel.import_with(str(csv_file), MAPPING)  # only reloads: no new edit
    assert window.session.editor.undo_stack.count() == undo_steps
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
    assert_as_the_command_line_prepares(window.document.project, ui.run.data)


def test_a_preparation_that_fails_on_the_worker_is_made_again_on_the_ui_thread(
        qtbot, window, csv_file, monkeypatch):
    def failing(inputs, raw):
        raise RuntimeError("no memory")

    monkeypatch.setattr(data_panel, "prepare_snapshot", failing)
    threads = spy_preparations(monkeypatch)
    ui = ui_of(window)
    assert ui.data_panel.import_with(str(csv_file), MAPPING)
    assert threads == [threading.main_thread().name]
    assert_as_the_command_line_prepares(window.document.project, ui.run.data)


def test_escape_always_cancels_the_read(qtbot):
    """Escape rejects the dialog; a progress dialog that was not yet the active window
    was then only hidden, with no ``canceled``: the read went on with no dialog and no
    way to stop it (seen on a loaded machine)."""
    dialog = ReadProgressDialog(None, "Reading big.csv")
    qtbot.addWidget(dialog)
    got: list[bool] = []
    dialog.canceled.connect(lambda: got.append(True))
    dialog.reject()  # what Escape does
    assert got and dialog.wasCanceled()
