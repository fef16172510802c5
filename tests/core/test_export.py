"""Exports reproduce ANN Designer's predictions: ONNX (onnxruntime), NumPy, PyTorch."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

from core import workflow
from core.activations import ACTIVATIONS
from core.cli import main as cli_main
from core.data import FEATURE_TRANSFORMS
from core.examples import list_examples, load_example
from core.export import EXPORT_FORMATS, ExportError, export, export_project, prepare
from core.export.model import TRANSFORM_OPS
from core.network import Network
from core.project import Project, build_network, save_project

ort = pytest.importorskip("onnxruntime")
TOL = {"rtol": 1e-5, "atol": 1e-5}

MLP = {"nodes": [{"id": "in", "type": "Input", "shape": [3]},
                 {"id": "h1", "type": "Dense", "units": 16, "activation": "relu"},
                 {"id": "drop", "type": "Dropout", "rate": 0.3},
                 {"id": "h2", "type": "Dense", "units": 8, "activation": "tanh",
                  "use_bias": False},
                 {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
       "edges": [["in", "h1"], ["h1", "drop"], ["drop", "h2"], ["h2", "out"]]}

CNN = {"nodes": [{"id": "img", "type": "Input", "shape": [9, 9, 2]},
                 {"id": "c1", "type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2,
                  "padding": "same", "activation": "relu"},
                 {"id": "bn", "type": "BatchNormalization"},
                 {"id": "mp", "type": "MaxPooling2D", "pool_size": 2, "strides": 1,
                  "padding": "same"},
                 {"id": "c2", "type": "Conv2D", "filters": 5, "kernel_size": [2, 3],
                  "activation": "elu"},
                 {"id": "ap", "type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
                 {"id": "flat", "type": "Flatten"},
                 {"id": "bn2", "type": "BatchNormalization", "epsilon": 0.01},
                 {"id": "out", "type": "Dense", "units": 4, "activation": "softmax"}],
       "edges": [["img", "c1"], ["c1", "bn"], ["bn", "mp"], ["mp", "c2"], ["c2", "ap"],
                 ["ap", "flat"], ["flat", "bn2"], ["bn2", "out"]]}

DAG = {"nodes": [{"id": "x", "type": "Input", "shape": [4]},
                 {"id": "a", "type": "Dense", "units": 6, "activation": "gelu"},
                 {"id": "b", "type": "Dense", "units": 6, "activation": "leaky_relu"},
                 {"id": "c", "type": "Dense", "units": 6, "activation": "elu"},
                 {"id": "sum", "type": "Add"},
                 {"id": "act", "type": "Activation", "activation": "softplus"},
                 {"id": "cat", "type": "Concatenate"},
                 {"id": "r", "type": "Reshape", "target_shape": [2, -1]},
                 {"id": "flat", "type": "Flatten"},
                 {"id": "out", "type": "Dense", "units": 1, "activation": "sigmoid"}],
       "edges": [["x", "a"], ["x", "b"], ["x", "c"], ["a", "sum"], ["b", "sum"],
                 ["c", "sum"], ["sum", "act"],
                 ["act", "cat"], ["x", "cat"], ["a", "cat"], ["cat", "r"], ["r", "flat"],
                 ["flat", "out"]]}

# Keras' options of activations and BatchNormalization (exact GELU by default).
OPTIONS = {"nodes": [{"id": "in", "type": "Input", "shape": [5]},
                     {"id": "d", "type": "Dense", "units": 8, "activation": "gelu"},
                     {"id": "tanh_gelu", "type": "Activation", "activation": "gelu",
                      "approximate": True},
                     {"id": "leaky", "type": "Activation", "activation": "leaky_relu",
                      "negative_slope": 0.05},
                     {"id": "no_center", "type": "BatchNormalization", "center": False},
                     {"id": "no_scale", "type": "BatchNormalization", "scale": False},
                     {"id": "bare", "type": "BatchNormalization", "center": False,
                      "scale": False},
                     {"id": "out", "type": "Dense", "units": 3, "activation": "leaky_relu"}],
           "edges": [["in", "d"], ["d", "tanh_gelu"], ["tanh_gelu", "leaky"],
                     ["leaky", "no_center"], ["no_center", "no_scale"], ["no_scale", "bare"],
                     ["bare", "out"]]}

# A DAG of images: Add and Concatenate on channels-last feature maps.
IMAGE_DAG = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 3]},
                       {"id": "c1", "type": "Conv2D", "filters": 3, "kernel_size": 3,
                        "padding": "same", "activation": "tanh"},
                       {"id": "skip", "type": "Add"},
                       {"id": "c2", "type": "Conv2D", "filters": 2, "kernel_size": 1},
                       {"id": "cat", "type": "Concatenate", "axis": 3},
                       {"id": "c3", "type": "Conv2D", "filters": 5, "kernel_size": 1},
                       {"id": "rows", "type": "Concatenate", "axis": 1},
                       {"id": "mp", "type": "MaxPooling2D", "pool_size": 3},
                       {"id": "flat", "type": "Flatten"},
                       {"id": "out", "type": "Dense", "units": 2}],
             "edges": [["in", "c1"], ["c1", "skip"], ["in", "skip"], ["skip", "c2"],
                       ["c2", "cat"], ["skip", "cat"], ["skip", "c3"], ["cat", "rows"],
                       ["c3", "rows"], ["rows", "mp"], ["mp", "flat"], ["flat", "out"]]}


def network(spec: dict, seed: int = 0) -> Network:
    """A network with random weights and non-trivial BatchNormalization statistics."""
    net = Network.from_spec(spec, seed=seed)
    rng = np.random.default_rng(seed)
    weights = net.get_weights()
    for arrays in weights.values():
        for name, value in arrays.items():
            if name == "moving_variance":
                value[...] = rng.uniform(0.3, 3.0, value.shape)
            elif name in ("moving_mean", "beta", "bias"):
                value[...] = rng.normal(0, 0.5, value.shape)
            elif name == "gamma":
                value[...] = rng.uniform(0.5, 1.5, value.shape)
    net.set_weights(weights)
    return net


def scaler_for(shape: tuple[int, ...], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed + 100)
    features = shape[-1]
    return {"method": "standardize", "offset": rng.normal(1, 2, features).tolist(),
            "scale": rng.uniform(0.5, 4, features).tolist()}


def raw_inputs(net: Network, scaler: dict | None, n: int = 7, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, *net.input_shape))
    if scaler:
        X = X * np.asarray(scaler["scale"]) + np.asarray(scaler["offset"])
    return X.astype(np.float32)


def expected(net: Network, X: np.ndarray, scaler: dict | None) -> np.ndarray:
    if scaler:
        X = (X - np.asarray(scaler["offset"])) / np.asarray(scaler["scale"])
    return net.predict(X.astype(np.float32))


def run_onnx(path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": X})[0]


def import_file(path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- ONNX --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [MLP, CNN, DAG, IMAGE_DAG, OPTIONS],
                         ids=["mlp", "cnn", "dag", "image-dag", "options"])
def test_onnx_matches_predictions_with_preprocessing(tmp_path, spec):
    net = network(spec)
    scaler = scaler_for(net.input_shape)
    X = raw_inputs(net, scaler)
    (path,) = export(net, "onnx", tmp_path / "m.onnx", preprocessing=scaler,
                     class_names=[f"c{i}" for i in range(net.output_shape[-1])])
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
    np.testing.assert_allclose(run_onnx(path, X), expected(net, X, scaler), **TOL)
    np.testing.assert_allclose(run_onnx(path, X[:1]), expected(net, X[:1], scaler), **TOL)


def test_onnx_input_output_and_metadata(tmp_path):
    net = network(MLP)
    scaler = scaler_for(net.input_shape)
    (path,) = export(net, "onnx", tmp_path / "m.onnx", preprocessing=scaler,
                     class_names=["a", "b", "c"])
    model = onnx.load(str(path))
    (inp,) = model.graph.input
    dims = inp.type.tensor_type.shape.dim
    assert inp.name == "input" and dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [3]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["class_names"]) == ["a", "b", "c"]
    assert meta["preprocessing"] == "standardize"
    ops = [n.op_type for n in model.graph.node]
    assert ops[:2] == ["Sub", "Div"]           # preprocessing on the raw input
    assert "Dropout" not in ops                 # identity at inference


def test_onnx_keeps_conv_chains_in_nchw(tmp_path):
    """Transposes only where the layout really changes: into the convs, before Flatten."""
    (path,) = export(network(CNN), "onnx", tmp_path / "m.onnx")
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert ops.count("Transpose") == 2
    assert ops.count("BatchNormalization") == 2


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_matches(tmp_path, activation):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [5]},
                      {"id": "d", "type": "Dense", "units": 6, "activation": activation},
                      {"id": "a", "type": "Activation", "activation": activation}],
            "edges": [["in", "d"], ["d", "a"]]}
    net = network(spec, seed=2)
    X = (raw_inputs(net, None, n=50) * 4).astype(np.float32)
    want = net.predict(X)
    (path,) = export(net, "onnx", tmp_path / "m.onnx")
    np.testing.assert_allclose(run_onnx(path, X), want, **TOL)
    script, _ = export(net, "numpy", tmp_path / "np")
    got = import_file(script, f"predict_{activation}").predict(X)
    np.testing.assert_allclose(got, want, **TOL)


def test_softmax_on_feature_maps_uses_the_channel_axis(tmp_path):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [4, 4, 2]},
                      {"id": "c", "type": "Conv2D", "filters": 3, "kernel_size": 2,
                       "activation": "softmax"},
                      {"id": "p", "type": "MaxPooling2D"},
                      {"id": "s", "type": "Activation", "activation": "softmax"}],
            "edges": [["in", "c"], ["c", "p"], ["p", "s"]]}
    net = network(spec)
    X = raw_inputs(net, None)
    (path,) = export(net, "onnx", tmp_path / "m.onnx")
    np.testing.assert_allclose(run_onnx(path, X), net.predict(X), **TOL)


@pytest.mark.parametrize("name", [e.name for e in list_examples()])
def test_every_example_exports_to_every_format(tmp_path, name):
    project = load_example(name)
    net = build_network(project)
    X = raw_inputs(net, project.preprocessing, n=16)
    want = expected(net, X, project.preprocessing)
    (path,) = export_project(project, tmp_path / f"{name}.onnx", "onnx")
    np.testing.assert_allclose(run_onnx(path, X), want, **TOL)
    script, _ = export_project(project, tmp_path / f"{name}.py", "numpy")
    np.testing.assert_allclose(import_file(script, f"example_{name}").predict(X), want, **TOL)
    torch = pytest.importorskip("torch")
    script, _ = export_project(project, tmp_path / f"{name}_torch.py", "pytorch")
    with torch.no_grad():
        got = import_file(script, f"example_torch_{name}").load_model()(torch.from_numpy(X))
    np.testing.assert_allclose(got.numpy(), want, **TOL)


# ---- NumPy -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [MLP, CNN, DAG, IMAGE_DAG, OPTIONS],
                         ids=["mlp", "cnn", "dag", "image-dag", "options"])
def test_predict_script_matches_when_imported(tmp_path, spec):
    net = network(spec)
    scaler = scaler_for(net.input_shape)
    X = raw_inputs(net, scaler)
    script, weights = export(net, "numpy", tmp_path / "out", preprocessing=scaler)
    assert (script.name, weights.name) == ("predict.py", "weights.npz")
    module = import_file(script, "predict_" + str(abs(hash(str(spec)))))
    np.testing.assert_allclose(module.predict(X), expected(net, X, scaler), **TOL)
    flat = X.reshape(len(X), -1)   # flattened rows work too (as from a CSV)
    np.testing.assert_allclose(module.predict(flat), expected(net, X, scaler), **TOL)


def test_predict_script_runs_on_a_csv_in_a_subprocess(tmp_path):
    net = network(MLP)
    scaler = scaler_for(net.input_shape)
    project = Project(name="three", spec=MLP, weights=net.get_weights(), preprocessing=scaler,
                      class_names=["cat", "dog", "bird"],
                      data={"kind": "file", "path": "x.csv", "target": "y",
                            "features": ["f1", "f2", "f3"], "categorical": []})
    script, _ = export(project, "numpy", tmp_path / "predict.py")
    X = raw_inputs(net, scaler, n=12).astype(np.float64)
    csv = tmp_path / "input.csv"
    # extra target column and shuffled order: features are picked by header name
    lines = ["f3,y,f1,f2"] + [f"{r[2]!r},{i % 3},{r[0]!r},{r[1]!r}"
                              for i, r in enumerate(X.tolist())]
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    result = subprocess.run([sys.executable, str(script), str(csv), "-o", str(out)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stderr
    rows = out.read_text().splitlines()
    assert rows[0] == "prediction,p(cat),p(dog),p(bird)"   # as `ann-designer predict`
    probs = np.array([[float(v) for v in row.split(",")[1:]] for row in rows[1:]])
    want = expected(net, X.astype(np.float32), scaler)
    np.testing.assert_allclose(probs, want, **TOL)
    labels = [row.split(",")[0] for row in rows[1:]]
    assert labels == [["cat", "dog", "bird"][i] for i in want.argmax(axis=1)]


def test_predict_script_tables_for_binary_and_regression(tmp_path):
    net = network(DAG)   # one sigmoid output
    X = raw_inputs(net, None)
    p = net.predict(X)[:, 0]
    binary = Project(spec=DAG, weights=net.get_weights(), class_names=["no", "yes"])
    script, _ = export(binary, "numpy", tmp_path / "binary.py")
    header, rows = import_file(script, "binary_predict").prediction_table(net.predict(X))
    assert header == ["prediction", "p(no)", "p(yes)"]
    assert [r[0] for r in rows] == ["yes" if v > 0.5 else "no" for v in p]
    np.testing.assert_allclose([float(r[1]) for r in rows], 1 - p, **TOL)
    regression = Project(spec=DAG, weights=net.get_weights(),
                         data={"kind": "file", "path": "d.csv", "target": "price"})
    script, _ = export(regression, "numpy", tmp_path / "regression.py")
    header, rows = import_file(script, "regression_predict").prediction_table(
        net.predict(X))
    assert header == ["price"] and len(rows) == len(X)


def test_predict_script_needs_only_numpy_and_reports_bad_cells(tmp_path):
    net = network(DAG)
    script, _ = export(net, "numpy", tmp_path / "m")
    source = script.read_text()
    imports = {line.split()[1] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"argparse", "csv", "io", "json", "math", "sys", "pathlib", "numpy"}
    csv = tmp_path / "bad.csv"
    csv.write_text("1,2,3,4\n5,6,x,8\n")
    result = subprocess.run([sys.executable, str(script), str(csv)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {csv}, line 2, column 3: not a number"


def test_npz_holds_weights_preprocessing_and_description(tmp_path):
    net = network(CNN)
    scaler = scaler_for(net.input_shape)
    (path,) = export(net, "npz", tmp_path / "w.npz", preprocessing=scaler)
    with np.load(path, allow_pickle=False) as archive:
        for node_id, arrays in net.get_weights().items():
            for name, value in arrays.items():
                assert np.array_equal(archive[f"{node_id}/{name}"], value)
        assert archive["c1/kernel"].shape == (3, 3, 2, 4)
        np.testing.assert_array_equal(archive["__preprocessing__/offset"], scaler["offset"])
        model = json.loads(str(archive["__model__"]))
    assert model["format"] == "ann-designer-weights"
    assert [n["id"] for n in model["nodes"]] == net.order


# ---- PyTorch -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [MLP, CNN, DAG, IMAGE_DAG, OPTIONS],
                         ids=["mlp", "cnn", "dag", "image-dag", "options"])
def test_pytorch_module_matches(tmp_path, spec):
    torch = pytest.importorskip("torch")
    net = network(spec)
    scaler = scaler_for(net.input_shape)
    X = raw_inputs(net, scaler)
    script, weights = export(net, "pytorch", tmp_path / "model.py", preprocessing=scaler)
    assert weights == tmp_path / "model.npz"
    module = import_file(script, "torch_model_" + str(abs(hash(str(spec)))))
    model = module.load_model()
    with torch.no_grad():
        got = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, expected(net, X, scaler), **TOL)
    assert not model.training


# ---- errors ------------------------------------------------------------------------------

def test_clear_errors(tmp_path):
    net = network(MLP)
    with pytest.raises(ExportError, match="Unknown export format 'keras'"):
        export(net, "keras", tmp_path / "m")
    with pytest.raises(ExportError, match="not been fitted"):
        export(net, "onnx", tmp_path / "m.onnx",
               preprocessing={"method": "standardize", "offset": [], "scale": []})
    with pytest.raises(ExportError, match="has 2 offsets .* 3 features"):
        export(net, "onnx", tmp_path / "m.onnx",
               preprocessing={"method": "minmax", "offset": [0, 0], "scale": [1, 1]})
    with pytest.raises(ExportError, match="folder .* does not exist"):
        export(net, "onnx", tmp_path / "nowhere" / "m.onnx")
    with pytest.raises(ExportError, match="give a Project or a Network"):
        export({"nodes": []}, "onnx", tmp_path / "m.onnx")
    broken = Project(name="wip", spec={"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                                                 {"id": "d", "type": "Dense", "units": 2}],
                                       "edges": []})
    with pytest.raises(ExportError, match="wip"):
        export(broken, "onnx", tmp_path / "m.onnx")
    assert set(EXPORT_FORMATS) == {"onnx", "npz", "numpy", "pytorch", "pytorch-train"}


def test_saved_project_exports_the_same_model(tmp_path):
    net = network(CNN)
    scaler = scaler_for(net.input_shape)
    project = Project(name="cnn", spec=CNN, weights=net.get_weights(), preprocessing=scaler)
    save_project(project, tmp_path / "p.annproj")
    X = raw_inputs(net, scaler)
    (path,) = export_project(project, tmp_path / "p.onnx", "onnx")
    np.testing.assert_allclose(run_onnx(path, X), expected(net, X, scaler), **TOL)


def test_batchnorm_on_sequences_in_every_format(tmp_path):
    """BatchNormalization over the last axis of (N, L, C) data (no ONNX op for that)."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [12]},
                      {"id": "r", "type": "Reshape", "target_shape": [4, 3]},
                      {"id": "bn", "type": "BatchNormalization"},
                      {"id": "f", "type": "Flatten"},
                      {"id": "out", "type": "Dense", "units": 2}],
            "edges": [["in", "r"], ["r", "bn"], ["bn", "f"], ["f", "out"]]}
    net = network(spec)
    X = raw_inputs(net, None)
    want = net.predict(X)
    (path,) = export(net, "onnx", tmp_path / "m.onnx")
    np.testing.assert_allclose(run_onnx(path, X), want, **TOL)
    script, _ = export(net, "numpy", tmp_path / "predict.py")
    np.testing.assert_allclose(import_file(script, "seq_predict").predict(X), want, **TOL)
    torch = pytest.importorskip("torch")
    script, _ = export(net, "pytorch", tmp_path / "seq_model.py")
    with torch.no_grad():
        got = import_file(script, "seq_model").load_model()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, want, **TOL)


# ---- Playground feature transforms (computed from raw 2-D points, before the scaler) -----

CIRCLE_FEATURES = ["x1^2", "x2^2", "x1*x2", "sin(x1)"]   # canonical names


@pytest.fixture(scope="module")
def circle_features():
    """The circle example trained briefly on x1^2, x2^2, x1*x2, sin x1 (standardized)."""
    project = load_example("circle")
    project.data["transforms"] = ["x1^2", "x2^2", "x1*x2", "sin x1"]   # an alias too
    project.spec["nodes"][0]["shape"] = [4]
    project.preprocessing = {"method": "standardize", "offset": [], "scale": []}
    project.weights = project.optimizer_state = None
    workflow.train_project(project, epochs=3)
    return project


def circle_points(n: int = 40) -> np.ndarray:
    return np.random.default_rng(3).uniform(-6, 6, (n, 2)).astype(np.float32)


def app_predictions(project: Project, X: np.ndarray) -> np.ndarray:
    """What ANN Designer predicts for raw points: transforms, then scaler, then the net."""
    inputs = workflow.project_scaler(project).transform(workflow.with_transforms(project, X))
    return workflow.build_network(project).predict(inputs)


def test_every_feature_transform_has_an_export_recipe():
    assert set(TRANSFORM_OPS) == set(FEATURE_TRANSFORMS)


def test_onnx_computes_the_feature_transforms(tmp_path, circle_features):
    X = circle_points()
    want = app_predictions(circle_features, X)
    assert 0.05 < want.mean() < 0.95            # a real, trained classifier
    (path,) = export(circle_features, "onnx", tmp_path / "circle.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims[1:]] == [2]                # raw points go in
    ops = [n.op_type for n in model.graph.node]
    assert ops[:7] == ["Gather", "Mul", "Gather", "Mul", "Mul", "Sin", "Concat"]
    assert ops[7:9] == ["Sub", "Div"]                           # then the scaler
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["feature_transforms"]) == CIRCLE_FEATURES
    np.testing.assert_allclose(run_onnx(path, X), want, **TOL)


def test_npz_and_predict_script_compute_the_feature_transforms(tmp_path, circle_features):
    X = circle_points()
    want = app_predictions(circle_features, X)
    (npz,) = export(circle_features, "npz", tmp_path / "circle.npz")
    with np.load(npz, allow_pickle=False) as archive:
        assert archive["__preprocessing__/transforms"].tolist() == CIRCLE_FEATURES
        assert json.loads(str(archive["__model__"]))["transforms"] == CIRCLE_FEATURES
    script, _ = export(circle_features, "numpy", tmp_path / "out")
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in X.tolist()))
    out = tmp_path / "predictions.csv"
    result = subprocess.run([sys.executable, str(script), str(csv), "-o", str(out)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stderr
    rows = out.read_text().splitlines()
    assert rows[0] == "prediction,p(outside),p(inside)"
    got = np.array([float(row.split(",")[2]) for row in rows[1:]])
    np.testing.assert_allclose(got, want[:, 0], **TOL)
    module = import_file(script, "circle_features_predict")
    np.testing.assert_allclose(module.predict(X), want, **TOL)
    with pytest.raises(ValueError, match=r"raw 2-D points \(N, 2\)"):
        module.predict(np.zeros((3, 4)))


def test_pytorch_computes_the_feature_transforms(tmp_path, circle_features):
    torch = pytest.importorskip("torch")
    X = circle_points()
    script, _ = export(circle_features, "pytorch", tmp_path / "circle_model.py")
    module = import_file(script, "circle_features_torch")
    assert module.INPUT_SHAPE == (2,) and module.TRANSFORMS == CIRCLE_FEATURES
    with torch.no_grad():
        got = module.load_model()(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, app_predictions(circle_features, X), **TOL)


def test_cli_predict_and_evaluate_transform_raw_csv_rows(tmp_path, capsys, circle_features):
    X = circle_points()
    want = app_predictions(circle_features, X)[:, 0]
    save_project(circle_features, tmp_path / "circle.annproj")
    labels = (want > 0.5).astype(int)
    labels[:5] = 1 - labels[:5]                 # 5 of 40 wrong: accuracy 0.875
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n" + "".join(
        f"{a!r},{b!r},{['outside', 'inside'][c]}\n" for (a, b), c in zip(X.tolist(), labels,
                                                                        strict=True)))
    out = tmp_path / "predictions.csv"
    assert cli_main(["predict", str(tmp_path / "circle.annproj"), str(csv), "-o",
                     str(out)]) == 0
    rows = out.read_text().splitlines()[1:]
    np.testing.assert_allclose([float(r.split(",")[2]) for r in rows], want, **TOL)
    capsys.readouterr()
    assert cli_main(["evaluate", str(tmp_path / "circle.annproj"), "--data", str(csv),
                     "--target", "label"]) == 0
    (row,) = [line.split() for line in capsys.readouterr().out.splitlines()
              if line.startswith("points.csv")]
    assert row[1] == "40" and row[-1] == "0.8750"   # samples ... accuracy


def test_transforms_are_left_out_where_they_do_not_apply(tmp_path):
    net = network(MLP)
    assert prepare(net).transforms is None and prepare(net).raw_input_shape == (3,)
    project = Project(name="raw", spec=MLP, weights=net.get_weights(),
                      data={"kind": "builtin", "name": "iris", "transforms": ["x1", "x2"]})
    assert prepare(project).transforms is None   # not 2-D data: the net takes 3 inputs
    circle = Project(name="c", spec={**MLP, "nodes": [
        {"id": "in", "type": "Input", "shape": [2]}, *MLP["nodes"][1:]]},
        data={"kind": "builtin", "name": "circle", "transforms": ["x1", "cos(x1)"]})
    circle.weights = Network.from_spec(circle.spec).get_weights()
    with pytest.raises(ExportError, match="unknown input feature 'cos\\(x1\\)'"):
        export(circle, "onnx", tmp_path / "c.onnx")
