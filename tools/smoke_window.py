"""Open the designer as a first-time user would, offscreen, and check what they would see.

CI runs it with a venv where the built wheel is installed, from a folder outside the
repository, so it tests the package as shipped:

    QT_QPA_PLATFORM=offscreen /path/to/venv/bin/python tools/smoke_window.py --installed

It passes (exit 0) when the window opens on the default example with no message box
(the broken wheel of 0.1.0 showed one over an empty window) and the canvas shows the
example's layers, one node item per layer of the spec. It prints the time from the
start of the script to the first shown window.
"""

from __future__ import annotations

import argparse
import sys
import time

START = time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installed", action="store_true",
                        help="fail unless the packages come from site-packages")
    args = parser.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QGraphicsView

    import core
    from core.examples import DEFAULT_EXAMPLE, load_example
    from designer import app

    if args.installed and "site-packages" not in core.__file__:
        return fail(f"core comes from {core.__file__}, not an installed wheel")
    qapp = app.application([])
    boxes: list[str] = []

    def close_modal_boxes() -> None:  # a modal box would block create_window forever
        widget = QApplication.activeModalWidget()
        if widget is not None:
            boxes.append(f"{type(widget).__name__}: {getattr(widget, 'text', str)()}")
            widget.close()

    watcher = QTimer(interval=100, timeout=close_modal_boxes)
    watcher.start()
    window = app.create_window(None, offer_recovery=False)
    window.show()
    QTimer.singleShot(0, qapp.quit)
    qapp.exec()
    shown = time.perf_counter() - START
    close_modal_boxes()
    watcher.stop()
    view = window.findChild(QGraphicsView)
    nodes = sorted(getattr(item, "node_id", "") for item in view.scene().items()
                   if type(item).__name__ == "NodeItem")
    window.close()
    if boxes:
        return fail(f"a message box opened with the window: {boxes}")
    expected = sorted(node["id"] for node in load_example(DEFAULT_EXAMPLE).spec["nodes"])
    if nodes != expected:
        return fail(f"the canvas shows {nodes}, not the {DEFAULT_EXAMPLE} example's "
                    f"layers {expected}")
    print(f"window opened on {DEFAULT_EXAMPLE!r} with {len(nodes)} layers "
          f"({', '.join(nodes)}) and no message box; first window after {shown:.2f} s")
    return 0


def fail(message: str) -> int:
    print(f"smoke_window: FAILED: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
