"""The project file (``.annproj``): read, write, migrate and check it.

A project file is a zip archive holding

- ``project.json``: format name, version, network spec, canvas layout, data source,
  preprocessing, split, training settings, history, class names and designer extras;
- ``weights.npz`` (optional): trained weights under ``"node_id/name"`` keys and the
  optimizer's array state under ``"@optimizer/key"`` keys;
- ``data/<file>`` (optional): the embedded data file.

Project files travel between people, so reading one treats it as hostile: sizes are
checked before anything is decompressed or allocated, nothing is ever unpickled or
evaluated (``core.safe_zip`` parses ``.npy`` arrays and accepts only numeric dtypes),
and every problem becomes one :class:`ProjectError` line instead of a traceback.
Saving is atomic: a temporary file in the target folder is written, flushed, fsynced and
renamed over the old file, so a crash mid-save leaves the old file intact.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import shutil
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from core.runs import RUNS_NPZ, RunsError, runs_from_file, runs_to_file
from core.safe_zip import (
    NUMERIC_KINDS,
    ArchiveError,
    check_members,
    open_member,
    read_member,
    read_npz,
    safe_member_name,
    write_npz,
    zip_info,
)

FORMAT = "ann-designer-project"
VERSION = 1
SUFFIX = ".annproj"

PROJECT_JSON = "project.json"
WEIGHTS_NPZ = "weights.npz"
DATA_DIR = "data/"
OPTIMIZER_PREFIX = "@optimizer/"

# Limits for untrusted files. Generous for anything a desktop app trains, small enough
# that a hostile file cannot exhaust memory.
MAX_TOTAL_BYTES = 2 * 1024**3          # all members together, uncompressed
MAX_JSON_BYTES = 256 * 1024**2         # project.json (history can be long)
MAX_MEMBERS = 64                       # members of the project zip
MAX_ARRAYS = 100_000                   # arrays inside weights.npz
MAX_PARAMETERS = 2**28                 # bound on any whole number in a node's settings
MAX_NODES = 10_000
MAX_EDGES = 100_000


class ProjectError(Exception):
    """A project file cannot be read or written; the message is one line for people."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def _default_split() -> dict[str, Any]:
    return {"val": 0.2, "test": 0.0, "seed": 0}


def _default_spec() -> dict[str, Any]:
    return {"nodes": [], "edges": []}


@dataclass(eq=False)
class Project:
    """Everything the designer saves: the design, how to get data, how to train, results.

    ``weights`` maps node id -> {name: ndarray}; ``optimizer_state`` is the optimizer's
    ``state_dict()`` (arrays, numbers, strings); ``embedded_data`` holds the bytes of the
    data file when ``data["embedded"]`` is true (see :func:`extract_data`).
    """

    name: str = "Untitled"
    description: str = ""
    spec: dict[str, Any] = field(default_factory=_default_spec)
    layout: dict[str, list[float]] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    preprocessing: dict[str, Any] | None = None
    split: dict[str, Any] = field(default_factory=_default_split)
    training: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, dict[str, np.ndarray]] | None = None
    optimizer_state: dict[str, Any] | None = None
    history: dict[str, list] = field(default_factory=dict)
    class_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    embedded_data: bytes | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)  # see core.runs


# --------------------------------------------------------------------------- saving


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write ``project`` to ``path`` atomically (old file intact if anything fails)."""
    path = Path(path)
    members = _project_members(project, path.parent)
    write_atomically(path, lambda handle: _write_zip(handle, members))


_Content = bytes | Callable[[Any], None]   # bytes, or a function writing to a stream


def _project_members(project: Project, folder: Path) -> list[tuple[str, _Content, int]]:
    """(member name, content, compression) for every member of the archive, in order.

    ``folder`` is where the project goes: a relative data path counts from there.
    The weights are a writer function so that they stream into the file instead of
    being copied into memory several times (a big network's weights are large).
    """
    arrays, scalars = _split_optimizer_state(project.optimizer_state)
    weight_arrays = _weight_arrays(project.weights)
    weight_arrays.update({OPTIMIZER_PREFIX + key: value for key, value in arrays.items()})
    data_member, data_bytes = _data_member(project, folder)
    run_records, run_arrays = runs_to_file(project.runs)
    files = {"weights": WEIGHTS_NPZ if weight_arrays else None, "data": data_member}
    if run_arrays:
        files["runs"] = RUNS_NPZ
    document = {
        "format": FORMAT,
        "version": VERSION,
        "generator": "ANN Designer",
        "name": project.name,
        "description": project.description,
        "spec": project.spec,
        "layout": _layout_to_save(project.layout),
        "data": project.data,
        "preprocessing": project.preprocessing,
        "split": project.split,
        "training": project.training,
        "class_names": project.class_names,
        "history": project.history,
        "has_weights": project.weights is not None,
        "optimizer_state": None if project.optimizer_state is None
        else {"arrays": sorted(arrays), "values": scalars},
        "files": files,
        "extra": project.extra,
    }
    if run_records:  # optional: older files have none, and older readers ignore it
        document["runs"] = run_records
    members: list[tuple[str, _Content, int]] = [
        (PROJECT_JSON, _dump_json(document), zipfile.ZIP_DEFLATED)]
    if weight_arrays:
        # Stored, not deflated: trained weights hardly compress, and a stored member
        # keeps the compression-ratio check on load meaningful.
        members.append((WEIGHTS_NPZ, lambda stream: write_npz(stream, weight_arrays),
                        zipfile.ZIP_STORED))
    if run_arrays:
        members.append((RUNS_NPZ, lambda stream: write_npz(stream, run_arrays),
                        zipfile.ZIP_STORED))
    if data_member is not None:
        members.append((data_member, data_bytes, zipfile.ZIP_DEFLATED))
    return members


def _layout_to_save(layout: Mapping[str, Any]) -> dict[str, list[float]]:
    """Positions as [x, y] floats; a broken position is refused, not written."""
    out = {}
    for node_id, pos in (layout or {}).items():
        try:
            x, y = (float(v) for v in pos)
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError("not finite")
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"Cannot save: the position of node '{node_id}' is "
                               f"{_short(pos)}, not [x, y].") from exc
        out[str(node_id)] = [x, y]
    return out


def _dump_json(document: dict[str, Any]) -> bytes:
    def default(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
            return value.tolist()
        if isinstance(value, (tuple, set, frozenset)):
            return list(value)
        raise TypeError(type(value).__name__)

    # Readable, diff-friendly layout, except the history: one line per list, not per value.
    token = f"@history-{secrets.token_hex(8)}@"
    try:
        history = _history_json(document.get("history"), default)
        text = json.dumps({**document, "history": token}, indent=1, default=default,
                          ensure_ascii=False).replace(json.dumps(token), history, 1)
    except (TypeError, ValueError) as exc:
        raise ProjectError(
            f"Cannot save: a setting holds a value of type {exc} that a project file "
            "cannot store (only numbers, text, lists and dictionaries).") from exc
    return text.encode("utf-8")


def _history_json(history: Any, default: Callable[[Any], Any]) -> str:
    """The history object with one line per metric (a compact list of numbers)."""
    if not isinstance(history, dict) or not history:
        return json.dumps(history, default=default)
    lines = [f"  {json.dumps(str(key))}: "
             f"{json.dumps(values, default=default, separators=(',', ':'))}"
             for key, values in history.items()]
    return "{\n" + ",\n".join(lines) + "\n }"


def _weight_arrays(weights: Mapping[str, Mapping[str, Any]] | None) -> dict[str, np.ndarray]:
    """Flatten {node_id: {name: array}} into {"node_id/name": array}, numeric only."""
    flat: dict[str, np.ndarray] = {}
    for node_id, named in (weights or {}).items():
        for name, value in named.items():
            key = f"{node_id}/{name}"
            if not safe_member_name(key):
                raise ProjectError(f"Cannot save the weights of node '{node_id}': its id "
                                   "looks like a file path ('..', leading '/' or 'C:'); "
                                   "rename the node.")
            flat[key] = _numeric_array(value, f"weight '{key}'")
    return flat


def _numeric_array(value: Any, what: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
        raise ProjectError(f"Cannot save {what}: it holds {array.dtype} values, "
                           "but only numeric arrays can be stored.")
    return array


def _split_optimizer_state(state: Mapping[str, Any] | None,
                           ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Optimizer arrays go to weights.npz, plain values (step count, lr) to the JSON."""
    arrays: dict[str, np.ndarray] = {}
    values: dict[str, Any] = {}
    for key, value in (state or {}).items():
        if isinstance(value, np.ndarray):
            arrays[str(key)] = _numeric_array(value, f"optimizer state '{key}'")
        elif isinstance(value, np.generic):
            values[str(key)] = value.item()
        else:
            values[str(key)] = value
    return arrays, values


def _data_member(project: Project, folder: Path) -> tuple[str | None, bytes]:
    """The embedded data file's member name and bytes, or (None, b"")."""
    data = project.data or {}
    if not (data.get("kind") == "file" and data.get("embedded")):
        return None, b""
    source = data.get("path") or "data.csv"
    name = _data_file_name(source)
    content = project.embedded_data
    if content is None:
        source = Path(source)
        if not source.is_absolute() and (folder / source).is_file():
            source = folder / source
        try:
            size = os.path.getsize(source)
            if size > MAX_TOTAL_BYTES // 2:
                raise ProjectError(f"Cannot embed the data file {source}: it is "
                                   f"{size / 1024**3:.1f} GiB, more than a project can hold; "
                                   "keep it as a linked file instead.")
            content = source.read_bytes()
        except OSError as exc:
            raise ProjectError(f"Cannot embed the data file {source}: {exc.strerror or exc}; "
                               "check the path or turn embedding off.") from exc
    return DATA_DIR + name, bytes(content)


def _data_file_name(source: Any) -> str:
    """The bare file name of a data path (any OS), never empty, '.' or '..'."""
    name = PurePosixPath(str(source or "").replace("\\", "/")).name
    return name if name not in ("", ".", "..") and ":" not in name else "data.csv"


def _write_zip(handle: io.BufferedWriter, members: list[tuple[str, _Content, int]]) -> None:
    with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        for name, content, compression in members:
            info = zip_info(name, compression)
            if callable(content):
                with archive.open(info, "w", force_zip64=True) as stream:
                    content(stream)
            else:
                archive.writestr(info, content)


def write_atomically(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write through ``write`` into a temp file beside ``path``, fsync, then rename it.

    The temp file lives in the same folder so that ``os.replace`` is an atomic rename on
    the same file system; readers see either the old file or the complete new one.
    What the user made around the file is kept: a symbolic link is followed (its target
    is replaced, the link stays a link), a file with several hard links is rewritten in
    place from the complete temp file (so every link sees the new content), and a
    read-only file is refused rather than replaced.
    """
    path = _save_target(Path(path))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ProjectError(f"Cannot save {path}: the folder {folder} does not exist.")
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        old = path.stat() if path.exists() else None
        if old is not None and old.st_nlink > 1:
            _copy_in_place(temp, path)
            _remove_quietly(temp)
        else:
            if old is not None:
                os.chmod(temp, old.st_mode & 0o7777)
            os.replace(temp, path)
    except OSError as exc:
        _remove_quietly(temp)
        raise ProjectError(f"Cannot save {path}: {exc.strerror or exc}; "
                           "check that the folder is writable and the disk not full.") from exc
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_folder(folder)


def _save_target(path: Path) -> Path:
    """The file a save must write: a symlink's target; ProjectError for a link loop or a
    read-only file (its mode bits, so that root is refused as a normal user is)."""
    if path.is_symlink():
        try:
            path = path.resolve(strict=False)
        except (RuntimeError, OSError) as exc:  # a loop: RuntimeError before Python 3.13
            raise ProjectError(f"Cannot save {path}: it is a symbolic link that points to "
                               "itself in a loop; save under another name.") from exc
        if path.is_symlink():  # resolve() stops on a loop on some systems
            raise ProjectError(f"Cannot save {path}: it is a symbolic link loop; "
                               "save under another name.")
    if path.exists() and not path.stat().st_mode & 0o222:
        raise ProjectError(f"Cannot save {path}: the file is read-only; use Save as with "
                           "another name, or make the file writable first.")
    return path


def _copy_in_place(source: Path, target: Path) -> None:
    """Overwrite ``target``'s content (same inode, so hard links stay joined)."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -------------------------------------------------------------------------- loading


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file, refusing anything damaged, hostile or from a newer version."""
    path = Path(path)
    try:
        return _load(path)
    except ProjectError:
        raise
    except ArchiveError as exc:
        raise ProjectError(str(exc)) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ProjectError(f"{path.name} is damaged ({_short(exc, 80)}); it cannot be read. "
                           "Use a backup copy of the project.") from exc
    except NotImplementedError as exc:
        raise ProjectError(f"{path.name} uses a zip feature ANN Designer does not support "
                           f"({_short(exc, 80)}); it was not written by ANN Designer.") from exc
    except MemoryError as exc:
        raise ProjectError(f"{path.name} needs more memory than is available.") from exc
    except Exception as exc:  # noqa: BLE001 - a hostile file must never show a traceback
        raise ProjectError(f"{path.name} cannot be read: {type(exc).__name__}: {exc}") from exc


def _load(path: Path) -> Project:
    if not path.is_file():
        raise ProjectError(f"{path} does not exist or is not a file.")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ProjectError(f"{path.name} is not an ANN Designer project: it is not a zip "
                           "archive, or it is truncated or damaged.") from exc
    except OSError as exc:
        raise ProjectError(f"Cannot open {path}: {exc.strerror or exc}.") from exc
    with archive:
        where = path.name
        members = check_members(archive.infolist(), where, MAX_MEMBERS, MAX_TOTAL_BYTES)
        if PROJECT_JSON not in members:
            raise ProjectError(f"{where} is not an ANN Designer project, or it is "
                               f"truncated: it has no {PROJECT_JSON}.")
        document = _read_json(archive, members[PROJECT_JSON], where)
        document = migrate(document, where)
        project = _project_from_document(document, where)
        files = _files_entry(document, members, where)
        arrays = {}
        if files.get("weights"):
            info = _member(members, files["weights"], where)
            with open_member(path, archive, info, where) as stream:
                arrays = read_npz(stream, f"{where}: {info.filename}", MAX_ARRAYS,
                                  MAX_TOTAL_BYTES)
        _attach_arrays(project, document, arrays, where)
        project.runs = _runs(path, archive, members, document, files, where)
        if files.get("data"):
            info = _member(members, files["data"], where)
            project.embedded_data = read_member(archive, info, where)
        elif (project.data or {}).get("embedded"):
            raise ProjectError(f"{where}: the data file is marked as embedded but the "
                               "archive has no data/ member; the file is incomplete.")
    return project


def _runs(path: Path, archive: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo],
          document: Mapping[str, Any], files: Mapping[str, Any], where: str) -> list[dict]:
    """The kept training runs (optional; checked like everything else in the file)."""
    arrays: dict[str, np.ndarray] = {}
    if files.get("runs"):
        info = _member(members, files["runs"], where)
        with open_member(path, archive, info, where) as stream:
            arrays = read_npz(stream, f"{where}: {info.filename}", MAX_ARRAYS,
                              MAX_TOTAL_BYTES)
    try:
        return runs_from_file(document.get("runs"), arrays, where)
    except RunsError as exc:
        raise ProjectError(str(exc)) from exc


def _member(members: Mapping[str, zipfile.ZipInfo], name: str, where: str
            ) -> zipfile.ZipInfo:
    if name not in members:
        raise ProjectError(f"{where} is incomplete: the member '{name}' listed in "
                           f"{PROJECT_JSON} is missing.")
    return members[name]


def _read_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> dict:
    if info.file_size > MAX_JSON_BYTES:
        raise ProjectError(f"{where}: {PROJECT_JSON} is {info.file_size / 1024**2:.0f} MiB, "
                           f"more than the {MAX_JSON_BYTES // 1024**2} MiB a project allows.")
    raw = read_member(archive, info, where)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is not valid JSON (line {exc.lineno}, "
                           f"column {exc.colno}: {exc.msg}).") from exc
    except RecursionError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is nested too deeply.") from exc
    if not isinstance(document, dict):
        raise ProjectError(f"{where}: {PROJECT_JSON} should hold an object, not "
                           f"{_kind(document)}.")
    return document


# ------------------------------------------------------------------------ migrations


def _v0_to_v1(document: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (early builds) named the spec ``network``, stored positions as
    ``{"x": .., "y": ..}`` and had no ``files`` table (weights implied by the member)."""
    document = dict(document)
    if "network" in document:
        document["spec"] = document.pop("network")
    layout = document.get("layout")
    if isinstance(layout, dict):
        document["layout"] = {
            key: [pos.get("x"), pos.get("y")] if isinstance(pos, dict) else pos
            for key, pos in layout.items()}
    document.setdefault("files", {"weights": WEIGHTS_NPZ if document.get("has_weights")
                                  else None, "data": None})
    document["version"] = 1
    return document


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
"""version N -> function turning a version-N document into a version-N+1 document."""


def migrate(document: dict[str, Any], where: str = "project") -> dict[str, Any]:
    """Check the format name and bring an older document up to :data:`VERSION`."""
    found = document.get("format")
    if found != FORMAT:
        shown = "none" if found is None else repr(found)[:60]
        raise ProjectError(f"{where} is not an ANN Designer project (format {shown}, "
                           f"expected '{FORMAT}').")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectError(f"{where}: the format version {version!r} is not a whole number "
                           "0 or more; the file is damaged.")
    if version > VERSION:
        raise ProjectError(f"{where} was made by a newer ANN Designer (version {version}); "
                           f"this version reads up to {VERSION}; please update.")
    while version < VERSION:
        document = MIGRATIONS[version](document)
        version = document["version"]
    return document


# ----------------------------------------------------------------- document -> Project


def _project_from_document(doc: dict[str, Any], where: str) -> Project:
    here = f"{where}: {PROJECT_JSON}"
    spec = doc.get("spec", _default_spec())
    check_spec_structure(spec, here)
    check_spec_size(spec, here)
    return Project(
        name=_typed(doc, "name", str, "Untitled", here),
        description=_typed(doc, "description", str, "", here),
        spec=spec,
        layout=_layout(doc.get("layout", {}), here),
        data=_typed(doc, "data", dict, None, here, optional=True),
        preprocessing=_preprocessing(doc.get("preprocessing"), here),
        split=_typed(doc, "split", dict, _default_split(), here),
        training=_typed(doc, "training", dict, {}, here),
        history=_history(doc.get("history", {}), here),
        class_names=_class_names(doc.get("class_names"), here),
        extra=_typed(doc, "extra", dict, {}, here),
        optimizer_state=None,
        weights=None,
    )


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _typed(doc: Mapping[str, Any], key: str, kind: type, default: Any, where: str,
           optional: bool = False) -> Any:
    value = doc.get(key, default)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise ProjectError(f"{where}: '{key}' should be {_kind(kind())}, not {_kind(value)}.")
    return value


def _layout(layout: Any, where: str) -> dict[str, list[float]]:
    if not isinstance(layout, dict):
        raise ProjectError(f"{where}: 'layout' should map node ids to [x, y] positions.")
    for node_id, pos in layout.items():
        ok = (isinstance(pos, list) and len(pos) == 2
              and all(_is_number(v) and math.isfinite(v) for v in pos))
        if not ok:
            raise ProjectError(f"{where}: the position of node '{node_id}' should be "
                               f"[x, y] with two finite numbers, not {str(pos)[:40]}.")
    return layout


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _preprocessing(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("method"), str):
        raise ProjectError(f"{where}: 'preprocessing' should be an object with a "
                           "'method', 'offset' and 'scale'.")
    for key in ("offset", "scale"):
        try:
            array = np.asarray(value.get(key, []), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{where}: preprocessing '{key}' should be a list of "
                               "numbers.") from exc
        if key == "scale" and np.any(array == 0):
            raise ProjectError(f"{where}: preprocessing 'scale' contains 0, which would "
                               "divide by zero; the file is damaged.")
    return value


def _history(value: Any, where: str) -> dict[str, list]:
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise ProjectError(f"{where}: 'history' should map metric names to lists.")
    return value


def _class_names(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(f"{where}: 'class_names' should be a list of text.")
    return value


def _files_entry(doc: Mapping[str, Any], members: Mapping[str, zipfile.ZipInfo],
                 where: str) -> dict[str, Any]:
    """Which member holds what; inferred from the members if a hand-made file has no table."""
    if "files" not in doc:
        data = [name for name in members if name.startswith(DATA_DIR)]
        return {"weights": WEIGHTS_NPZ if WEIGHTS_NPZ in members else None,
                "data": data[0] if len(data) == 1 else None}
    files = doc.get("files")
    ok = isinstance(files, dict) and all(v is None or isinstance(v, str)
                                         for v in files.values())
    if not ok:
        raise ProjectError(f"{where}: {PROJECT_JSON} 'files' should map roles to member "
                           "names.")
    data = files.get("data")
    if data is not None and not data.startswith(DATA_DIR):
        raise ProjectError(f"{where}: the embedded data member must be under {DATA_DIR}, "
                           f"not '{data}'.")
    return files


# ------------------------------------------------------------------- spec safety checks


def check_spec_structure(spec: Any, where: str) -> None:
    """The shape of the spec JSON (not its meaning: a half-built design may be saved)."""
    if not isinstance(spec, dict):
        raise ProjectError(f"{where}: 'spec' should be an object with 'nodes' and 'edges'.")
    nodes, edges = spec.get("nodes"), spec.get("edges", [])
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ProjectError(f"{where}: the network spec needs a 'nodes' list and an "
                           "'edges' list.")
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        raise ProjectError(f"{where}: the network has {len(nodes)} nodes and {len(edges)} "
                           f"edges; at most {MAX_NODES} and {MAX_EDGES} are supported.")
    for index, node in enumerate(nodes):
        if not (isinstance(node, dict) and isinstance(node.get("id"), str)
                and isinstance(node.get("type"), str)):
            raise ProjectError(f"{where}: node number {index + 1} needs a text 'id' and a "
                               "text 'type'.")
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) == 2
                and all(isinstance(end, str) for end in edge)):
            raise ProjectError(f"{where}: every edge should be [source id, target id], "
                               f"not {str(edge)[:40]}.")


def check_spec_size(spec: dict[str, Any], where: str) -> None:
    """Refuse absurd sizes before anything could allocate them.

    Every whole number in a node's settings is bounded first (cheap, and it catches a
    size even behind a broken connection); then ``core.spec.validate`` computes the
    parameter count and per-sample sizes from the shapes alone, without weights, and its
    ``too_large`` problems are refused.  Other problems are not: a half-built design may
    be saved and opened again.
    """
    for node in spec["nodes"]:
        for key, value in node.items():
            if _largest_int(value) > MAX_PARAMETERS:
                raise ProjectError(f"{where}: node '{node['id']}' has {key} = "
                                   f"{_short(value)}, far larger than any network ANN "
                                   "Designer can hold; the file is damaged or hostile.")
    from core.spec import validate

    try:
        problems = validate(spec)
    except Exception:  # noqa: BLE001 - validate promises not to raise; be safe anyway
        problems = []
    for problem in problems:
        if problem.code == "too_large":
            raise ProjectError(f"{where}: {problem.message} {problem.hint}")


def _largest_int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return abs(value)
    if isinstance(value, list):
        return max((_largest_int(v) for v in value), default=0)
    return 0


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# ----------------------------------------------------------------------- weights.npz


def _attach_arrays(project: Project, doc: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray], where: str) -> None:
    """Split weights.npz's arrays into weights and optimizer state (with its values)."""
    weights: dict[str, dict[str, np.ndarray]] = {}
    optimizer_arrays: dict[str, np.ndarray] = {}
    for key, array in arrays.items():
        if key.startswith(OPTIMIZER_PREFIX):
            optimizer_arrays[key[len(OPTIMIZER_PREFIX):]] = array
            continue
        node_id, sep, weight_name = key.rpartition("/")
        if not sep or not node_id or not weight_name:
            raise ProjectError(f"{where}: {WEIGHTS_NPZ} holds '{key}', which is not a "
                               "'node_id/name' weight key.")
        weights.setdefault(node_id, {})[weight_name] = array
    if doc.get("has_weights", bool(weights)):
        project.weights = weights
    state = doc.get("optimizer_state")
    if isinstance(state, dict):
        values = state.get("values", {})
        if not isinstance(values, dict):
            raise ProjectError(f"{where}: {PROJECT_JSON} 'optimizer_state' is damaged.")
        project.optimizer_state = {**values, **optimizer_arrays}


# ------------------------------------------------------------------------------ helpers


def extract_data(project: Project, folder: str | os.PathLike) -> Path:
    """Write the embedded data file into ``folder`` and return its path (for read_csv)."""
    if project.embedded_data is None:
        raise ProjectError("The project has no embedded data file.")
    target = Path(folder) / _data_file_name((project.data or {}).get("path"))
    target.write_bytes(project.embedded_data)
    return target


def build_network(project: Project, seed: int | None = None, dtype: Any = None):
    """The project's network with its saved weights, or ProjectError naming the problem.

    The spec is validated first (so sizes are known to be sane before any allocation);
    an invalid design is refused with its problems listed on one line.
    """
    from core.network import Network
    from core.spec import problem_text, validate

    check_spec_structure(project.spec, project.name)
    check_spec_size(project.spec, project.name)
    errors = [p for p in validate(project.spec) if p.severity == "error"]
    if errors:
        listed = " ".join(problem_text(p) for p in errors[:3])
        more = f" (and {len(errors) - 3} more problems)" if len(errors) > 3 else ""
        raise ProjectError(f"The network of '{project.name}' is not valid: {listed}{more}")
    if seed is None:
        seed = project.training.get("seed", 0) or 0
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ProjectError(f"{project.name}: the training seed {seed!r} is not a whole "
                               "number >= 0; set another seed in the Training panel.")
    kwargs = {} if dtype is None else {"dtype": dtype}
    try:
        net = Network.from_spec(project.spec, seed=seed, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one clear line whatever the engine raised
        raise ProjectError(f"The network of '{project.name}' cannot be built: "
                           f"{type(exc).__name__}: {exc}") from exc
    if project.weights:
        _set_checked_weights(net, project.weights, project.name)
    return net


def _set_checked_weights(net: Any, weights: Mapping[str, Mapping[str, np.ndarray]],
                         where: str) -> None:
    expected = net.get_weights()
    for node_id, named in weights.items():
        for name, array in named.items():
            want = expected.get(node_id, {}).get(name)
            if want is None:
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' has no place in "
                                   "the network; the weights do not belong to this design.")
            if tuple(want.shape) != tuple(np.shape(array)):
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' has shape "
                                   f"{tuple(np.shape(array))} but the network needs "
                                   f"{tuple(want.shape)}; retrain or reset the weights.")
            if not np.isfinite(array).all():
                raise ProjectError(f"{where}: saved weight '{node_id}/{name}' contains NaN "
                                   "or infinity, so every prediction would be NaN; reset "
                                   "the weights (Training panel > Reset weights) and train "
                                   "again.")
    net.set_weights({k: dict(v) for k, v in weights.items()})
