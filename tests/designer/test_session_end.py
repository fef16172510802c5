"""Logout and shutdown: SIGTERM ends the designer without losing unsaved work.

The designer runs as `ann-designer` runs it (``designer.app.main``) in a process of its
own, with a private home, so that the signal and the exit are real.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.project import load_project

READY_S = 120  # start-up plus two epochs, on a busy machine

SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from designer import app

    made = app.create_window

    def create_window(*args, **kwargs):
        window = made(*args, **kwargs)
        window.editor.set_param(["hidden1"], "units", 11)  # unsaved work
        run = window.training_ui.run
        run.train(epochs=100_000)  # a long run, still going at the signal

        def ready():
            if run.buffer.curves().n_epochs < 2:
                QTimer.singleShot(50, ready)
            elif sys.argv[1] == "asking":  # Save / Discard / Cancel waits for an answer
                QTimer.singleShot(300, lambda: print("ready", flush=True))
                window.close()
            else:
                print("ready", flush=True)

        QTimer.singleShot(50, ready)
        return window

    app.create_window = create_window
    sys.exit(app.main([]))  # as `ann-designer` with no arguments
""")


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32",
                    reason="POSIX signals")
@pytest.mark.parametrize("state", ["working", "asking"])
def test_sigterm_keeps_unsaved_work_and_the_run_and_exits_cleanly(tmp_path: Path,
                                                                  state: str) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "ANN_DESIGNER_NO_RECOVERY": "0",
           "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, state], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], READY_S)
        assert ready and proc.stdout.readline().strip() == "ready", "the designer never ran"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    copies = list((tmp_path / "data").rglob("recovery/session-*.annproj"))
    assert len(copies) == 1, err
    kept = load_project(copies[0])
    assert {n["id"]: n for n in kept.spec["nodes"]}["hidden1"]["units"] == 11
    assert len(kept.history.get("loss", [])) >= 2 and kept.weights  # the run's progress
    assert copies[0].with_suffix(".json").is_file()  # the note that makes it an orphan
    assert list((tmp_path / "config").rglob("*.conf"))  # window settings were saved
