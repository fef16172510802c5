"""Memory of a long training run: the window's and the training process's RSS over time.

Opens the designer offscreen with ``digits-mlp`` (by default) and every live view on
screen (the layout of ``benchmarks/gui_training.py``), trains for ``--seconds`` (3
minutes by default) and samples the resident set size of the window's process and of the
training process every ``--every`` seconds (10 by default). Both should be flat after
the warm-up: the per-step history is bounded (``core.training.history``), the window's
curves are decimated (``designer.run.buffer``), and the only things that grow are the
exact per-epoch records (a few hundred bytes an epoch).

Prints one JSON object: ``workload``, ``seconds``, ``epochs``, ``steps``, ``samples``
(``t_s``, ``window_mib``, ``process_mib``, ``epochs``), and the growth per minute of each
after the first minute (``window_mib_per_min``, ``process_mib_per_min``, a least-squares
slope over the samples from 60 s on; over the second half of the run when it is shorter).

Usage: ``python benchmarks/training_memory.py [--seconds 180] [--every 10]`` (Linux: the
RSS is read from /proc).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from gui_training import close_window, open_window  # noqa: E402  (sets up the screen)

PAGE_MIB = 4096 / 2**20


def rss_mib(pid: int) -> float | None:
    """The resident set size of process ``pid`` in MiB (None once it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * PAGE_MIB


def slope_per_min(samples: list[dict], key: str, warm_up_s: float) -> float:
    """MiB a minute: the least-squares slope of ``key`` after the warm-up."""
    points = [(s["t_s"], s[key]) for s in samples
              if s["t_s"] >= warm_up_s and s[key] is not None and np.isfinite(s[key])]
    if len(points) < 2:
        return float("nan")
    t, y = np.asarray(points).T
    return float(np.polyfit(t, y, 1)[0] * 60.0)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--workload", default="digits-mlp")
    args = parser.parse_args(argv)

    import os

    from PySide6.QtCore import QEventLoop, QTimer

    app, window = open_window(args.workload)
    run = window.training_ui.run
    run.reset_weights()
    if error := run.train(epochs=10_000_000):
        raise SystemExit(error)
    start = time.perf_counter()
    samples: list[dict] = []

    def sample() -> None:
        curves = run.buffer.curves()
        process = run.process
        samples.append({
            "t_s": round(time.perf_counter() - start, 1),
            "window_mib": _round(rss_mib(os.getpid())),
            "process_mib": _round(rss_mib(process.pid)) if process else None,
            "epochs": curves.n_epochs})

    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(int(args.every * 1000))
    QTimer.singleShot(int(args.seconds * 1000) + 50, loop.quit)
    sample()
    loop.exec()
    timer.stop()
    latest = run.buffer.latest()
    run.stop()
    close_window(app, window)
    warm_up = 60.0 if args.seconds >= 120 else args.seconds / 2
    print(json.dumps({
        "workload": args.workload, "seconds": args.seconds, "warm_up_s": warm_up,
        "epochs": samples[-1]["epochs"], "steps": latest.step if latest else 0,
        "window_mib_per_min": round(slope_per_min(samples, "window_mib", warm_up), 2),
        "process_mib_per_min": round(slope_per_min(samples, "process_mib", warm_up), 2),
        "load_avg": os.getloadavg()[0], "samples": samples}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
