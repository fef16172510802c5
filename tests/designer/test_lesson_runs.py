"""Runs are kept, overlaid with a legend of what differed, and scrubbed without changing
the current weights unless an epoch is restored (one undo step)."""

from __future__ import annotations

import numpy as np

from core.project import load_project
from core.runs import MAX_SNAPSHOTS
from tests.designer.training_windows import ui_of, wait_idle


def _train(qtbot, window, epochs: int, lr: float | None = None) -> None:
    ui = ui_of(window)
    if lr is not None:
        ui.run.set_learning_rate(lr)
    ui.run.train(epochs=epochs)
    wait_idle(qtbot, ui)


def _copy(weights):
    return {n: {k: np.array(v) for k, v in a.items()} for n, a in weights.items()}


def test_each_run_is_kept_and_the_legend_names_what_differed(qtbot, window, tmp_path):
    _train(qtbot, window, 4, lr=0.03)
    _train(qtbot, window, 3, lr=0.3)
    runs = window.document.runs
    assert [len(r["history"]["loss"]) for r in runs] == [4, 3]
    assert [r["start_epoch"] for r in runs] == [0, 4]
    assert runs[0]["snapshots"][0]["epoch"] == 0 and runs[0]["snapshots"][-1]["epoch"] == 4
    assert all(len(r["snapshots"]) <= MAX_SNAPSHOTS for r in runs)
    panel = window.lesson_ui.runs
    assert panel.runs.count() == 2
    assert panel.draw_curves() == ["lr 0.03", "lr 0.3"]
    path = tmp_path / "kept.annproj"
    window.session.save(path)
    again = load_project(path).runs
    assert [r["settings"]["optimizer"]["lr"] for r in again] == [0.03, 0.3]
    np.testing.assert_array_equal(
        again[0]["snapshots"][0]["weights"]["hidden1"]["kernel"],
        runs[0]["snapshots"][0]["weights"]["hidden1"]["kernel"])


def test_scrubbing_previews_and_restore_is_one_undo_step(qtbot, window):
    _train(qtbot, window, 3)
    panel = window.lesson_ui.runs
    now = _copy(window.document.stored_weights)
    panel.runs.setCurrentRow(0)
    panel.slider.setValue(0)  # the run's first epoch
    first = window.document.runs[0]["snapshots"][0]["weights"]
    assert window.session.previewing
    shown = window.session.layer_weights("hidden1")["kernel"]
    np.testing.assert_array_equal(shown, first["hidden1"]["kernel"])
    assert all(np.array_equal(v, window.document.stored_weights[n][k])
               for n, a in now.items() for k, v in a.items())  # unchanged
    panel.back_to_now()
    assert not window.session.previewing
    panel.slider.setValue(1)
    panel.slider.setValue(0)
    panel.restore()
    assert not window.session.previewing
    np.testing.assert_array_equal(window.document.stored_weights["hidden1"]["kernel"],
                                  first["hidden1"]["kernel"])
    window.editor.undo()
    np.testing.assert_array_equal(window.document.stored_weights["hidden1"]["kernel"],
                                  now["hidden1"]["kernel"])


def test_training_ends_a_preview_and_continues_from_the_current_weights(qtbot, window):
    _train(qtbot, window, 2)
    panel = window.lesson_ui.runs
    panel.runs.setCurrentRow(0)
    panel.slider.setValue(0)
    assert window.session.previewing
    job = ui_of(window).run._make_job(1, ())
    assert job.weights is window.session.trained_weights
    _train(qtbot, window, 1)
    assert not window.session.previewing
    assert len(window.document.runs[-1]["history"]["loss"]) == 3  # the run went on


def test_training_on_with_the_same_settings_extends_the_run(qtbot, window):
    _train(qtbot, window, 2)
    _train(qtbot, window, 2)
    runs = window.document.runs
    assert len(runs) == 1 and len(runs[0]["history"]["loss"]) == 4
    assert [s["epoch"] for s in runs[0]["snapshots"]][-1] == 4


def test_a_long_run_keeps_evenly_spaced_snapshots(qtbot, window):
    _train(qtbot, window, 40)
    epochs = [s["epoch"] for s in window.document.runs[0]["snapshots"]]
    assert epochs[0] == 0 and epochs[-1] == 40 and len(epochs) <= MAX_SNAPSHOTS
    gaps = np.diff(epochs)
    assert len(epochs) >= 15 and gaps.max() - gaps.min() <= 2
