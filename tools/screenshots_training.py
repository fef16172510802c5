"""Render only the training UI's README screenshots into docs/images/training*.png.

    .venv/bin/python tools/screenshots_training.py                 # every training shot
    .venv/bin/python tools/screenshots_training.py training-digits # only this one

The shots themselves live in ``tools/training_shots.py`` (``SHOTS``), which
``tools/screenshots.py`` also picks up; this script renders them with its ``render``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import screenshots  # noqa: E402  (sets the offscreen platform before Qt loads)
from training_shots import SHOTS  # noqa: E402


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for stem, setup in SHOTS:
        if not wanted or stem in wanted:
            print(screenshots.render(stem, setup).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
