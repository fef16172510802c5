"""Time read_csv against pandas.read_csv on a 1,000,000 x 20 numeric CSV (best of 3).

Usage: python benchmarks/csv_load.py [--rows N] [--cols C] [--repeat R]
Prints JSON: {"rows", "cols", "ours_s", "pandas_s", "ratio"} (ratio = ours / pandas).
The target is ratio <= 1.5: read_csv uses pandas' C parser and then checks the result.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import read_csv  # noqa: E402


def make_file(path: Path, rows: int, cols: int) -> None:
    """Features like real measurements (6 significant digits) and a 3-class label."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal((rows, cols)) * 10
    table[:, -1] = rng.integers(0, 3, rows)
    header = ",".join([f"f{i}" for i in range(cols - 1)] + ["label"])
    np.savetxt(path, table, fmt="%.6g", delimiter=",", header=header, comments="")


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "numeric.csv"
        make_file(path, args.rows, args.cols)
        ds = read_csv(path, target="label")
        assert ds.X.shape == (args.rows, args.cols - 1) and ds.n_classes == 3
        ours = best_of(args.repeat, lambda: read_csv(path, target="label"))
        theirs = best_of(args.repeat, lambda: pd.read_csv(path))
    print(json.dumps({"rows": args.rows, "cols": args.cols, "ours_s": round(ours, 3),
                      "pandas_s": round(theirs, 3), "ratio": round(ours / theirs, 3)}))


if __name__ == "__main__":
    main()
