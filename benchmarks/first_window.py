"""Cold start benchmark: time from starting ``ann-designer`` to the window's first paint.

Each run starts a fresh Python process (so imports count, as they do for a user) that
runs the ``ann-designer`` entry point offscreen on the default example, with empty
settings (the first-start layout) and no recovery question; the child notes the moment
the main window has finished its first paint, reports, and exits. With several
``--tree`` options the runs alternate between source trees (paired: tree A, tree B, A,
B, ...), so a busy machine slows both alike.

Prints ONE JSON object: per tree the runs' seconds to the first paint, their median and
minimum, and the live views that were built at that moment; with several trees also the
median of the paired differences (first tree minus each other one).

    .venv/bin/python benchmarks/first_window.py [--runs 5] [--tree NAME=DIR ...]

``DIR`` is a checkout of the project (``git archive`` of another commit will do); it is
put first on the child's ``sys.path``, so that tree's ``core`` and ``designer`` run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

#: The child: hook the first paint of the main window, then run the launcher's main().
CHILD = r"""
import json, os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])


def report():
    from designer.plots.common import LiveView
    window = next(w for w in app.topLevelWidgets() if isinstance(w, QMainWindow))
    built = sorted(type(v).__name__ for v in window.findChildren(LiveView)
                   if type(v).__name__.endswith("View"))
    import designer
    with open(os.environ["FIRST_WINDOW_REPORT"], "w") as out:
        json.dump({"painted_at": time.time(), "built_views": built,
                   "source": os.path.dirname(os.path.dirname(designer.__file__))}, out)
    os._exit(0)


class FirstPaint(QObject):
    seen = False

    def eventFilter(self, obj, event):
        if (not self.seen and event.type() == QEvent.Type.Paint
                and isinstance(obj, QMainWindow)):
            self.seen = True
            QTimer.singleShot(0, report)  # after the whole paint pass
        return False


hook = FirstPaint()
app.installEventFilter(hook)
from designer.app import main
sys.exit(main([]))
"""


def one_run(tree: Path, config: Path) -> dict:
    """Start one designer from ``tree``; seconds to its first paint and what it built."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ANN_DESIGNER_NO_RECOVERY="1",
               XDG_CONFIG_HOME=str(config), XDG_STATE_HOME=str(config),
               PYTHONPATH=str(tree), FIRST_WINDOW_REPORT=str(config / "report.json"))
    start = time.time()
    # No pipes: the training process' fork server would hold them open after the exit.
    subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=config, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if not (config / "report.json").is_file():
        raise RuntimeError(f"no report from {tree}")
    report = json.loads((config / "report.json").read_text())
    if Path(report["source"]).resolve() != tree.resolve():
        raise RuntimeError(f"ran {report['source']}, not {tree}")
    return {"s": report["painted_at"] - start, "built_views": report["built_views"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per tree")
    parser.add_argument("--tree", action="append", default=[],
                        help="NAME=DIR: a source tree to time (default: this one)")
    args = parser.parse_args()
    trees = [t.split("=", 1) for t in args.tree] or [["this", str(HERE)]]
    results: dict[str, dict] = {name: {"runs_s": []} for name, _ in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, tree in trees:
                config = Path(tmp) / name  # a fresh settings folder: the first-start layout
                config.mkdir(exist_ok=True)
                run = one_run(Path(tree), config)
                shutil.rmtree(config)
                results[name]["runs_s"].append(round(run["s"], 3))
                results[name]["built_views"] = run["built_views"]
    for result in results.values():
        result["median_s"] = round(statistics.median(result["runs_s"]), 3)
        result["min_s"] = round(min(result["runs_s"]), 3)
    out: dict = {"runs": args.runs, "trees": results}
    first = trees[0][0]
    for name, _ in trees[1:]:  # run i of each tree ran next to run i of the first
        pairs = zip(results[first]["runs_s"], results[name]["runs_s"], strict=True)
        out[f"{first}_minus_{name}_median_s"] = round(statistics.median(
            a - b for a, b in pairs), 3)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
