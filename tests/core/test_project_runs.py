"""Kept training runs in the project file: optional, round-tripped, checked on load."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from core.project import Project, ProjectError, load_project, save_project
from core.runs import MAX_SNAPSHOTS, differences, fit_budget, snapshot_bytes, thin


def _run(lr: float, epochs: int = 3) -> dict:
    snaps = [{"epoch": e, "weights": {"h": {"kernel": np.full((2, 3), e, np.float32),
                                            "bias": np.zeros(3, np.float32)}}}
             for e in range(epochs)]
    return {"name": f"run lr {lr}", "settings": {"optimizer": {"type": "adam", "lr": lr},
                                                 "epochs": 10},
            "start_epoch": 0, "history": {"loss": [1.0, 0.5, 0.25]}, "snapshots": snaps}


def test_runs_round_trip(tmp_path):
    path = tmp_path / "p.annproj"
    save_project(Project(runs=[_run(0.3), _run(0.03)]), path)
    runs = load_project(path).runs
    assert [r["settings"]["optimizer"]["lr"] for r in runs] == [0.3, 0.03]
    assert runs[1]["history"]["loss"] == [1.0, 0.5, 0.25]
    np.testing.assert_array_equal(runs[0]["snapshots"][2]["weights"]["h"]["kernel"], 2.0)
    assert differences(runs) == ["lr 0.3", "lr 0.03"]


def test_a_file_without_runs_loads_and_writes_no_member(tmp_path):
    path = tmp_path / "p.annproj"
    save_project(Project(), path)
    with zipfile.ZipFile(path) as z:
        assert "runs.npz" not in z.namelist()
        assert "runs" not in json.loads(z.read("project.json"))
    assert load_project(path).runs == []


def _rewrite(path, change):
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    doc = json.loads(members["project.json"])
    change(doc)
    members["project.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


@pytest.mark.parametrize("change", [
    lambda d: d["runs"][0]["snapshots"][0]["arrays"]["h"].update(kernel="s999"),
    lambda d: d["runs"][0].update(snapshots=d["runs"][0]["snapshots"] * (MAX_SNAPSHOTS + 1)),
    lambda d: d["runs"][0]["history"].update(loss="lots"),
    lambda d: d.update(runs={"not": "a list"}),
])
def test_damaged_runs_are_one_clear_error(tmp_path, change):
    path = tmp_path / "p.annproj"
    save_project(Project(runs=[_run(0.1)]), path)
    _rewrite(path, change)
    with pytest.raises(ProjectError, match="run"):
        load_project(path)


def test_budget_thins_then_drops_the_oldest_snapshots():
    snaps = _run(0.1, epochs=100)["snapshots"]
    kept = thin(snaps)
    assert len(kept) <= MAX_SNAPSHOTS and kept[0]["epoch"] == 0 and kept[-1]["epoch"] == 99
    runs = [_run(0.1, 5), _run(0.2, 5)]
    one = snapshot_bytes(runs[:1])
    fitted = fit_budget(runs, budget=one)
    assert fitted[0]["snapshots"] == [] and len(fitted[1]["snapshots"]) == 5
    assert fitted[0]["history"]  # the curves stay
