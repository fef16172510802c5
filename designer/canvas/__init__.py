"""The network canvas: scene, view, node/edge items, neuron view, layout and style."""
