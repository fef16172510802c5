"""Gradient clipping with Keras' three meanings, on the flat gradient buffer.

- ``clipnorm``: each weight array's gradient (a kernel, a bias, ...) on its own is
  scaled down to norm ``clipnorm`` when it is longer (Keras' ``clipnorm``);
- ``global_clipnorm``: the whole gradient is scaled down to norm ``global_clipnorm``
  when it is longer (Keras' ``global_clipnorm``);
- ``clipvalue``: each element is clipped to ``[-clipvalue, clipvalue]``.

The optimizer config carries them under these names, as Keras users write them.  The
Trainer's own ``clipnorm`` argument, and the ``clipnorm`` of a project file's training
settings, came before and mean the *global* norm: the Trainer hands them over as
``global_clipnorm``, so files and scripts written for it keep training the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.optimizers import CLIP_KEYS

Array = np.ndarray


class GradientClip:
    """Clips the flat gradient in place; ``slices`` are the (start, stop) ranges of the
    weight arrays (what ``clipnorm`` clips one by one)."""

    def __init__(self, config: Mapping[str, Any], slices: Sequence[tuple[int, int]]) -> None:
        self.clipnorm = config.get("clipnorm")
        self.global_clipnorm = config.get("global_clipnorm")
        self.clipvalue = config.get("clipvalue")
        self.slices = list(slices)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.clipnorm, self.global_clipnorm,
                                           self.clipvalue))

    def __call__(self, grads: Array, norm: float) -> float:
        """Clip ``grads`` (whose norm is ``norm``); returns a bound on any element after."""
        if self.global_clipnorm is not None and norm > self.global_clipnorm:
            grads *= self.global_clipnorm / norm
            return self.global_clipnorm
        if self.clipnorm is not None:
            limit = self.clipnorm
            for start, stop in self.slices:
                g = grads[start:stop]
                n = math.sqrt(float(np.dot(g, g)))
                if n > limit:
                    g *= limit / n
        if self.clipvalue is not None:
            np.clip(grads, -self.clipvalue, self.clipvalue, out=grads)
            return min(norm, self.clipvalue)
        return norm


def make_clip(optimizer_config: Mapping[str, Any], clipnorm: float | None,
              param_refs: Sequence[Any]) -> GradientClip:
    """The clipping a training step applies: the optimizer config's, with a trainer's or
    project's ``clipnorm`` as the global norm (see above). ``param_refs`` are the
    network's (``Network.param_refs``: offset and size of each weight array)."""
    config = dict(optimizer_config)
    if clipnorm is not None:
        if any(config.get(k) is not None for k in CLIP_KEYS):
            raise ValueError("the gradient is clipped twice: give either the "
                             "trainer's clipnorm (the global norm) or the optimizer's "
                             "clipnorm, global_clipnorm or clipvalue, not both")
        config["global_clipnorm"] = clipnorm
    return GradientClip(config, [(r.offset, r.offset + r.size) for r in param_refs])
