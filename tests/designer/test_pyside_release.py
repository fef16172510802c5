"""The installed PySide6 is not a release known to break the app.

pyproject.toml excludes such releases one by one (``!=``), so that every later fix
installs; each exclusion has a test here that fails on the broken release.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, QPointF, Signal


@pytest.mark.skipif(sys.version_info >= (3, 12), reason=(
    "None, True and False are immortal from Python 3.12 (PEP 683): a lost reference "
    "cannot free them, and PySide6's stable-ABI calls move their counts either way"))
def test_installed_pyside_does_not_leak_none_or_bool_references(qapp):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per void call and to
    True/False per bool signal, killing the app within seconds (pyproject: != 6.12.0)."""

    class Emitter(QObject):
        flag = Signal(bool)

    point, emitter = QPointF(), Emitter()
    emitter.flag.connect(lambda _value: None)
    before = [sys.getrefcount(obj) for obj in (None, True, False)]
    for _ in range(2000):
        point.setX(1.0)
        emitter.flag.emit(True)
        emitter.flag.emit(False)
    after = [sys.getrefcount(obj) for obj in (None, True, False)]
    assert all(a >= b - 100 for a, b in zip(after, before, strict=True)), (before, after)
