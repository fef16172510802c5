"""The engine knows no screen: importing core loads no Qt, pyqtgraph or designer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_core_loads_no_gui_module():
    code = ("import json, sys; import core, core.network, core.spec, core.layers; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    assert "core.network" in modules  # the check itself ran
    banned = [m for m in modules
              if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "designer")]
    assert banned == []


GUI_PACKAGES = ("designer", "PySide6", "shiboken6", "pyqtgraph")


def test_the_command_line_has_no_reference_to_the_designer():
    """core.cli runs commands only: the launcher (designer.app) opens the window, so the
    engine never reaches up into the GUI, not even lazily or by a module name in a string."""
    import ast
    import re

    source = (ROOT / "core" / "cli.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)]
    assert [m for m in imported if m.split(".")[0] in GUI_PACKAGES] == []
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = {getattr(f, "id", None) or getattr(f, "attr", None) for f in calls}
    assert not names & {"__import__", "import_module", "run_module", "exec", "eval"}
    module_names = re.findall(r"(?<![\w-])(?:designer|PySide6|pyqtgraph)\.\w+", source)
    assert module_names == []


def test_running_a_command_loads_no_gui_module():
    code = ("import json, sys; from core import cli; cli.main(['examples']); "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    assert "core.cli" in modules
    assert [m for m in modules if m.split(".")[0] in GUI_PACKAGES] == []
