"""Write docs/files.md: every source file of core/ and designer/ in one line, taken from
the first sentence of its module docstring.

    .venv/bin/python tools/file_map.py          # rewrite docs/files.md
    .venv/bin/python tools/file_map.py --check  # exit 1 when it is out of date (a test runs this)

A file without a docstring is an error: say what it is for where it is.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "files.md"
PACKAGES = ("core", "designer")
HEAD = """# Every source file in one line

What each module of `core/` (the engine, no Qt) and `designer/` (the Qt application) is
for, from the first sentence of its docstring. [internals.md](internals.md) describes the
seams between them. This page is generated: after adding, moving or renaming a module,
run `.venv/bin/python tools/file_map.py` (a test fails until you do).
"""


def first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    para = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?[.!?])(\s|$)", para)
    return (match.group(1) if match else para).replace("|", "\\|")


def sources() -> list[Path]:
    files = []
    for package in PACKAGES:
        files += [p for p in (ROOT / package).rglob("*.py")
                  if "resources" not in p.relative_to(ROOT).parts]
    return sorted(files, key=lambda p: (p.parent.relative_to(ROOT).as_posix(), p.name))


def render() -> tuple[str, list[str]]:
    lines, missing, folder = [HEAD], [], None
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        here = rel.rsplit("/", 1)[0]
        if here != folder:
            folder = here
            lines.append(f"\n## {folder}/\n\n| file | what it is for |\n| --- | --- |")
        text = first_sentence(path)
        if not text and path.name != "__init__.py":
            missing.append(rel)
        lines.append(f"| `{rel}` | {text or '(package marker)'} |")
    return "\n".join(lines) + "\n", missing


def main(argv: list[str]) -> int:
    text, missing = render()
    if missing:
        print("modules without a docstring: " + ", ".join(missing), file=sys.stderr)
        return 1
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print("docs/files.md is out of date: run .venv/bin/python tools/file_map.py",
                  file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
