"""Which way the run's imports go: ``designer.run`` loads no Qt (the training process
starts without it), and the views and panels do not load the Qt bridge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after_importing(packages: list[str], watched: list[str]) -> list[str]:
    """The ``watched`` modules a fresh interpreter has loaded after importing every
    module of ``packages``."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {packages!r}:\n"
        "    package = importlib.import_module(name)\n"
        "    for m in pkgutil.iter_modules(package.__path__):\n"
        "        importlib.import_module(name + '.' + m.name)\n"
        f"print(' '.join(m for m in {watched!r} if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    return out.stdout.split()


def test_the_run_package_loads_no_qt_and_no_designer_views():
    assert _loaded_after_importing(["designer.run"], [
        "PySide6", "pyqtgraph", "designer.training", "designer.plots",
        "designer.panels"]) == []


def test_views_and_panels_do_not_load_the_bridge():
    assert _loaded_after_importing(["designer.plots", "designer.panels"], [
        "designer.training.session", "designer.training.live",
        "designer.training.docks"]) == []
