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
