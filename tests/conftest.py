"""Test set-up shared by every test: Qt runs offscreen, no display needed, and no test
may leave a thread or a training process running behind it."""

import multiprocessing
import os
import tempfile
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ANN_DESIGNER_LOG_DIR", tempfile.mkdtemp(prefix="ann-designer-logs-"))
os.environ.setdefault("ANN_DESIGNER_NO_RECOVERY", "1")

#: How long a thread or process that is already ending may take to go.
GRACE_S = 2.0
#: Threads that libraries keep for the whole process by design (tqdm's slow-bar monitor).
LIBRARY_THREADS = {"tqdm_monitor"}


def _threads() -> set[threading.Thread]:
    """Python threads that can end (threads Qt started show up as dummies that never do)."""
    return {t for t in threading.enumerate()
            if t.is_alive() and not isinstance(t, threading._DummyThread)
            and t.name not in LIBRARY_THREADS}


def _leftovers(threads_before: set, children_before: set) -> list[str]:
    threads = list(_threads() - threads_before)
    children = [p for p in multiprocessing.active_children() if p not in children_before]
    return [f"thread {t.name!r}" for t in threads] + [f"process {p.name!r} (pid {p.pid})"
                                                       for p in children]


@pytest.fixture(autouse=True)
def nothing_left_running():
    """Fail a test that leaves a thread or a child process (a training run) running."""
    threads_before, children_before = _threads(), set(multiprocessing.active_children())
    yield
    deadline = time.monotonic() + GRACE_S
    left = _leftovers(threads_before, children_before)
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = _leftovers(threads_before, children_before)
    assert not left, f"the test left running: {', '.join(left)}"
