"""Ready-made example projects shipped in ``resources/examples`` (inside the wheel too).

The catalogue below is the single list of examples: ``ann-designer examples`` and the
designer's "Open example" menu read it without opening any file, and
``resources/examples/build_examples.py`` writes one ``NAME.annproj`` per entry. A test
checks that the two agree and that every example reaches its stated target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.package_files import resource_path
from core.project import Project, ProjectError, load_project

EXAMPLES_DIR: Path = resource_path("examples")
DEFAULT_EXAMPLE = "spiral"


@dataclass(frozen=True)
class ExampleInfo:
    """What a person needs to pick an example: its name, a title and one line about it."""

    name: str
    title: str
    description: str
    task: str  # "classification" | "regression"


EXAMPLES: tuple[ExampleInfo, ...] = (
    ExampleInfo("xor", "XOR quadrants",
                "Two inputs, opposite quadrants share a class: the classic problem a "
                "single neuron cannot solve.", "classification"),
    ExampleInfo("circle", "Circle",
                "A disc inside a ring: one small hidden layer learns a round boundary.",
                "classification"),
    ExampleInfo("spiral", "Two-arm spiral",
                "Two interleaved spirals: two tanh layers bend the plane until they part.",
                "classification"),
    ExampleInfo("sine", "Sine regression",
                "Fit a noisy sine wave with a small tanh network and mean squared error.",
                "regression"),
    ExampleInfo("iris", "Iris flowers",
                "Three iris species from four measurements: the smallest real data set.",
                "classification"),
    ExampleInfo("wine", "Wine cultivars",
                "Three wine cultivars from 13 chemical measurements, standardized.",
                "classification"),
    ExampleInfo("digits-mlp", "Handwritten digits (MLP)",
                "8x8 digit images as 64 numbers into a dense network with ten outputs.",
                "classification"),
    ExampleInfo("digits-cnn", "Handwritten digits (CNN)",
                "The same digits as 8x8x1 images through Conv2D and max pooling.",
                "classification"),
    ExampleInfo("residual-mlp", "Residual MLP",
                "A skip connection: Add joins a block's input to its output "
                "(three-class spiral).", "classification"),
    ExampleInfo("wide-and-deep", "Wide and deep",
                "Concatenate joins the raw features (wide) with a deep path "
                "(breast cancer).", "classification"),
)


def list_examples() -> list[ExampleInfo]:
    """Every shipped example, in the order a beginner should try them."""
    return list(EXAMPLES)


def example_path(name: str) -> Path:
    """The file of example ``name``; ProjectError naming the choices if there is none."""
    names = [info.name for info in EXAMPLES]
    if name not in names:
        raise ProjectError(f"unknown example {name!r}; choose one of: {', '.join(names)}")
    return EXAMPLES_DIR / f"{name}.annproj"


def load_example(name: str) -> Project:
    """A fresh, untrained copy of example ``name`` (the file is never written to)."""
    path = example_path(name)
    if not path.is_file():
        raise ProjectError(f"example {name!r} is missing its file {path}; the installation "
                           "is incomplete: reinstall ann-designer (in a source checkout, "
                           "run resources/examples/build_examples.py)")
    return load_project(path)
