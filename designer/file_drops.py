"""Files dropped on the main window: a project is opened, a data file is imported.

A file dragged over the window or its canvas is the window's, whatever its suffix (the
drop explains what it cannot use); a layer dragged from the palette stays the canvas's.
The controller is an event filter on both, so the window itself overrides no drag
handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from designer.files import PROJECT_SUFFIX

if TYPE_CHECKING:
    from designer.main_window import MainWindow

DATA_SUFFIXES = (".csv",)
DRAG_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


class FileDropController(QObject):
    """Accepts file drags on ``window`` and its canvas; opens or imports what is dropped."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        window.view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """File drags are taken here; every other event goes on to ``watched``."""
        kind = event.type()
        if kind not in DRAG_EVENTS:
            return False
        paths = dropped_files(event.mimeData())
        if not paths:
            return False
        event.acceptProposedAction()
        if kind == QEvent.Type.Drop:
            QTimer.singleShot(0, self.window, lambda: self.open_dropped_files(paths))
        return True

    def open_dropped_files(self, paths: list[str]) -> None:
        """Open the first dropped project; import dropped data files; explain the rest."""
        for path in paths:
            suffix = Path(path).suffix.lower()
            if suffix == PROJECT_SUFFIX:
                self.window.files.open_path(path)
                return
            if suffix in DATA_SUFFIXES:
                self.import_data_file(path)
                return
        QMessageBox.warning(self.window, "Cannot use this file",
                            f"{Path(paths[0]).name}: ANN Designer opens .annproj projects "
                            "and imports .csv data files.")

    def import_data_file(self, path: str) -> bool:
        """Import a dropped data file through the training UI's importer, if installed."""
        importer = self.window.data_file_importer
        if importer is None:
            QMessageBox.information(
                self.window, "Cannot import data yet",
                f"{Path(path).name} is a data file, but the data panel that imports it is "
                "not available in this build.\nOpen a project or an example to train on "
                "its built-in data instead.")
            return False
        try:
            importer(path)
        except Exception as exc:  # noqa: BLE001 - any import failure is shown, never fatal
            self.window.files.error("Cannot import the data", path, exc)
            return False
        return True


def dropped_files(mime) -> list[str]:
    """Local files in a drag (any suffix; the drop explains what it cannot use)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
