"""Render resources/icons/ann-designer.svg to the PNG sizes desktops look for.

Run after changing the SVG (needs PySide6, no display):

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/render_icons.py

Writes ``resources/icons/hicolor/NxN/apps/ann-designer.png`` for each size in SIZES, the
layout of the freedesktop icon theme, so ``ann-designer --install-desktop`` copies the
tree as it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(renderer: QSvgRenderer, size: int, path: Path) -> None:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")


def main() -> None:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter needs an application
    renderer = QSvgRenderer(str(ICONS / "ann-designer.svg"))
    if not renderer.isValid():
        raise SystemExit("the SVG did not load")
    for size in SIZES:
        path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "ann-designer.png"
        render(renderer, size, path)
        print(f"{path.relative_to(ICONS.parent.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
