"""A whole small project as text: round trip, and untrusted text refused in one line."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pytest

from core.examples import load_example
from core.network import Network
from core.project import ProjectError
from core.project_text import MAX_TEXT_CHARS, PREFIX, project_from_text, project_to_text


def test_a_trained_spiral_travels_as_one_short_line():
    project = load_example("spiral")
    project.weights = Network.from_spec(project.spec, seed=3).get_weights()
    project.history = {"loss": [0.7, 0.5]}
    text = project_to_text(project)
    assert text.startswith(PREFIX) and "\n" not in text and len(text) < 8000
    back = project_from_text("  " + text[:50] + "\n" + text[50:] + "\n")  # a chat wraps it
    assert back.spec == project.spec and back.data == project.data
    assert back.training == project.training and back.history == {}
    for node, arrays in project.weights.items():
        for name, array in arrays.items():
            np.testing.assert_array_equal(back.weights[node][name], array)


def test_a_project_whose_data_is_a_local_file_is_not_copied():
    project = load_example("spiral")
    project.data = {"kind": "file", "path": "/home/teacher/data.csv", "target": "y"}
    with pytest.raises(ProjectError, match="share the project file"):
        project_to_text(project)


def _zip_text(members: dict[str, bytes]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return PREFIX + base64.urlsafe_b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize("text, words", [
    ("hello", "should start with"),
    (PREFIX + "QUJD", "not a zip"),
    (PREFIX + "A" * (MAX_TEXT_CHARS + 100), "too long"),
    (_zip_text({"project.json": b"[1, 2]"}), "should hold an object"),
    (_zip_text({"project.json": b'{"format": "ann-designer-project", "version": 99}'}),
     "newer"),
    (_zip_text({"other.txt": b"x"}), "no project.json"),
])
def test_hostile_or_broken_text_is_refused_in_one_line(text, words):
    with pytest.raises(ProjectError) as info:
        project_from_text(text)
    message = str(info.value)
    assert words in message and "\n" not in message
