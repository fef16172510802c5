"""The pytorch-train export: train.py alone and under torchrun (2 processes, gloo),
ANN Designer's rules, and the weights read back with import-weights.

Skipped cleanly where PyTorch is not installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from core.cli import main as cli_main
from core.examples import load_example
from core.export import ExportError, export
from core.export.pytorch_train import import_weights, read_weights_file
from core.project import build_network, load_project, save_project
from core.workflow import make_trainer, prepare_data

torch = pytest.importorskip("torch")


def _run(folder, *args, procs: int | None = None):
    launcher = [] if procs is None else ["-m", "torch.distributed.run", "--standalone",
                                         "--nproc_per_node", str(procs)]
    cmd = [sys.executable, *launcher, str(folder / "train.py"), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _load(path):
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def _script(folder):
    spec = importlib.util.spec_from_file_location(f"train_{abs(hash(folder))}",
                                                  folder / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def exported(tmp_path):
    project = load_example("iris")
    project.weights, project.optimizer_state = None, None
    path = tmp_path / "iris.annproj"
    save_project(project, path)
    assert cli_main(["export", str(path), "--format", "pytorch-train", "-o",
                     str(tmp_path / "out")]) == 0
    return path, tmp_path / "out"


def test_two_processes_train_as_one(exported):
    path, folder = exported
    assert sorted(p.name for p in folder.iterdir()) == ["data.npz", "initial_weights.npz",
                                                         "train.py"]
    _run(folder, "--epochs", "2", "--no-shuffle", "--output", "one.npz")
    out = _run(folder, "--epochs", "2", "--no-shuffle", "--output", "two.npz", procs=2)
    assert "epoch 2/2" in out
    one, two = _load(folder / "one.npz"), _load(folder / "two.npz")
    assert one.keys() == two.keys() and one
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=0, atol=1e-5)
    # read back, the project predicts what the script's model predicts
    target = folder / "trained.annproj"
    assert cli_main(["import-weights", str(path), str(folder / "two.npz"), "-o",
                     str(target)]) == 0
    net = build_network(load_project(target))
    X = _load(folder / "data.npz")["X_train"]
    module = _script(folder)
    model = module.Model({k: v for k, v in two.items()}).eval()
    with torch.no_grad():
        want = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net.predict(X), want, rtol=1e-5, atol=1e-6)


def test_the_script_trains_as_the_engine_in_float64(exported):
    """Same data, order, optimizer and loss: train.py's weights equal the Trainer's."""
    path, folder = exported
    _run(folder, "--epochs", "1", "--no-shuffle", "--float64", "--output", "w.npz")
    project = load_project(path)
    data = prepare_data(project, path.parent)
    net = build_network(project, dtype="float64")
    net.set_weights(read_weights_file(folder / "initial_weights.npz"))   # float32 values
    trainer = make_trainer(project, net, shuffle=False)
    X, Y = data.arrays("train")
    trainer.fit(X.astype(np.float64), Y, epochs=1)
    got = read_weights_file(folder / "w.npz")
    for node, arrays in net.get_weights().items():
        for name, value in arrays.items():
            np.testing.assert_allclose(got[node][name], value, rtol=0, atol=1e-9)


def test_import_weights_checks_the_file(exported, tmp_path):
    path, folder = exported
    project = load_project(path)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"h1/kernel": np.zeros((2, 2))})
    with pytest.raises(ExportError, match="lacks weights the network needs"):
        import_weights(project, bad)
    weights = _load(folder / "initial_weights.npz")
    key = next(k for k in weights if k.endswith("/kernel"))
    np.savez(bad, **{**weights, key: weights[key][:1]})
    with pytest.raises(ExportError, match="does not fit the network"):
        import_weights(project, bad)
    np.savez(bad, **{**weights, key: np.full_like(weights[key], np.nan)})
    with pytest.raises(ExportError, match="not finite"):
        import_weights(project, bad)
    np.savez(bad, **{**weights, key: np.array([object()], dtype=object)})
    with pytest.raises(ExportError):
        import_weights(project, bad)
    bad.write_bytes(b"not a zip")
    assert cli_main(["import-weights", str(path), str(bad)]) != 0


def test_pytorch_train_needs_a_project():
    net = build_network(load_example("xor"))
    with pytest.raises(ExportError, match="exports a project"):
        export(net, "pytorch-train", "out")
