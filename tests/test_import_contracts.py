"""The layering of docs/internals.md, checked by import-linter (contracts in pyproject.toml).

A broken contract fails this test and CI: for example ``import PySide6`` anywhere in
``core`` or ``designer/run``, or ``designer.model`` importing the canvas.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    return exe


def test_every_import_contract_is_kept():
    result = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_contract_is_reported(tmp_path):
    """The check is live: a copy of the tree with core importing Qt fails it."""
    for name in ("core", "designer", "pyproject.toml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    (tmp_path / "core" / "leak.py").write_text("import PySide6.QtCore\n")
    result = subprocess.run([_lint_imports(), "--no-cache"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert result.returncode != 0
    assert "core.leak -> PySide6" in result.stdout
