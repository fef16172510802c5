"""A whole small project as one line of text, to post in a chat and paste back.

The text is ``ANNPROJ1:`` followed by the URL-safe base64 of a project file (the same
zip an ``.annproj`` holds, without curves or optimizer state). Reading it goes through
:func:`core.project.load_project`, so pasted text meets every rule an untrusted file
meets: sizes checked before anything is allocated, no pickle, no unknown or newer
version, a readable one-line error. On top of that the text itself is bounded
(:data:`MAX_TEXT_CHARS`) before it is decoded.

Only projects whose data travels with them can be shared this way: a built-in data set
or a data file embedded in the project. A file on the teacher's disk would not be there
for the students.
"""

from __future__ import annotations

import base64
import binascii
import copy
import tempfile
from pathlib import Path

from core.project import Project, ProjectError, load_project, save_project

PREFIX = "ANNPROJ1:"
#: Longest text accepted (checked before decoding): ~190 KB of project, far above a
#: Playground-sized network with its weights and well below what a chat message holds.
MAX_TEXT_CHARS = 256 * 1024


def project_to_text(project: Project) -> str:
    """The project (design, data source, settings, weights) as one line of text."""
    data = project.data or {}
    if data.get("kind") == "file" and not data.get("embedded"):
        raise ProjectError("The project's data is a file on this computer, so it cannot "
                           "travel as text: share the project file instead.")
    shared = copy.copy(project)
    shared.history, shared.optimizer_state = {}, None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shared.annproj"
        save_project(shared, path)
        raw = path.read_bytes()
    text = PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")
    if len(text) > MAX_TEXT_CHARS:
        raise ProjectError(f"The project is too large to share as text "
                           f"({len(text) // 1024} KB of text, at most "
                           f"{MAX_TEXT_CHARS // 1024} KB): share the project file instead.")
    return text


def looks_like_project_text(text: str) -> bool:
    """True when ``text`` starts like a shared project (cheap, for menus)."""
    return text.lstrip().startswith(PREFIX)


def project_from_text(text: str) -> Project:
    """The project in ``text``; ProjectError with one clear line when it is not one."""
    if not isinstance(text, str):
        raise ProjectError("A shared project is text.")
    if len(text) > MAX_TEXT_CHARS + 64:
        raise ProjectError(f"The text is too long to be a shared project (at most "
                           f"{MAX_TEXT_CHARS // 1024} KB).")
    body = "".join(text.split())  # a chat may wrap the line
    if not body.startswith(PREFIX):
        raise ProjectError(f"This is not a shared project: it should start with {PREFIX}")
    try:
        raw = base64.urlsafe_b64decode(body[len(PREFIX):].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ProjectError("The shared project is damaged (not valid base64): copy the "
                           "whole text again.") from exc
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "The pasted text"
        path.write_bytes(raw)
        return load_project(path)
