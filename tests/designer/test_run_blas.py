"""The training process trains with one BLAS thread and starts no BLAS helper thread."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from designer.run.loop import limit_blas_for_good, single_threaded_blas

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")
def test_a_run_forked_from_the_limited_fork_server_starts_no_blas_thread():
    """As the fork server does: limit for good, then fork a run. Setting the limit again
    in the child would start OpenBLAS' helper thread (which spins for nothing)."""
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl knows")
    before = _blas_threads()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what the fork server and a run do
        code = 1
        try:
            limit_blas_for_good()
            child = os.fork()
            if child == 0:
                threads = 99
                try:
                    with single_threaded_blas():
                        np.dot(np.ones((64, 64)), np.ones((64, 64)))
                        threads = len(os.listdir("/proc/self/task"))
                finally:
                    os.write(write, bytes([threads]))
                    os._exit(0)
            os.waitpid(child, 0)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    os.waitpid(pid, 0)
    answer = os.read(read, 1)
    os.close(read)
    assert answer == bytes([1])  # the run's own thread only
    assert _blas_threads() == before  # this process' limits are untouched


def test_the_limit_holds_inside_a_run_and_is_undone_after():
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl knows")
    before = _blas_threads()
    with single_threaded_blas():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
