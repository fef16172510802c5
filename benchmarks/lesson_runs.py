"""What keeping runs costs: project file size, and the time to scrub one epoch.

Opens the designer offscreen with the default example (spiral), trains it for 500
epochs in 5 runs of 100 from the Train path, each with another learning rate (so that
each is a run of its own rather than one continued run), saves the project with and
without its runs, and then scrubs the last run's timeline: every step of the slider
shows another epoch in every view (the previewed weights, a static snapshot with the
decision boundary and neuron maps, the refresh of the visible views and the repaint).

Prints one JSON object: ``epochs``, ``runs``, ``snapshots``, ``file_bytes`` (with runs),
``file_bytes_without_runs``, ``runs_bytes`` (the difference), ``scrub_ms_median`` and
``scrub_ms_p90`` (per epoch scrubbed), ``scrubs``.

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/lesson_runs.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.project import Project, save_project  # noqa: E402
from designer import app as designer_app  # noqa: E402

RATES = (0.03, 0.01, 0.003, 0.05, 0.02)
EPOCHS_PER_RUN = 100


def _wait(app: QApplication, done, timeout_s: float = 600.0) -> None:
    end = time.monotonic() + timeout_s
    while not done():
        app.processEvents()
        time.sleep(0.005)
        if time.monotonic() > end:
            raise TimeoutError("training did not finish")


def main() -> None:
    app = designer_app.application([])
    folder = Path(tempfile.mkdtemp())
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = designer_app.create_window(settings=settings, offer_recovery=False)
    window.resize(1600, 1000)
    window.show()
    run = window.training_ui.run
    _wait(app, lambda: run.data is not None, 60)
    for lr in RATES:
        run.set_learning_rate(lr)
        run.train(epochs=EPOCHS_PER_RUN)
        _wait(app, lambda: not run.is_running)
    project = window.document.project
    with_runs, without = folder / "runs.annproj", folder / "plain.annproj"
    save_project(project, with_runs)
    plain = Project(**{**project.__dict__, "runs": []})
    save_project(plain, without)
    panel = window.lesson_ui.runs
    panel.runs.setCurrentRow(panel.runs.count() - 1)
    snaps = len(window.document.runs[-1]["snapshots"])
    times = []
    for _ in range(3):
        for i in range(snaps):
            start = time.perf_counter()
            panel.slider.setValue(i)
            app.processEvents()
            window.repaint()
            times.append((time.perf_counter() - start) * 1000.0)
    panel.back_to_now()
    times.sort()
    result = {
        "epochs": EPOCHS_PER_RUN * len(RATES), "runs": len(window.document.runs),
        "snapshots": sum(len(r["snapshots"]) for r in window.document.runs),
        "file_bytes": with_runs.stat().st_size,
        "file_bytes_without_runs": without.stat().st_size,
        "runs_bytes": with_runs.stat().st_size - without.stat().st_size,
        "scrub_ms_median": round(statistics.median(times), 2),
        "scrub_ms_p90": round(times[int(0.9 * (len(times) - 1))], 2),
        "scrubs": len(times),
    }
    print(json.dumps(result))
    window.session.mark_clean()
    window.close()


if __name__ == "__main__":
    main()
