"""Edit benchmark: the whole window (training docks too) with a 300-layer network open.

Each edit of the network tells the live views that the network changed; this measures
what one edit and one undo cost the window, with the default dock layout (the Weights
view is a background tab at this size; ``--show-weights`` raises it).
Prints ONE JSON object: ``edit_ms_median`` / ``edit_ms_max`` (set one layer's units,
events processed), ``add_ms_median`` (add a layer: the list of layers changes),
``undo_ms_median`` and ``undo_all_s`` (undo every edit and add), ``profile_top`` (where
the time went, cumulative seconds, with ``--profile``).

    .venv/bin/python benchmarks/edits.py [--edits 100] [--show-weights] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from canvas import generated_spec  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402


def timed(app: QApplication, action) -> float:
    """Milliseconds for ``action()`` plus the events it queued."""
    t = time.perf_counter()
    action()
    app.processEvents()
    return (time.perf_counter() - t) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-weights", action="store_true")
    args = parser.parse_args()
    from core.project import Project
    from designer import app as designer_app
    from designer.model.layout import layered_layout

    app = designer_app.application()
    folder = Path(tempfile.mkdtemp())
    window = designer_app.create_window(
        settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat),
        offer_recovery=False)
    window.resize(1600, 1000)
    window.show()
    spec = generated_spec()
    layout = layered_layout([n["id"] for n in spec["nodes"]], [tuple(e) for e in spec["edges"]])
    window.session.new_project(Project(name="dag", spec=spec,
                                       layout={k: list(v) for k, v in layout.items()}))
    if args.show_weights:
        window.findChild(QDockWidget, "WeightsDock").raise_()
    for _ in range(5):
        app.processEvents()
    weights_shown = window.training_ui.weights.is_shown()
    dense = window.document.nodes_of_type("Dense")
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    edits = [timed(app, lambda i=i: window.editor.set_param(
        [dense[i % len(dense)]], "units", 17 + i % 5)) for i in range(args.edits)]
    adds = [timed(app, lambda i=i: window.editor.add_node(
        "Dense", pos=(-400.0, 80.0 * i))) for i in range(max(1, args.edits // 5))]
    t = time.perf_counter()
    undos = [timed(app, window.editor.undo) for _ in range(len(edits) + len(adds))]
    undo_all_s = time.perf_counter() - t
    if profile:
        profile.disable()
    result = {
        "layers": len(spec["nodes"]), "edits": args.edits,
        "weights_view_shown": weights_shown,
        "edit_ms_median": round(statistics.median(edits), 2),
        "edit_ms_max": round(max(edits), 2),
        "add_ms_median": round(statistics.median(adds), 2),
        "undo_ms_median": round(statistics.median(undos), 2),
        "undo_all_s": round(undo_all_s, 3),
        "undone": window.editor.undo_stack.index() == 0,
    }
    if profile:
        stats = pstats.Stats(profile)
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)
        result["profile_top"] = [
            [f"{Path(f).name}:{line}:{name}", round(ct, 3)]
            for (f, line, name), (_cc, _nc, _tt, ct, _callers) in rows[:25]]
    print(json.dumps(result, indent=1))
    window.session.mark_clean()
    window.close()


if __name__ == "__main__":
    main()
