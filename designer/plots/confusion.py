"""The confusion matrix of the validation data (training data if there is none), updated
at the end of each epoch: rows are the true class, columns the predicted one, shaded by
the share of each true class; the counts are written in the cells.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from designer.plots.common import (
    POSITIVE,
    LiveView,
    add_plot,
    make_canvas,
    plot_font,
    steady_label,
)
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

MAX_LABELLED_CLASSES = 12


def row_shares(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total (an empty row stays zero)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


class ConfusionView(LiveView):
    """Heatmap of row shares with one text item per cell (created once per data set)."""

    min_interval_s = 0.5  # the loop computes it at most every 0.5 s as well

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = make_canvas()
        self.plot = add_plot(self.canvas, 0, 0, "Confusion matrix", "true class",
                             "predicted class")
        item = self.plot
        item.showGrid(x=False, y=False)
        item.invertY(True)
        item.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        lut = pg.ColorMap([0.0, 1.0], [(255, 255, 255), POSITIVE]).getLookupTable(0, 1, 256)
        self.image.setLookupTable(lut)
        self.plot.addItem(self.image)
        self.accuracy = steady_label("accuracy 100.0% on 000000 samples")
        self.note = QLabel("Shown for classification data.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.accuracy)
        layout.addWidget(self.note)
        self._texts: list[list[pg.TextItem]] = []
        self._n = 0
        self._shown: np.ndarray | None = None
        self._cells: np.ndarray | None = None

    def set_context(self, context: ViewContext) -> None:
        """Lay out the cells and class names for the data's classes."""
        item = self.plot
        for row in self._texts:
            for text in row:
                item.removeItem(text)
        classification = context.task == "classification"
        self.note.setVisible(not classification)
        self.canvas.setVisible(classification)
        names = list(context.class_names)
        self._n = len(names) if classification else 0
        labelled = self._n <= MAX_LABELLED_CLASSES
        self._texts = [[self._cell(item, r, c) for c in range(self._n)]
                       for r in range(self._n)] if labelled else []
        ticks = [[(i + 0.5, str(name)) for i, name in enumerate(names)]]
        item.getAxis("bottom").setTicks(ticks)
        item.getAxis("left").setTicks(ticks)
        item.setRange(xRange=(0, max(self._n, 1)), yRange=(0, max(self._n, 1)), padding=0.02)
        self.clear()

    @staticmethod
    def _cell(item: pg.PlotItem, row: int, col: int) -> pg.TextItem:
        text = pg.TextItem("", color=(20, 20, 20), anchor=(0.5, 0.5))
        text.setFont(plot_font())
        text.setPos(col + 0.5, row + 0.5)
        item.addItem(text)
        return text

    def clear(self) -> None:
        """Blank matrix."""
        self._shown = None
        self._cells = None
        self.image.setImage(np.zeros((max(self._n, 1), max(self._n, 1))), autoLevels=False,
                            levels=(0.0, 1.0))
        for row in self._texts:
            for text in row:
                text.setText("")
        self.accuracy.setText(" ")

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Redraw when the loop computed a new matrix (once per epoch at most)."""
        if snapshot is None or snapshot.confusion is None:
            return False
        if snapshot.confusion is self._shown:
            return False
        self.show_matrix(snapshot.confusion)
        return True

    def show_matrix(self, counts: np.ndarray) -> None:
        """Draw a count matrix (rows true, columns predicted)."""
        self._shown = counts
        if counts.shape[0] != self._n:
            return
        shares = row_shares(counts)
        self.image.setImage(shares, autoLevels=False, levels=(0.0, 1.0))
        dark = shares > 0.6  # white text on dark cells
        state = counts * 2 + dark
        old = self._cells if self._cells is not None else np.full(counts.shape, -1)
        for r, c in zip(*np.nonzero(state != old), strict=True):  # changed cells only
            text = self._texts[r][c] if r < len(self._texts) else None
            if text is not None:
                text.setText(str(int(counts[r, c])))
                text.setColor((255, 255, 255) if dark[r, c] else (20, 20, 20))
        self._cells = state if self._texts else None
        total = counts.sum()
        if total:
            self.accuracy.setText(f"accuracy {np.trace(counts) / total:.1%} "
                                  f"on {int(total)} samples")
