"""MaxPooling2D and AveragePooling2D on channels-last images.

Both loop over the pool's kernel offsets (pool_h*pool_w vectorised steps), never over
pixels.  Max pooling's backward pass routes each window's gradient to its first maximum
only (as TensorFlow does), so ties never duplicate a gradient.
With padding "same", padded positions never win a max and are left out of averages.
"""

from __future__ import annotations

import numpy as np

from core.layers.base import Layer, ParamSchema
from core.layers.conv import PADDING, window_geometry


class _Pooling2D(Layer):
    GROUP = "Pooling"
    PARAMS = (
        ParamSchema("pool_size", "int_or_pair", 2, 1, 1_000,
                    description="Window size: n or [height, width]."),
        ParamSchema("strides", "int_or_pair", None, 1, 1_000, nullable=True,
                    description="Step between windows; empty means the pool size."),
        PADDING,
    )

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        g = window_geometry(cls.TYPE, cfg, input_shapes[0], "pool_size")
        return (g[4], g[5], input_shapes[0][-1])

    def setup(self):
        (self._kh, self._kw, self._sh, self._sw, self._ho, self._wo,
         self._pt, self._pl) = window_geometry(self.TYPE, self.config, self.input_shapes[0],
                                               "pool_size")
        self._padded = any(self._pt) or any(self._pl)

    def _offsets(self):
        for i in range(self._kh):
            rows = slice(i, i + self._sh * (self._ho - 1) + 1, self._sh)
            for j in range(self._kw):
                yield rows, slice(j, j + self._sw * (self._wo - 1) + 1, self._sw)

    def _pad(self, x: np.ndarray, fill: float, key: str) -> np.ndarray:
        if not self._padded:
            return x
        n, h, w, c = x.shape
        xp = self.filled_buffer(key, (n, h + sum(self._pt), w + sum(self._pl), c), fill)
        xp[:, self._pt[0]:self._pt[0] + h, self._pl[0]:self._pl[0] + w] = x
        return xp

    def _tiles(self) -> bool:
        """Do the windows cover the (padded) input exactly once, without gaps?"""
        h, w, _ = self.input_shapes[0]
        return (self._sh, self._sw) == (self._kh, self._kw) and \
            h + sum(self._pt) == self._ho * self._kh and w + sum(self._pl) == self._wo * self._kw

    def _grad_image(self, shape, clear: bool = True) -> np.ndarray:
        n, h, w, c = shape
        dxp = self.buffer("dxp", (n, h + sum(self._pt), w + sum(self._pl), c))
        if clear:
            dxp[...] = 0
        return dxp

    def _crop(self, dxp, shape):
        _, h, w, _ = shape
        return dxp[:, self._pt[0]:self._pt[0] + h, self._pl[0]:self._pl[0] + w]


class MaxPooling2D(_Pooling2D):
    TYPE = "MaxPooling2D"
    DESCRIPTION = "Keeps the largest value of each window (shrinks the image)."
    FORMULA = "y[i, j, c] = max over the window of x"

    def forward(self, inputs, training):
        x = inputs[0]
        xp = self._pad(x, -np.inf, "xp")
        y = self.buffer("y", (x.shape[0], self._ho, self._wo, x.shape[-1]))
        for k, (rows, cols) in enumerate(self._offsets()):
            if k == 0:
                np.copyto(y, xp[:, rows, cols, :])
            else:
                np.maximum(y, xp[:, rows, cols, :], out=y)
        self._xp, self._y, self._xshape = xp, y, x.shape
        return y

    def backward(self, dy, need_dx, fused=False):
        if not need_dx[0]:
            return [None]
        offsets = list(self._offsets())
        tiles = self._tiles()
        dxp = self._grad_image(self._xshape, clear=not tiles)
        taken = None
        # Each window's gradient goes to its first maximum only (TensorFlow's rule).
        for rows, cols in offsets:
            hit = np.equal(self._xp[:, rows, cols, :], self._y)
            if taken is None:
                taken = hit.copy()
            else:
                np.greater(hit, taken, out=hit)  # a maximum no earlier offset claimed
                taken |= hit
            if tiles:  # every input pixel is in exactly one window: write, don't add
                np.multiply(dy, hit, out=dxp[:, rows, cols, :])
            else:
                dxp[:, rows, cols, :] += np.multiply(dy, hit, out=self.buffer("g", dy.shape))
        return [self._crop(dxp, self._xshape)]


class AveragePooling2D(_Pooling2D):
    TYPE = "AveragePooling2D"
    DESCRIPTION = "Averages each window (shrinks the image)."
    FORMULA = "y[i, j, c] = mean over the window of x"

    def setup(self):
        super().setup()
        # How many real (unpadded) pixels each window covers.
        h, w, _ = self.input_shapes[0]
        ones = self._pad(np.ones((1, h, w, 1), dtype=self.dtype), 0.0, "count_pad")
        count = np.zeros((1, self._ho, self._wo, 1), dtype=self.dtype)
        for rows, cols in self._offsets():
            count += ones[:, rows, cols, :]
        self._inv_count = 1.0 / count
        self._buffers.pop("count_pad", None)

    def forward(self, inputs, training):
        x = inputs[0]
        xp = self._pad(x, 0.0, "xp")
        y = self.buffer("y", (x.shape[0], self._ho, self._wo, x.shape[-1]))
        y[...] = 0
        for rows, cols in self._offsets():
            y += xp[:, rows, cols, :]
        y *= self._inv_count
        self._xshape = x.shape
        return y

    def backward(self, dy, need_dx, fused=False):
        if not need_dx[0]:
            return [None]
        g = np.multiply(dy, self._inv_count, out=self.buffer("g", dy.shape))
        dxp = self._grad_image(self._xshape)
        for rows, cols in self._offsets():
            dxp[:, rows, cols, :] += g
        return [self._crop(dxp, self._xshape)]
