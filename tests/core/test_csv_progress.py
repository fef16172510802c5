"""Progress and cancelling of a CSV read: both readers report bytes and stop when asked."""

import numpy as np
import pytest

from core.data import ReadCancelled, read_csv
from core.data.read_progress import REPORT_BYTES


@pytest.fixture(params=["fast", "careful"])
def reader(request, monkeypatch):
    """Run a test with pandas' fast reader, and again with the careful reader alone."""
    if request.param == "careful":
        import core.data.csv_import as csv_import

        monkeypatch.setattr(csv_import, "fast_read", lambda *_: None)
    return request.param


@pytest.fixture
def big_csv(tmp_path):
    """A numeric CSV of a few MiB with a text column, so progress is reported often."""
    rng = np.random.default_rng(0)
    rows = 60_000
    lines = ["a,b,c,color,label"] + [
        f"{a:.6f},{b:.6f},{c:.6f},{'red' if k % 2 else 'blue'},{k % 3}"
        for a, b, c, k in zip(*rng.standard_normal((3, rows)), range(rows), strict=True)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 2 * REPORT_BYTES
    return path


def test_progress_counts_bytes_up_to_the_file_size(big_csv, reader):
    calls = []
    ds = read_csv(big_csv, "label", progress=lambda done, total: calls.append((done, total)))
    size = big_csv.stat().st_size
    assert len(ds.X) == 60_000
    assert len(calls) >= 2 and all(total == size for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == size


def test_cancelling_stops_the_read(big_csv, reader):
    calls = []

    def cancel_after_first(done, total):
        calls.append(done)
        if len(calls) > 1:
            raise ReadCancelled

    with pytest.raises(ReadCancelled):
        read_csv(big_csv, "label", progress=cancel_after_first)
    assert calls[-1] < big_csv.stat().st_size
