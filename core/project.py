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

This module reads and writes the archive; its parts live beside it: the names and limits
in ``core.project_format``, project.json's text in ``core.project_json``, the checks of
every field in ``core.project_checks``, the migrations of old files in
``core.project_migration``, the atomic writer in ``core.atomic_write`` and
:class:`ProjectError` in ``core.project_errors``; everything public is re-exported here.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from core.atomic_write import write_atomically
from core.project_checks import (
    check_class_names,
    check_history,
    check_layout,
    check_preprocessing,
    check_spec_size,
    check_spec_structure,
    check_weights_fit,
    files_table,
    short_text,
    typed_field,
)
from core.project_errors import ProjectError
from core.project_format import (
    DATA_DIR,
    FORMAT,
    MAX_ARRAYS,
    MAX_EDGES,
    MAX_JSON_BYTES,
    MAX_MEMBERS,
    MAX_NODES,
    MAX_PARAMETERS,
    MAX_TOTAL_BYTES,
    OPTIMIZER_PREFIX,
    PROJECT_JSON,
    SUFFIX,
    VERSION,
    WEIGHTS_NPZ,
)
from core.project_json import dump_project_json, read_project_json
from core.project_migration import MIGRATIONS, migrate
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
from core.weight_keys import WeightKeyError, weight_key, weights_by_node

__all__ = [  # the public face of the project file; the parts live in the modules above
    "DATA_DIR", "FORMAT", "MAX_ARRAYS", "MAX_EDGES", "MAX_JSON_BYTES", "MAX_MEMBERS",
    "MAX_NODES", "MAX_PARAMETERS", "MAX_TOTAL_BYTES", "MIGRATIONS", "OPTIMIZER_PREFIX",
    "PROJECT_JSON", "SUFFIX", "VERSION", "WEIGHTS_NPZ", "Project", "ProjectError",
    "build_network", "check_spec_size", "check_spec_structure", "extract_data",
    "load_project", "migrate", "save_project", "write_atomically",
]


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
        (PROJECT_JSON, dump_project_json(document), zipfile.ZIP_DEFLATED)]
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
                               f"{short_text(pos)}, not [x, y].") from exc
        out[str(node_id)] = [x, y]
    return out


def _weight_arrays(weights: Mapping[str, Mapping[str, Any]] | None) -> dict[str, np.ndarray]:
    """Flatten {node_id: {name: array}} into {"node_id/name": array}, numeric only."""
    flat: dict[str, np.ndarray] = {}
    for node_id, named in (weights or {}).items():
        for name, value in named.items():
            key = weight_key(node_id, name)
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
        raise ProjectError(f"{path.name} is damaged ({short_text(exc, 80)}); it cannot be read. "
                           "Use a backup copy of the project.") from exc
    except NotImplementedError as exc:
        raise ProjectError(f"{path.name} uses a zip feature ANN Designer does not support "
                           f"({short_text(exc, 80)}); it was not written by ANN Designer.") from exc
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
        document = read_project_json(archive, members[PROJECT_JSON], where)
        document = migrate(document, where)
        project = _project_from_document(document, where)
        files = files_table(document, members, where)
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


# ----------------------------------------------------------------- document -> Project


def _project_from_document(doc: dict[str, Any], where: str) -> Project:
    here = f"{where}: {PROJECT_JSON}"
    spec = doc.get("spec", _default_spec())
    check_spec_structure(spec, here)
    check_spec_size(spec, here)
    return Project(
        name=typed_field(doc, "name", str, "Untitled", here),
        description=typed_field(doc, "description", str, "", here),
        spec=spec,
        layout=check_layout(doc.get("layout", {}), here),
        data=typed_field(doc, "data", dict, None, here, optional=True),
        preprocessing=check_preprocessing(doc.get("preprocessing"), here),
        split=typed_field(doc, "split", dict, _default_split(), here),
        training=typed_field(doc, "training", dict, {}, here),
        history=check_history(doc.get("history", {}), here),
        class_names=check_class_names(doc.get("class_names"), here),
        extra=typed_field(doc, "extra", dict, {}, here),
        optimizer_state=None,
        weights=None,
    )


# ----------------------------------------------------------------------- weights.npz


def _attach_arrays(project: Project, doc: Mapping[str, Any],
                   arrays: Mapping[str, np.ndarray], where: str) -> None:
    """Split weights.npz's arrays into weights and optimizer state (with its values)."""
    optimizer_arrays = {key[len(OPTIMIZER_PREFIX):]: array for key, array in arrays.items()
                        if key.startswith(OPTIMIZER_PREFIX)}
    try:
        weights = weights_by_node({key: array for key, array in arrays.items()
                                   if not key.startswith(OPTIMIZER_PREFIX)})
    except WeightKeyError as exc:
        raise ProjectError(f"{where}: {WEIGHTS_NPZ} holds '{exc.key}', which is not a "
                           "'node_id/name' weight key.") from exc
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
        check_weights_fit(net, project.weights, project.name)
    return net


