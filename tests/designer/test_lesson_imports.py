"""The lesson tools' numbers (trace, explain, knock-outs, GIFs, palette) load no Qt, so
that they can be tested and reused alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QT_FREE = ["trace", "explain", "knockout", "animation", "palette"]


def test_the_lesson_computations_load_no_qt():
    code = ("import importlib, sys\n"
            f"for name in {QT_FREE!r}:\n"
            "    importlib.import_module('designer.lesson.' + name)\n"
            "print(' '.join(m for m in ('PySide6', 'pyqtgraph', 'shiboken6') "
            "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.split() == []
