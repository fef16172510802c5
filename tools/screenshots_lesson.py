"""Render the lesson tools' screenshots into docs/images/lesson-*.png.

    .venv/bin/python tools/screenshots_lesson.py                # every lesson shot
    .venv/bin/python tools/screenshots_lesson.py lesson-runs    # only this one

The shots live in ``tools/lesson_shots.py`` (``SHOTS``); this script renders them with
``tools/screenshots.py``'s ``render``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import screenshots  # noqa: E402  (sets the offscreen platform before Qt loads)
from lesson_shots import SHOTS  # noqa: E402


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for stem, setup in SHOTS:
        if not wanted or stem in wanted:
            print(screenshots.render(stem, setup).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
