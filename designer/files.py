"""File work of the main window: new from example, open, save, recent files, export.

Every file error (a damaged or too new `.annproj`, a full disk, an exporter that cannot
handle a layer) is shown to the person as a message box with the file name and the
engine's one-line reason; none of them may crash the application.  Dialogs are the static
QFileDialog / QMessageBox functions so that tests can replace them.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from core.project import ProjectError

if TYPE_CHECKING:
    from designer.session import Session

PROJECT_SUFFIX = ".annproj"
PROJECT_FILTER = "ANN Designer projects (*.annproj)"
MAX_RECENT = 8
RECENT_KEY = "files/recent"
LAST_DIR_KEY = "files/lastDirectory"
#: format name (as core.export knows it) -> (menu text, file suffix, file-dialog filter)
EXPORTS = {
    "onnx": ("ONNX model…", ".onnx", "ONNX models (*.onnx)"),
    "numpy": ("NumPy script…", ".py", "Python scripts (*.py)"),
    "npz": ("NumPy weights (.npz)…", ".npz", "NumPy archives (*.npz)"),
    "pytorch": ("PyTorch script…", ".py", "Python scripts (*.py)"),
}


def file_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "this file could not be used" (shown, never raised)."""
    errors: list[type[BaseException]] = [OSError, ValueError, KeyError, EOFError,
                                         zipfile.BadZipFile, MemoryError]
    try:
        from core.project import ProjectError
        errors.insert(0, ProjectError)
    except ImportError:  # pragma: no cover - the engine is always there in practice
        pass
    try:
        from core.export import ExportError
        errors.insert(0, ExportError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


LOOP_MESSAGE = ("This is a symbolic link that leads back to itself (a link loop), so "
                "there is no file to open. Open the real project file, or fix the link.")


def is_link_loop(path: str | os.PathLike[str]) -> bool:
    """True when following ``path``'s symbolic links never ends at a file or folder."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def resolved(path: str | os.PathLike[str]) -> str:
    """``path`` made absolute with its links followed; only made absolute when its links
    cannot be followed (a loop), so that a recent-files entry never raises."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        return os.path.abspath(path)


def nonfinite_weight(weights: Mapping[str, Mapping[str, np.ndarray]] | None
                     ) -> tuple[str, str] | None:
    """(layer id, weight name) of the first weight array holding NaN or infinity."""
    for node_id, named in (weights or {}).items():
        for name, array in named.items():
            if not np.isfinite(np.asarray(array, dtype=np.float64)).all():
                return node_id, name
    return None


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, RuntimeError, ValueError):  # a loop, a name with NUL in the settings
        return False


class FileController(QObject):
    """Opens, saves and exports the window's project (its session); remembers recent files."""

    recentChanged = Signal()
    opened = Signal(str)

    def __init__(self, window: QWidget, session: Session, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.document = session.document
        self.settings = settings

    # -- asking ---------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask Save / Discard / Cancel when there are unsaved changes; False = stay."""
        if not self.session.is_modified:
            return True
        name = self.display_name()
        answer = QMessageBox.question(
            self.window, "Unsaved changes",
            f"“{name}” has changes that are not saved.\nSave them before you go on?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def display_name(self) -> str:
        """The file name shown in the title bar ("Untitled" before the first save)."""
        path = self.session.file_path
        if path:
            return Path(path).name
        return (getattr(self.document.project, "name", "") or "Untitled") + PROJECT_SUFFIX

    # -- new / open -----------------------------------------------------------------
    def new_from_example(self, name: str, ask: bool = True) -> bool:
        """Replace the open project by a fresh copy of example `name`."""
        if ask and not self.maybe_save():
            return False
        from core.examples import load_example
        try:
            project = load_example(name)
        except file_errors() as exc:
            self.error("Cannot open the example", f"Example “{name}”", exc)
            return False
        self.session.new_project(project)
        return True

    def new_from_example_dialog(self) -> bool:
        """File > New from example: pick an example, then open a fresh copy of it."""
        from core.examples import list_examples
        from designer.dialogs import ExampleDialog
        dialog = ExampleDialog(list_examples(), self.window)
        if dialog.exec() != ExampleDialog.DialogCode.Accepted or not dialog.selected_name():
            return False
        return self.new_from_example(dialog.selected_name())

    def open_dialog(self) -> bool:
        """File > Open: ask for a project file, then open it."""
        if not self.maybe_save():
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self._last_dir(),
                                              f"{PROJECT_FILTER};;All files (*)")
        return bool(path) and self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> bool:
        """Open `path`, asking about unsaved changes first unless `ask` is False."""
        if ask and not self.maybe_save():
            return False
        try:
            if is_link_loop(path):
                raise ProjectError(LOOP_MESSAGE)
            self.session.open(path)
        except file_errors() as exc:
            self.error("Cannot open the project", path, exc)
            self.forget_recent(path)
            return False
        self.add_recent(path)
        self.opened.emit(str(path))
        self._warn_if_weights_unusable(path)
        return True

    def _warn_if_weights_unusable(self, path: str) -> None:
        """A project saved after training blew up opens, but says what is wrong with it."""
        bad = nonfinite_weight(self.document.stored_weights)
        if bad is not None:
            QMessageBox.warning(
                self.window, "The saved weights are broken",
                f"{Path(path).name}: the weights of layer '{bad[0]}' ({bad[1]}) contain NaN "
                "or infinity, so the network cannot predict; press Reset weights in the "
                "Training panel and train again.")

    # -- save -----------------------------------------------------------------------
    def save(self) -> bool:
        """File > Save: to the current file, or ask for one."""
        if self.session.file_path is None:
            return self.save_as()
        return self._save_to(str(self.session.file_path))

    def save_as(self) -> bool:
        """File > Save as: ask for a file name (the suffix is added when missing)."""
        start = str(Path(self._last_dir()) / self.display_name())
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project as", start,
                                              PROJECT_FILTER)
        if not path:
            return False
        if not path.lower().endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            self.session.save(path)
        except file_errors() as exc:
            self.error("Cannot save the project", path, exc)
            return False
        self.add_recent(path)
        return True

    # -- export ---------------------------------------------------------------------
    def export(self, fmt: str) -> bool:
        """File > Export: write the model with core.export in format `fmt`."""
        from core.export import export_project
        text, suffix, file_filter = EXPORTS[fmt]
        project = self._project_with_weights()
        if project is None:
            return False
        stem = Path(self.display_name()).stem
        start = str(Path(self._last_dir()) / f"{stem}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {text.rstrip('…')}",
                                              start, file_filter)
        if not path:
            return False
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            export_project(project, path, fmt)
        except file_errors() as exc:
            self.error("Cannot export the model", path, exc)
            return False
        knocked = self.document.extra_value("knockouts") or []
        note = (f" with {len(knocked)} knock-out(s) baked in (zero or frozen weights are "
                "exported as they are)" if knocked else "")
        self.window.statusBar().showMessage(f"Exported to {path}{note}", 8000)
        return True

    def _project_with_weights(self):
        """The project with the weights to export; asks before using untrained weights."""
        if not self.document.is_valid:
            QMessageBox.warning(self.window, "Cannot export",
                                "The network has problems (see the Problems panel). "
                                "Fix them, then export again.")
            return None
        weights = self.session.trained_weights  # never a timeline preview
        if not weights:
            answer = QMessageBox.question(
                self.window, "Export an untrained model?",
                "This network has not been trained yet, so its weights are random.\n"
                "Export it with its initial weights anyway?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
            weights = self.session.initial_weights()
        return dataclasses.replace(self.document.project, weights=weights)

    # -- sharing as text -------------------------------------------------------------
    def copy_as_text(self) -> str | None:
        """File > Copy project as text: the whole project (with its weights as they are
        now) on the clipboard as one line a teacher can post in a chat."""
        from core.project_text import project_to_text
        project = dataclasses.replace(self.document.project,
                                      weights=self.session.weights or None)
        try:
            text = project_to_text(project)
        except file_errors() as exc:
            self.error("Cannot copy the project as text", self.display_name(), exc)
            return None
        QGuiApplication.clipboard().setText(text)
        self.window.statusBar().showMessage(
            f"The project is on the clipboard as text ({len(text):,} characters): "
            "paste it in a chat; File > Paste project opens it.", 8000)
        return text

    def paste_project(self, text: str | None = None, ask: bool = True) -> bool:
        """File > Paste project: open the project in the clipboard's text (untrusted:
        read with every check a project file gets)."""
        from core.project_text import project_from_text
        if text is None:
            text = QGuiApplication.clipboard().text()
        if ask and not self.maybe_save():
            return False
        try:
            project = project_from_text(text)
        except file_errors() as exc:
            self.error("Cannot paste the project", "The clipboard", exc)
            return False
        self.session.new_project(project)
        self.window.statusBar().showMessage(f"Opened “{project.name}” from the text.", 6000)
        return True

    # -- recent files ---------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Most recent first; files that disappeared (or became a link loop) are left out."""
        value = self.settings.value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if isinstance(p, str) and _is_file(p)][:MAX_RECENT]

    def fill_recent_menu(self, menu: QMenu) -> None:
        """File > Open recent, filled each time it opens (files may have gone meanwhile)."""
        menu.clear()
        paths = self.recent_files()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i}  {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", self.clear_recent)

    def add_recent(self, path: str) -> None:
        path = resolved(path)
        paths = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue(RECENT_KEY, paths[:MAX_RECENT])
        self.settings.setValue(LAST_DIR_KEY, str(Path(path).parent))
        self.recentChanged.emit()

    def forget_recent(self, path: str) -> None:
        gone = resolved(path)
        self.settings.setValue(RECENT_KEY, [p for p in self.recent_files() if p != gone])
        self.recentChanged.emit()

    def clear_recent(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
        self.recentChanged.emit()

    def _last_dir(self) -> str:
        value = self.settings.value(LAST_DIR_KEY, "")
        return value if isinstance(value, str) and Path(value).is_dir() else str(Path.home())

    # -- errors ---------------------------------------------------------------------
    def error(self, title: str, where: str, exc: BaseException) -> None:
        """A message box with the file and the one-line reason (never a traceback)."""
        reason = str(exc).strip() or type(exc).__name__
        QMessageBox.critical(self.window, title, f"{where}\n\n{reason}")
