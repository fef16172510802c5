"""Export a project for training elsewhere: ``train.py`` for PyTorch (alone or under
``torchrun`` with DistributedDataParallel), its data and its starting weights.

The folder holds:

- ``train.py``: the model with ANN Designer's (Keras') semantics, the project's loss,
  optimizer, clipping, L1/L2 and schedule (``core/export/train_template.py`` with the
  model and the settings written in); it needs only NumPy and PyTorch;
- ``data.npz``: ``X_train`` and ``Y_train`` (targets shaped for the loss), the project's
  training split after its feature transforms and scaling, exactly what the designer
  trains on;
- ``initial_weights.npz``: the project's weights (its trained ones, or the seeded
  initial ones of an untrained project) by ``node_id/name``.

The weights the script writes are read back with :func:`read_weights_file` (the CLI's
``import-weights``), which treats the file as untrusted like any project file.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from core.export.model import ExportError, ExportModel, prepare
from core.export.numpy_script import describe
from core.weight_keys import WeightKeyError, weight_key, weights_by_node

TEMPLATE = Path(__file__).with_name("train_template.py")
MAX_ARRAYS = 10_000
MAX_BYTES = 4 << 30


def model_description(model: ExportModel) -> dict[str, Any]:
    """:func:`describe` plus what training needs: BN momentum, dropout rates, the output
    activation (for the fused losses)."""
    described = describe(model)
    for entry, node in zip(described["nodes"], model.nodes, strict=True):
        if node.type == "BatchNormalization":
            entry["momentum"] = float(node.config.get("momentum", 0.99))
        if node.type == "Dropout":
            entry["rate"] = float(node.config.get("rate", 0.5))
    described["output_activation"] = model.by_id[model.output_id].activation
    return described


def training_settings(project: Any) -> dict[str, Any]:
    """The project's training settings, checked and with every default filled in."""
    from core.optimizers import normalize_config
    from core.schedules import normalize_schedule

    settings = project.training or {}
    try:
        optimizer = settings.get("optimizer") or {"type": "adam", "lr": 1e-3}
        optimizer = {"type": optimizer} if isinstance(optimizer, str) else optimizer
        return {"loss": str(settings.get("loss") or "mse"),
                "optimizer": normalize_config(optimizer),
                "schedule": normalize_schedule(settings.get("schedule")),
                "l1": float(settings.get("l1") or 0.0), "l2": float(settings.get("l2") or 0.0),
                "clipnorm": settings.get("clipnorm"),
                "batch_size": int(settings.get("batch_size") or 32),
                "epochs": int(settings.get("epochs") or 10),
                "seed": int(settings.get("seed") or 0)}
    except (TypeError, ValueError) as exc:
        raise ExportError(f"The project's training settings cannot be exported: {exc}.") \
            from exc


def script_text(model: ExportModel, settings: dict[str, Any]) -> str:
    """train.py's source with the model and the settings written in."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("MODEL", model_description(model)), ("TRAINING", settings)):
        literal = json.dumps(json.dumps(value, separators=(",", ":")))
        text, count = re.subn(rf"^{key} = .*  # <<{key}>>$",
                              lambda _m, k=key, v=literal: f"{k} = json.loads({v})", text,
                              flags=re.MULTILINE)
        assert count == 1, f"train template lost its {key} line"
    return text.replace("__NAME__", model.name, 1)


def write_training(project: Any, folder: Path, base_dir: Path | None = None) -> list[Path]:
    """``train.py``, ``data.npz`` and ``initial_weights.npz`` in ``folder`` (made)."""
    from core.atomic_write import write_atomically
    from core.project import ProjectError
    from core.workflow import prepare_data

    project = copy.deepcopy(project)   # preparing the data records scaler and classes
    settings = training_settings(project)
    try:
        data = prepare_data(project, base_dir)
    except (ProjectError, ValueError, OSError) as exc:
        raise ExportError(f"The project's data cannot be prepared for training: {exc}") \
            from exc
    model = prepare(project)
    X, Y = data.arrays("train")
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "train.py", folder / "data.npz", folder / "initial_weights.npz"]
    text = script_text(model, settings).encode("utf-8")
    write_atomically(paths[0], lambda handle: handle.write(text))
    write_atomically(paths[1], lambda handle: np.savez(handle, X_train=X, Y_train=Y))
    weights = {weight_key(node.id, name): np.asarray(value)
               for node in model.nodes for name, value in node.weights.items()}
    write_atomically(paths[2], lambda handle: np.savez(handle, **weights))
    return paths


def read_weights_file(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Weights by node id from an .npz of ``node_id/name`` arrays (train.py's output or
    an ``npz`` export), read as untrusted: never unpickled, sizes checked first."""
    from core.safe_zip import ArchiveError, read_npz

    path = Path(path)
    try:
        with path.open("rb") as stream:
            arrays = read_npz(stream, path.name, MAX_ARRAYS, MAX_BYTES)
    except ArchiveError as exc:
        raise ExportError(str(exc)) from exc
    try:   # "__" keys: an npz export's description and preprocessing
        weights = weights_by_node({key: array for key, array in arrays.items()
                                   if not key.startswith("__")})
    except WeightKeyError as exc:
        raise ExportError(f"{path.name} holds '{exc.key}', which is not a 'node_id/name' "
                          "weight.") from exc
    if not weights:
        raise ExportError(f"{path.name} holds no weights.")
    return weights


def import_weights(project: Any, path: str | Path) -> None:
    """Put the weights of ``path`` into ``project`` after checking they fit its network
    (every weight of every node, the right shapes, finite numbers)."""
    from core.project import build_network

    weights = read_weights_file(path)
    net = build_network(project)
    have = net.get_weights()
    missing = [weight_key(n, k) for n, arrays in have.items() for k in arrays
               if k not in weights.get(n, {})]
    if missing:
        raise ExportError(f"{Path(path).name} lacks weights the network needs: "
                          f"{', '.join(missing[:5])}.")
    for node_id, arrays in weights.items():
        for name, array in arrays.items():
            if not np.issubdtype(array.dtype, np.floating) or not np.isfinite(array).all():
                raise ExportError(f"{Path(path).name}: {node_id}/{name} is not finite "
                                  "floating-point numbers.")
    try:
        net.set_weights(weights)
    except ValueError as exc:
        raise ExportError(f"{Path(path).name} does not fit the network: {exc}.") from exc
    project.weights = net.get_weights()
    project.optimizer_state = None   # another optimizer trained these weights
    project.history = {}  # the curves told how the old weights came about, not these
