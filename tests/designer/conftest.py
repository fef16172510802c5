"""Fixtures for the designer's model, editor and session: one small open project."""

from __future__ import annotations

import pytest
from project_state import small_project

from designer.editor import Editor
from designer.model.document import Document
from designer.session import Session


@pytest.fixture
def session(qapp) -> Session:
    """Input(2) -> Dense(4, tanh) -> Dense(1, sigmoid), open and unmodified."""
    return Session(small_project())


@pytest.fixture
def doc(session: Session) -> Document:
    return session.document


@pytest.fixture
def editor(session: Session) -> Editor:
    return session.editor
