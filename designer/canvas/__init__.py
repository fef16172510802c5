"""The network canvas: scene, view, node/edge items, neuron view, layout and style."""

from designer.canvas import qt_fix  # noqa: F401 - must run before any other Qt work
