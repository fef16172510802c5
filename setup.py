"""Build hook: ship the top-level ``resources/`` folder inside the package.

The example projects, icons and desktop files live in ``resources/`` at the top of the
repository, where contributors find them; a wheel has to carry them inside a package so
that ``importlib.resources`` finds them after a normal install. ``build_py`` copies the
folder to ``core/resources`` in the build tree (maintainer scripts left out). Editable
installs skip the copy: they read ``resources/`` where it is (see ``core/package_files.py``).
Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "resources"
TARGET = Path("core") / "resources"
LEFT_OUT = shutil.ignore_patterns("*.py", "__pycache__", "*.pyc")


class BuildWithResources(build_py):
    """build_py that also copies resources/ into the built core package."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            shutil.copytree(SOURCE, Path(self.build_lib) / TARGET, ignore=LEFT_OUT,
                            dirs_exist_ok=True)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        root = Path(self.build_lib) / TARGET
        copied = [root / path.relative_to(SOURCE) for path in SOURCE.rglob("*")
                  if path.is_file() and not LEFT_OUT(str(path.parent), [path.name])]
        return outputs + [str(path) for path in copied]


setup(cmdclass={"build_py": BuildWithResources})
