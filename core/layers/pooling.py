"""MaxPooling2D and AveragePooling2D on channels-last images.

Both loop over the pool's kernel offsets (pool_h*pool_w vectorised steps), never over
pixels; 2x2 max pooling with stride 2 (the usual choice) takes two pairwise maxima
instead.  Max pooling's backward pass routes each window's gradient to its first maximum
only, so ties never duplicate a gradient; "first" scans the window column by column
(top-left, bottom-left, top-right, bottom-right), the order in which the fast 2x2 path
can decide ties without extra passes.  (TensorFlow and PyTorch scan row by row: only
the gradient of exactly tied maxima can differ, and either is a valid subgradient.)
With padding "same", padded positions never win a max and are left out of averages.
In training, a Conv2D feeding a 2x2 max pooling may hand it a planar input (the four
pixels of each window in four contiguous planes, see ``core.layers.conv.planar_to_nhwc``);
the pooling then works on whole planes and returns its gradient in that layout.
"""

from __future__ import annotations

import numpy as np

from core.layers.base import Layer, ParamSchema
from core.layers.conv import PADDING, window_geometry

PAIR_CHUNK = 1 << 17  # input values per block of the 2x2 max pooling (512 kB in float32)
PLANE_CHUNK = 1 << 15  # values per plane and block of the planar 2x2 max pooling


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

    def _offsets(self, column_major: bool = False):
        """(rows, cols) slices of the input that each window offset sees."""
        pairs = [(i, j) for i in range(self._kh) for j in range(self._kw)]
        if column_major:
            pairs.sort(key=lambda ij: (ij[1], ij[0]))
        for i, j in pairs:
            yield (slice(i, i + self._sh * (self._ho - 1) + 1, self._sh),
                   slice(j, j + self._sw * (self._wo - 1) + 1, self._sw))

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
    ABSORBS_RELU = True

    def _through_relu(self, dy: np.ndarray) -> np.ndarray:
        """With ``Fusion.relu_input``, ``dy`` times the ReLU's derivative at each window's
        maximum: 1 where the pooled value is positive, else 0."""
        if not self.fusion.relu_input:
            return dy
        keep = np.greater(self._y, 0, out=self.buffer_of("keep", dy.shape, bool))
        return np.multiply(dy, keep, out=self.buffer("dy_relu", dy.shape))

    def setup(self):
        super().setup()
        # 2x2 windows, stride 2, no padding: Keras' default and most CNNs' choice
        self._pairs = (self._kh, self._kw, self._sh, self._sw) == (2, 2, 2, 2) \
            and not self._padded
        self._planar = False

    def reads_planar(self) -> bool:
        """2x2 windows with stride 2 read a planar input with whole-array maxima."""
        return self._pairs and len(self.input_shapes) == 1

    def forward(self, inputs, training):
        x = inputs[0]
        self._planar = x.ndim == 6  # a Conv2D's planar training output (conv.py)
        if self._planar:
            return self._forward_planar(x)
        if self._pairs:
            return self._forward_pairs(x, training)
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
        if self._planar:
            return [self._backward_planar(dy)]
        if self._pairs:
            return [self._backward_pairs(dy)]
        dy = self._through_relu(dy)
        tiles = self._tiles()
        dxp = self._grad_image(self._xshape, clear=not tiles)
        taken = None
        # Each window's gradient goes to its first maximum only, column by column
        for rows, cols in self._offsets(column_major=True):
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

    # ---- 2x2 windows with stride 2: two pairwise maxima ---------------------------------
    def _split(self, a: np.ndarray) -> np.ndarray:
        """(n, h, w, c) -> (n, ho, 2, wo, 2, c) view of the pixels the windows cover."""
        n, c = a.shape[0], a.shape[-1]
        return a[:, :2 * self._ho, :2 * self._wo].reshape(n, self._ho, 2, self._wo, 2, c)

    def _forward_pairs(self, x: np.ndarray, training: bool) -> np.ndarray:
        """Max of the two rows of each window's columns, then of the two columns left.

        Two pairwise maxima instead of one strided maximum per window offset (the first
        over whole image rows), on a few samples at a time so that the intermediate
        stays in cache; in training the comparisons that route the gradient are made
        there too, while ``x`` is hot.
        """
        n, c = x.shape[0], x.shape[-1]
        x6 = self._split(x)
        cols = self.buffer("cols", (n, self._ho, self._wo, 2, c))  # max of each column
        y = self.buffer("y", (n, self._ho, self._wo, c))
        if training:
            bottom = self.buffer_of("bottom", cols.shape, bool)
            right = self.buffer_of("right", y.shape, bool)
        for s in self._chunks(x):
            top_, bot_, m = x6[s, :, 0], x6[s, :, 1], cols[s]
            np.maximum(top_, bot_, out=m)
            np.maximum(m[:, :, :, 0], m[:, :, :, 1], out=y[s])
            if training:  # strictly greater: on a tie the earlier pixel keeps it
                np.greater(bot_, top_, out=bottom[s])
                np.greater(m[:, :, :, 1], m[:, :, :, 0], out=right[s])
        self._masks = (bottom, right) if training else None
        self._y, self._xshape = y, x.shape
        return y

    def _chunks(self, x: np.ndarray):
        """Slices of about PAIR_CHUNK input values along the batch axis."""
        step = max(1, PAIR_CHUNK // max(1, x[0].size))
        return [slice(s, s + step) for s in range(0, len(x), step)]

    def _backward_pairs(self, dy: np.ndarray) -> np.ndarray:
        """Each window's gradient to its column's winner, and there to the winning row:
        the first maximum in column-major order, as in :meth:`backward`."""
        if self._masks is None:
            raise RuntimeError("MaxPooling2D.backward needs a forward pass in training mode")
        bottom, right = self._masks
        dx = self.buffer("dx", self._xshape)
        d6 = self._split(dx)
        g = self.buffer("g", bottom.shape)  # gradient of each column's maximum
        if self.fusion.relu_input:
            keep = self.buffer_of("keep", dy.shape, bool)
            dyr = self.buffer("dy_relu", dy.shape)
        for s in self._chunks(dx):
            gs, d, dys = g[s], d6[s], dy[s]
            if self.fusion.relu_input:  # see _through_relu, here on a block in cache
                dys = np.multiply(dys, np.greater(self._y[s], 0, out=keep[s]), out=dyr[s])
            np.multiply(dys, right[s], out=gs[:, :, :, 1])
            np.subtract(dys, gs[:, :, :, 1], out=gs[:, :, :, 0])
            np.multiply(gs, bottom[s], out=d[:, :, 1])
            np.subtract(gs, d[:, :, 1], out=d[:, :, 0])
        dx[:, 2 * self._ho:] = 0  # rows and columns no window covers
        dx[:, :, 2 * self._wo:] = 0
        return dx


    # ---- planar input: the four pixels of each window in four contiguous planes -------
    def _forward_planar(self, x: np.ndarray) -> np.ndarray:
        """Max of each column's two planes, then of the two columns: whole-array
        maxima (see :func:`core.layers.conv.planar_to_nhwc`), same ties as the pairs."""
        size = x[0, 0].size
        p = x.reshape(2, 2, size)  # [row parity, column parity]
        y = self.buffer("y", x.shape[2:])
        cols = self.buffer("cols", (2, size))
        bottom = self.buffer_of("bottom", (2, size), bool)
        right = self.buffer_of("right", (size,), bool)
        yf = y.reshape(-1)
        for lo in range(0, size, PLANE_CHUNK):
            s = slice(lo, lo + PLANE_CHUNK)
            for col in (0, 1):  # strictly greater: on a tie the earlier pixel keeps it
                np.maximum(p[0, col, s], p[1, col, s], out=cols[col, s])
                np.greater(p[1, col, s], p[0, col, s], out=bottom[col, s])
            np.maximum(cols[0, s], cols[1, s], out=yf[s])
            np.greater(cols[1, s], cols[0, s], out=right[s])
        self._masks = (bottom, right)
        self._y, self._xshape = y, x.shape
        return y

    def _backward_planar(self, dy: np.ndarray) -> np.ndarray:
        """The gradient in the planar layout of the input, as :meth:`_backward_pairs`."""
        bottom, right = self._masks
        size = dy.size
        dx = self.buffer("dx", self._xshape)
        d = dx.reshape(2, 2, size)
        g = self.buffer("g", (2, size))  # gradient of each column's maximum
        dyf, yf = dy.reshape(-1), self._y.reshape(-1)
        if self.fusion.relu_input:
            keep = self.buffer_of("keep", (size,), bool)
            dyr = self.buffer("dy_relu", (size,))
        for lo in range(0, size, PLANE_CHUNK):
            s = slice(lo, lo + PLANE_CHUNK)
            dys = dyf[s]
            if self.fusion.relu_input:  # see _through_relu
                dys = np.multiply(dys, np.greater(yf[s], 0, out=keep[s]), out=dyr[s])
            np.multiply(dys, right[s], out=g[1, s])
            np.subtract(dys, g[1, s], out=g[0, s])
            for col in (0, 1):
                np.multiply(g[col, s], bottom[col, s], out=d[1, col, s])
                np.subtract(g[col, s], d[1, col, s], out=d[0, col, s])
        return dx


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
