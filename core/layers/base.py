"""What every layer shares: its parameter schema, shape rules and buffers.

A layer class describes itself statically (``PARAMS`` for the inspector, ``output_shape``
and ``weight_specs`` for shape inference and parameter counts without allocating) and,
as an instance, runs ``forward``/``backward`` on batches.  Its trainable arrays are views
into the network's flat buffers, assigned by the network (``self.w`` values,
``self.g`` gradients); non-trainable state (BatchNormalization's moving statistics) lives
in ``self.state``.  Work arrays are reused between batches of the same size
(:meth:`Layer.buffer`), so a training step allocates almost nothing.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from core.activations import ACTIVATIONS, Activation, activation_options, get_activation
from core.fusion import NO_FUSION

Array = np.ndarray
Shape = tuple[int, ...]


class ShapeError(Exception):
    """A layer cannot accept its inputs; carries a sentence, a hint and a code."""

    def __init__(self, message: str, hint: str, code: str = "shape") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


MAX_DIM = 100_000_000  # largest size of one axis of a shape
BUFFER_SHAPES_PER_KEY = 3
Error = tuple[str, str, str]  # (message, hint, code)


def did_you_mean(word: Any, options) -> str:
    """'Did you mean X?' for the closest option, or '' when none is close."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"Did you mean {close[0]!r}?" if close else ""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class ParamSchema:
    """One configurable parameter as the inspector shows it, and its value check."""

    name: str
    kind: str  # "int", "float", "bool", "choice", "shape", "int_or_pair"
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""
    nullable: bool = False

    def check(self, value: Any) -> tuple[Any, Error | None]:
        """(normalised value, None) or (value, (message, hint, code)) for a bad one."""
        if value is None and self.nullable:
            return self.default, None
        return getattr(self, f"_check_{self.kind}")(value)

    def _range(self, v: float) -> Error | None:
        shown = f"{v:.3g}" if abs(v) >= 1e9 else str(v)  # not 300 digits of 1e300
        if self.min is not None and v < self.min:
            return f"{self.name} = {shown} is too small.", self._range_hint(), "out_of_range"
        if self.max is not None and v > self.max:
            return f"{self.name} = {shown} is too large.", self._range_hint(), "out_of_range"
        return None

    def _range_hint(self) -> str:
        if self.min is not None and self.max is not None:
            return f"Use a value from {self.min} to {self.max}."
        if self.min is not None:
            return f"Use a value of at least {self.min}."
        return f"Use a value of at most {self.max}."

    def _bad(self, value: Any, what: str, example: Any) -> tuple[Any, Error]:
        return value, (f"{self.name} must be {what}, not {value!r}.",
                       f"Enter something like {example}.", "bad_value")

    def _check_int(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value):
            return self._bad(value, "a whole number", self.default)
        return value, self._range(value)

    def _check_float(self, value):
        if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
            return self._bad(value, "a number", self.default)
        return float(value), self._range(value)

    def _check_bool(self, value):
        if not isinstance(value, bool):
            return self._bad(value, "true or false", "true")
        return value, None

    def _check_choice(self, value):
        choices = self.choices or ()
        if value not in choices:
            hint = " ".join(h for h in (did_you_mean(value, choices),
                                        f"Choose one of: {', '.join(choices)}.") if h)
            return value, (f"{self.name} {value!r} is not known.", hint, "unknown_choice")
        return value, None

    def _check_shape(self, value):
        # Sizes are >= 1; a target_shape (min -1) may also hold -1.
        ok = isinstance(value, (list, tuple)) and len(value) >= 1 and all(
            _is_int(d) and (1 <= d <= MAX_DIM or (d == -1 and self.min == -1))
            for d in value)
        if not ok:
            return self._bad(value, "a list of positive sizes",
                             [7, 7, 1] if self.min == -1 else list(self.default))
        return [int(d) for d in value], None

    def _check_int_or_pair(self, value):
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) not in (1, 2) or not all(_is_int(d) for d in items):
            return self._bad(value, "a whole number or a pair [h, w]", self.default)
        for d in items:
            error = self._range(d)
            if error:
                return value, error
        return (items[0] if len(items) == 1 else items), None


@dataclass(frozen=True)
class WeightSpec:
    """A weight array a layer owns: shape, initializer, whether it trains and decays."""

    name: str
    shape: Shape
    initializer: str
    decay: bool = False
    trainable: bool = True


@dataclass
class Layer:
    """Base class; subclasses set the class variables and the four methods."""

    TYPE: ClassVar[str] = ""
    GROUP: ClassVar[str] = "Core"
    DESCRIPTION: ClassVar[str] = ""
    FORMULA: ClassVar[str] = ""
    PARAMS: ClassVar[tuple[ParamSchema, ...]] = ()
    MIN_INPUTS: ClassVar[int] = 1
    MAX_INPUTS: ClassVar[int | None] = 1
    # Can apply a ReLU's derivative on its (smaller) output for the layer feeding it
    # (``Fusion.relu_input``, core.fusion); that layer then skips its own.
    ABSORBS_RELU: ClassVar[bool] = False

    node_id: str
    config: dict[str, Any]
    input_shapes: list[Shape]
    dtype: np.dtype
    w: dict[str, Array] = field(default_factory=dict)
    g: dict[str, Array] = field(default_factory=dict)
    state: dict[str, Array] = field(default_factory=dict)
    rng: np.random.Generator | None = None
    _buffers: dict[str, dict[Shape, Array]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.output_shape_ = self.output_shape(self.config, self.input_shapes)
        self.activation: Activation | None = None
        # What this layer does jointly with its neighbours (core.fusion); the network
        # hands it over once it has planned the whole graph.
        self.fusion = NO_FUSION
        act = self.config.get("activation")
        if "activation" in self.config and act not in (None, "linear"):
            self.activation = get_activation(act, **activation_options(self.config))
        self.setup()

    # ---- static description -----------------------------------------------------------
    @classmethod
    def output_shape(cls, cfg: dict[str, Any], input_shapes: list[Shape]) -> Shape:
        """Output shape (no batch axis) or ShapeError."""
        return input_shapes[0]

    @classmethod
    def weight_specs(cls, cfg: dict[str, Any], input_shapes: list[Shape]) -> list[WeightSpec]:
        """Weights this layer would own for these inputs (nothing allocated)."""
        return []

    @classmethod
    def work_size(cls, cfg: dict[str, Any], input_shapes: list[Shape]) -> int:
        """Extra per-sample floats held during a step (im2col columns and the like)."""
        return 0

    def get_config(self) -> dict[str, Any]:
        """The layer's parameters, defaults filled in: enough to rebuild it."""
        return dict(self.config)

    # ---- running ----------------------------------------------------------------------
    def setup(self) -> None:
        """Per-instance preparation after the shapes are known (optional)."""

    def forward(self, inputs: list[Array], training: bool) -> Array:
        raise NotImplementedError

    def backward(self, dy: Array, need_dx: list[bool], fused: bool = False
                 ) -> list[Array | None]:
        """Input gradients (None where not needed); fills ``self.g`` views.

        ``fused`` means ``dy`` is already the gradient with respect to the
        pre-activation (the loss was fused with this layer's activation).
        """
        raise NotImplementedError

    # ---- helpers ----------------------------------------------------------------------
    def buffer(self, key: str, shape: Shape) -> Array:
        """A work array of ``shape`` reused across batches; contents are undefined."""
        return self._cached(key, shape, None)

    def buffer_of(self, key: str, shape: Shape, dtype: Any) -> Array:
        """:meth:`buffer` of another dtype (boolean masks, for instance)."""
        return self._cached(key, shape, None, np.dtype(dtype))

    def filled_buffer(self, key: str, shape: Shape, fill: float = 0.0) -> Array:
        """A reused work array set to ``fill`` when allocated, then left alone.

        For padded images: callers only ever write the interior, so the border keeps
        its fill value across batches without being cleared each time.
        """
        return self._cached(key, shape, fill)

    def _cached(self, key: str, shape: Shape, fill: float | None,
                dtype: np.dtype | None = None) -> Array:
        # A few shapes per key (training batch, last partial batch, predict batch), so
        # alternating between training and predicting does not reallocate every time.
        slot = self._buffers.get(key)
        if slot is None:
            slot = self._buffers[key] = {}
        b = slot.get(shape)
        if b is None:
            if len(slot) >= BUFFER_SHAPES_PER_KEY:
                del slot[next(iter(slot))]  # the oldest
            dtype = self.dtype if dtype is None else dtype
            b = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
            slot[shape] = b
        return b

    def column_sum(self, a: Array, out: Array) -> Array:
        """Sum over the rows of a 2-D array as a matrix-vector product (BLAS)."""
        return np.matmul(self.filled_buffer("ones", (a.shape[0],), 1.0), a, out=out)

    def writes_planar(self) -> bool:
        """Can this layer write its training output as four planes (core.fusion)?"""
        return False

    def reads_planar(self) -> bool:
        """Can this layer read a planar input from the layer feeding it (core.fusion)?"""
        return False

    def activate(self, z: Array, owned: bool = True) -> Array:
        """Apply the layer's activation to pre-activation ``z``.

        When the layer owns ``z`` and the derivative needs only the output, the result
        overwrites ``z`` (one array less to write and read back); the output node keeps
        ``z`` for the fused losses (``Fusion.keep_preactivation``).
        """
        act = self.activation
        if act is None:
            return z
        if owned and act.from_output and not self.fusion.keep_preactivation:
            return act.forward(z, z)
        return act.forward(z, self.buffer("act", z.shape))

    def activation_backward(self, z: Array, y: Array, dy: Array, fused: bool) -> Array:
        """dL/dz from dL/dy, into a buffer this layer owns (``dy`` is never changed)."""
        if self.activation is None or fused:
            return dy
        return self.activation.backward(z, y, dy, self.buffer("dz", dy.shape))


def conv_output_length(n: int, k: int, s: int, padding: str) -> int:
    """Length of a convolution or pooling output along one axis (Keras' rule)."""
    if padding == "same":
        return -(-n // s)
    return (n - k) // s + 1 if n >= k else 0


def same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding for "same": TensorFlow puts the odd pixel after."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pair(v: Any) -> tuple[int, int]:
    """An int or a pair of ints as (height, width)."""
    if isinstance(v, (list, tuple)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


ACTIVATION_PARAM = ParamSchema(
    "activation", "choice", "linear", choices=tuple(ACTIVATIONS),
    description="Function applied to the layer's output.", nullable=True)
INITIALIZER_CHOICES = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                       "lecun_uniform", "lecun_normal", "zeros", "ones")
