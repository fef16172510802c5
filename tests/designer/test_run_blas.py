"""The training process trains with one BLAS thread and starts no BLAS helper thread."""

from __future__ import annotations

import subprocess
import sys

import pytest

from designer.run.loop import single_threaded_blas

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas"]


CHILD = """
import os
import numpy as np
from designer.run.loop import limit_blas_for_good, single_threaded_blas

limit_blas_for_good()            # as the fork server does, once
child = os.fork()                # then a run
if child == 0:
    threads = 99
    try:
        with single_threaded_blas():
            np.dot(np.ones((64, 64)), np.ones((64, 64)))
            threads = len(os.listdir("/proc/self/task"))
    finally:
        print(threads, flush=True)
        os._exit(0)
os.waitpid(child, 0)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")
def test_a_run_forked_from_the_limited_fork_server_starts_no_blas_thread():
    """As the fork server does: limit for good, then fork a run. Setting the limit again
    in the child would start OpenBLAS' helper thread (which spins for nothing). It runs
    in a fresh interpreter, as the fork server is one: forking this test process, with
    the threads earlier tests left (Qt's among them), could deadlock the child."""
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl knows")
    before = _blas_threads()
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]  # the run's own thread only
    assert _blas_threads() == before  # this process' limits are untouched


def test_the_limit_holds_inside_a_run_and_is_undone_after():
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl knows")
    before = _blas_threads()
    with single_threaded_blas():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
