"""Work around a PySide6 6.12 reference-count bug that kills Python 3.11 processes.

On CPython 3.11, every call of a PySide6 6.12 method that returns ``void`` (``setBold``,
``cubicTo``, ``setPos``, ...) takes one reference from ``None`` without having added
one. ``None`` starts with a few thousand references, so any real Qt session aborts after
a few thousand such calls with "Fatal Python error: none_dealloc". Python 3.12 made
``None`` immortal (PEP 683), which hides the bug there. On 3.11 we do what 3.12 does:
give ``None`` so many references that it can never reach zero.

Imported by ``designer.document`` and ``designer.canvas`` before any Qt work; belongs in
``designer/__init__.py`` (see the report of the canvas helper).
"""

from __future__ import annotations

import ctypes
import platform
import sys

HEADROOM = 1 << 48  # 2.8e14 leaked references: centuries of Qt calls


def _void_call_leaks_none() -> bool:
    """True when a void PySide6 call takes a reference from None (the bug is present)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(50):
        point.setX(1.0)
    return sys.getrefcount(None) < before - 25


def make_none_immortal() -> bool:
    """Protect None against the leak on CPython < 3.12; True when the guard was applied."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not _void_call_leaks_none():
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt, first field of PyObject
    if refcount.value < HEADROOM:
        refcount.value += HEADROOM
    return True


APPLIED = make_none_immortal()
