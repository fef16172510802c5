"""Import a large CSV in the designer: peak memory, time, and how long the window froze.

The script writes a numeric CSV of about ``--mb`` MB (20 columns, a 3-class label; in a
child process, so that writing it does not count in the peak), then opens the designer
offscreen and imports the file through the Data panel (``import_with``, the path the
column-mapping dialog takes) while a QTimer ticking every 10 ms records how late the
event loop serves it. It prints one JSON object:

- ``file_mb``: the file's size; ``rows``, ``cols``;
- ``import_s``: the import, from the click to the data shown (read, prepare, scatter);
- ``read_s``: ``core.data.read_csv`` alone on the same file, for comparison;
- ``peak_rss_mb`` and ``baseline_rss_mb``: the process's peak resident memory and its
  memory with the window open (and pandas imported) before the import; ``peak_over_file`` is
  (peak - baseline) / file size (the target is < 3);
- ``max_loop_gap_ms``: the longest the event loop went without serving the timer during
  the import (the read runs on a worker; what remains on the UI thread is preparing the
  data and drawing it).

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/csv_import_gui.py [--mb 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COLS = 20
BYTES_PER_ROW = 165  # about, with 6 significant digits a cell


def write_csv(path: Path, rows: int) -> None:
    """The test file, written in a child process in blocks (its memory is not ours)."""
    code = f"""
import numpy as np
rng = np.random.default_rng(0)
with open({str(path)!r}, "w") as f:
    f.write(",".join([f"f{{i}}" for i in range({COLS - 1})] + ["label"]) + "\\n")
    left = {rows}
    while left:
        n = min(left, 100_000)
        table = rng.standard_normal((n, {COLS})) * 10
        table[:, -1] = rng.integers(0, 3, n)
        np.savetxt(f, table, fmt="%.6g", delimiter=",")
        left -= n
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def rss_mb() -> float:
    """The resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # KiB on Linux


def import_in_window(path: Path) -> dict:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from designer import app as designer_app
    from designer.panels.data_import import ColumnMapping

    qapp = QApplication.instance() or QApplication([])
    folder = tempfile.mkdtemp()
    settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    window = designer_app.create_window(settings=settings, offer_recovery=False)
    window.resize(1400, 900)
    window.show()
    for _ in range(20):
        qapp.processEvents()
    import pandas  # noqa: F401 - its fixed 50 MB is not the file's: count it in the baseline

    baseline = rss_mb()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    features = [f"f{i}" for i in range(COLS - 1)]
    started = time.perf_counter()
    ticks.append(started)
    ok = window.training_ui.data_panel.import_with(str(path), ColumnMapping("label", features))
    took = time.perf_counter() - started
    ticks.append(time.perf_counter())
    timer.stop()
    peak = peak_rss_mb()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    rows = len(window.training_ui.run.data.raw.X) if ok else 0
    window.session.mark_clean()
    window.close()
    return {"ok": ok, "rows": rows, "import_s": round(took, 2),
            "baseline_rss_mb": round(baseline), "peak_rss_mb": round(peak),
            "max_loop_gap_ms": round(max(gaps) * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.csv"
        write_csv(path, int(args.mb * 1e6 / BYTES_PER_ROW))
        size = path.stat().st_size
        result = import_in_window(path)
        from core.data import read_csv

        started = time.perf_counter()
        read_csv(path, target="label")
        result["read_s"] = round(time.perf_counter() - started, 2)
    over = (result["peak_rss_mb"] - result["baseline_rss_mb"]) * 1e6 / size
    print(json.dumps({"file_mb": round(size / 1e6), "cols": COLS, **result,
                      "peak_over_file": round(over, 2)}))


if __name__ == "__main__":
    main()
