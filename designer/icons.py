"""The application's icon, from the PNG sizes shipped in resources/icons."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from core.package_files import resource_path

ICON_NAME = "ann-designer"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def icon_file(size: int) -> Path:
    """The shipped PNG of the app icon at ``size`` pixels (freedesktop hicolor layout)."""
    return resource_path("icons", "hicolor", f"{size}x{size}", "apps", f"{ICON_NAME}.png")


def app_icon() -> QIcon:
    """The window and taskbar icon, with every shipped size so none is scaled up."""
    icon = QIcon()
    for size in SIZES:
        icon.addFile(str(icon_file(size)), QSize(size, size))
    return icon
