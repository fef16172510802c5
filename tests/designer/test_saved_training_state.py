"""A project the designer trained and saved reads as trained on the command line.

Issue 15, item 20 (``summary`` said "before training" for a trained project): the
designer's own files, saved after training, after a loss change and after Reset weights.
"""

from __future__ import annotations

from training_windows import ui_of, wait_idle

from core.cli import main


def summary(capsys, path) -> tuple[int, str, str]:
    code = main(["summary", str(path)])
    out, err = capsys.readouterr()
    state = next(line for line in out.splitlines() if line.startswith("loss "))
    return code, state.rsplit("; ", 1)[-1], err


def test_trained_changed_and_reset_projects_say_what_they_are(qtbot, window, tmp_path,
                                                               capsys):
    ui = ui_of(window)
    ui.run.train(epochs=3)
    wait_idle(qtbot, ui)
    assert summary(capsys, window.session.save(tmp_path / "a.annproj"))[:2] == (
        0, "trained 3 epochs")
    window.session.editor.set_training_settings({"loss": "categorical_crossentropy"})
    code, state, err = summary(capsys, window.session.save(tmp_path / "b.annproj"))
    assert (code, state) == (1, "trained 3 epochs")
    assert "before training" not in err and "(trained 3 epochs) are kept" in err
    window.session.editor.set_training_settings({"loss": "binary_crossentropy"})
    ui.run.reset_weights()
    assert summary(capsys, window.session.save(tmp_path / "c.annproj"))[:2] == (
        0, "untrained")
