"""The fusion plan: which layers of a compiled network do part of their work jointly.

Three fusions save passes over memory without changing a single number:

- *loss with activation*: the output layer keeps its pre-activation ``z`` so that a loss
  fused with its activation (sigmoid + binary cross-entropy, softmax + categorical
  cross-entropy) computes ``dL/dz`` directly;
- *ReLU into max pooling*: a max pooling after a ReLU routes each window's gradient to one
  pixel whose ReLU output is the window's maximum, so the ReLU's derivative there is
  ``pooled > 0``: applied on the pooled gradient it costs a quarter of the pass over the
  full image (the same 0/1 mask is applied either way);
- *planar convolution output*: a Conv2D that feeds only a 2x2 max pooling (stride 2, no
  padding) writes its training output as four planes, which the pooling reads with
  whole-array maxima (:func:`core.layers.conv.planar_to_nhwc`).

A layer declares what it can take part in (``Layer.ABSORBS_RELU``,
``Layer.writes_planar()``, ``Layer.reads_planar()``); the network decides, once, from the
graph, and hands each layer its :class:`Fusion`.  No layer sets another's flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.layers.base import Layer


@dataclass(frozen=True)
class Fusion:
    """One layer's part in the plan."""

    keep_preactivation: bool = False  # the output layer: fused losses read z
    relu_input: bool = False          # apply the producer's ReLU derivative on our gradient
    gradient_before_activation: bool = False  # our consumer already applied our ReLU's
    planar_output: bool = False       # write the training output as four planes


NO_FUSION = Fusion()


@dataclass(frozen=True)
class FusionPlan:
    """Every layer's :class:`Fusion`, by position in the topological order."""

    layers: tuple[Fusion, ...]

    @classmethod
    def for_graph(cls, seq: Sequence[Layer], inputs: Sequence[Sequence[int]],
                  output_pos: int, input_pos: int) -> FusionPlan:
        """Decide the fusions for layers ``seq`` whose input positions are ``inputs``."""
        consumers: list[list[int]] = [[] for _ in seq]
        for i, ins in enumerate(inputs):
            for j in ins:
                consumers[j].append(i)
        flags = [dict.fromkeys(Fusion.__dataclass_fields__, False) for _ in seq]
        flags[output_pos]["keep_preactivation"] = True
        for i, layer in enumerate(seq):
            if i in (output_pos, input_pos) or len(consumers[i]) != 1:
                continue
            c = consumers[i][0]
            sole_input = len(inputs[c]) == 1
            act = layer.activation
            if (sole_input and act is not None and act.name == "relu"
                    and type(seq[c]).ABSORBS_RELU):
                flags[c]["relu_input"] = True
                flags[i]["gradient_before_activation"] = True
            if sole_input and layer.writes_planar() and seq[c].reads_planar():
                flags[i]["planar_output"] = True
        return cls(tuple(Fusion(**f) if any(f.values()) else NO_FUSION for f in flags))

    def describe(self, node_ids: Sequence[str]) -> list[str]:
        """One line per fused layer, for developers reading a slow network."""
        return [f"{nid}: {', '.join(k for k, v in vars(f).items() if v)}"
                for nid, f in zip(node_ids, self.layers, strict=True) if f != NO_FUSION]
