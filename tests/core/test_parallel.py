"""core.parallel: split products equal NumPy's, errors surface, threads never deadlock."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core import parallel


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _check(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    parallel.matmul(a, b, out=out)
    # float32 sums of up to 12,544 terms: blocking changes the last bits
    np.testing.assert_allclose(out, np.matmul(a.astype(np.float64), b), rtol=1e-4, atol=2e-3)
    return out


@pytest.mark.parametrize("shape", [(128, 784, 256), (12545, 145, 32), (145, 12544, 32),
                                   (33, 300, 300), (7, 10, 3)])
def test_products_equal_numpy_for_every_shape_and_layout(rng, shape) -> None:
    m, k, n = shape
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    _check(a, b)
    _check(np.asfortranarray(a), b)
    _check(rng.standard_normal((k, m)).astype(np.float32).T, b)  # a transposed view


def test_a_split_product_really_uses_the_helper_thread(rng, monkeypatch) -> None:
    seen: set[str] = set()
    real = np.matmul

    def spy(a, b, out=None):
        seen.add(threading.current_thread().name)
        return real(a, b, out=out)

    monkeypatch.setattr(parallel.np, "matmul", spy)
    monkeypatch.setattr(parallel, "ENABLED", True)
    a = rng.standard_normal((256, 256)).astype(np.float32)
    out = np.empty((256, 256), np.float32)
    parallel.matmul(a, a, out=out)
    assert "core-matmul" in seen and threading.current_thread().name in seen


def test_one_thread_keeps_products_in_the_calling_thread(rng, monkeypatch) -> None:
    seen: set[str] = set()
    real = np.matmul
    monkeypatch.setattr(parallel.np, "matmul",
                        lambda a, b, out=None: seen.add(threading.current_thread().name)
                        or real(a, b, out=out))
    a = rng.standard_normal((256, 256)).astype(np.float32)
    with parallel.one_thread():
        parallel.matmul(a, a, out=np.empty((256, 256), np.float32))
    assert seen == {threading.current_thread().name}


def test_an_error_in_either_half_reaches_the_caller_and_the_helper_survives(rng) -> None:
    a = rng.standard_normal((256, 256)).astype(np.float32)
    with pytest.raises(ValueError):
        parallel.matmul(a, a, out=np.empty((256, 255), np.float32))  # wrong out shape
    _check(a, a)


def test_concurrent_callers_get_correct_results(rng) -> None:
    mats = [rng.standard_normal((200, 300)).astype(np.float32) for _ in range(4)]
    b = rng.standard_normal((300, 100)).astype(np.float32)
    errors: list[BaseException] = []

    def work(a: np.ndarray) -> None:
        try:
            for _ in range(30):
                _check(a, b)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in mats]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
