"""CSV headers that once misled the import: repeated names, and files thousands of columns wide."""

import numpy as np
import pytest

from core.data import DataError, read_csv, sniff_csv

MAX_LINE_BYTES = 8 << 20  # the bound in csv_sniff


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


REPEATED = "a,label,b,label\n" + "".join(f"{i},x{i % 2},{i * 2},{'yn'[i % 2]}\n"
                                        for i in range(12))


def test_a_repeated_target_name_is_refused_naming_the_columns_and_line(tmp_path):
    path = write(tmp_path, REPEATED)
    with pytest.raises(DataError) as info:
        read_csv(path, target="label")
    message = str(info.value)
    assert message.startswith("line 1 of data.csv")
    assert "'label'" in message and "columns 2, 4" in message and "'label.2'" in message


def test_the_repeat_never_becomes_a_feature_silently(tmp_path):
    path = write(tmp_path, REPEATED)
    with pytest.raises(DataError, match="columns 2, 4"):
        read_csv(path, target="label.2")  # the other 'label' would be a feature
    with pytest.raises(DataError, match="columns 2, 4"):
        read_csv(path, target=3)


def test_one_of_the_repeats_can_be_chosen_explicitly(tmp_path):
    path = write(tmp_path, REPEATED)
    ds = read_csv(path, target="label.2", features=["a", "b"])
    assert ds.feature_names == ["a", "b"] and ds.class_names == ["n", "y"]
    ds = read_csv(path, target=1, features=[0, 2])
    assert ds.class_names == ["x0", "x1"]


def test_cli_new_refuses_a_repeated_target_in_one_line(tmp_path, capsys):
    from core.cli import main

    path = write(tmp_path, REPEATED)
    code = main(["new", "--data", str(path), "--target", "label", "-o",
                 str(tmp_path / "p.annproj")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "columns 2, 4" in err
    assert not (tmp_path / "p.annproj").exists()


# -- wide files ------------------------------------------------------------------------
def wide(tmp_path, n_columns: int, rows: int, text_target: bool) -> object:
    header = ",".join(f"feature_{j}" for j in range(n_columns - 1)) + ",label\n"
    lines = [",".join(str((i + j) % 7) for j in range(n_columns - 1))
             + ("," + ("yes" if i % 2 else "no") if text_target else f",{i % 2}")
             for i in range(rows)]
    return write(tmp_path, header + "\n".join(lines) + "\n")


def test_a_50000_column_header_is_read_whole(tmp_path):
    path = wide(tmp_path, 50_000, 3, text_target=False)
    layout = sniff_csv(path)
    assert len(layout.columns) == 50_000 and layout.columns[-1] == "label"
    ds = read_csv(path, target="label")
    assert ds.X.shape == (3, 49_999)


def test_a_10000_column_file_finds_its_text_target(tmp_path):
    path = wide(tmp_path, 10_000, 30, text_target=True)
    layout = sniff_csv(path)
    assert layout.numeric[-1] is False
    ds = read_csv(path, target="label")
    assert ds.task == "classification" and ds.class_names == ["no", "yes"]
    np.testing.assert_array_equal(ds.y[:4], [0, 1, 0, 1])


def test_errors_about_wide_files_stay_short(tmp_path):
    path = wide(tmp_path, 50_000, 3, text_target=False)
    with pytest.raises(DataError) as info:
        read_csv(path, target="price")
    assert len(str(info.value)) < 1000 and "50,000 in all" in str(info.value)


def test_a_first_line_without_an_end_is_refused_after_a_bounded_read(tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(b"1," * (MAX_LINE_BYTES // 2 + 10))
    with pytest.raises(DataError, match="line 1 of one.csv is longer than"):
        sniff_csv(path)


# -- one enormous line -----------------------------------------------------------------
MEASURE = """
import resource, sys, time
from core.data import DataError, read_csv
start = time.monotonic()
try:
    ds = read_csv(sys.argv[1], target="label", drop_bad_rows=sys.argv[2] == "drop")
    print("rows", len(ds.X))
except DataError as exc:
    print("error", exc)
print(time.monotonic() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.parametrize("drop", ["keep", "drop"])
@pytest.mark.parametrize("place", [2, 12])  # the first data row, or one further down
def test_a_line_of_8_million_fields_is_refused_in_bounded_time_and_memory(tmp_path, drop,
                                                                            place):
    import subprocess
    import sys

    rows = [f"{i},{i * 2},{i % 2}\n" for i in range(20)]
    rows.insert(place - 2, ",".join(["1"] * 8_000_000) + "\n")
    path = write(tmp_path, "a,b,label\n" + "".join(rows))
    result = subprocess.run([sys.executable, "-c", MEASURE, str(path), drop],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    said, figures = result.stdout.splitlines()
    seconds, peak_kib = map(float, figures.split())
    if drop == "drop":
        assert said == "rows 20"
    else:
        assert said.startswith(f"error line {place} is 15 MiB long (about 8,000,000 fields")
    assert seconds < 20 and peak_kib < 1 << 20  # was 233 s and 7.4 GB; now ~1 s, 0.2 GB


def test_a_first_data_row_longer_than_the_header_is_not_cut(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0,4,5\n" + "3,4,1\n" * 5)
    with pytest.raises(DataError, match="line 2, column 'label': the line has 5 fields"):
        read_csv(path, target="label")
    assert len(read_csv(path, target="label", drop_bad_rows=True).X) == 5


# -- 'new' on a large file -------------------------------------------------------------
def test_new_says_it_is_reading_a_large_file_and_how_long_it_took(tmp_path, capsys,
                                                                   monkeypatch):
    from core import cli

    path = write(tmp_path, "a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n"
                                                   for i in range(200)))
    monkeypatch.setattr(cli, "LARGE_DATA_BYTES", 1000)  # this file counts as large
    assert cli.main(["new", "--data", str(path), "--target", "label", "-o",
                     str(tmp_path / "p.annproj")]) == 0
    err = capsys.readouterr().err.split("\n")  # the bar redraws itself with \r
    assert err[0].startswith("reading data.csv (0 MiB, about 1 s)...")
    closing = err[1].split("\r")[-1]
    assert closing.startswith("read data.csv in ") and closing.endswith(" s")


def test_new_shows_a_progress_bar_while_reading_a_large_file(tmp_path, capsys, monkeypatch):
    from core import cli

    path = write(tmp_path, "a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n"
                                                   for i in range(200)))
    size = path.stat().st_size
    monkeypatch.setattr(cli, "LARGE_DATA_BYTES", 1000)
    assert cli.main(["new", "--data", str(path), "--target", "label", "-o",
                     str(tmp_path / "p.annproj")]) == 0
    bar = capsys.readouterr().err.split("\n")[1]
    assert "reading data.csv:" in bar and f"/{size / 1024:.2f}k" in bar and "B/s" in bar


def test_new_on_a_small_file_says_nothing_on_stderr(tmp_path, capsys):
    from core.cli import main

    path = write(tmp_path, "a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(50)))
    assert main(["new", "--data", str(path), "--target", "label", "-o",
                 str(tmp_path / "p.annproj")]) == 0
    assert capsys.readouterr().err == ""


def test_new_takes_several_target_columns_for_a_regression(tmp_path, capsys):
    from core.cli import main
    from core.project import load_project

    path = write(tmp_path, "chins,situps,weight,pulse\n" + "".join(
        f"{i % 17},{50 + i * 3},{150 + i},{60 + i % 9}\n" for i in range(40)))
    project = tmp_path / "p.annproj"
    assert main(["new", "--data", str(path), "--target", "weight,pulse", "-o",
                 str(project)]) == 0
    assert main(["train", str(project), "--epochs", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["predict", str(project), str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "weight,pulse" and len(out) == 41 and len(out[1].split(",")) == 2
    saved = load_project(project)
    assert saved.data["target"] == ["weight", "pulse"] and saved.data["task"] == "regression"
