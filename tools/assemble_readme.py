"""Rebuild README.md's user guide from docs/readme/*.md (edit those, then run this).

The README keeps its own head (what it is, the two set-up commands) up to the
``<!-- SECTIONS -->`` marker; after it come a table of contents and the sections in
:data:`ORDER`. Image links written for docs/readme (``../images/``) are rewritten for
the README's place. ``--check`` exits 1 when README.md is not up to date (for review).

    .venv/bin/python tools/assemble_readme.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "readme"
MARKER = "<!-- SECTIONS -->"
ORDER = ("designer", "canvas", "training", "data", "cli", "files-and-export",
         "engine-network", "engine-training", "development")


def anchor(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def _headings(lines: list[str]) -> list[int]:
    """Indexes of the heading lines (code fences skipped: '# comment' is not one)."""
    found, fenced = [], False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.append(i)
    return found


def section(name: str) -> tuple[str, str]:
    """(title, text) of one source file: its top heading made a '##' (the others
    shifted with it) and its image links made relative to the root."""
    lines = (SOURCES / f"{name}.md").read_text(encoding="utf-8").strip().splitlines()
    heads = _headings(lines)
    shift = 2 - min(len(lines[i]) - len(lines[i].lstrip("#")) for i in heads)
    for i in heads:
        lines[i] = "#" * shift + lines[i] if shift >= 0 else lines[i][-shift:]
    title = lines[heads[0]].lstrip("#").strip()
    text = "\n".join(lines) + "\n"
    return title, text.replace("](../images/", "](docs/images/")


def assemble(readme: str) -> str:
    """The README with everything after the marker rebuilt from the sources."""
    head = readme.split(MARKER)[0] + MARKER + "\n"
    parts = [section(name) for name in ORDER]
    contents = "\n".join(f"- [{title}](#{anchor(title)})" for title, _ in parts)
    return head + "## Contents\n\n" + contents + "\n\n" + "\n".join(t for _, t in parts)


def main(argv: list[str]) -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    new = assemble(current)
    if "--check" in argv:
        return 0 if new == current else 1
    path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
