"""Canvas benchmark: open, repaint and drag on a generated 300-node / 400-edge DAG.

Runs offscreen and prints ONE JSON object:
``open_s`` (read the .annproj, install it in the document, build the scene, first paint),
``repaint_ms_median`` (a full viewport repaint with the whole network in view),
``drag_ms_per_event`` (one mouse-move event dragging a card with 10 edges, incl. repaint),
plus a few more figures. Targets (issue 4): open <= 1 s, repaint <= 16 ms, drag <= 5 ms.

    .venv/bin/python benchmarks/canvas.py
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

N_NODES, N_EDGES, HUB = 300, 400, "hub"
FEATURES = 16


def generated_spec(n_nodes: int = N_NODES, n_edges: int = N_EDGES) -> dict:
    """A valid DAG: an input fanning out through a hub (10 edges) into parallel chains that
    branch (Dense fed by a busy node) and merge again (Add), ending in one output."""
    nodes = [{"id": "input", "type": "Input", "shape": [FEATURES]}]
    edges: list[list[str]] = []
    open_ids: list[str] = []  # nodes without a successor yet, oldest first
    state = {"k": 0}

    def dense(src: str, keep_open: bool) -> str:
        state["k"] += 1
        nid = HUB if state["k"] == 1 else f"dense_{state['k']}"
        nodes.append({"id": nid, "type": "Dense", "units": FEATURES, "activation": "relu"})
        edges.append([src, nid])
        if not keep_open and src in open_ids:
            open_ids.remove(src)
        open_ids.append(nid)
        return nid

    def add(sources: list[str]) -> None:
        state["k"] += 1
        nid = f"add_{state['k']}"
        nodes.append({"id": nid, "type": "Add"})
        for src in sources:
            edges.append([src, nid])
            open_ids.remove(src)
        open_ids.append(nid)

    open_ids.append("input")
    dense("input", keep_open=False)                      # the hub: 1 input ...
    dense(HUB, keep_open=False)                          # ... 1 open successor
    for _ in range(8):                                   # ... and 8 branches = 10 edges
        dense(HUB, keep_open=True)
    width = len(open_ids)
    final_adds = (width - 1) // 2                        # merge 9 chains by Adds of 3
    rest_nodes = n_nodes - len(nodes) - final_adds
    rest_edges = n_edges - len(edges) - 3 * final_adds
    blocks = 35
    branches = rest_edges - rest_nodes                   # sum of b over the blocks
    picks = rest_nodes - branches - blocks               # sum of a over the blocks
    recent = 0
    for block in range(blocks):
        b = branches // blocks + (block < branches % blocks)
        a = picks // blocks + (block < picks % blocks)
        for _ in range(a):
            dense(open_ids[0], keep_open=False)
        for j in range(b):
            busy = [n["id"] for n in nodes[-40:] if n["id"] not in open_ids and
                    n["id"] not in (HUB, "input")]
            recent = (recent + 7 + j) % max(len(busy), 1)
            dense(busy[recent], keep_open=True)
        add(open_ids[: b + 1])
    while len(open_ids) > 1:
        add(open_ids[:3])
    assert len(nodes) == n_nodes and len(edges) == n_edges, (len(nodes), len(edges))
    return {"nodes": nodes, "edges": edges}


def mouse(view, kind: QEvent.Type, scene_pos: QPointF, buttons: Qt.MouseButton) -> None:
    """Send one mouse event to the view's viewport at a scene position."""
    local = QPointF(view.mapFromScene(scene_pos))
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, local, QPointF(view.viewport().mapToGlobal(local.toPoint())),
                        button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from core.project import Project, save_project
    from core.spec import validate
    from designer.canvas.view import CanvasView
    from designer.model.layout import layered_layout
    from designer.session import Session

    spec = generated_spec()
    errors = [p for p in validate(spec) if p.severity == "error"]
    t0 = time.perf_counter()
    layout = layered_layout([n["id"] for n in spec["nodes"]],
                            [tuple(e) for e in spec["edges"]])
    layout_s = time.perf_counter() - t0
    folder = Path(tempfile.mkdtemp())
    path = folder / "dag.annproj"
    save_project(Project(name="dag", spec=spec,
                         layout={k: list(v) for k, v in layout.items()}), path)

    session = Session()
    doc = session.document
    view = CanvasView.for_session(session)
    view.resize(1280, 800)
    view.show()
    app.processEvents()
    t0 = time.perf_counter()
    session.open(path)
    view.fit_to_view()
    view.viewport().repaint()
    app.processEvents()
    open_s = time.perf_counter() - t0

    def repaint_ms(runs: int = 25) -> float:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            view.viewport().repaint()
            times.append((time.perf_counter() - t) * 1e3)
        return statistics.median(times)

    repaint_fit = repaint_ms()
    t = time.perf_counter()
    for _ in range(10):
        view.grab()
    grab_ms = (time.perf_counter() - t) * 100
    hub = view.canvas.node_item(HUB)
    assert hub is not None and len(hub.edges) == 10, len(hub.edges)
    view.reset_zoom()
    view.centerOn(hub)
    app.processEvents()
    repaint_zoom1 = repaint_ms()

    start = hub.sceneBoundingRect().center()
    mouse(view, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    times = []
    for step in range(1, 121):
        target = start + QPointF(step * 1.5, step * 0.75)
        t = time.perf_counter()
        mouse(view, QEvent.Type.MouseMove, target, Qt.MouseButton.LeftButton)
        app.processEvents()
        times.append((time.perf_counter() - t) * 1e3)
    moved_before_release = doc.position(HUB)
    mouse(view, QEvent.Type.MouseButtonRelease, target, Qt.MouseButton.NoButton)
    app.processEvents()
    moved = doc.position(HUB) != moved_before_release

    print(json.dumps({
        "nodes": len(spec["nodes"]), "edges": len(spec["edges"]),
        "spec_errors": len(errors),
        "open_s": round(open_s, 4),
        "repaint_ms_median": round(repaint_fit, 3),
        "repaint_ms_median_zoom1": round(repaint_zoom1, 3),
        "grab_ms_mean": round(grab_ms, 3),
        "drag_ms_per_event": round(statistics.median(times), 3),
        "drag_ms_per_event_mean": round(statistics.mean(times), 3),
        "drag_ms_per_event_max": round(max(times), 3),
        "drag_committed_one_command": moved and session.undo_stack.count() == 1,
        "auto_layout_s": round(layout_s, 4),
        "viewport": [view.viewport().width(), view.viewport().height()],
        "qt_platform": app.platformName(),
    }))
    view.close()


if __name__ == "__main__":
    main()
