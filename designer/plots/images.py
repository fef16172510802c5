"""Image data (digits): a grid of validation samples with the network's guesses, and the
first layer's weights as images (a Dense layer's columns reshaped to the image, or a
Conv2D layer's filters), which shows what each unit has learned to look for.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout

from designer.plots.common import (
    LiveView,
    add_plot,
    diverging_lut,
    make_canvas,
    nice_limit,
    plot_font,
)
from designer.run.buffer import CurveData
from designer.run.data import ViewContext
from designer.run.protocol import Snapshot

GAP = 1
RIGHT = (46, 125, 50)
WRONG = (198, 40, 40)


def mosaic(tiles: np.ndarray, columns: int, fill: float = np.nan) -> np.ndarray:
    """(n, h, w) tiles into one (rows*(h+1)-1, columns*(w+1)-1) image, gaps = ``fill``."""
    n, h, w = tiles.shape
    rows = max(1, math.ceil(n / columns))
    out = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP), fill,
                  dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + GAP): r * (h + GAP) + h, c * (w + GAP): c * (w + GAP) + w] = tiles[i]
    return out


def first_layer_filters(weights: dict, layer_ids: list[str],
                        image_shape: tuple[int, int]) -> np.ndarray | None:
    """(n, h, w) images of the first kernel: Dense columns or Conv2D filters (channel mean)."""
    for nid in layer_ids:
        kernel = weights.get(nid, {}).get("kernel")
        if kernel is None:
            continue
        kernel = np.asarray(kernel)
        if kernel.ndim == 4:
            return kernel.mean(axis=2).transpose(2, 0, 1)
        h, w = image_shape
        if kernel.ndim == 2 and kernel.shape[0] == h * w:
            return kernel.T.reshape(-1, h, w)
        return None
    return None


class ImagesView(LiveView):
    """Sample grid with predictions, and first-layer filters as images."""

    min_interval_s = 0.2

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.canvas = make_canvas()
        self.samples_plot = add_plot(self.canvas, 0, 0, "Samples: guess (green right, red wrong)")
        self.filters_plot = add_plot(self.canvas, 1, 0, "First layer weights as images")
        for item in (self.samples_plot, self.filters_plot):
            item.showGrid(x=False, y=False)
            item.invertY(True)
            item.setAspectLocked(True)
            item.hideAxis("left")
            item.hideAxis("bottom")
        self.samples_image = pg.ImageItem(axisOrder="row-major")
        self.samples_image.setLookupTable(
            pg.ColorMap([0, 1], [(255, 255, 255), (0, 0, 0)]).getLookupTable(0, 1, 256))
        self.samples_plot.addItem(self.samples_image)
        self.filters_image = pg.ImageItem(axisOrder="row-major")
        self.filters_image.setLookupTable(diverging_lut())
        self.filters_plot.addItem(self.filters_image)
        self.note = QLabel("Shown for image data such as the digits.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.note)
        self._ctx = ViewContext()
        self._labels: list[pg.TextItem] = []
        self._columns = 4
        self._seq = -1
        self._limit = 0.0

    def set_context(self, context: ViewContext) -> None:
        """Draw the sample images once; make one label per sample."""
        self._ctx = context
        item = self.samples_plot
        for text in self._labels:
            item.removeItem(text)
        self._labels = []
        active = context.image_shape is not None and context.sample_images is not None
        self.note.setVisible(not active)
        self.canvas.setVisible(active)
        if not active:
            return
        h, w = context.image_shape
        tiles = np.asarray(context.sample_images, dtype=np.float32).reshape(-1, h, w)
        lo, hi = float(np.min(tiles)), float(np.max(tiles))
        self._columns = max(1, math.ceil(math.sqrt(len(tiles))))
        image = mosaic(tiles, self._columns, fill=lo)
        self.samples_image.setImage(image, autoLevels=False,
                                    levels=(lo, hi if hi > lo else lo + 1))
        item.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0.02)
        for i in range(len(tiles)):
            r, c = divmod(i, self._columns)
            text = pg.TextItem("", anchor=(0, 0))
            text.setFont(plot_font())
            text.setPos(c * (w + GAP), r * (h + GAP))
            item.addItem(text)
            self._labels.append(text)
        self.clear()

    def clear(self) -> None:
        """Forget guesses and filter levels."""
        self._seq = -1
        self._limit = 0.0
        for text in self._labels:
            text.setText("")
        self.filters_image.clear()

    def refresh(self, snapshot: Snapshot | None, curves: CurveData | None) -> bool:
        """Update the guesses and the filter images from a new snapshot."""
        if (snapshot is None or snapshot.seq == self._seq or self._ctx.image_shape is None
                or snapshot.params is None):
            return False
        self._seq = snapshot.seq
        if snapshot.sample_predictions is not None:
            self.show_predictions(snapshot.sample_predictions)
        self.show_filters(snapshot.weights())
        return True

    def show_predictions(self, predicted: np.ndarray) -> None:
        """Write each sample's guess, green when right and red when wrong."""
        truth = self._ctx.sample_labels
        names = self._ctx.class_names
        for i, text in enumerate(self._labels[: len(predicted)]):
            p = int(predicted[i])
            right = truth is not None and i < len(truth) and int(truth[i]) == p
            text.setText(names[p] if p < len(names) else str(p))
            text.setColor(RIGHT if right else WRONG)

    def show_filters(self, weights: dict) -> None:
        """Draw the first layer's kernels as images with fixed symmetric levels."""
        if self._ctx.image_shape is None:
            return
        tiles = first_layer_filters(weights, self._ctx.layer_ids, self._ctx.image_shape)
        if tiles is None or not len(tiles):
            return
        peak = float(np.max(np.abs(tiles)))
        if peak > self._limit:
            self._limit = nice_limit(peak, floor=0.05)
        columns = max(1, math.ceil(math.sqrt(len(tiles))))
        image = mosaic(tiles, columns, fill=0.0)
        if self.filters_image.image is None or self.filters_image.image.shape != image.shape:
            self.filters_plot.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]),
                                       padding=0.02)
        self.filters_image.setImage(image, autoLevels=False, levels=(-self._limit, self._limit))
