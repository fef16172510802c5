"""Slides: any view to PNG or SVG at a chosen size, a run as an animated GIF, and the
colour-blind-safe palette switch.

Views are rendered, not screenshotted: the canvas through ``QGraphicsScene.render`` (its
lines and text stay sharp at any size and in SVG), other views through
``QWidget.render`` with a scaled painter. A run's animation scrubs the Runs panel's
timeline frame by frame, grabs the chosen view, and writes the GIF with
``designer.lesson.animation`` (Pillow); a progress dialog can cancel it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsView,
    QMessageBox,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from designer.lesson.animation import AnimationError, write_gif
from designer.lesson.palette import DEFAULT_PAIR, SAFE_PAIR
from designer.plots.lazy import LazyView

DEFAULT_SIZE = QSize(1280, 800)
PALETTE_KEY = "view/colour_blind_safe"


# ---------------------------------------------------------------------- rendering
def _paint(target: QWidget, painter: QPainter, size: QSize) -> None:
    """Paint ``target`` filling ``size`` (the canvas: its whole network)."""
    if isinstance(target, QGraphicsView):
        scene = target.scene()
        source = scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), scene.backgroundBrush())
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), source,
                     Qt.AspectRatioMode.KeepAspectRatio)
        return
    w, h = max(target.width(), 1), max(target.height(), 1)
    scale = min(size.width() / w, size.height() / h)
    painter.scale(scale, scale)
    target.render(painter, QPoint(0, 0))


def render_image(target: QWidget, size: QSize) -> QImage:
    """``target`` rendered into an image of ``size``."""
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _paint(target, painter, size)
    painter.end()
    return image


def save_view(target: QWidget, path: str | Path, size: QSize = DEFAULT_SIZE) -> Path:
    """Write ``target`` as PNG or SVG (by the suffix) at ``size``."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
        generator.setTitle(target.windowTitle() or "ANN Designer view")
        painter = QPainter(generator)
        _paint(target, painter, size)
        painter.end()
    elif not render_image(target, size).save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def image_array(image: QImage) -> np.ndarray:
    """An RGB uint8 array (H, W, 3) of ``image``."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return data[:, : w * 3].reshape(h, w, 3).copy()


# ---------------------------------------------------------------------- the views
def views(window: Any) -> dict[str, QWidget]:
    """The views a slide can show, by name (live views not shown yet are built)."""
    return {name: widget.view() if isinstance(widget, LazyView) else widget
            for name, widget in view_places(window).items()}


def view_places(window: Any) -> dict[str, QWidget]:
    """What each view's dock holds, by name: the view, or its place if it is built lazily."""
    out: dict[str, QWidget] = {"Canvas": window.view}
    training = getattr(window, "training_ui", None)
    if training is not None:
        lazy = training.lazy
        out.update({"Output": lazy["boundary"], "Loss curves": lazy["curves"],
                    "Weights": lazy["weights"]})
    lesson = getattr(window, "lesson_ui", None)
    if lesson is not None:
        out.update({"Explain": lesson.step.explain, "Step through": lesson.step,
                    "Runs": lesson.runs})
    return out


def record_run(window: Any, target: QWidget, size: QSize,
               progress: Callable[[int, int], bool] | None = None) -> list[np.ndarray]:
    """One frame per snapshot of the Runs panel's selected run, showing ``target``.

    ``progress(done, total)`` returns False to cancel. The timeline goes back to "now"
    afterwards, so the current weights are what the views show again.
    """
    panel = window.lesson_ui.runs
    run = panel.selected_run()
    if run is None or not run["snapshots"]:
        raise AnimationError("Select a run with weight snapshots in the Runs panel first.")
    frames = []
    total = len(run["snapshots"])
    try:
        for i in range(total):
            panel.slider.setValue(i)
            panel.scrub(i)
            QApplication.processEvents()
            frames.append(image_array(render_image(target, size)))
            if progress is not None and not progress(i + 1, total):
                break
    finally:
        panel.back_to_now()
    return frames


# ---------------------------------------------------------------------- dialogs
class ExportDialog(QDialog):
    """Which view, the size, and (for an animation) the frame rate."""

    def __init__(self, names: list[str], animated: bool, parent: QWidget | None = None,
                 current: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export a run as a GIF" if animated else "Export view")
        self.view = QComboBox()
        self.view.addItems(names)
        if current in names:
            self.view.setCurrentText(current)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, 960 if animated else 1280),
                           (self.height_box, 600 if animated else 800)):
            box.setRange(64, 8192)
            box.setValue(value)
            box.setSuffix(" px")
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, 50.0)
        self.fps.setValue(4.0)
        self.fps.setSuffix(" frames/s")
        form = QFormLayout(self)
        form.addRow("View", self.view)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        if animated:
            form.addRow("Frame rate", self.fps)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @property
    def size(self) -> QSize:
        return QSize(self.width_box.value(), self.height_box.value())


class Slides:
    """The File menu's Export view / Export run as GIF, dock context menus, the palette."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.safe_palette = False
        file_menu = next((a.menu() for a in window.menuBar().actions()
                          if a.text().replace("&", "") == "File"), None)
        self.export_action = QAction("Export &view…", window)
        self.export_action.triggered.connect(lambda: self.export_view())
        self.gif_action = QAction("Export run as &GIF…", window)
        self.gif_action.triggered.connect(self.export_gif)
        self.palette_action = QAction("Colour-&blind-safe palette", window)
        self.palette_action.setCheckable(True)
        self.palette_action.toggled.connect(self.set_safe_palette)
        if file_menu is not None:
            file_menu.addSeparator()
            file_menu.addAction(self.export_action)
            file_menu.addAction(self.gif_action)
        view_menu = next((a.menu() for a in window.menuBar().actions()
                          if a.text().replace("&", "") == "View"), None)
        if view_menu is not None:
            view_menu.addAction(self.palette_action)
        self._context_menus()
        if hasattr(window, "themeApplied"):  # a theme brings its own colours: ours again
            window.themeApplied.connect(self._reapply)
        settings = getattr(window, "settings", None)
        if settings is not None and settings.value(PALETTE_KEY, False, type=bool):
            self.palette_action.setChecked(True)

    def _context_menus(self) -> None:
        named = {w: n for n, w in view_places(self.window).items()}
        for dock in self.window.findChildren(QDockWidget):
            name = named.get(dock.widget())
            if name is None:
                continue
            action = QAction(f"Export {name} view…", dock)
            action.triggered.connect(lambda _c=False, n=name: self.export_view(n))
            dock.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            dock.addAction(action)

    # -- still images ------------------------------------------------------------------
    def export_view(self, name: str | None = None, path: str | None = None,
                    size: QSize | None = None) -> Path | None:
        """Ask for a view, size and file (unless given), then write PNG or SVG."""
        named = views(self.window)
        if path is None or name is None or size is None:
            dialog = ExportDialog(list(named), False, self.window, name)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            name, size = dialog.view.currentText(), dialog.size
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export view", f"{name.lower().replace(' ', '-')}.png",
                "PNG image (*.png);;SVG drawing (*.svg)")
            if not path:
                return None
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".png"
        try:
            written = save_view(named[name], path, size)
        except OSError as exc:
            QMessageBox.warning(self.window, "Cannot export the view", str(exc))
            return None
        self.window.statusBar().showMessage(f"Exported the {name} view to {written}", 6000)
        return written

    # -- animations --------------------------------------------------------------------
    def export_gif(self, name: str | None = None, path: str | None = None,
                   size: QSize | None = None, fps: float = 4.0) -> Path | None:
        """The Runs panel's selected run as an animated GIF of one view."""
        named = views(self.window)
        if path is None or name is None or size is None:
            dialog = ExportDialog(list(named), True, self.window, "Output")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            name, size, fps = dialog.view.currentText(), dialog.size, dialog.fps.value()
            path, _ = QFileDialog.getSaveFileName(self.window, "Export run as GIF",
                                                  "run.gif", "GIF animation (*.gif)")
            if not path:
                return None
        bar = QProgressDialog("Rendering the run's epochs…", "Cancel", 0, 100, self.window)
        bar.setWindowModality(Qt.WindowModality.WindowModal)
        bar.setMinimumDuration(300)

        def progress(done: int, total: int) -> bool:
            bar.setMaximum(total)
            bar.setValue(done)
            return not bar.wasCanceled()

        try:
            frames = record_run(self.window, named[name], size, progress)
            if bar.wasCanceled():
                return None
            written = write_gif(frames, path if path.lower().endswith(".gif")
                                else path + ".gif", fps)
        except (AnimationError, OSError) as exc:
            QMessageBox.warning(self.window, "Cannot export the run", str(exc))
            return None
        finally:
            bar.close()
        self.window.statusBar().showMessage(f"Wrote {len(frames)} frames to {written}", 6000)
        return written

    # -- palette -----------------------------------------------------------------------
    def set_safe_palette(self, on: bool) -> None:
        """Weights and maps in the colour-blind-safe pair (or back to the default)."""
        self.safe_palette = bool(on)
        settings = getattr(self.window, "settings", None)
        if settings is not None:
            settings.setValue(PALETTE_KEY, self.safe_palette)
        if not self.safe_palette and hasattr(self.window, "set_theme"):
            self.window.set_theme(self.window.theme()[0])  # the theme's own colours
        self._reapply()

    def _reapply(self) -> None:
        pos, neg = SAFE_PAIR if self.safe_palette else DEFAULT_PAIR
        scene = self.window.scene
        style = scene.style
        pos_hex, neg_hex = QColor(*pos).name(), QColor(*neg).name()
        if self.safe_palette and (style.weight_positive, style.weight_negative) != (
                pos_hex, neg_hex):
            scene.set_style(dataclasses.replace(style, weight_positive=pos_hex,
                                                weight_negative=neg_hex))
        lut = pg.ColorMap([0.0, 0.5, 1.0], [neg, (250, 250, 250), pos]).getLookupTable(
            0.0, 1.0, 256)
        training = getattr(self.window, "training_ui", None)
        if training is not None:
            training.when_built("boundary", lambda view: view.set_lookup_table(lut))
            training.when_built("weights", lambda view: view.image.setLookupTable(lut))
            training.when_built("images", lambda view: view.filters_image.setLookupTable(lut))
