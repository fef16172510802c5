"""Where the files that ship with ANN Designer are: examples, icons, desktop files.

They live in the repository's top-level ``resources/`` folder. A built wheel carries a
copy inside the package as ``core/resources`` (setup.py puts it there), found through
``importlib.resources``; a source checkout or an editable install has no copy and reads
``resources/`` next to the packages.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def resources_dir() -> Path:
    """The folder holding ``examples/``, ``icons/`` and the desktop files."""
    packaged = resources.files("core") / "resources"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """A shipped file or folder, e.g. ``resource_path("examples", "spiral.annproj")``."""
    return resources_dir().joinpath(*parts)
