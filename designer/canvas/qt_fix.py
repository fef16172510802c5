"""Work around a PySide6 6.12 reference-count bug that kills Python 3.11 processes.

On CPython 3.11, PySide6 6.12 hands out ``None``, ``True`` and ``False`` without adding
a reference: every call of a method that returns ``void`` (``setBold``, ``cubicTo``,
``setPos``, ...) takes one reference from ``None``, and every ``bool`` delivered to a
slot (``Signal(bool).emit(True)``, ``toggled``) takes one from ``True``/``False``. They
start with a few thousand references, so a real session aborts within seconds with
"Fatal Python error: none_dealloc" (or "bool_dealloc"). Python 3.12 made these objects
immortal (PEP 683), which hides the bug there. On 3.11 we do what 3.12 does: give them
so many references that they can never reach zero.

Imported by ``designer.document`` and ``designer.canvas`` before any Qt work; it belongs
in ``designer/__init__.py`` (see the canvas helper's report).
"""

from __future__ import annotations

import ctypes
import platform
import sys

HEADROOM = 1 << 48  # 2.8e14 references: centuries of Qt calls
SINGLETONS = (None, True, False)


def _void_call_leaks_none() -> bool:
    """True when a void PySide6 call takes a reference from None (the bug is present)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(50):
        point.setX(1.0)
    return sys.getrefcount(None) < before - 25


def make_singletons_immortal() -> bool:
    """Protect None/True/False on CPython < 3.12 when the leak is present; True if done."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not _void_call_leaks_none():
        return False
    for obj in SINGLETONS:
        refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: first PyObject field
        if refcount.value < HEADROOM:
            refcount.value += HEADROOM
    return True


APPLIED = make_singletons_immortal()
