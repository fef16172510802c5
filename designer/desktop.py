"""``ann-designer --install-desktop``: the app in the desktop's menu, with its file type.

Linux desktops find applications, icons and file types through files in the user's
data folder (``$XDG_DATA_HOME``, by default ``~/.local/share``):

* ``applications/ann-designer.desktop``: the menu entry. Its ``Exec`` line names this
  Python interpreter (``python -m designer``), so the entry works for an app installed
  in a virtual environment that is not on the desktop's PATH;
* ``icons/hicolor/NxN/apps/ann-designer.png`` and ``scalable/apps/ann-designer.svg``;
* ``mime/packages/ann-designer.xml``: ``*.annproj`` files are ANN Designer projects,
  opened by the app on a double click.

The caches are refreshed with the desktop's own tools where they are installed. Nothing
here needs Qt. ``--uninstall-desktop`` removes the same files.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from core.package_files import resource_path

APP_ID = "ann-designer"
MIME_TYPE = "application/x-ann-designer-project"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def desktop_entry(python: str = sys.executable) -> str:
    """The shipped .desktop file with an Exec line that starts this installation."""
    command = f"{shlex.quote(python)} -m designer"
    lines = []
    for line in resource_path(f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command} %f"
        elif line.startswith("TryExec="):
            line = f"TryExec={python}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def planned_files(home: Path) -> dict[Path, Path | None]:
    """Where each file goes -> the shipped file to copy (None: the generated entry)."""
    files: dict[Path, Path | None] = {home / "applications" / f"{APP_ID}.desktop": None}
    for size in ICON_SIZES:
        folder = f"{size}x{size}"
        files[home / "icons" / "hicolor" / folder / "apps" / f"{APP_ID}.png"] = \
            resource_path("icons", "hicolor", folder, "apps", f"{APP_ID}.png")
    files[home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"] = \
        resource_path("icons", f"{APP_ID}.svg")
    files[home / "mime" / "packages" / f"{APP_ID}.xml"] = resource_path(f"{APP_ID}-mime.xml")
    return files


def install(home: Path | None = None) -> list[Path]:
    """Write the menu entry, the icons and the file type; returns the files written."""
    home = home or data_home()
    written = []
    for target, source in planned_files(home).items():
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            target.write_text(desktop_entry(), encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(target)
    refresh_caches(home)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; returns the files removed."""
    home = home or data_home()
    removed = []
    for target in planned_files(home):
        if target.is_file():
            target.unlink()
            removed.append(target)
    refresh_caches(home)
    return removed


def refresh_caches(home: Path) -> None:
    """Let the desktop see the changes now, with whichever of its tools are installed."""
    commands = [["update-mime-database", str(home / "mime")],
                ["update-desktop-database", str(home / "applications")],
                ["gtk-update-icon-cache", "--quiet", "--ignore-theme-index",
                 str(home / "icons" / "hicolor")]]
    for command in commands:
        if shutil.which(command[0]):
            subprocess.run(command, check=False, capture_output=True, timeout=60)


def main(install_files: bool = True) -> int:
    """Run ``--install-desktop`` (or ``--uninstall-desktop``) and say what changed."""
    if not sys.platform.startswith("linux"):
        print("ann-designer: error: --install-desktop is for Linux desktops (freedesktop "
              "menus); on this system start ann-designer from a terminal", file=sys.stderr)
        return 1
    try:
        paths = install() if install_files else uninstall()
    except OSError as exc:
        print(f"ann-designer: error: {exc}", file=sys.stderr)
        return 1
    verb = "installed" if install_files else "removed"
    print(f"{verb} {len(paths)} files under {data_home()}:")
    for path in paths:
        print(f"  {path}")
    if install_files:
        print(f"ANN Designer is in the desktop's menu; {MIME_TYPE} (*.annproj) files open "
              "in it. Undo with: ann-designer --uninstall-desktop")
    return 0
