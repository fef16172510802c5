"""Export a trained network for other tools: ONNX, NumPy (.npz + predict.py), PyTorch.

``export(project_or_network, fmt, path)`` is the one entry point (the CLI's ``export``
command and the designer's File > Export call it).  Every format takes the same raw
input as ANN Designer (samples first, images channels last) with the preprocessing baked
in (a project's Playground features of raw 2-D points, then its scaler), so the exported
model gives the same predictions without any extra step.

===========  =================================================================
format       writes
===========  =================================================================
``onnx``     ``path`` (.onnx), opset 17, dynamic batch, class names as metadata
``npz``      ``path`` (.npz): weights by ``node_id/name`` + model description
``numpy``    folder ``path``: ``predict.py`` (numpy only) + ``weights.npz``;
             or ``path`` itself when it ends in .py (weights beside it, .npz)
``pytorch``  ``path`` (.py) with ``nn.Module`` ``Model`` + the .npz beside it;
             or folder ``path``: ``model.py`` + ``model.npz``
``pytorch-   folder ``path``: ``train.py`` (PyTorch, DistributedDataParallel under
train``      torchrun), ``data.npz``, ``initial_weights.npz``; a Project only
             (:mod:`core.export.pytorch_train`)
===========  =================================================================
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.export.model import ExportError, ExportModel, prepare

EXPORT_FORMATS = ("onnx", "npz", "numpy", "pytorch", "pytorch-train")

__all__ = ["EXPORT_FORMATS", "ExportError", "ExportModel", "export", "export_project",
           "prepare"]


def export(source: Any, fmt: str, path: str | os.PathLike, *,
           preprocessing: dict | None = None, class_names: Sequence[str] | None = None,
           name: str | None = None, base_dir: str | os.PathLike | None = None
           ) -> list[Path]:
    """Write ``source`` (a Project or a Network) as ``fmt`` to ``path``; the paths written.

    For a Network, pass the Scaler dict as ``preprocessing`` and the ``class_names``;
    a Project brings its own, and its feature transforms (``data["transforms"]``).
    ``base_dir`` is the project file's folder, where its data file is looked for
    (``pytorch-train`` exports the data). Raises ExportError with a one-line message.
    """
    from core.project import Project, ProjectError

    writers = _writers()
    if fmt == "pytorch-train":
        if not isinstance(source, Project):
            raise ExportError("pytorch-train exports a project (its data and training "
                              "settings), not a bare network.")
        from core.export.pytorch_train import write_training

        return write_training(source, Path(path), None if base_dir is None else
                              Path(base_dir))
    if fmt not in writers:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of "
                          f"{', '.join(EXPORT_FORMATS)}.")
    model = prepare(source, preprocessing=preprocessing, class_names=class_names, name=name)
    path = Path(path)
    if fmt in ("onnx", "npz") and path.is_dir():  # a folder: the file goes inside it
        path = path / f"{_file_stem(model.name)}.{fmt}"
    if fmt in ("onnx", "npz") and not path.suffix:
        path = path.with_suffix("." + fmt)
    if not path.parent.is_dir():
        raise ExportError(f"Cannot export to {path}: the folder {path.parent} does not exist.")
    try:
        return writers[fmt](model, path)
    except ProjectError as exc:   # raised by the atomic file writer
        raise ExportError(str(exc).replace("Cannot save", "Cannot export", 1)) from exc
    except OSError as exc:
        raise ExportError(f"Cannot export to {path}: {exc.strerror or exc}.") from exc


def _file_stem(name: str | None) -> str:
    """A file name from a model's name: no folders, no characters file systems refuse."""
    stem = "".join(c if c.isalnum() or c in "-_. " else "_" for c in str(name or ""))
    return stem.strip(" .") or "model"


def export_project(project: Any, path: str | os.PathLike, fmt: str) -> list[Path]:
    """``export`` with the CLI's argument order (project, output, format)."""
    return export(project, fmt, path)


def _writers():
    from core.export.numpy_script import write_npz, write_numpy
    from core.export.onnx import write_onnx
    from core.export.pytorch import write_pytorch

    return {"onnx": write_onnx, "npz": write_npz, "numpy": write_numpy,
            "pytorch": write_pytorch}
