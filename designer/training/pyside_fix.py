"""Work around PySide6 6.12.0's reference counting of None/True/False on Python 3.11.

This PySide6 build returns ``None`` from every void method and ``True`` from
``SignalInstance.emit()`` without taking a new reference, as if they were immortal
(which they are only from Python 3.12 on). On 3.11 each call lowers their reference
counts by one; after a few thousand calls (a training run with live plots makes that
many per second) Python frees ``None`` or ``True`` and aborts with "Fatal Python error:
none_dealloc" / "bool_dealloc", at exit or in the middle of a run.

``protect_singletons()`` measures the leak with a few calls on a private object and,
only if it is there, raises the reference counts of ``None``, ``True`` and ``False`` by
2**40 so that they can never reach zero: the behaviour Python 3.12 gives them anyway.
On Python 3.12+ or a PySide6 without the leak it does nothing.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_OFFSET = 1 << 40
_PROBES = 16
_applied = False


class _Probe(QObject):
    ping = Signal()


def leaks() -> bool:
    """True when void calls or emits made from Python lower the singletons' counts."""
    probe = _Probe()
    before = (sys.getrefcount(None), sys.getrefcount(True))
    for _ in range(_PROBES):
        probe.setObjectName("probe")
        probe.ping.emit()
    after = (sys.getrefcount(None), sys.getrefcount(True))
    return any(b - a >= _PROBES // 2 for a, b in zip(after, before, strict=True))


def protect_singletons() -> bool:
    """Apply the work-around once if this PySide6 leaks; True when it is in place."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or not leaks():
        return _applied
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _OFFSET
    _applied = True
    return True
