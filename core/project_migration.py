"""Migrations of old project files: bring a version-N ``project.json`` up to today's.

Each step turns a version-N document into a version-N+1 one, so an old file opens with
every later format change applied in order; a file from a newer version is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.project_errors import ProjectError
from core.project_format import FORMAT, VERSION, WEIGHTS_NPZ


def _v0_to_v1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (early builds) named the spec ``network``, stored positions as
    ``{"x": .., "y": ..}`` and had no ``files`` table (weights implied by the member)."""
    document = dict(document)
    if "network" in document:
        document["spec"] = document.pop("network")
    layout = document.get("layout")
    if isinstance(layout, dict):
        document["layout"] = {
            key: [pos.get("x"), pos.get("y")] if isinstance(pos, dict) else pos
            for key, pos in layout.items()}
    document.setdefault("files", {"weights": WEIGHTS_NPZ if document.get("has_weights")
                                  else None, "data": None})
    document["version"] = 1
    return document


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
"""version N -> function turning a version-N document into a version-N+1 document."""


def migrate(document: dict[str, Any], where: str = "project") -> dict[str, Any]:
    """Check the format name and bring an older document up to :data:`VERSION`."""
    found = document.get("format")
    if found != FORMAT:
        shown = "none" if found is None else repr(found)[:60]
        raise ProjectError(f"{where} is not an ANN Designer project (format {shown}, "
                           f"expected '{FORMAT}').")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectError(f"{where}: the format version {version!r} is not a whole number "
                           "0 or more; the file is damaged.")
    if version > VERSION:
        raise ProjectError(f"{where} was made by a newer ANN Designer (version {version}); "
                           f"this version reads up to {VERSION}; please update.")
    while version < VERSION:
        document = MIGRATIONS[version](document)
        version = document["version"]
    return document

