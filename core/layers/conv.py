"""Conv2D on channels-last images (N, H, W, C) by im2col and one matrix product.

The forward pass copies every window into a column matrix (one copy of a
``sliding_window_view``) and multiplies it by the kernel reshaped to
``(kh*kw*in_c, filters)``.  The backward pass gets the kernel gradient from the same
columns; the input gradient is built one kernel offset at a time (kh*kw products and
vectorised adds, never a loop over pixels).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.layers.base import (
    ACTIVATION_PARAM,
    INITIALIZER_CHOICES,
    Layer,
    ParamSchema,
    ShapeError,
    WeightSpec,
    conv_output_length,
    pair,
    same_padding,
)

TRANSPOSED_MAX_CHANNELS = 2  # up to this many input channels, im2col is built transposed
THIN_PRODUCT = 32  # im2col columns up to which the forward product runs in row blocks
BLOCK_VALUES = 1 << 16  # outputs per row block (256 kB in float32)
PADDING = ParamSchema("padding", "choice", "valid", choices=("valid", "same"),
                      description='"valid": no padding; "same": pad so that the output '
                                  "has ceil(input / stride) pixels.")


def check_image(layer_type: str, shape: tuple[int, ...]) -> None:
    """Raise ShapeError unless ``shape`` is (H, W, C)."""
    if len(shape) != 3:
        raise ShapeError(f"{layer_type} expects images shaped (height, width, channels) "
                         f"but gets {shape}.",
                         "Give the Input a shape like [28, 28, 1], or add a Reshape.", "rank")


def window_geometry(layer_type, cfg, shape, kernel_key):
    """(kh, kw, sh, sw, Ho, Wo, (top, bottom), (left, right)) or ShapeError."""
    check_image(layer_type, shape)
    h, w, _ = shape
    kh, kw = pair(cfg[kernel_key])
    strides = cfg.get("strides")
    sh, sw = pair(strides) if strides is not None else (kh, kw)
    padding = cfg.get("padding", "valid")
    if padding == "valid" and (kh > h or kw > w):
        raise ShapeError(f"{layer_type}'s window {kh}x{kw} is larger than its input "
                         f"{h}x{w}.", 'Use a smaller window, or padding "same".',
                         "window_too_large")
    ho, wo = conv_output_length(h, kh, sh, padding), conv_output_length(w, kw, sw, padding)
    if padding == "same":
        return kh, kw, sh, sw, ho, wo, same_padding(h, kh, sh), same_padding(w, kw, sw)
    return kh, kw, sh, sw, ho, wo, (0, 0), (0, 0)


def planar_to_nhwc(a: np.ndarray) -> np.ndarray:
    """An (n, h, w, c) view of a planar array.

    Planar: ``(2, 2, n, h/2, w/2, c)``, pixel (y, x) at ``[y % 2, x % 2, n, y // 2,
    x // 2]``: the four pixels of each 2x2 window in four contiguous planes, so that a
    2x2 max pooling is a few whole-array maxima.  A Conv2D feeding such a pooling
    writes its training output so (its im2col rows in that order); nothing else sees it.
    """
    if a.ndim != 6:
        return a
    _, _, n, h2, w2, c = a.shape
    return a.transpose(2, 3, 0, 4, 1, 5).reshape(n, 2 * h2, 2 * w2, c)


class Conv2D(Layer):
    TYPE = "Conv2D"
    GROUP = "Convolution"
    DESCRIPTION = "Slides learned filters over an image (channels last)."
    FORMULA = "y[i, j, f] = f(sum_{di, dj, c} x[i·s + di, j·s + dj, c] · K[di, dj, c, f] + b[f])"
    PARAMS = (
        ParamSchema("filters", "int", 16, 1, 100_000, description="Number of filters."),
        ParamSchema("kernel_size", "int_or_pair", 3, 1, 1_000,
                    description="Window size: n or [height, width]."),
        ParamSchema("strides", "int_or_pair", 1, 1, 1_000, description="Step between windows."),
        PADDING,
        ACTIVATION_PARAM,
        ParamSchema("use_bias", "bool", True, description="Add a learned bias per filter."),
        ParamSchema("kernel_initializer", "choice", "glorot_uniform",
                    choices=INITIALIZER_CHOICES, description="How the kernel starts."),
        ParamSchema("bias_initializer", "choice", "zeros", choices=INITIALIZER_CHOICES,
                    description="How the bias starts."),
    )

    @classmethod
    def output_shape(cls, cfg, input_shapes):
        g = window_geometry(cls.TYPE, cfg, input_shapes[0], "kernel_size")
        return (g[4], g[5], int(cfg["filters"]))

    @classmethod
    def weight_specs(cls, cfg, input_shapes):
        kh, kw = pair(cfg["kernel_size"])
        c, f = input_shapes[0][-1], int(cfg["filters"])
        specs = [WeightSpec("kernel", (kh, kw, c, f), cfg["kernel_initializer"], decay=True)]
        if cfg["use_bias"]:
            specs.append(WeightSpec("bias", (f,), cfg["bias_initializer"]))
        return specs

    @classmethod
    def work_size(cls, cfg, input_shapes):
        kh, kw, _, _, ho, wo, pt, pl = window_geometry(cls.TYPE, cfg, input_shapes[0],
                                                       "kernel_size")
        h, w, c = input_shapes[0]
        return 2 * ho * wo * kh * kw * c + 2 * (h + sum(pt)) * (w + sum(pl)) * c

    def setup(self):
        (self._kh, self._kw, self._sh, self._sw, self._ho, self._wo,
         self._pt, self._pl) = window_geometry(self.TYPE, self.config, self.input_shapes[0],
                                               "kernel_size")
        self._padded = any(self._pt) or any(self._pl)
        self._matrices: dict[int, tuple] = {}  # id(w or g) -> (kernel, bias, matrix)
        self._planar = False

    def writes_planar(self) -> bool:
        """Planar output needs an even output height and width (:func:`planar_to_nhwc`)."""
        return self._ho % 2 == 0 and self._wo % 2 == 0

    def _pad_input(self, x: np.ndarray) -> np.ndarray:
        if not self._padded:
            return x
        n, h, w, c = x.shape
        xp = self.filled_buffer("xp", (n, h + sum(self._pt), w + sum(self._pl), c))
        xp[:, self._pt[0]:self._pt[0] + h, self._pl[0]:self._pl[0] + w] = x
        return xp

    def _weight_matrix(self, arrays: dict) -> np.ndarray | None:
        """Kernel and bias as one (kh*kw*c + 1, filters) matrix, the bias its last row.

        The network lays each layer's bias right after its kernel in the flat buffers,
        so this is a view: with a column of ones in the im2col matrix one product adds
        the bias (forward) and sums its gradient (backward).  None when they are apart.
        """
        kernel, bias = arrays["kernel"], arrays.get("bias")
        cached = self._matrices.get(id(arrays))
        if cached is not None and cached[0] is kernel and cached[1] is bias:
            return cached[2]
        matrix = None
        f = kernel.shape[-1]
        if bias is not None and kernel.flags.c_contiguous and bias.flags.c_contiguous and \
                bias.dtype == kernel.dtype and \
                bias.__array_interface__["data"][0] == \
                kernel.__array_interface__["data"][0] + kernel.nbytes:
            matrix = np.lib.stride_tricks.as_strided(
                kernel.reshape(-1), (kernel.size // f + 1, f),
                (f * kernel.itemsize, kernel.itemsize))
        self._matrices[id(arrays)] = (kernel, bias, matrix)
        return matrix

    def _im2col(self, xp: np.ndarray, ones: bool, planar: bool = False) -> np.ndarray:
        """Every window of the padded input as a row: (n*ho*wo, kh*kw*c [+ 1]).

        With ``ones`` the last column is 1 (it is written when the buffer is made and
        never touched again).  For one or two input channels the windows are stored
        transposed, one row per kernel offset and channel, and the transpose returned:
        every copy then moves whole image rows instead of one value at a time.  With
        ``planar`` the rows come in :func:`planar_to_nhwc`'s order.
        """
        n, c = xp.shape[0], xp.shape[-1]
        kh, kw, ho, wo, sh, sw = self._kh, self._kw, self._ho, self._wo, self._sh, self._sw
        k, extra = kh * kw * c, int(ones)
        if c <= TRANSPOSED_MAX_CHANNELS:
            colt = self.filled_buffer("colt", (k + extra, n, ho, wo), 1.0)
            dst = colt.reshape(k + extra, 2, 2, n, ho // 2, wo // 2) if planar else colt
            for i in range(kh):
                for j in range(kw):
                    win = xp[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
                    for ch in range(c):
                        src = win[..., ch]
                        if planar:  # (n, ho, wo) -> (row parity, column parity, n, ...)
                            src = src.reshape(n, ho // 2, 2, wo // 2, 2).transpose(2, 4, 0, 1, 3)
                        np.copyto(dst[(i * kw + j) * c + ch], src)
            return colt.reshape(k + extra, -1).T
        col = self.filled_buffer("col", (n, ho, wo, k + extra), 1.0)
        windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))
        windows = windows[:, ::sh, ::sw][:, :ho, :wo]  # (n, ho, wo, c, kh, kw)
        if planar:
            windows = windows.reshape(n, ho // 2, 2, wo // 2, 2, c, kh, kw)
            np.copyto(col[..., :k].reshape(2, 2, n, ho // 2, wo // 2, kh, kw, c),
                      windows.transpose(2, 4, 0, 1, 3, 6, 7, 5))
        else:
            np.copyto(col[..., :k].reshape(n, ho, wo, kh, kw, c),
                      windows.transpose(0, 1, 2, 4, 5, 3))
        return col.reshape(n * ho * wo, k + extra)

    def forward(self, inputs, training):
        x = inputs[0]
        n = x.shape[0]
        ho, wo = self._ho, self._wo
        wb = self._weight_matrix(self.w)
        self._planar = planar = training and self.fusion.planar_output
        self._col = self._im2col(self._pad_input(x), wb is not None, planar)
        kernel = self.w["kernel"]
        f = kernel.shape[-1]
        z = self.buffer("z", (n * ho * wo, f))
        self._xshape = x.shape
        if wb is not None and self._col.shape[1] <= THIN_PRODUCT and self._in_place_activation():
            # Few inputs per output: the product only streams memory; in row blocks the
            # activation then finds each block still in cache.
            rows = max(1, BLOCK_VALUES // f)
            for s in range(0, len(z), rows):
                block = z[s:s + rows]
                np.matmul(self._col[s:s + rows], wb, out=block)
                if self.activation is not None:
                    self.activation.forward(block, block)
            self._z = self._y = z.reshape(self._out_shape(n, f))
            return self._y
        if wb is not None:
            np.matmul(self._col, wb, out=z)
        else:
            np.matmul(self._col, kernel.reshape(-1, f), out=z)
            if "bias" in self.w:
                z += self.w["bias"]
        self._z = z.reshape(self._out_shape(n, f))
        self._y = self.activate(self._z)
        return self._y

    def _out_shape(self, n: int, f: int) -> tuple[int, ...]:
        if self._planar:
            return (2, 2, n, self._ho // 2, self._wo // 2, f)
        return (n, self._ho, self._wo, f)

    def _in_place_activation(self) -> bool:
        """Does :meth:`Layer.activate` overwrite z (or is there no activation)?"""
        act = self.activation
        return act is None or (act.from_output and not self.fusion.keep_preactivation)

    def backward(self, dy, need_dx, fused=False):
        dz = self.activation_backward(self._z, self._y, dy, fused)
        kernel = self.w["kernel"]
        f = kernel.shape[-1]
        dz2 = dz.reshape(-1, f)
        gb = self._weight_matrix(self.g)
        if gb is not None and self._col.shape[1] == gb.shape[0]:
            np.matmul(self._col.T, dz2, out=gb)  # kernel and bias gradients at once
        else:
            np.matmul(self._col[:, :kernel.size // f].T, dz2,
                      out=self.g["kernel"].reshape(-1, f))
            if "bias" in self.g:
                self.column_sum(dz2, self.g["bias"])
        if not need_dx[0]:
            return [None]
        if self._planar:  # the shifted products below want whole image rows
            dz2 = np.ascontiguousarray(planar_to_nhwc(dz)).reshape(-1, f)
        return [self._input_grad(dz2)]

    def _input_grad(self, dz2: np.ndarray) -> np.ndarray:
        """dx: for each kernel offset, one product dz @ K[i, j].T added to its window.

        Each product lands in a contiguous block that is added to the padded image
        with long contiguous rows: faster than scattering an im2col-shaped gradient
        (short strided rows) and than a correlation over a padded copy of dz.
        """
        n, h, w, c = self._xshape
        kh, kw, ho, wo = self._kh, self._kw, self._ho, self._wo
        if (self._sh, self._sw, ho, wo) == (1, 1, h, w):
            return self._input_grad_same(dz2)
        f = dz2.shape[-1]
        kt = np.ascontiguousarray(self.w["kernel"].reshape(kh * kw, c, f).transpose(0, 2, 1))
        return self._input_grad_padded(dz2, kt)

    def _input_grad_padded(self, dz2: np.ndarray, kt: np.ndarray) -> np.ndarray:
        """dx of any geometry, accumulated in a padded image and cropped."""
        n, h, w, c = self._xshape
        kh, kw, ho, wo = self._kh, self._kw, self._ho, self._wo
        block = self.buffer("block", (n, ho, wo, c))
        dxp = self.buffer("dxp", (n, h + sum(self._pt), w + sum(self._pl), c))
        dxp[...] = 0
        for i in range(kh):
            rows = slice(i, i + self._sh * (ho - 1) + 1, self._sh)
            for j in range(kw):
                cols = slice(j, j + self._sw * (wo - 1) + 1, self._sw)
                np.matmul(dz2, kt[i * kw + j], out=block.reshape(-1, c))
                window = dxp[:, rows, cols, :]
                np.add(window, block, out=window)
        return dxp[:, self._pt[0]:self._pt[0] + h, self._pl[0]:self._pl[0] + w]

    def _input_grad_same(self, dz2: np.ndarray) -> np.ndarray:
        """dx for stride 1 and "same" padding, with no padded image at all.

        The centre offset's product covers the whole image: it is written straight
        into dx.  Every other offset (di, dj) moves its product by a fixed distance in
        the flattened (n, h, w, c) array, ``(di * w + dj) * c``: once the rows and
        columns it would push off the image are zeroed (they would wrap into a
        neighbouring row or image), one contiguous add of the whole shifted array
        does it.  (Cropped 4-D adds walk short rows and cost four times as much.)
        """
        n, h, w, c = self._xshape
        kw, (pt, pl) = self._kw, (self._pt[0], self._pl[0])
        kt = self.w["kernel"].reshape(self._kh * kw, c, -1)
        dx = self.buffer("dx", (n, h, w, c))
        flat = dx.reshape(-1)
        np.matmul(dz2, kt[pt * kw + pl].T, out=dx.reshape(-1, c))
        block = self.buffer("block", (n, h, w, c))
        bflat = block.reshape(-1)
        for i in range(self._kh):
            di = i - pt  # output row y lands on image row y + di
            if abs(di) >= h:
                continue
            for j in range(kw):
                dj = j - pl
                if (di, dj) == (0, 0) or abs(dj) >= w:
                    continue
                np.matmul(dz2, kt[i * kw + j].T, out=block.reshape(-1, c))
                _clear_outside(block, di, dj)
                shift = (di * w + dj) * c
                if shift > 0:
                    np.add(flat[shift:], bflat[:-shift], out=flat[shift:])
                else:
                    np.add(flat[:shift], bflat[-shift:], out=flat[:shift])
        return dx


def _clear_outside(block: np.ndarray, di: int, dj: int) -> None:
    """Zero the pixels of (n, h, w, c) ``block`` that moved by (di, dj) leave the image."""
    h, w = block.shape[1:3]
    if di < 0:
        block[:, :-di] = 0
    elif di > 0:
        block[:, h - di:] = 0
    if dj < 0:
        block[:, :, :-dj] = 0
    elif dj > 0:
        block[:, :, w - dj:] = 0
