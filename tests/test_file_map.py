"""docs/files.md names every source file with one line on what it is for (tools/file_map.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_file_map_lists_every_module_as_it_is_now():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "file_map.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_module_without_a_docstring_is_reported(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import file_map
    finally:
        sys.path.remove(str(ROOT / "tools"))
    (tmp_path / "core").mkdir()
    (tmp_path / "designer").mkdir()
    (tmp_path / "core" / "quiet.py").write_text("x = 1\n")
    (tmp_path / "designer" / "told.py").write_text('"""Says what it does. More."""\n')
    monkeypatch.setattr(file_map, "ROOT", tmp_path)
    text, missing = file_map.render()
    assert missing == ["core/quiet.py"]
    assert "| `designer/told.py` | Says what it does. |" in text
