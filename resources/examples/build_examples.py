"""Write the example projects ``resources/examples/NAME.annproj`` (deterministic).

Run from the repository root after changing an example:

    .venv/bin/python resources/examples/build_examples.py

Each example names a built-in data set, a network, its training settings and the target
it reaches with them (``project.extra["target"]``); ``tests/core/test_examples.py`` trains
every example with its saved settings and checks that target. The scaler is fitted on
the training split here, so a fresh example predicts and exports the same way a trained
one will. Examples ship untrained: the test proves that they train.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from core import workflow  # noqa: E402
from core.examples import EXAMPLES, ExampleInfo  # noqa: E402
from core.project import Project, save_project  # noqa: E402
from core.starter import layered_layout  # noqa: E402


def dense(node_id: str, units: int, activation: str = "linear") -> dict[str, Any]:
    return {"id": node_id, "type": "Dense", "units": units, "activation": activation}


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A spec whose nodes are connected one after the other."""
    edges = [[a["id"], b["id"]] for a, b in zip(nodes, nodes[1:], strict=False)]
    return {"nodes": list(nodes), "edges": edges}


def training(loss: str, lr: float, epochs: int, batch_size: int = 32,
             optimizer: str = "adam") -> dict[str, Any]:
    return {"loss": loss, "optimizer": {"type": optimizer, "lr": lr},
            "batch_size": batch_size, "epochs": epochs, "seed": 0, "schedule": None,
            "l1": 0.0, "l2": 0.0, "clipnorm": None}


def builtin(name: str, **params: Any) -> dict[str, Any]:
    return {"kind": "builtin", "name": name, "params": params}


def residual_spec() -> dict[str, Any]:
    """input -> h0 -> block (two Dense) -> Add(h0, block) -> softmax: one skip connection."""
    nodes = [{"id": "input", "type": "Input", "shape": [2]}, dense("h0", 16, "relu"),
             dense("block1", 16, "relu"), dense("block2", 16, "linear"),
             {"id": "add", "type": "Add"}, {"id": "relu", "type": "Activation",
                                             "activation": "relu"},
             dense("output", 3, "softmax")]
    edges = [["input", "h0"], ["h0", "block1"], ["block1", "block2"], ["h0", "add"],
             ["block2", "add"], ["add", "relu"], ["relu", "output"]]
    return {"nodes": nodes, "edges": edges}


def wide_and_deep_spec() -> dict[str, Any]:
    """The raw features (wide) concatenated with a two-layer deep path, then one sigmoid."""
    nodes = [{"id": "input", "type": "Input", "shape": [30]}, dense("deep1", 16, "relu"),
             dense("deep2", 8, "relu"), {"id": "concat", "type": "Concatenate"},
             dense("output", 1, "sigmoid")]
    edges = [["input", "deep1"], ["deep1", "deep2"], ["input", "concat"],
             ["deep2", "concat"], ["concat", "output"]]
    return {"nodes": nodes, "edges": edges}


def cnn_spec() -> dict[str, Any]:
    return chain({"id": "input", "type": "Input", "shape": [8, 8, 1]},
                 {"id": "conv", "type": "Conv2D", "filters": 8, "kernel_size": 3,
                  "padding": "same", "activation": "relu"},
                 {"id": "pool", "type": "MaxPooling2D", "pool_size": 2},
                 {"id": "flatten", "type": "Flatten"},
                 dense("output", 10, "softmax"))


def definitions() -> dict[str, dict[str, Any]]:
    """Per example: data source, spec, preprocessing, training settings and target.

    ``nudge`` moves nodes down by that many canvas units (branches off the main row).
    """
    acc = "val_accuracy"
    return {
        "xor": dict(data=builtin("xor", n_samples=400, noise=0.0, seed=0),
                    spec=chain({"id": "input", "type": "Input", "shape": [2]},
                               dense("hidden", 8, "tanh"), dense("output", 1, "sigmoid")),
                    training=training("binary_crossentropy", 0.03, 40),
                    target={"metric": acc, "min": 0.95}),
        "circle": dict(data=builtin("circle", n_samples=400, noise=0.0, seed=0),
                       spec=chain({"id": "input", "type": "Input", "shape": [2]},
                                  dense("hidden", 6, "tanh"),
                                  dense("output", 1, "sigmoid")),
                       training=training("binary_crossentropy", 0.03, 40),
                       target={"metric": acc, "min": 0.95}),
        "spiral": dict(data=builtin("spiral", n_samples=400, noise=0.0, seed=0),
                       spec=chain({"id": "input", "type": "Input", "shape": [2]},
                                  dense("hidden1", 8, "tanh"), dense("hidden2", 8, "tanh"),
                                  dense("output", 1, "sigmoid")),
                       training=training("binary_crossentropy", 0.03, 150, batch_size=16),
                       target={"metric": acc, "min": 0.9}),
        "sine": dict(data=builtin("sine", n_samples=300, noise=0.05, seed=0),
                     spec=chain({"id": "input", "type": "Input", "shape": [1]},
                                dense("hidden1", 16, "tanh"), dense("hidden2", 16, "tanh"),
                                dense("output", 1)),
                     training=training("mse", 0.01, 100, batch_size=16),
                     target={"metric": "val_loss", "max": 0.02}),
        "iris": dict(data=builtin("iris"),
                     spec=chain({"id": "input", "type": "Input", "shape": [4]},
                                dense("hidden", 8, "relu"), dense("output", 3, "softmax")),
                     training=training("categorical_crossentropy", 0.01, 100, batch_size=16),
                     target={"metric": acc, "min": 0.9}),
        "wine": dict(data=builtin("wine"),
                     spec=chain({"id": "input", "type": "Input", "shape": [13]},
                                dense("hidden", 16, "relu"), dense("output", 3, "softmax")),
                     training=training("categorical_crossentropy", 0.01, 40, batch_size=16),
                     target={"metric": acc, "min": 0.9}),
        "digits-mlp": dict(data=builtin("digits"),
                           spec=chain({"id": "input", "type": "Input", "shape": [64]},
                                      dense("hidden", 32, "relu"),
                                      dense("output", 10, "softmax")),
                           training=training("categorical_crossentropy", 0.005, 15),
                           target={"metric": acc, "min": 0.93}),
        "digits-cnn": dict(data=builtin("digits_images"), spec=cnn_spec(),
                           training=training("categorical_crossentropy", 0.01, 8),
                           target={"metric": acc, "min": 0.9}),
        "residual-mlp": dict(data=builtin("spiral3", n_samples=450, noise=0.0, seed=0),
                             spec=residual_spec(), nudge={"block1": 90, "block2": 90},
                             training=training("categorical_crossentropy", 0.01, 120),
                             target={"metric": acc, "min": 0.9}),
        "wide-and-deep": dict(data=builtin("breast_cancer"), spec=wide_and_deep_spec(),
                              nudge={"deep1": 90, "deep2": 90},
                              training=training("binary_crossentropy", 0.005, 30),
                              target={"metric": acc, "min": 0.93}),
    }


def build(info: ExampleInfo, definition: dict[str, Any]) -> Project:
    """The untrained project of one example, its scaler fitted on the training split."""
    method = definition.get("preprocessing", "standardize")
    spec = definition["spec"]
    layout = layered_layout(spec)
    for node_id, dy in definition.get("nudge", {}).items():
        layout[node_id][1] += dy  # below the main row, so the skip edge stays visible
    project = Project(name=info.name, description=info.description, spec=spec,
                      layout=layout, data=definition["data"],
                      preprocessing={"method": method, "offset": [], "scale": []}
                      if method != "none" else None,
                      split={"val": 0.2, "test": 0.0, "seed": 0},
                      training=definition["training"],
                      extra={"target": definition["target"], "title": info.title})
    workflow.prepare_data(project)
    return project


def main() -> int:
    definitions_by_name = definitions()
    missing = {info.name for info in EXAMPLES} ^ set(definitions_by_name)
    if missing:
        raise SystemExit(f"catalogue and definitions disagree on: {sorted(missing)}")
    for info in EXAMPLES:
        path = HERE / f"{info.name}.annproj"
        save_project(build(info, definitions_by_name[info.name]), path)
        print(f"wrote {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
