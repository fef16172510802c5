"""The messages between the designer and its training process: typed and frozen.

Commands go from the window to the process (:data:`Command`), reports come back
(:data:`Report`). Each is a frozen dataclass, so a receiver dispatches on the type with
``match`` and a type checker sees every field; a new command is one class here and one
``case`` in ``designer.run.loop.RunLoop.apply``. Both ends are our own processes, so the
pipes pickle these objects; no file is ever unpickled.

A run goes: the designer sends a :class:`TrainingJob` and the data
(raw bytes), then commands whenever the user presses a button; the process answers
with :class:`Steps`, :class:`Epochs`, :class:`GradNorms`, :class:`Published` and
:class:`Progress` while it trains, a :class:`RecoveryPoint` every second or so,
:class:`Failed` when something went wrong, and always ends with one :class:`Finished`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# ------------------------------------------------------------- commands (window -> process)


@dataclass(frozen=True)
class Stop:
    """End the run at the next batch, paused or not."""


@dataclass(frozen=True)
class Pause:
    """Stop pulling batches after the current one."""


@dataclass(frozen=True)
class Resume:
    """Go on without limit."""


@dataclass(frozen=True)
class Step:
    """Run ``count`` more batches (or to the end of ``count`` epochs), then pause."""

    count: int = 1
    unit: Literal["batch", "epoch"] = "batch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", max(1, int(self.count)))
        if self.unit not in ("batch", "epoch"):
            raise ValueError(f"a step is counted in 'batch' or 'epoch', not {self.unit!r}")


@dataclass(frozen=True)
class SetLearningRate:
    """Use this learning rate from the next batch on."""

    lr: float


@dataclass(frozen=True)
class SetPace:
    """At most ``epochs_per_s`` epochs a second (None: as fast as it goes)."""

    epochs_per_s: float | None


Command = Stop | Pause | Resume | Step | SetLearningRate | SetPace


# ----------------------------------------------------------- the job (window -> process, once)


@dataclass(frozen=True)
class GridSpec:
    """The 2-D view grid: net inputs for each grid point (row-major, y then x)."""

    inputs: np.ndarray
    shape: tuple[int, int]
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 in raw feature units


@dataclass(frozen=True)
class TrainingJob:
    """What one run needs. The process builds the network from ``spec`` and ``seed``
    with ``weights`` (when they still fit) and the trainer from ``training`` and
    ``optimizer_state``; the window only checks the spec, it never builds either.

    ``X``, ``Y`` and ``validation`` cross as raw bytes (``designer.run.process``);
    ``commands`` are applied before the first batch (Step while idle starts a run
    that pauses again). ``step_offset``/``epoch_offset`` are earlier runs' steps and
    epochs: the trainer numbers on from them. ``grid_seq_offset`` is the last grid
    number the window has seen: this job's grids number on from it, so that a view
    never mistakes a new grid (after a weight edit, say) for one it already drew.
    ``hidden_ids`` names the nodes whose activations over the grid become neuron maps
    (the neuron view's: inputs and output too, not only the hidden layers).
    """

    spec: Mapping[str, Any]
    training: Mapping[str, Any]
    X: Any
    Y: Any
    epochs: int
    seed: int = 0
    weights: Mapping[str, Mapping[str, np.ndarray]] | None = None
    optimizer_state: Mapping[str, Any] | None = None
    validation: tuple[Any, ...] | None = None
    step_offset: int = 0
    epoch_offset: int = 0
    grid_seq_offset: int = 0
    grid: GridSpec | None = None
    hidden_ids: tuple[str, ...] = ()
    confusion: tuple[np.ndarray, np.ndarray, int] | None = None
    samples: np.ndarray | None = None
    pace: float | None = None
    commands: tuple[Command, ...] = ()
    #: (node id, weight name, flat indices) that training keeps at their start values
    #: (knocked-out or frozen neurons and weights).
    frozen: tuple[tuple[str, str, tuple[int, ...]], ...] = ()
    #: Report a :class:`Checkpoint` at the end of every this many epochs of the run
    #: (0: none); the kept runs' timeline is made of them.
    checkpoint_every: int = 0
    #: The data's task ("classification" even with mse): the trainer's metrics follow it.
    task: str | None = None
    #: The least time between two :class:`RecoveryPoint` reports (what a killed process
    #: loses at most); the loop lengthens it when taking one costs more than 2 %.
    recovery_every_s: float = 1.0


# -------------------------------------------------------------- reports (process -> window)


@dataclass(frozen=True)
class Snapshot:
    """Everything the views show at one moment of training; all arrays are copies.

    ``params`` and ``grads`` are copies of the network's flat buffers; ``refs`` says where
    each node's arrays sit in them (``core.network`` ParamRef objects). ``grid`` is the
    network output over the 2-D view grid, ``(H, W, outputs)``; ``neuron_maps`` gives the
    activations of each node of ``TrainingJob.hidden_ids`` over the same grid,
    ``(units, H, W)``.
    """

    seq: int
    epoch: int
    step: int
    samples_seen: int
    samples_per_s: float
    elapsed_s: float
    lr: float
    loss: float
    params: np.ndarray | None = None
    grads: np.ndarray | None = None
    refs: tuple = ()
    grid: np.ndarray | None = None
    grid_seq: int = 0
    neuron_maps: Mapping[str, np.ndarray] = field(default_factory=dict)
    confusion: np.ndarray | None = None
    sample_predictions: np.ndarray | None = None
    sample_probabilities: np.ndarray | None = None

    def weights(self) -> dict[str, dict[str, np.ndarray]]:
        """``{node_id: {name: array}}`` views into this snapshot's own copy of the params."""
        return _unflatten(self.params, self.refs)

    def gradients(self) -> dict[str, dict[str, np.ndarray]]:
        """Like :meth:`weights`, for the last batch's gradients."""
        return _unflatten(self.grads, self.refs)


def _unflatten(flat: np.ndarray | None, refs: Sequence[Any]) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    if flat is None:
        return out
    for ref in refs:
        out.setdefault(ref.node_id, {})[ref.name] = (
            flat[ref.offset: ref.offset + ref.size].reshape(ref.shape))
    return out


#: Snapshot fields that change at their own, slower rates (the grid ~10/s, the confusion
#: matrix 2/s): a :class:`Published` carries them only when they are new. The grid and
#: neuron maps of the spiral are 680 kB; sent with each of the 25-33 snapshots a second
#: they cost 7 % of its training time.
SLOW_FIELDS = ("grid", "neuron_maps", "confusion", "sample_predictions",
               "sample_probabilities")


@dataclass(frozen=True)
class Published:
    """A new snapshot; the :data:`SLOW_FIELDS` not named in ``new`` are None here and
    are those of the snapshot before (:meth:`complete` fills them in)."""

    snapshot: Snapshot
    new: tuple[str, ...] = SLOW_FIELDS

    def complete(self, before: Snapshot | None) -> Snapshot:
        """The full snapshot, with the slow fields left out taken from ``before``."""
        if before is None:
            return self.snapshot
        return dataclasses.replace(self.snapshot, **{
            name: getattr(before, name) for name in SLOW_FIELDS if name not in self.new})


@dataclass(frozen=True)
class Steps:
    """Per-batch losses since the last report, at these steps."""

    steps: np.ndarray
    losses: np.ndarray


@dataclass(frozen=True)
class Epochs:
    """The figures of the epochs that ended since the last report (``epoch``, ``step``,
    ``loss``, ``val_loss``, ``lr`` and the metrics, ``val_`` ones too)."""

    records: tuple[Mapping[str, float], ...]


@dataclass(frozen=True)
class GradNorms:
    """The L2 norm of each layer's kernel gradient at ``step``."""

    step: float
    norms: Mapping[str, float]


@dataclass(frozen=True)
class Checkpoint:
    """The weights at the end of ``epoch`` (``TrainingJob.checkpoint_every``)."""

    epoch: int
    params: np.ndarray
    refs: tuple = ()

    def weights(self) -> dict[str, dict[str, np.ndarray]]:
        """``{node_id: {name: array}}`` views into this checkpoint's params."""
        return _unflatten(self.params, self.refs)


State = Literal["running", "paused", "finished", "idle"]


@dataclass(frozen=True)
class Progress:
    """The counters the panels show (at most ~10 a second, and at every state change);
    ``time_left_s`` is NaN when unknown."""

    state: State
    epoch: int = 0
    step: int = 0
    loss: float = float("nan")
    epochs_total: int | None = None
    lr: float = float("nan")
    samples_per_s: float = float("nan")
    time_left_s: float = float("nan")
    samples_seen: int = 0


@dataclass(frozen=True)
class Failed:
    """A readable message: what went wrong and what to do (divergence, a bad setting)."""

    text: str


@dataclass(frozen=True)
class RecoveryPoint:
    """The weights (BN statistics too) and optimizer state after ``step`` steps, once the
    curves up to ``step`` have been reported. Sent every second or so: when the process
    dies or hangs, the window keeps these and trims the curves to ``step``, so that
    weights and curves always belong together (also in the autosaved recovery copy)."""

    epoch: int
    step: int
    weights: Mapping[str, Mapping[str, np.ndarray]]
    optimizer_state: Mapping[str, Any] | None = None


StopReason = Literal["completed", "stopped", "early_stopping", "diverged", "error"]


@dataclass(frozen=True)
class Finished:
    """The last report of a run: why it ended, and what it learned (None when it could
    not even start)."""

    reason: StopReason
    weights: Mapping[str, Mapping[str, np.ndarray]] | None = None
    optimizer_state: Mapping[str, Any] | None = None


Report = (Published | Steps | Epochs | GradNorms | Checkpoint | Progress | Failed
          | RecoveryPoint | Finished)
