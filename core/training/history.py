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

from collections.abc import MutableMapping, Sequence

import numpy as np

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
        self._sum = 0.0  # the sum of their losses
        #: The exact losses of the last batch or stretch of batches (the compiled path
        #: trains several at once; the designer's loop reports each of them).
        self.last_losses = np.zeros(0)

    def extend(self, last_step: int, losses: Sequence[float] | np.ndarray) -> None:
        """Record a stretch of consecutive steps ending with step ``last_step``.

        The same points, to the bit, as :meth:`add` once per step (NumPy's
        ``add.accumulate`` adds in order, as ``+=`` does), in a few array operations
        per call instead of a call per step: at batch size 1 the compiled path hands
        over hundreds of losses an epoch, and adding them one by one cost about a
        third of its training time.
        """
        y = np.asarray(losses, dtype=np.float64)
        points = self.history.setdefault("batch_loss", [])
        numbers = self.history.setdefault("batch_step", [])
        first, count, i = last_step - len(y) + 1, len(y), 0
        while i < count:
            if self._open:
                i = self._fill_open(points, numbers, y, i, first)
                continue
            while len(points) >= self.capacity:  # a longer history read from a file
                self._thin(points, numbers)
            stride, room = self.stride, self.capacity - len(points)
            whole = min(room, (count - i) // stride)
            if whole:  # full points: the means of ``stride`` steps each
                stop = i + whole * stride
                sums = np.add.accumulate(y[i:stop].reshape(whole, stride), axis=1)[:, -1]
                points.extend((sums / stride).tolist())
                numbers.extend(range(first + i + stride - 1, first + stop, stride))
                i = stop
            else:  # fewer steps left than a point holds: open one
                self._sum = float(y[i])
                points.append(self._sum)
                numbers.append(first + i)
                self._open = 1
                i += 1
        self.last_losses = y

    def _fill_open(self, points: list, numbers: list, y: np.ndarray, i: int,
                   first: int) -> int:
        """Merge losses from ``y[i]`` on into the open last point, as :meth:`_add`
        merges them one at a time (the point is the sum of its losses over their
        count); returns the index of the first loss not taken."""
        end = min(i + self.stride - self._open, len(y))
        terms = np.empty(end - i + 1)
        terms[0], terms[1:] = self._sum, y[i:end]
        self._sum = float(np.add.accumulate(terms)[-1])
        n = self._open + end - i
        points[-1] = self._sum / n
        numbers[-1] = first + end - 1
        self._open = 0 if n == self.stride else n
        return end

    def add(self, step: int, loss: float) -> None:
        """Record the loss of optimizer step ``step``."""
        self._add(step, loss)
        self.last_losses = np.array([loss], dtype=np.float64)

    def _add(self, step: int, loss: float) -> None:
        losses = self.history.setdefault("batch_loss", [])
        steps = self.history.setdefault("batch_step", [])
        if self._open:
            n = self._open + 1
            self._sum += loss
            losses[-1] = self._sum / n
            steps[-1] = step
            self._open = 0 if n == self.stride else n
            return
        if len(losses) >= self.capacity:
            self._thin(losses, steps)
        losses.append(loss)
        steps.append(step)
        self._open = 1 if self.stride > 1 else 0
        self._sum = loss

    def _thin(self, losses: list, steps: list) -> None:
        """Merge neighbours pairwise: half the points, each for twice the steps."""
        if len(losses) != len(steps):  # lists edited by hand: keep the losses' count
            steps[:] = list(range(1, len(losses) + 1))
        losses[:] = [(a + b) / 2 for a, b in zip(losses[0::2], losses[1::2], strict=False)]
        steps[:] = steps[1::2]
        self.stride *= 2
