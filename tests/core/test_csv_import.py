"""CSV/TSV and NPY/NPZ import: layout detection, column choices, and exact error places."""

import contextlib
import csv
import zipfile

import numpy as np
import pytest

from core.data import DataError, read_csv, read_features, read_npy, sniff_csv
from core.data.npy_import import load_arrays


@pytest.fixture(params=["fast", "careful"])
def reader(request, monkeypatch):
    """Run a test with pandas' fast reader, and again with the careful reader alone."""
    if request.param == "careful":
        import core.data.csv_import as csv_import

        monkeypatch.setattr(csv_import, "fast_read", lambda *_: None)
    return request.param


def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- layout detection -------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|", " "])
def test_delimiter_and_header_are_detected(tmp_path, delimiter):
    rows = [["height", "weight", "kind"], ["1.5", "60", "a"], ["1.8", "80", "b"],
            ["1.6", "-7e1", "a"]]
    path = write(tmp_path, "\n".join(delimiter.join(r) for r in rows) + "\n",
                 "data.tsv" if delimiter == "\t" else "data.csv")
    layout = sniff_csv(path)
    assert layout.delimiter == delimiter and layout.has_header
    assert layout.columns == ("height", "weight", "kind")
    assert layout.numeric == (True, True, False)
    ds = read_csv(path, target="kind")
    np.testing.assert_allclose(ds.X, [[1.5, 60], [1.8, 80], [1.6, -70]])
    assert ds.source["delimiter"] == delimiter


def test_no_header_gets_numbered_columns(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,1\n5,6,1\n")
    layout = sniff_csv(path)
    assert not layout.has_header and layout.columns == ("column1", "column2", "column3")
    ds = read_csv(path, target=-1)
    assert ds.X.shape == (3, 2) and ds.y.tolist() == [0, 1, 1]
    forced = read_csv(path, target=-1, header=True)  # the user knows better
    assert forced.X.shape == (2, 2) and forced.feature_names == ["1", "2"]


ALL_TEXT = [  # (rows, header?) as the standard library's Sniffer judged them on 3.11
    (["name", "alice", "bob"], False),  # lengths below differ: no vote, no header
    (["a b", "cd", "ef"], True),  # one length below, another above: a header
    (["abc", "def", "ghi"], False),
    (["city,country", "Paris,FR", "Rome,IT", "Oslo,NO"], True),
    (["ab,cd", "ef,gh", "ij,kl"], False),
]


@pytest.mark.parametrize(("rows", "header"), ALL_TEXT)
def test_all_text_files_get_the_sniffers_header_verdict_on_every_python(tmp_path, rows,
                                                                       header):
    """Python 3.13's csv.Sniffer raises ValueError on one column; the verdict is ours."""
    layout = sniff_csv(write(tmp_path, "\n".join(rows) + "\n"))
    assert layout.has_header is header
    assert len(layout.preview) == len(rows) - header
    with contextlib.suppress(ValueError, csv.Error):  # where the Sniffer still works
        sample = "\n".join(",".join(f'"{c}"' for c in r.split(",")) for r in rows)
        assert csv.Sniffer().has_header(sample) is header


def test_semicolon_with_text_header_and_quotes(tmp_path):
    path = write(tmp_path, 'name;size;colour\n"Smith; J";1;"dark, red"\nLee;2;blue\n')
    ds = read_csv(path, target="size", features=["colour"], task="regression")
    assert ds.feature_names == ["colour=blue", "colour=dark, red"]
    np.testing.assert_array_equal(ds.X, [[0, 1], [1, 0]])
    assert ds.y[:, 0].tolist() == [1, 2]


def test_bom_crlf_and_blank_lines(tmp_path):
    path = write(tmp_path, "\ufeffa,b,y\r\n1,2,0\r\n\r\n3,4,1\r\n\r\n")
    ds = read_csv(path, target="y")
    assert ds.feature_names == ["a", "b"] and ds.X.tolist() == [[1, 2], [3, 4]]


def test_latin1_file_is_read(tmp_path):
    path = write(tmp_path, "x,ville\n1,café\n2,Köln\n", encoding="latin-1")
    ds = read_csv(path, target="ville")
    assert ds.class_names == ["Köln", "café"]


# -- targets and features ---------------------------------------------------------------
def test_bad_utf8_after_the_sample_is_explained(tmp_path):
    text = "a,b\n" + "1,2\n" * 40_000
    path = tmp_path / "mixed_encoding.csv"
    path.write_bytes(text.encode() + b"3,\xff\xfe\n")
    with pytest.raises(DataError, match="not valid UTF-8 text further down"):
        read_csv(path, target="b")


def test_string_targets_become_sorted_classes(tmp_path):
    path = write(tmp_path, "x,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n")
    ds = read_csv(path, target="species")
    assert ds.task == "classification"
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.y.tolist() == [2, 0, 1, 0]


def test_numeric_targets_classes_or_regression(tmp_path):
    ints = write(tmp_path, "x,y\n1,3\n2,1\n3,3\n", "ints.csv")
    ds = read_csv(ints, target="y")
    assert ds.task == "classification" and ds.class_names == ["1", "3"]
    assert ds.y.tolist() == [1, 0, 1]
    assert read_csv(ints, target="y", task="regression").y[:, 0].tolist() == [3, 1, 3]
    floats = write(tmp_path, "x,y\n1,0.5\n2,1.25\n", "floats.csv")
    ds = read_csv(floats, target=1)
    assert ds.task == "regression" and ds.target_names == ["y"]
    many = write(tmp_path, "x,y\n" + "".join(f"{i},{i}\n" for i in range(30)), "many.csv")
    assert read_csv(many, target="y").task == "regression"


def test_several_targets_make_a_regression(tmp_path):
    path = write(tmp_path, "a,b,t1,t2\n1,2,3,4\n5,6,7,8\n")
    ds = read_csv(path, target=["t1", "t2"])
    assert ds.task == "regression" and ds.y.tolist() == [[3, 4], [7, 8]]
    assert ds.feature_names == ["a", "b"] and ds.target_names == ["t1", "t2"]


def test_categorical_features_become_one_hot(tmp_path):
    path = write(tmp_path, "zip,color,price\n10,red,1\n2,blue,2\n10,green,3\n2,red,4\n")
    ds = read_csv(path, target="price", categorical=["zip"], task="regression")
    assert ds.feature_names == ["zip=2", "zip=10", "color=blue", "color=green", "color=red"]
    np.testing.assert_array_equal(ds.X, [[0, 1, 0, 0, 1], [1, 0, 1, 0, 0],
                                         [0, 1, 0, 1, 0], [1, 0, 0, 0, 1]])
    assert ds.source["categorical"] == ["zip", "color"]
    assert ds.source["categories"]["color"] == ["blue", "green", "red"]


def test_new_data_is_encoded_like_the_training_data(tmp_path):
    train = read_csv(write(tmp_path, "size,color,y\n1,red,0\n2,blue,1\n3,green,0\n",
                           "train.csv"), target="y")
    src = train.source
    new = write(tmp_path, "color,size\nred,5\nred,6\n", "new.csv")  # other order, no y
    X, names = read_features(new, src["features"], src["categorical"], src["categories"])
    assert names == train.feature_names == ["size", "color=blue", "color=green", "color=red"]
    np.testing.assert_array_equal(X, [[5, 0, 0, 1], [6, 0, 0, 1]])
    again = read_csv(new, target="size", categories=src["categories"])
    assert again.feature_names == ["color=blue", "color=green", "color=red"]
    odd = write(tmp_path, "size,color\n1,purple\n", "odd.csv")
    with pytest.raises(DataError, match="^line 2, column 'color' holds 'purple', a value "
                                        "the training data did not have"):
        read_features(odd, src["features"], src["categorical"], src["categories"])
    with pytest.raises(DataError, match="^line 3, column 'size'"):
        read_features(write(tmp_path, "size,color\n1,red\n,red\n", "gap.csv"),
                      src["features"], src["categorical"], src["categories"])


def test_read_features_by_name_in_any_order_with_fixed_categories(tmp_path):
    path = write(tmp_path, "id,color,b,a\n7,red,2.5,1\n8,blue,-1,0\n")
    X, names = read_features(path, ["a", "b", "color"],
                             categories={"color": ["blue", "green", "red"]})
    np.testing.assert_array_equal(X, [[1, 2.5, 0, 0, 1], [0, -1, 1, 0, 0]])
    assert names == ["a", "b", "color=blue", "color=green", "color=red"]
    bad = write(tmp_path, "a,b\n1,2\n3,\n", "bad.csv")
    with pytest.raises(DataError, match="^line 3, column 'b': the cell is empty; fill it in "
                                        "or delete the row$"):  # no drop_bad_rows advice
        read_features(bad, ["a", "b"], categories={})


def test_read_features_of_a_headerless_file_takes_the_columns_in_order(tmp_path):
    headless = write(tmp_path, "1,2.5,red\n0,-1,blue\n")
    X, names = read_features(headless, ["a", "b", "c"], categories={"c": ["blue", "red"]})
    np.testing.assert_array_equal(X, [[1, 2.5, 0, 1], [0, -1, 1, 0]])
    assert names == ["a", "b", "c=blue", "c=red"]
    with pytest.raises(DataError, match="lacks the feature column.*'d'.*header row"):
        read_features(headless, ["a", "b", "c", "d"])


def test_read_features_names_every_missing_column(tmp_path):
    path = write(tmp_path, "f1,f2,color\n1,2,red\n")
    with pytest.raises(DataError, match=r"^data.csv lacks the feature column\(s\) 'f3', "
                                        r"'f4'; the network was trained on 5 columns"):
        read_features(path, ["f1", "f2", "f3", "f4", "color"])


def test_fixed_categories_that_look_like_numbers_stay_one_hot(tmp_path):
    path = write(tmp_path, "zip,x\n10,1\n10,2\n")  # the file alone would say "numeric"
    X, names = read_features(path, ["zip", "x"], categories={"zip": ["2", "10"]})
    assert names == ["zip=2", "zip=10", "x"]
    np.testing.assert_array_equal(X, [[0, 1, 1], [0, 1, 2]])


def test_unseen_category_names_its_line_past_quotes_and_blank_lines(tmp_path, reader):
    text = 'note,x,color\n"a\nb",1,red\n\nc,2,red\nd,3,"purple"\ne,4,teal\n'
    path = write(tmp_path, text)  # a quoted field spans lines 2-3; line 4 is blank
    with pytest.raises(DataError, match="^line 6, column 'color' holds 'purple', a value the "
                                        "training data did not have; known values are "
                                        "'blue', 'red'"):
        read_features(path, ["x", "color"], categories={"color": ["blue", "red"]})


def test_one_hot_size_is_checked_before_allocating(tmp_path, monkeypatch):
    import core.data.csv_import as csv_import

    monkeypatch.setattr(csv_import, "MAX_MATRIX_BYTES", 100)
    path = write(tmp_path, "c,y\n" + "".join(f"v{i % 9},{i % 2}\n" for i in range(20)))
    with pytest.raises(DataError, match=r"20 rows x 9 columns after one-hot"):
        read_csv(path, target="y")


def test_columns_by_index_and_unknown_names(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,0\n3,4,1\n")
    ds = read_csv(path, target=0, features=[2, "B"])
    assert ds.feature_names == ["c", "b"]
    with pytest.raises(DataError, match="no column named 'd'.*'a', 'b', 'c'"):
        read_csv(path, target="d")
    with pytest.raises(DataError, match="out of range"):
        read_csv(path, target=5)
    with pytest.raises(DataError, match="choose a target column"):
        read_csv(path, target=[])
    with pytest.raises(DataError, match="both a feature and the target"):
        read_csv(path, target="a", features=["a", "b"])


# -- bad cells: every message names the line and the column ------------------------------
BAD_FILES = {
    "empty cell": ("a,b,y\n1,2,0\n3,,1\n5,6,0\n", 3, "b", "empty"),
    "NA": ("a,b,y\n1,2,0\n3,4,1\nNA,6,0\n", 4, "a", "missing"),
    "text": ("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,abc,1\n", 5, "b", "'abc' is not a number"),
    "infinity": ("a,b,y\n1,2,0\ninf,4,1\n", 3, "a", "not a finite number"),
    "decimal comma": ("a;b;y\n1;2;0\n3;4,5;1\n5;6;0\n", 3, "b", "decimal point"),
    "short line": ("a,b,y\n1,2,0\n3,4\n5,6,0\n", 3, "y", "2 fields but the header has 3"),
    "long line": ("a,b,y\n1,2,0\n3,4,1\n5,6,0,9\n", 4, "y", "extra field"),
    "missing target": ("a,b,y\n1,2,0\n3,4,\n", 3, "y", "empty"),
    "after blank line": ("a,b,y\n1,2,0\n\n3,x,1\n5,6,1\n", 4, "b", "not a number"),
    # finite in float64 but infinity once cast to the float32 that networks train in
    "beyond float32": ("a,b,y\n1,2,0\n3,1e300,1\n5,6,0\n", 3, "b", "too large"),
    "target beyond float32": ("a,b,y\n1,2,0.5\n3,4,-4e38\n5,6,0.25\n", 3, "y",
                              "too large"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_cell_names_line_and_column(tmp_path, case):
    text, line, column, what = BAD_FILES[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        read_csv(path, target="y")
    message = str(err.value)
    assert message.startswith(f"line {line}, column '{column}':"), message
    assert what in message and "drop_bad_rows" in message


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_drop_bad_rows_reports_how_many(tmp_path, case):
    text, line, _, _ = BAD_FILES[case]
    ds = read_csv(write(tmp_path, text), target="y", drop_bad_rows=True)
    assert ds.source["dropped_rows"] == 1 and ds.source["dropped_lines"] == [line]
    good_lines = sum(1 for row in text.splitlines()[1:] if row) - 1
    assert len(ds) == good_lines and np.isfinite(ds.X).all()


def test_numbers_beyond_float32_are_refused_by_every_reader(tmp_path, reader):
    """1e300 parses as a float64, then would become inf in the float32 data set."""
    path = write(tmp_path, "a,b,y\n1,2,0\n3,1e300,1\n5,6,0\n")
    with pytest.raises(DataError, match="^line 3, column 'b': '1e300' is too large"):
        read_csv(path, target="y")
    with pytest.raises(DataError, match="^line 3, column 'b': '1e300' is too large"):
        read_features(path, ["a", "b"], categories={})
    ok = write(tmp_path, "a,b,y\n1,2,0\n3,3e38,1\n5,6,0\n", "ok.csv")
    assert np.isfinite(read_csv(ok, target="y").X).all()


@pytest.mark.parametrize("arrays, where", [
    ({"X": np.array([[1.0, 2.0], [1e300, 3.0]]), "y": np.array([0, 1])}, "sample 1 of X"),
    ({"X": np.ones((3, 2)), "y": np.array([0.5, 1e300, 0.25])}, "target of sample 1"),
])
def test_npz_values_beyond_float32_are_refused(tmp_path, arrays, where):
    path = tmp_path / "big.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=f"{where}.*too large for float32"):
        read_npy(path)


def test_first_problem_in_the_file_is_reported_and_drops_are_in_order(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n3,x,1\n4,5\n6,7,0\n")
    with pytest.raises(DataError, match="^line 3, column 'b'"):
        read_csv(path, target="y")
    ds = read_csv(path, target="y", drop_bad_rows=True)
    assert ds.source["dropped_rows"] == 2 and ds.source["dropped_lines"] == [3, 4]
    assert ds.X.tolist() == [[1, 2], [6, 7]]


@pytest.mark.parametrize("quoted_line", [None, 4, 9])
def test_line_numbers_hold_across_chunks(tmp_path, monkeypatch, quoted_line):
    import core.data.csv_readers as readers

    monkeypatch.setattr(readers, "CHUNK_ROWS", 3)  # many chunks: fast, csv and mixed ones
    lines = ["a,b,label"] + [f"{i},{i * 2},{'xy'[i % 2]}" for i in range(2, 16)]
    lines[9 - 1] = "9,oops,y"  # line k holds row i = k
    lines[12 - 1] = "12,24"  # too short
    if quoted_line:
        lines[quoted_line - 1] = lines[quoted_line - 1].replace(",x", ',"x"').replace(
            ",y", ',"y"')
    lines.insert(5, "")  # a blank line 6: everything after moves down one
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError, match="^line 10, column 'b': 'oops'"):
        read_csv(path, target="label")
    ds = read_csv(path, target="label", drop_bad_rows=True)
    assert ds.source["dropped_lines"] == [10, 13]
    assert ds.X[:, 0].tolist() == [i for i in range(2, 16) if i not in (9, 12)]
    assert ds.class_names == ["x", "y"] and ds.y.tolist() == [
        i % 2 for i in range(2, 16) if i not in (9, 12)]


def test_problems_in_unused_columns_are_ignored(tmp_path):
    path = write(tmp_path, "id,a,y\nx1,1,0\n,2,1\n")
    ds = read_csv(path, target="y", features=["a"])
    assert ds.X[:, 0].tolist() == [1, 2]


def test_empty_header_only_and_all_dropped(tmp_path):
    with pytest.raises(DataError, match="empty"):
        read_csv(write(tmp_path, "", "e.csv"), target=0)
    with pytest.raises(DataError, match="empty"):
        read_csv(write(tmp_path, "\n \n", "w.csv"), target=0)
    with pytest.raises(DataError, match="no data rows"):
        read_csv(write(tmp_path, "a,b,y\n", "h.csv"), target="y")
    with pytest.raises(DataError, match="all 2 data rows"):
        read_csv(write(tmp_path, "a,b,y\n1,,0\n,2,1\n", "d.csv"), target="y",
                 drop_bad_rows=True)


def test_size_limit_is_checked_before_reading(tmp_path):
    path = write(tmp_path, "a,y\n" + "1,0\n" * 100)
    with pytest.raises(DataError, match="limit"):
        read_csv(path, target="y", max_bytes=100)
    with pytest.raises(DataError, match="not a text file"):
        read_csv(write(tmp_path, "a\x00b", "bin.csv"), target=0)


def test_fast_and_careful_readers_agree(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    table = np.round(rng.normal(size=(300, 4)), 5)
    lines = ["a,b,c,d,label,note"] + [
        ",".join(f"{v:g}" for v in row) + f",{'xyz'[i % 3]},n{i}" for i, row in enumerate(table)]
    text = "\n".join(lines) + "\n"
    numeric = write(tmp_path, text.replace(",n", ",1").replace(",x", ",0").replace(
        ",y", ",1").replace(",z", ",2"), "numeric.csv")
    mixed = write(tmp_path, text, "mixed.csv")
    feats = ["a", "b", "c", "d"]
    results = [read_csv(numeric, target="label", features=feats),
               read_csv(mixed, target="label", features=feats)]
    import core.data.csv_import as csv_import

    monkeypatch.setattr(csv_import, "fast_read", lambda *_: None)
    results += [read_csv(numeric, target="label", features=feats),
                read_csv(mixed, target="label", features=feats)]
    for ds in results:
        np.testing.assert_array_equal(ds.X, results[0].X)
        np.testing.assert_array_equal(ds.y, results[0].y)
    np.testing.assert_allclose(results[0].X, table.astype(np.float32))
    assert results[0].class_names == ["0", "1", "2"]
    assert results[1].class_names == results[3].class_names == ["x", "y", "z"]


def test_trailing_delimiter_column_is_left_out(tmp_path):
    path = write(tmp_path, "a,b,y,\n1,2,0,\n3,4,1,\n")
    ds = read_csv(path, target="y")
    assert ds.feature_names == ["a", "b"] and len(ds) == 2


# -- NPY / NPZ --------------------------------------------------------------------------
def test_npz_with_named_classes(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(12, dtype=np.float64).reshape(6, 2)
    np.savez(path, X=X, y=np.array([0, 1, 2, 0, 1, 2]),
             class_names=np.array(["cat", "dog", "eel"]))
    ds = read_npy(path)
    assert ds.task == "classification" and ds.class_names == ["cat", "dog", "eel"]
    np.testing.assert_array_equal(ds.X, X)


def test_npy_table_with_target_column(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, np.array([[1.0, 0.5, 2.0], [3.0, 1.5, 4.0]]))
    ds = read_npy(path, target=1, task="regression")
    assert ds.X.tolist() == [[1, 2], [3, 4]] and ds.y[:, 0].tolist() == [0.5, 1.5]


def test_npz_images_keep_their_shape(tmp_path):
    path = tmp_path / "img.npz"
    np.savez_compressed(path, x=np.zeros((5, 4, 4, 1), np.float32), labels=np.arange(5) % 2)
    ds = read_npy(path)
    assert ds.input_shape == (4, 4, 1) and ds.n_classes == 2


def _npy_with_header(path, shape, payload=b"\x00" * 16, descr="<f8"):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": descr, "fortran_order": False, "shape": shape})
        f.write(payload)


def test_huge_declared_npy_header_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npy"
    _npy_with_header(path, (10**12, 10))
    with pytest.raises(DataError, match="limit"):
        read_npy(path)


def test_truncated_npy_is_refused(tmp_path):
    path = tmp_path / "short.npy"
    _npy_with_header(path, (100, 3))
    with pytest.raises(DataError, match="truncated"):
        read_npy(path)


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, X=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match="Python objects.*never unpickles"):
        read_npy(path)
    with pytest.raises(DataError, match="Python objects"):
        load_arrays(path)


def test_npz_bomb_member_is_refused(tmp_path):
    """160 MiB of zeros deflate to about 160 KiB; the declared size is checked first."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("X.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(
            member, {"descr": "<f8", "fortran_order": False, "shape": (20_000, 1000)})
        chunk = bytes(1 << 20)
        for _ in range(160):
            member.write(chunk)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(DataError, match="limit"):
        read_npy(path, max_bytes=50 << 20)


def test_corrupt_files_give_one_clear_error(tmp_path):
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy at all")
    with pytest.raises(DataError, match="not a valid .npy"):
        read_npy(junk)
    broken = tmp_path / "broken.npz"
    np.savez(broken, X=np.zeros((3, 2)), y=np.zeros(3))
    broken.write_bytes(broken.read_bytes()[:-30])
    with pytest.raises(DataError):
        read_npy(broken)
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, X=np.zeros((3, 2)))
    with pytest.raises(DataError, match="no target array"):
        read_npy(no_y)


def test_random_junk_gives_data_errors_only(tmp_path):
    """Whatever the bytes, the reader answers with a Dataset or a DataError."""
    rng = np.random.default_rng(7)
    pieces = ["1", "2.5", "-3", "a", "", ",", ",", ";", "\t", "\n", "\n", '"', " ", "nan",
              "1e3", "\r\n", "é"]
    path = tmp_path / "junk.csv"
    for _ in range(150):
        path.write_text("".join(rng.choice(pieces, rng.integers(0, 40))), encoding="utf-8")
        for target, drop in ((0, False), (-1, True)):
            with contextlib.suppress(DataError):
                read_csv(path, target=target, drop_bad_rows=drop)
    good = tmp_path / "good.npz"
    np.savez(good, X=np.ones((4, 3)), y=np.arange(4))
    raw = good.read_bytes()
    for cut in range(0, len(raw), 37):
        path = tmp_path / f"cut{cut}.npz"
        path.write_bytes(raw[:cut] + bytes(rng.integers(0, 256, 5, dtype=np.uint8)))
        with pytest.raises(DataError):
            read_npy(path)


def test_a_text_target_as_regression_names_the_option_that_fixes_it(tmp_path):
    path = tmp_path / "animals.csv"
    path.write_text("legs,kind\n4,cat\n2,bird\n4,dog\n")
    with pytest.raises(DataError, match=r"'kind' holds text.*--task classification\)$"):
        read_csv(path, target="kind", task="regression")
