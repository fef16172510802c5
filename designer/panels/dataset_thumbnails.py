"""Data set thumbnails: the Playground's one-click choice of a 2-D data set.

A row of small pictures of the built-in two-feature sets (each drawn from the set
itself, in the plots' class colours); a click picks that set through the Data panel's
own box, so it is the same undoable edit as choosing it there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from core.data import BUILTIN_DATASETS, load_builtin
from designer.plots.common import NEGATIVE, POSITIVE, class_color

if TYPE_CHECKING:
    from designer.training.docks import TrainingUI

THUMBNAIL_PX = 30
THUMBNAIL_SAMPLES = 160


def thumbnail_sets() -> list[str]:
    """The built-in sets with two features (those the plane can show)."""
    return [name for name, info in BUILTIN_DATASETS.items()
            if info.synthetic and info.n_features == 2]


def dataset_pixmap(name: str, size: int = THUMBNAIL_PX) -> QPixmap:
    """A picture of data set ``name``: its points in class (or value) colours."""
    ds = load_builtin(name, n_samples=THUMBNAIL_SAMPLES, seed=0)
    X = np.asarray(ds.X, dtype=np.float64).reshape(len(ds.X), -1)[:, :2]
    lo, hi = X.min(axis=0), X.max(axis=0)
    pos = (X - lo) / np.where(hi > lo, hi - lo, 1.0) * (size - 6) + 3
    if ds.task == "classification":
        colors = [class_color(int(k)) for k in np.asarray(ds.y).ravel()]
    else:
        t = np.asarray(ds.y, dtype=np.float64).reshape(len(X), -1)[:, 0]
        t = (t - t.min()) / ((t.max() - t.min()) or 1.0)
        colors = [QColor(*(np.array(NEGATIVE) * (1 - v) + np.array(POSITIVE) * v).astype(int))
                  for v in t]
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor("#ffffff"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    for (x, y), color in zip(pos, colors, strict=True):
        painter.setBrush(color)
        painter.drawEllipse(QPointF(x, size - y), 1.8, 1.8)
    painter.end()
    return pixmap


class DatasetThumbnails(QWidget):
    """One checkable picture per 2-D data set in a row; the current one is checked."""

    def __init__(self, ui: TrainingUI, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DatasetThumbnails")
        self.ui = ui
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for name in thumbnail_sets():
            button = QToolButton()
            button.setIcon(QIcon(dataset_pixmap(name)))
            button.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(BUILTIN_DATASETS[name].title)
            button.clicked.connect(lambda _checked=False, n=name: self.choose(n))
            row.addWidget(button)
            self.buttons[name] = button
        document = ui.run.document
        document.dataSourceChanged.connect(self.show_current)
        document.projectReplaced.connect(self.show_current)
        self.show_current()

    def choose(self, name: str) -> None:
        """Pick data set ``name`` as the Data panel's box would."""
        box = self.ui.data_panel.dataset_box
        index = box.findData(name)
        if index >= 0 and index != box.currentIndex():
            box.setCurrentIndex(index)
        self.show_current()

    def show_current(self) -> None:
        source = self.ui.run.document.project.data or {}
        current = source.get("name") if source.get("kind") == "builtin" else None
        for name, button in self.buttons.items():
            button.setChecked(name == current)
