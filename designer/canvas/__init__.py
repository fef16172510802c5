"""The network canvas: scene, view, node/edge items, neuron view and style."""
