"""The command line with real-world data files: NumPy tables (.npy/.npz) as training
data, messy CSVs whose errors must name the file, and text columns that predict, evaluate
and every export must encode exactly as training did. Each test runs ``main([...])`` as a
user types it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from core import workflow
from core.cli import main
from core.project import load_project


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ann-designer: error: ")
    return lines[0]


def write_table_npy(path: Path, target_column: int, seed: int = 0) -> np.ndarray:
    """A (80, 4) table whose ``target_column`` is a regression target of the others."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 3))
    y = 2.5 * X[:, 0] - X[:, 1] + 0.3
    table = np.insert(X, target_column, y, axis=1)
    np.save(path, table)
    return table


# --------------------------------------------------------------- .npy target column


def test_new_npy_target_column_number_is_used(tmp_path, capsys):
    """`--target 0` on an .npy table used to be ignored (the last column was the target)."""
    path = tmp_path / "table.npy"
    table = write_table_npy(path, target_column=0)
    code, out, err = run(capsys, "new", "--data", path, "--target", "0",
                         "-o", tmp_path / "t.annproj")
    assert code == 0, err
    assert "regression" in out
    project = load_project(tmp_path / "t.annproj")
    assert project.data["target"] == 0
    ds = workflow.load_dataset(project, tmp_path)
    np.testing.assert_allclose(ds.y[:, 0], table[:, 0].astype(np.float32))
    np.testing.assert_allclose(ds.X, table[:, 1:].astype(np.float32))


def test_new_npy_target_name_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "table.npy"
    write_table_npy(path, target_column=3)
    code, _, err = run(capsys, "new", "--data", path, "--target", "price",
                       "-o", tmp_path / "t.annproj")
    assert code == 1
    line = one_error_line(err)
    assert "table.npy" in line and "column number" in line and "'price'" in line


def test_new_npz_target_names_the_array(tmp_path, capsys):
    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(40, 2)), labels=np.arange(40) % 2,
             y=rng.normal(size=40))
    code, out, err = run(capsys, "new", "--data", path, "--target", "labels",
                         "-o", tmp_path / "t.annproj")
    assert code == 0, err
    assert "2 classes" in out
    code, _, err = run(capsys, "new", "--data", path, "--target", "nope",
                       "-o", tmp_path / "u.annproj")
    assert code == 1
    assert "no array 'nope'" in one_error_line(err)


def test_predict_regression_project_from_npy_column(tmp_path, capsys):
    """A regression project whose target is .npy column 2 crashed in predict (TypeError:
    'int' object is not iterable, from the CSV header naming)."""
    path = tmp_path / "table.npy"
    write_table_npy(path, target_column=2)
    project_path = tmp_path / "t.annproj"
    assert run(capsys, "new", "--data", path, "--target", "2", "-o", project_path)[0] == 0
    assert run(capsys, "train", project_path, "--epochs", "2", "-q")[0] == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("0.1,0.2,0.3\n1,2,3\n")
    code, out, err = run(capsys, "predict", project_path, rows)
    assert code == 0, err
    assert out.splitlines()[0] == "prediction"
    assert len(out.splitlines()) == 3


# ------------------------------------------------------------ data errors name the file


@pytest.mark.parametrize(("content", "fragments"), [
    ("a,b,label\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n", ("line 3", "'b'", "'oops'")),
    ("a;b;label\n1,5;2;x\n3;4;y\n5;6;x\n7;8;y\n", ("line 2", "'a'", "decimal point")),
    ("a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n", ("line 3", "'b'", "empty")),
    ("label\nx\ny\n", ("no feature columns",)),
])
def test_new_csv_errors_name_the_file(tmp_path, capsys, content, fragments):
    path = tmp_path / "messy.csv"
    path.write_text(content)
    code, _, err = run(capsys, "new", "--data", path, "--target", "label",
                       "-o", tmp_path / "m.annproj")
    assert code == 1
    line = one_error_line(err)
    assert line.startswith("ann-designer: error: messy.csv: "), line
    for fragment in fragments:
        assert fragment in line, line


def test_predict_error_names_the_input_file(tmp_path, capsys):
    data = tmp_path / "train.csv"
    with open(data, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["x", "color", "label"])
        for i in range(40):
            writer.writerow([i % 7, ["red", "blue"][i % 2], "ab"[i % 3 == 0]])
    project_path = tmp_path / "p.annproj"
    assert run(capsys, "new", "--data", data, "--target", "label", "-o", project_path)[0] == 0
    assert run(capsys, "train", project_path, "--epochs", "1", "-q")[0] == 0
    new = tmp_path / "new.csv"
    new.write_text("x,color\n1,red\n2,purple\n")
    code, _, err = run(capsys, "predict", project_path, new)
    assert code == 1
    line = one_error_line(err)
    assert "new.csv: line 3, column 'color' holds 'purple'" in line, line
    # a project whose data file went bad since: train names that file too
    data.write_text("x,color,label\n1,red,a\nzz,blue,b\n")
    code, _, err = run(capsys, "train", project_path, "-q")
    assert code == 1
    assert "train.csv: line 3, column 'x'" in one_error_line(err)


# ------------------------------------------------------------------ summary wording


def test_new_project_description_names_the_data_file(tmp_path, capsys):
    """docs/cli.md shows "iris: Classification of 'species' from iris.csv"."""
    data = tmp_path / "iris.csv"
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    rows += [f"{5 + i % 3}.1,3.{i % 5},1.{i % 4},0.{i % 3},{['setosa', 'virginica'][i % 2]}"
             for i in range(30)]
    data.write_text("\n".join(rows) + "\n")
    project_path = tmp_path / "iris.annproj"
    assert run(capsys, "new", "--data", data, "--target", "species",
               "-o", project_path)[0] == 0
    code, out, _ = run(capsys, "summary", project_path)
    assert code == 0
    assert out.splitlines()[0] == "iris: Classification of 'species' from iris.csv"


def test_prediction_table_of_npy_column_target(tmp_path):
    """The designer imports .npy tables with an int target ("column 2"); the CSV header
    of predictions then raised TypeError instead of falling back to "prediction"."""
    from core.starter import starter_project

    path = tmp_path / "table.npy"
    write_table_npy(path, target_column=2)
    ds = workflow.read_source_file({"target": 2}, path)
    project = starter_project(ds, {**ds.source, "path": path.name}, "t")
    outcome = workflow.train_project(project, 1, base_dir=tmp_path)
    header, rows = workflow.prediction_table(project, outcome.net,
                                             workflow.prepare_data(project, tmp_path).val.X)
    assert header == ["prediction"]
    assert len(rows) == 16


# ------------------------------------------------- export of a project with text columns


def write_shop_csv(path: Path, n: int = 160, seed: int = 1) -> None:
    """Numbers, a text column and a numeric categorical column (zip), a text target."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "size", "color", "zip", "weight", "label"])
        for i in range(n):
            color, zip_code = ["red", "green", "blue"][i % 3], [1010, 2020, 3030][i % 4 % 3]
            size, weight = rng.normal(), rng.normal() * 10 + 50
            score = size + (color == "red") - (zip_code == 2020) + (weight - 50) / 10
            writer.writerow([i, f"{size:.3f}", color, zip_code, f"{weight:.2f}",
                             "yes" if score > 0.3 else "no"])


@pytest.fixture
def shop_project(tmp_path, capsys) -> Path:
    data = tmp_path / "shop.csv"
    write_shop_csv(data)
    project_path = tmp_path / "shop.annproj"
    code, _, err = run(capsys, "new", "--data", data, "--target", "label", "--features",
                       "size,color,zip,weight", "--categorical", "zip", "-o", project_path)
    assert code == 0, err
    assert run(capsys, "train", project_path, "--epochs", "5", "-q")[0] == 0
    return project_path


NEW_ROWS = "weight,color,label,size,zip\n60.5,red,yes,0.1,1010\n40,blue,no,-1,2020\n" \
           "55,green,no,0.5,3030\n"


def app_probabilities(capsys, project_path: Path, rows: Path) -> np.ndarray:
    code, out, err = run(capsys, "predict", project_path, rows)
    assert code == 0, err
    return np.array([[float(v) for v in line.split(",")[1:]]
                     for line in out.splitlines()[1:]])


def test_numpy_script_encodes_text_columns_like_the_app(tmp_path, capsys, shop_project):
    """predict.py used to refuse a raw CSV with a text column ("column 2: not a number")."""
    import subprocess
    import sys

    rows = tmp_path / "new.csv"
    rows.write_text(NEW_ROWS)
    want = app_probabilities(capsys, shop_project, rows)
    folder = tmp_path / "export"
    assert run(capsys, "export", shop_project, "--format", "numpy", "-o", folder)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    headerless = tmp_path / "headerless.csv"   # exactly the features, in training order
    headerless.write_text("0.1,red,1010,60.5\n-1,blue,2020,40\n0.5,green,3030,55\n")
    for source in (rows, headerless):
        result = subprocess.run([sys.executable, str(folder / "predict.py"), str(source)],
                                capture_output=True, text=True, timeout=60, cwd=elsewhere)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "prediction,p(no),p(yes)"
        got = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
        np.testing.assert_allclose(got, want, atol=1e-5)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("weight,color,size,zip\n60,purple,0.1,1010\n")
    result = subprocess.run([sys.executable, str(folder / "predict.py"), str(unknown)],
                            capture_output=True, text=True, timeout=60, cwd=elsewhere)
    assert result.returncode == 1
    assert "line 2, column color: 'purple'" in result.stderr
    assert "Traceback" not in result.stderr


def test_onnx_of_text_columns_names_its_inputs(tmp_path, capsys, shop_project):
    """The ONNX model takes the one-hot columns; its metadata says which is which."""
    import json

    ort = pytest.importorskip("onnxruntime")
    from core.data import read_features

    rows = tmp_path / "new.csv"
    rows.write_text(NEW_ROWS)
    want = app_probabilities(capsys, shop_project, rows)
    path = tmp_path / "shop.onnx"
    assert run(capsys, "export", shop_project, "--format", "onnx", "-o", path)[0] == 0
    session = ort.InferenceSession(str(path))
    meta = session.get_modelmeta().custom_metadata_map
    columns = json.loads(meta["input_columns"])
    assert columns == ["size", "color=blue", "color=green", "color=red", "zip=1010",
                       "zip=2020", "zip=3030", "weight"]
    assert json.loads(meta["categories"])["zip"] == ["1010", "2020", "3030"]
    source = load_project(shop_project).data
    X, names = read_features(rows, source["features"], source["categorical"],
                             source["categories"])
    assert names == columns
    p = session.run(None, {"input": X.astype(np.float32)})[0][:, 0]
    np.testing.assert_allclose(np.column_stack([1 - p, p]), want, atol=1e-5)


@pytest.mark.parametrize(("header", "encoding"), [
    ("café,b,label", "latin-1"),    # UnicodeDecodeError traceback-free, as the app reads it
    (",b,label", "utf-8"),          # the app names a blank header 'column1'
])
def test_numpy_script_reads_files_the_app_reads(tmp_path, capsys, header, encoding):
    import subprocess
    import sys

    data = tmp_path / "d.csv"
    body = "".join(f"{i % 5},{(i * 7) % 3},{'xy'[i % 2]}\n" for i in range(30))
    data.write_bytes((header + "\n" + body).encode(encoding))
    project_path = tmp_path / "d.annproj"
    assert run(capsys, "new", "--data", data, "--target", "label", "-o", project_path)[0] == 0
    assert run(capsys, "train", project_path, "--epochs", "2", "-q")[0] == 0
    want = app_probabilities(capsys, project_path, data)
    assert run(capsys, "export", project_path, "--format", "numpy",
               "-o", tmp_path / "np")[0] == 0
    result = subprocess.run([sys.executable, str(tmp_path / "np" / "predict.py"), str(data)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = np.array([[float(v) for v in line.split(",")[1:]]
                    for line in result.stdout.splitlines()[1:]])
    np.testing.assert_allclose(got, want, atol=1e-5)
    result = subprocess.run([sys.executable, str(tmp_path / "np" / "predict.py"), str(data),
                             "-o", str(tmp_path / "missing" / "out.csv")],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write"), result.stderr


def test_evaluate_data_of_npy_project_asks_for_the_target(tmp_path, capsys):
    """An .npy project (target column 0) was said to train "on built-in data"."""
    path = tmp_path / "table.npy"
    table = write_table_npy(path, target_column=0)
    project_path = tmp_path / "t.annproj"
    assert run(capsys, "new", "--data", path, "--target", "0", "-o", project_path)[0] == 0
    assert run(capsys, "train", project_path, "--epochs", "1", "-q")[0] == 0
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("y,x1,x2,x3\n" + "".join(",".join(f"{v:g}" for v in row) + "\n"
                                                for row in table[:10]))
    code, _, err = run(capsys, "evaluate", project_path, "--data", labelled)
    assert code == 1
    line = one_error_line(err)
    assert "built-in" not in line and "table.npy" in line and "--target" in line
    code, out, err = run(capsys, "evaluate", project_path, "--data", labelled, "--target", "y")
    assert code == 0, err
    assert "labelled.csv       10" in out


# ------------------------------------------------------ files that cannot be read at all


def test_unreadable_data_files_say_how_to_fix_it(tmp_path, capsys):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "folder.npz").mkdir()
    cases = [("folder.csv", "label", "it is a folder, not a file"),
             ("folder.npz", "y", "it is a folder, not a file"),
             ("missing.csv", "label", "no such file; check the path"),
             ("missing.npy", "label", "no such file; check the path")]
    for name, target, fragment in cases:
        code, _, err = run(capsys, "new", "--data", tmp_path / name, "--target", target,
                           "-o", tmp_path / "p.annproj")
        assert code == 1
        assert fragment in one_error_line(err), (name, err)


def test_predict_on_a_numpy_file_says_to_use_csv(tmp_path, capsys):
    data = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.normal(size=(40, 2)), y=np.arange(40) % 2)
    project_path = tmp_path / "p.annproj"
    assert run(capsys, "new", "--data", data, "--target", "y", "-o", project_path)[0] == 0
    assert run(capsys, "train", project_path, "--epochs", "1", "-q")[0] == 0
    code, _, err = run(capsys, "predict", project_path, data)
    assert code == 1
    line = one_error_line(err)
    assert "d.npz" in line and "CSV" in line and "read_npy" in line
    assert "use an .npy/.npz file" not in line   # it is one already


def test_training_data_file_changed_categories(tmp_path, capsys, shop_project):
    """The data file changed since 'new': a category gone or added used to fail with
    "the scaler was fitted on 8 features but this data has shape (161, 9)"."""
    data = tmp_path / "shop.csv"
    original = data.read_text()
    without_green = [line for line in original.splitlines() if ",green," not in line]
    data.write_text("\n".join(without_green) + "\n")
    code, _, err = run(capsys, "train", shop_project, "--epochs", "1", "-q")
    assert code == 0, err   # the inputs stay the training data's one-hot columns
    data.write_text(original + "999,0.5,purple,1010,50,yes\n")
    code, _, err = run(capsys, "train", shop_project, "--epochs", "1", "-q")
    assert code == 1
    line = one_error_line(err)
    assert "shop.csv: line 162, column 'color' holds 'purple'" in line, line
    assert "new --data" in line


def test_excel_delimiter_line_is_explained(tmp_path, capsys):
    """Excel's "sep=;" first line made the columns 'sep=', 'column2'."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfsep=;\r\na;b;label\r\n1;2;x\r\n3;4;y\r\n5;6;x\r\n")
    code, _, err = run(capsys, "new", "--data", path, "--target", "label",
                       "-o", tmp_path / "p.annproj")
    assert code == 1
    line = one_error_line(err)
    assert "excel.csv" in line and "'sep=;'" in line and "delete that line" in line


def test_export_into_an_existing_folder(tmp_path, capsys, shop_project):
    """`-o models/` for ONNX used to write models.onnx beside the folder."""
    folder = tmp_path / "models"
    folder.mkdir()
    code, out, err = run(capsys, "export", shop_project, "--format", "onnx",
                         "-o", str(folder) + "/")
    assert code == 0, err
    assert (folder / "shop.onnx").is_file()
    assert not (tmp_path / "models.onnx").exists()
    assert run(capsys, "export", shop_project, "--format", "npz", "-o", folder)[0] == 0
    assert (folder / "shop.npz").is_file()
