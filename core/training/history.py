"""The per-step loss history in bounded memory.

``Trainer.history["batch_loss"]`` used to grow by one float a step for ever (27 MiB a
minute on a small network). Steps are now kept as in the project file the designer
writes: ``batch_loss`` with its step numbers in ``batch_step``, exact up to
``STEP_CAPACITY`` points; beyond that, neighbouring points are merged pairwise, so
each point is the mean loss of ``stride`` consecutive steps, numbered by the last of
them. The last step number is therefore always exact (``core.workflow.trained_so_far``
counts on from it), and the per-epoch records are not touched.
"""

from __future__ import annotations

from collections.abc import MutableMapping

STEP_CAPACITY = 4096


class StepHistory:
    """Appends ``(step, loss)`` to ``history``'s ``batch_step``/``batch_loss`` lists,
    keeping at most ``capacity`` points (see the module docstring)."""

    def __init__(self, history: MutableMapping[str, list], capacity: int | None = None
                 ) -> None:
        self.history = history
        capacity = STEP_CAPACITY if capacity is None else capacity
        self.capacity = max(2, capacity - capacity % 2)
        self.stride = 1  # steps a full point stands for
        self._open = 0  # steps in the last point while it is not full yet
        #: The exact losses of the last batch or stretch of batches (the compiled path
        #: trains several at once; the designer's loop reports each of them).
        self.last_losses: list[float] = []

    def extend(self, last_step: int, losses: list[float]) -> None:
        """Record a stretch of consecutive steps ending with step ``last_step``."""
        first = last_step - len(losses) + 1
        for i, loss in enumerate(losses):
            self._add(first + i, loss)
        self.last_losses = list(losses)

    def add(self, step: int, loss: float) -> None:
        """Record the loss of optimizer step ``step``."""
        self._add(step, loss)
        self.last_losses = [loss]

    def _add(self, step: int, loss: float) -> None:
        losses = self.history.setdefault("batch_loss", [])
        steps = self.history.setdefault("batch_step", [])
        if self._open:
            n = self._open
            losses[-1] = (losses[-1] * n + loss) / (n + 1)
            steps[-1] = step
            self._open = 0 if n + 1 == self.stride else n + 1
            return
        if len(losses) >= self.capacity:
            self._thin(losses, steps)
        losses.append(loss)
        steps.append(step)
        self._open = 1 if self.stride > 1 else 0

    def _thin(self, losses: list, steps: list) -> None:
        """Merge neighbours pairwise: half the points, each for twice the steps."""
        if len(losses) != len(steps):  # lists edited by hand: keep the losses' count
            steps[:] = list(range(1, len(losses) + 1))
        losses[:] = [(a + b) / 2 for a, b in zip(losses[0::2], losses[1::2], strict=False)]
        steps[:] = steps[1::2]
        self.stride *= 2
