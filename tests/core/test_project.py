"""The project file: exact round trips, migrations, atomic saves, hostile files."""

from __future__ import annotations

import io
import json
import math
import os
import time
import zipfile

import numpy as np
import pytest

from core import project as project_module
from core.network import Network
from core.project import (
    FORMAT,
    VERSION,
    Project,
    ProjectError,
    build_network,
    extract_data,
    load_project,
    save_project,
)
from core.safe_zip import write_npz_bytes

SPEC = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                  {"id": "h1", "type": "Dense", "units": 8, "activation": "tanh"},
                  {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
        "edges": [["in", "h1"], ["h1", "out"]]}


def trained_project() -> Project:
    net = Network.from_spec(SPEC, seed=3)
    rng = np.random.default_rng(0)
    weights = net.get_weights()
    for arrays in weights.values():
        for value in arrays.values():
            value[...] = rng.normal(size=value.shape)
    return Project(
        name="spiral", description="Three arms, one net.", spec=SPEC,
        layout={"in": [0.0, 10.5], "h1": [120.0, -3.25], "out": [240.0, 0.0]},
        data={"kind": "builtin", "name": "spiral3", "params": {"n_samples": 300, "noise": 0.1}},
        preprocessing={"method": "standardize", "offset": [0.1, -0.2], "scale": [1.5, 0.7]},
        split={"val": 0.25, "test": 0.1, "seed": 7},
        training={"loss": "categorical_crossentropy", "optimizer": {"type": "adam", "lr": 1e-3},
                  "batch_size": 16, "epochs": 20, "seed": 3, "schedule": None, "l1": 0.0,
                  "l2": 1e-4, "clipnorm": None},
        weights=weights,
        optimizer_state={"iterations": 42, "m": rng.normal(size=59).astype(np.float32),
                         "v": rng.random(59)},
        history={"loss": [1.1, 0.7, 0.123456789012345678, float("nan")],
                 "val_loss": [1.2, 0.8, 0.5, float("inf")], "lr": [1e-3] * 4,
                 "batch_loss": [np.float32(0.25).item(), 0.5]},
        class_names=["red", "green", "blue"],
        extra={"theme": "dark", "view": {"zoom": 1.25, "center": [3, 4]}},
    )


def same_number(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# ---- round trip -----------------------------------------------------------------------

def test_round_trip_gives_back_exactly_what_was_saved(tmp_path):
    original = trained_project()
    path = tmp_path / "spiral.annproj"
    save_project(original, path)
    loaded = load_project(path)
    for field in ("name", "description", "spec", "layout", "data", "preprocessing", "split",
                  "training", "class_names", "extra"):
        assert getattr(loaded, field) == getattr(original, field), field
    assert loaded.history.keys() == original.history.keys()
    for key, values in original.history.items():
        assert all(same_number(a, b) for a, b in zip(values, loaded.history[key], strict=True))
    assert loaded.weights.keys() == original.weights.keys()
    for node_id, arrays in original.weights.items():
        for name, value in arrays.items():
            got = loaded.weights[node_id][name]
            assert got.dtype == value.dtype and got.shape == value.shape
            assert got.tobytes() == value.tobytes()   # bit-identical
    state = loaded.optimizer_state
    assert state["iterations"] == 42 and isinstance(state["iterations"], int)
    for key in ("m", "v"):
        assert state[key].dtype == original.optimizer_state[key].dtype
        assert state[key].tobytes() == original.optimizer_state[key].tobytes()


def test_saved_network_predicts_exactly_as_before(tmp_path):
    project = trained_project()
    path = tmp_path / "p.annproj"
    save_project(project, path)
    X = np.random.default_rng(1).normal(size=(20, 2)).astype(np.float32)
    before = build_network(project).predict(X)
    after = build_network(load_project(path)).predict(X)
    assert np.array_equal(before, after)


def test_same_project_gives_the_same_bytes(tmp_path):
    project = trained_project()
    save_project(project, tmp_path / "a.annproj")
    time.sleep(0.01)
    save_project(project, tmp_path / "b.annproj")
    assert (tmp_path / "a.annproj").read_bytes() == (tmp_path / "b.annproj").read_bytes()


def test_untrained_project_and_defaults_round_trip(tmp_path):
    path = tmp_path / "empty.annproj"
    save_project(Project(), path)
    loaded = load_project(path)
    assert loaded.weights is None and loaded.optimizer_state is None
    assert loaded.spec == {"nodes": [], "edges": []} and loaded.name == "Untitled"
    assert set(zipfile.ZipFile(path).namelist()) == {"project.json"}


def test_embedded_data_round_trip(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_bytes(b"x1,x2,label\n0.5,1.5,a\n-1,2,b\n")
    project = Project(spec=SPEC, data={"kind": "file", "path": str(csv), "target": "label",
                                       "features": ["x1", "x2"], "categorical": [],
                                       "embedded": True})
    path = tmp_path / "p.annproj"
    save_project(project, path)
    csv.unlink()   # the project no longer needs the original
    loaded = load_project(path)
    assert loaded.embedded_data == b"x1,x2,label\n0.5,1.5,a\n-1,2,b\n"
    assert "data/points.csv" in zipfile.ZipFile(path).namelist()
    (tmp_path / "unpacked").mkdir()
    out = extract_data(loaded, tmp_path / "unpacked")
    assert out.name == "points.csv"
    assert out.read_bytes() == loaded.embedded_data


def test_embedding_a_missing_file_is_a_clear_error(tmp_path):
    project = Project(data={"kind": "file", "path": str(tmp_path / "gone.csv"),
                            "embedded": True})
    with pytest.raises(ProjectError, match="Cannot embed the data file"):
        save_project(project, tmp_path / "p.annproj")


# ---- saving safely ---------------------------------------------------------------------

def test_crash_after_temp_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.annproj"
    save_project(trained_project(), path)
    old = path.read_bytes()

    def crash(src, dst):
        assert os.path.getsize(src) > 0   # the temp file was fully written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_module.os, "replace", crash)
    changed = trained_project()
    changed.name = "changed"
    with pytest.raises(ProjectError, match="No space left on device"):
        save_project(changed, path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["p.annproj"]   # temp file removed
    assert load_project(path).name == "spiral"


def test_interrupted_save_removes_temp_and_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.annproj"
    save_project(trained_project(), path)
    old = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(project_module.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_project(Project(name="new"), path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["p.annproj"]


def test_saving_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "projects" / "real.annproj"
    real.parent.mkdir()
    save_project(Project(name="old"), real)
    link = tmp_path / "link.annproj"
    link.symlink_to(real)
    save_project(Project(name="new"), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_project(real).name == "new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.annproj"]  # no temp


def test_saving_a_hard_linked_file_keeps_the_links_joined(tmp_path):
    first = tmp_path / "a.annproj"
    save_project(Project(name="old"), first)
    second = tmp_path / "b.annproj"
    os.link(first, second)
    save_project(Project(name="new"), second)
    assert os.path.samefile(first, second)
    assert load_project(first).name == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.annproj", "b.annproj"]


def test_a_read_only_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / "p.annproj"
    save_project(Project(name="old"), path)
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(ProjectError, match="read-only; use Save as"):
        save_project(Project(name="new"), path)
    assert path.read_bytes() == before and oct(path.stat().st_mode & 0o777) == "0o444"


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    loop = tmp_path / "loop.annproj"
    loop.symlink_to(loop)
    with pytest.raises(ProjectError, match="symbolic link"):
        save_project(Project(name="x"), loop)


def test_save_refuses_unstorable_values(tmp_path):
    project = Project(spec=SPEC, weights={"h1": {"kernel": np.array([object()])}})
    with pytest.raises(ProjectError, match="only numeric arrays"):
        save_project(project, tmp_path / "p.annproj")
    with pytest.raises(ProjectError, match="cannot store"):
        save_project(Project(extra={"x": object()}), tmp_path / "p.annproj")
    with pytest.raises(ProjectError, match="position of node 'a'"):
        save_project(Project(layout={"a": [1, "left"]}), tmp_path / "p.annproj")
    with pytest.raises(ProjectError, match="position of node 'b'"):
        save_project(Project(layout={"b": [1, float("nan")]}), tmp_path / "p.annproj")
    with pytest.raises(ProjectError, match="does not exist"):
        save_project(Project(), tmp_path / "no" / "such" / "p.annproj")
    assert list(tmp_path.iterdir()) == []


# ---- migrations ------------------------------------------------------------------------

def write_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def document(**changes) -> bytes:
    doc = {"format": FORMAT, "version": VERSION, "name": "x", "spec": SPEC, "files": {}}
    doc.update(changes)
    return json.dumps(doc).encode()


def test_version_0_file_is_migrated(tmp_path):
    weights = Network.from_spec(SPEC, seed=0).get_weights()
    npz = write_npz_bytes({f"{n}/{k}": v for n, a in weights.items() for k, v in a.items()})
    v0 = {"format": FORMAT, "version": 0, "name": "old", "network": SPEC,
          "layout": {"in": {"x": 1, "y": 2}, "h1": {"x": 3.5, "y": 4}}, "has_weights": True}
    path = write_zip(tmp_path / "old.annproj",
                     {"project.json": json.dumps(v0).encode(), "weights.npz": npz})
    loaded = load_project(path)
    assert loaded.spec == SPEC and loaded.name == "old"
    assert loaded.layout == {"in": [1, 2], "h1": [3.5, 4]}
    assert np.array_equal(loaded.weights["out"]["kernel"], weights["out"]["kernel"])
    assert project_module.MIGRATIONS[0] is not None and VERSION == 1


def test_newer_version_asks_to_update(tmp_path):
    path = write_zip(tmp_path / "new.annproj", {"project.json": document(version=7)})
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert ("made by a newer ANN Designer (version 7); this version reads up to 1; "
            "please update") in str(info.value)


@pytest.mark.parametrize("version", [-1, "1", 1.5, None, True])
def test_nonsense_version_is_refused(tmp_path, version):
    path = write_zip(tmp_path / "p.annproj", {"project.json": document(version=version)})
    with pytest.raises(ProjectError, match="format version"):
        load_project(path)


# ---- hostile and damaged files ----------------------------------------------------------

def expect_error(path, pattern: str) -> str:
    with pytest.raises(ProjectError, match=pattern) as info:
        load_project(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_not_a_zip(tmp_path):
    path = tmp_path / "p.annproj"
    path.write_text("hello, I am a text file")
    expect_error(path, "not a zip archive")


def test_missing_file_and_folder(tmp_path):
    expect_error(tmp_path / "nothing.annproj", "does not exist")
    expect_error(tmp_path, "not a file")


def test_truncated_file(tmp_path):
    path = tmp_path / "p.annproj"
    save_project(trained_project(), path)
    content = path.read_bytes()
    for cut in (len(content) // 2, len(content) - 30, 100):
        path.write_bytes(content[:cut])
        expect_error(path, "not a zip archive|truncated|damaged")


def test_corrupt_member_data(tmp_path):
    path = tmp_path / "p.annproj"
    save_project(trained_project(), path)
    content = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("project.json")
    start = info.header_offset + 30 + len(info.filename) + 10
    for i in range(start, start + 40):
        content[i] ^= 0x5A
    path.write_bytes(bytes(content))
    expect_error(path, "damaged|not valid JSON|not UTF-8")


def test_invalid_json(tmp_path):
    path = write_zip(tmp_path / "p.annproj", {"project.json": b'{"format": "ann-designer-'
                                                             b'project", "version": 1,,}'})
    expect_error(path, r"not valid JSON \(line 1, column")


def test_json_that_is_not_an_object_or_not_utf8(tmp_path):
    expect_error(write_zip(tmp_path / "a.annproj", {"project.json": b"[1, 2]"}),
                 "should hold an object")
    expect_error(write_zip(tmp_path / "b.annproj", {"project.json": b"\xff\xfe{}"}),
                 "not UTF-8")


def test_deeply_nested_json(tmp_path):
    deep = b'{"format": "ann-designer-project", "version": 1, "extra": ' + \
        b"[" * 100_000 + b"]" * 100_000 + b"}"
    expect_error(write_zip(tmp_path / "p.annproj", {"project.json": deep}), "nested too deeply")


def test_missing_members(tmp_path):
    expect_error(write_zip(tmp_path / "a.annproj", {"weights.npz": b""}), "no project.json")
    listed = document(files={"weights": "weights.npz", "data": None})
    expect_error(write_zip(tmp_path / "b.annproj", {"project.json": listed}),
                 "'weights.npz' listed in project.json is missing")
    embedded = document(data={"kind": "file", "path": "x.csv", "embedded": True})
    expect_error(write_zip(tmp_path / "c.annproj", {"project.json": embedded}),
                 "marked as embedded")


def test_unknown_format(tmp_path):
    other = json.dumps({"format": "keras-model", "version": 1}).encode()
    expect_error(write_zip(tmp_path / "a.annproj", {"project.json": other}),
                 "not an ANN Designer project.*keras-model")
    expect_error(write_zip(tmp_path / "b.annproj", {"project.json": b'{"version": 1}'}),
                 "format none")


@pytest.mark.parametrize("name", ["../evil.txt", "data/../../evil", "/etc/passwd",
                                  "C:/Windows/evil", "..\\evil"])
def test_unsafe_member_names(tmp_path, name):
    path = write_zip(tmp_path / "p.annproj", {"project.json": document(), name: b"x"})
    expect_error(path, "unsafe name")


def test_embedded_data_member_must_live_under_data(tmp_path):
    doc = document(files={"data": "project.json"})
    expect_error(write_zip(tmp_path / "p.annproj", {"project.json": doc}), "under data/")


def test_zip_bomb_by_compression_ratio(tmp_path):
    bomb = document(description=" " * (30 * 1024**2))   # 30 MiB of spaces, ~30 KiB packed
    path = write_zip(tmp_path / "p.annproj", {"project.json": bomb})
    expect_error(path, "expands .* times")


def test_zip_bomb_by_total_size_is_refused_before_reading(tmp_path, monkeypatch):
    path = write_zip(tmp_path / "p.annproj", {"project.json": document(), "data/a": b"1" * 600,
                                              "data/b": b"2" * 600}, zipfile.ZIP_STORED)
    monkeypatch.setattr(project_module, "MAX_TOTAL_BYTES", 1000)
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: read.append(a))
    expect_error(path, "unpack to more than")
    assert read == []   # refused from the central directory alone


def test_member_longer_than_declared_is_caught(tmp_path):
    """A lying size in the zip directory cannot make reading allocate more."""
    path = write_zip(tmp_path / "p.annproj", {"project.json": document(description="x" * 5000)},
                     zipfile.ZIP_STORED)
    content = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo("project.json")
    # rewrite the declared uncompressed size in the central directory to 10 bytes
    central = content.rfind(b"PK\x01\x02")
    content[central + 24:central + 28] = (10).to_bytes(4, "little")
    assert info.file_size > 10
    path.write_bytes(bytes(content))
    expect_error(path, "damaged|truncated|not valid JSON")


def test_too_many_members(tmp_path):
    members = {"project.json": document(), **{f"data/{i}": b"" for i in range(100)}}
    expect_error(write_zip(tmp_path / "p.annproj", members), "members")


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    write_zip(buffer, members, zipfile.ZIP_STORED)
    return buffer.getvalue()


def project_with_npz(tmp_path, npz: bytes):
    doc = document(files={"weights": "weights.npz"}, has_weights=True)
    return write_zip(tmp_path / "p.annproj", {"project.json": doc, "weights.npz": npz})


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path, monkeypatch):
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    evil = npy_bytes(np.array([Boom()], dtype=object), allow_pickle=True)
    path = project_with_npz(tmp_path, npz_with({"h1/kernel.npy": evil}))
    expect_error(path, "Python objects .*never loaded")
    assert not (tmp_path / "pwned").exists()


def test_npz_with_structured_or_text_arrays_is_refused(tmp_path):
    structured = npy_bytes(np.zeros(3, dtype=[("a", "f4"), ("b", "i4")]))
    expect_error(project_with_npz(tmp_path, npz_with({"h1/kernel.npy": structured})),
                 "only numeric arrays")
    text = npy_bytes(np.array(["abc"]))
    expect_error(project_with_npz(tmp_path, npz_with({"h1/kernel.npy": text})),
                 "only numeric arrays")


def test_npy_header_claiming_a_huge_shape_allocates_nothing(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    raw = header.getvalue() + b"\0" * 64
    start = time.perf_counter()
    expect_error(project_with_npz(tmp_path, npz_with({"h1/kernel.npy": raw})),
                 "does not match its shape")
    assert time.perf_counter() - start < 2


def test_npz_damage_cases(tmp_path):
    expect_error(project_with_npz(tmp_path, b"not a zip"), "not a valid .npz")
    expect_error(project_with_npz(tmp_path, npz_with({"h1/kernel.txt": b"1"})),
                 "not a .npy array")
    expect_error(project_with_npz(tmp_path, npz_with({"h1/kernel.npy": b"\x93NUMPY junk"})),
                 "not a valid .npy array")
    good = npy_bytes(np.zeros(3))
    expect_error(project_with_npz(tmp_path, npz_with({"kernel.npy": good})),
                 "not a 'node_id/name' weight key")


def test_dense_with_a_trillion_units_is_refused_by_the_size_check(tmp_path):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "big", "type": "Dense", "units": 10**12}],
            "edges": [["in", "big"]]}
    start = time.perf_counter()
    message = expect_error(write_zip(tmp_path / "p.annproj", {"project.json": document(
        spec=spec)}), "node 'big' has units = 1000000000000")
    assert "damaged or hostile" in message
    assert time.perf_counter() - start < 2


def test_network_too_large_for_memory_is_refused(tmp_path):
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [100_000]},
                      {"id": "wide", "type": "Dense", "units": 100_000}],
            "edges": [["in", "wide"]]}
    expect_error(write_zip(tmp_path / "p.annproj", {"project.json": document(spec=spec)}),
                 "10,000,100,000 parameters")


@pytest.mark.parametrize("changes, pattern", [
    ({"spec": [1, 2]}, "'spec' should be an object"),
    ({"spec": {"nodes": [{"type": "Dense"}], "edges": []}}, "node number 1 needs a text 'id'"),
    ({"spec": {"nodes": [], "edges": [["a"]]}}, "every edge should be"),
    ({"layout": {"in": ["a", 1]}}, "position of node 'in'"),
    ({"layout": {"in": [1e400, 1]}}, "position of node 'in'"),
    ({"name": 5}, "'name' should be text"),
    ({"training": []}, "'training' should be an object"),
    ({"history": {"loss": 1}}, "'history' should map"),
    ({"class_names": [1, 2]}, "'class_names' should be a list of text"),
    ({"preprocessing": {"method": "standardize", "offset": ["a"], "scale": [1]}},
     "preprocessing 'offset'"),
    ({"preprocessing": {"method": "standardize", "offset": [0], "scale": [0]}},
     "divide by zero"),
    ({"files": {"weights": 3}}, "'files' should map"),
])
def test_wrong_types_in_project_json(tmp_path, changes, pattern):
    expect_error(write_zip(tmp_path / "p.annproj", {"project.json": document(**changes)}),
                 pattern)


def test_invalid_design_still_opens(tmp_path):
    """A half-built design may be saved and opened; only building it is refused."""
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [2]},
                      {"id": "lonely", "type": "Dense", "units": 3}], "edges": []}
    path = tmp_path / "p.annproj"
    save_project(Project(name="wip", spec=spec), path)
    loaded = load_project(path)
    assert loaded.spec == spec
    with pytest.raises(ProjectError, match="is not valid: .*lonely"):
        build_network(loaded)


def test_invalid_design_error_is_one_line_with_the_fix_and_no_repeated_ids():
    """train/evaluate on a hand-edited file: each problem once, with its hint."""
    project = trained_project()
    project.weights = None
    project.spec = json.loads(json.dumps(SPEC))
    project.spec["nodes"][1]["activation"] = "relu6"
    with pytest.raises(ProjectError) as info:
        build_network(project)
    message = str(info.value)
    assert "\n" not in message and "h1: h1:" not in message
    assert "activation 'relu6' is not known" in message and "Did you mean 'relu'?" in message
    project.spec["nodes"][1]["activation"] = "tanh"
    project.spec["edges"].append(["out", "h1"])  # a cycle
    with pytest.raises(ProjectError, match="form a loop. Networks must flow one way"):
        build_network(project)


@pytest.mark.parametrize("seed", [-1, "x", 2.5])
def test_bad_training_seed_is_a_project_error(seed):
    project = trained_project()
    project.training["seed"] = seed
    with pytest.raises(ProjectError, match="training seed .* whole number >= 0"):
        build_network(project)


def test_weights_that_do_not_fit_the_design(tmp_path):
    project = trained_project()
    project.weights["h1"]["kernel"] = np.zeros((3, 8), np.float32)
    with pytest.raises(ProjectError, match=r"'h1/kernel' has shape \(3, 8\) but the network "
                                           r"needs \(2, 8\)"):
        build_network(project)
    project.weights = {"ghost": {"kernel": np.zeros(2)}}
    with pytest.raises(ProjectError, match="'ghost/kernel' has no place"):
        build_network(project)


def test_relative_data_path_counts_from_the_project_folder(tmp_path, monkeypatch):
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "d.csv").write_bytes(b"a,b\n1,2\n")
    monkeypatch.chdir("/")
    project = Project(data={"kind": "file", "path": "sets/d.csv", "embedded": True})
    save_project(project, tmp_path / "p.annproj")
    assert load_project(tmp_path / "p.annproj").embedded_data == b"a,b\n1,2\n"


@pytest.mark.parametrize("node_id", ["..", "/abs", "C:x"])
def test_node_ids_that_look_like_paths_are_refused_on_save(tmp_path, node_id):
    project = Project(weights={node_id: {"kernel": np.zeros(2)}})
    with pytest.raises(ProjectError, match="rename the node"):
        save_project(project, tmp_path / "p.annproj")


def test_hand_made_file_without_a_files_table(tmp_path):
    weights = Network.from_spec(SPEC, seed=0).get_weights()
    npz = write_npz_bytes({f"{n}/{k}": v for n, a in weights.items() for k, v in a.items()})
    doc = json.dumps({"format": FORMAT, "version": 1, "spec": SPEC}).encode()
    loaded = load_project(write_zip(tmp_path / "p.annproj",
                                    {"project.json": doc, "weights.npz": npz}))
    assert np.array_equal(loaded.weights["h1"]["bias"], weights["h1"]["bias"])


def test_random_damage_always_gives_one_clear_line(tmp_path):
    """Seeded byte flips anywhere in a real file: a ProjectError line (or a clean load)."""
    path = tmp_path / "p.annproj"
    save_project(trained_project(), path)
    raw = path.read_bytes()
    rng = np.random.default_rng(0)
    damaged = tmp_path / "damaged.annproj"
    for _ in range(100):
        content = bytearray(raw)
        for _ in range(int(rng.integers(1, 6))):
            content[int(rng.integers(len(content)))] = int(rng.integers(256))
        damaged.write_bytes(bytes(content))
        try:
            load_project(damaged)
        except ProjectError as exc:
            message = str(exc)
            assert "\n" not in message and len(message) < 400
            assert "cannot be read: " not in message, message   # no generic fallback
