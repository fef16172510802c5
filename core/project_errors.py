"""The one error type of project files: a file cannot be read or written.

It lives apart from ``core.project`` so that the modules the project file is made of
(the atomic writer, the migrations, the checks) and the exporters can raise it without
importing the reader and writer; ``from core.project import ProjectError`` still works.
"""

from __future__ import annotations


class ProjectError(Exception):
    """A project file cannot be read or written; the message is one line for people."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
