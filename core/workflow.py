"""The steps every front end repeats with a project: its data, its network, its trainer.

The command line and the designer both need "load the data the project names, split it
the way the project says, scale it with the project's scaler", "build the network with
the saved weights" and "train with the saved settings and put the results back in the
project". Keeping these here means both front ends train, evaluate and predict the same
way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.backends import check_engine
from core.data import (
    BUILTIN_DATASETS,
    DataError,
    Dataset,
    Progress,
    Scaler,
    feature_transforms,
    load_builtin,
    read_csv,
    read_features,
    read_npy,
    split,
)
from core.data.split import split_indices
from core.network import Network
from core.project import (
    Project,
    ProjectError,
    build_network,  # noqa: F401 - the CLI and tests build through workflow
    extract_data,
)
from core.spec import SpecError, problem_text
from core.training import Trainer, TrainEvent
from core.training.metrics import class_predictions, class_probabilities, confusion_matrix

REGRESSION_LOSSES = frozenset({"mse", "mae", "huber"})
TRAINER_OPTIONS = ("schedule", "l1", "l2", "clipnorm", "early_stopping", "divergence_factor",
                   "shuffle", "backend", "device")
SPLITS = ("train", "val", "test")
NUMPY_SUFFIXES = (".npy", ".npz")


@dataclass
class PreparedData:
    """A project's data after its split and preprocessing, ready for a Trainer.

    ``train``/``val``/``test`` hold scaled features; ``val`` and ``test`` are None when the
    project's split gives them no samples.
    """

    train: Dataset
    val: Dataset | None
    test: Dataset | None
    scaler: Scaler | None
    loss: str
    task: str
    class_names: list[str] | None = None

    def arrays(self, part: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(X, targets shaped for the loss) of "train", "val" or "test"; None if absent."""
        ds = getattr(self, part)
        if ds is None or len(ds) == 0:
            return None
        return ds.X, ds.targets(self.loss)

    def parts(self) -> list[tuple[str, Dataset]]:
        """The splits that hold samples, in the order train, val, test."""
        return [(name, getattr(self, name)) for name in SPLITS
                if getattr(self, name) is not None]


@dataclass
class TrainOutcome:
    """What a training run did: why it stopped, how far it got and the trained network."""

    stop_reason: str  # "completed" | "stopped" | "early_stopping"
    epochs_run: int
    net: Network
    trainer: Trainer
    last_epoch: TrainEvent | None = None
    interrupted: bool = False  # a KeyboardInterrupt cut a batch short


@dataclass
class Evaluation:
    """Loss and metrics of a network on one data set; classifiers add a confusion matrix."""

    metrics: dict[str, float]
    n_samples: int
    confusion: np.ndarray | None = None
    class_names: list[str] | None = None


# ------------------------------------------------------------------------------ data


def task_of(project: Project) -> str:
    """The task of the project's data: a built-in data set's own or a file's recorded
    ``task`` (every file read records it); else by the loss ("regression" for
    mse/mae/huber). A squared-error loss on classes (as in the TensorFlow Playground)
    stays classification."""
    source = project.data or {}
    info = BUILTIN_DATASETS.get(str(source.get("name"))) if source.get(
        "kind") == "builtin" else None
    if info is not None:
        return info.task
    if source.get("task") in ("classification", "regression"):
        return str(source["task"])
    loss = (project.training or {}).get("loss")
    return "regression" if loss in REGRESSION_LOSSES else "classification"


def data_path(project: Project, base_dir: str | Path | None = None) -> Path:
    """Where a project's data file lives: relative paths count from the project's folder."""
    path = Path(str((project.data or {}).get("path") or ""))
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def load_dataset(project: Project, base_dir: str | Path | None = None) -> Dataset:
    """The whole data set a project names (built-in, embedded or a file), unsplit."""
    source = project.data or {}
    kind = source.get("kind")
    if kind == "builtin":
        return load_builtin(str(source.get("name")), **dict(source.get("params") or {}))
    if kind == "file" and source.get("embedded") and project.embedded_data is not None:
        with tempfile.TemporaryDirectory() as folder:
            return read_source_file(source, extract_data(project, folder))
    if kind == "file":
        path = data_path(project, base_dir)
        if not path.is_file():
            raise DataError(f"the project's data file {path} does not exist; put it back "
                            "or choose another file in the Data panel")
        return read_source_file(source, path)
    raise ProjectError(f"the project has no data source (kind {kind!r}); choose a built-in "
                       "data set or a CSV file in the Data panel, or use 'new --data'")


def read_source_file(source: Mapping[str, Any], path: str | Path,
                     target: str | None = None, progress: Progress | None = None) -> Dataset:
    """Read a data file with a source's target, feature and categorical columns.

    CSV/TSV files go through ``read_csv``, one-hot encoded over the source's recorded
    ``categories`` if it has them (so the network's inputs stay the same when the file
    changes); ``.npy``/``.npz`` arrays through ``read_npy`` (there the target is a column
    number, or the file's ``y`` array). ``progress`` follows a CSV read (see ``read_csv``).
    """
    target = target if target is not None else source.get("target")
    if Path(path).suffix.lower() in NUMPY_SUFFIXES:
        if not Path(path).is_file():  # say that first, before any complaint about columns
            read_npy(path)
        column, y_key = numpy_target(target, path)
        return read_npy(path, target=column, y_key=y_key, task=source.get("task"))
    return read_csv(path, target, features=source.get("features") or None,
                    categorical=tuple(source.get("categorical") or ()),
                    drop_bad_rows=bool(source.get("drop_bad_rows", False)),
                    task=source.get("task"), categories=source.get("categories") or None,
                    progress=progress)


def numpy_target(target: Any, path: str | Path) -> tuple[int | None, str | None]:
    """(column, array name) of a target given for an .npy/.npz file.

    An .npy table has no column names, so its target is a column number (``"0"`` from
    the command line counts too); an .npz file may name its target array instead.
    """
    if target is None or (isinstance(target, str) and not target.strip()):
        return None, None
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return int(target), None
    text = str(target).strip()
    with contextlib.suppress(ValueError):
        return int(text), None
    if Path(path).suffix.lower() == ".npz":
        return None, text
    raise DataError(f"{Path(path).name} is a table without column names, so the target "
                    f"must be a column number (0 is the first, -1 the last), not {text!r}")


def transforms_of(project: Project) -> list[str]:
    """Playground input features (``data["transforms"]``, e.g. ["x1", "x1*x2"]), if any."""
    return [str(t) for t in (project.data or {}).get("transforms") or []]


def applied_transforms(project: Project, X: np.ndarray) -> list[str]:
    """The project's transforms that apply to ``X``: none unless it has two raw features."""
    return transforms_of(project) if np.shape(X)[1:] == (2,) else []


def with_transforms(project: Project, X: np.ndarray) -> np.ndarray:
    """2-D points through the project's Playground feature transforms (if it has any).

    Applied before scaling, and only to data with two raw features, as in the designer.
    """
    transforms = applied_transforms(project, X)
    X = np.asarray(X, dtype=np.float32)
    return feature_transforms(X, transforms) if transforms else X


def transformed(project: Project, ds: Dataset) -> Dataset:
    """``ds`` with the project's Playground feature transforms applied (the features
    named after them), or ``ds`` itself when none apply."""
    transforms = applied_transforms(project, ds.X)
    if not transforms:
        return ds
    return dataclasses.replace(ds, X=with_transforms(project, ds.X), feature_names=transforms)


def split_dataset(project: Project, ds: Dataset) -> tuple[Dataset, Dataset | None,
                                                          Dataset | None]:
    """(train, val, test) as the project's split settings say (seeded, so repeatable)."""
    settings = _split_settings(project)
    return split(ds, val=float(settings["val"]), test=float(settings["test"]),
                 seed=int(settings["seed"]))


def project_split_indices(project: Project, ds: Dataset
                          ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The positions of ``split_dataset``'s parts: the same split, cut once, can then take
    a raw data set and its transformed copy alike."""
    settings = _split_settings(project)
    return split_indices(ds, val=float(settings["val"]), test=float(settings["test"]),
                         seed=int(settings["seed"]))


def _split_settings(project: Project) -> dict[str, Any]:
    return {"val": 0.2, "test": 0.0, "seed": 0, **(project.split or {})}


def fitted_scaler(project: Project, train: Dataset) -> Scaler | None:
    """The project's scaler; fitted on ``train`` (and stored) if it was never fitted.

    Fitting on the training split only keeps validation and test scores honest.
    """
    scaler = _configured_scaler(project)
    if scaler is not None and not scaler.is_fitted:
        scaler.fit(train.X)
        project.preprocessing = scaler.to_dict()
    return scaler


def project_scaler(project: Project) -> Scaler | None:
    """The fitted scaler of a project that has been prepared (None: no scaling)."""
    scaler = _configured_scaler(project)
    if scaler is not None and not scaler.is_fitted:
        raise ProjectError("the project's scaling was never fitted to its data; train the "
                           "project first ('ann-designer train FILE')")
    return scaler


def _configured_scaler(project: Project) -> Scaler | None:
    """The scaler the project's preprocessing names, fitted or not; None for no scaling."""
    config = project.preprocessing
    if not config or config.get("method", "none") == "none":
        return None
    return Scaler.from_dict(config)


def scaled(ds: Dataset | None, scaler: Scaler | None) -> Dataset | None:
    """A copy of ``ds`` whose features went through ``scaler``."""
    if ds is None or scaler is None:
        return ds
    return dataclasses.replace(ds, X=np.asarray(scaler.transform(ds.X), dtype=np.float32))


def prepare_data(project: Project, base_dir: str | Path | None = None,
                 dataset: Dataset | None = None) -> PreparedData:
    """Load, split and scale a project's data the way its settings say.

    Applies the project's Playground feature transforms (unless ``dataset`` is given, which
    must already be transformed), fits the scaler on the training split if it was never
    fitted, and records the class names in the project, so that prediction and export
    later use exactly what training used.
    """
    if dataset is None:  # a dataset passed in already went through the transforms
        dataset = transformed(project, load_dataset(project, base_dir))
    return prepare_parts(project, dataset, split_dataset(project, dataset))


def prepare_parts(project: Project, ds: Dataset,
                  parts: tuple[Dataset, Dataset | None, Dataset | None]) -> PreparedData:
    """``prepare_data`` from ``ds``'s parts (train, val, test) as ``split_dataset`` cut
    them: fits the scaler on train (storing it and the class names in the project)."""
    train, val, test = parts
    scaler = fitted_scaler(project, train)
    if ds.class_names:
        project.class_names = list(ds.class_names)
    loss = (project.training or {}).get("loss") or "mse"
    return PreparedData(scaled(train, scaler), _non_empty(scaled(val, scaler)),
                        _non_empty(scaled(test, scaler)), scaler, loss, ds.task,
                        list(ds.class_names) if ds.class_names else None)


def _non_empty(ds: Dataset | None) -> Dataset | None:
    return ds if ds is not None and len(ds) else None


def as_input(project: Project, X: np.ndarray) -> np.ndarray:
    """Features reshaped to the Input node's shape (a CSV row of 64 pixels -> 8x8x1)."""
    shape = tuple(input_shape(project))
    X = np.asarray(X, dtype=np.float32)
    if tuple(X.shape[1:]) == shape:
        return X
    if int(np.prod(X.shape[1:])) != int(np.prod(shape)):
        raise DataError(f"the data has {int(np.prod(X.shape[1:]))} feature values per row "
                        f"but the network's input takes shape {list(shape)}; use a file "
                        "with the same columns as the training data")
    return X.reshape((len(X),) + shape)


def input_shape(project: Project) -> list[int]:
    """The Input node's shape (without the batch dimension)."""
    for node in project.spec.get("nodes", []):
        if node.get("type") == "Input":
            return [int(s) for s in node.get("shape", [])]
    raise ProjectError("the network has no Input node; add one in the designer")


def feature_names(project: Project, base_dir: str | Path | None = None) -> list[str]:
    """The raw input columns the network was trained on, in order.

    Recorded in the data source for CSV files; otherwise read from the data itself.
    """
    source = project.data or {}
    if source.get("kind") == "file" and source.get("features"):
        return [str(name) for name in source["features"]]
    return list(load_dataset(project, base_dir).feature_names)


def input_features(project: Project, path: str | Path,
                   base_dir: str | Path | None = None) -> np.ndarray:
    """Scaled network inputs for every row of a CSV file, encoded as in training.

    The file must hold the project's feature columns (by name, or exactly those columns
    without a header); the target and any other columns are ignored. Categorical columns
    are one-hot over the training data's categories (``data["categories"]``); every other
    column must hold numbers. The Playground transforms and the scaler are applied here.
    """
    source = project.data or {}
    raw, _ = read_features(path, feature_names(project, base_dir),
                           categorical=tuple(source.get("categorical") or ()),
                           categories=dict(source.get("categories") or {}))
    X = as_input(project, with_transforms(project, raw))
    scaler = project_scaler(project)
    return X if scaler is None else np.asarray(scaler.transform(X), dtype=np.float32)


def external_dataset(project: Project, path: str | Path, target: str | None = None,
                     base_dir: str | Path | None = None) -> Dataset:
    """A labelled CSV file encoded and scaled as the project's data, classes aligned.

    For evaluating on new data: features as :func:`input_features` reads them, targets
    from the project's target column (or ``target``), and class indices following the
    project's class names even when the file lacks some classes.
    """
    source = project.data or {}
    own = source.get("target") if source.get("kind") == "file" else None
    target = target or (own if isinstance(own, (str, list)) else None)
    if not target:
        trained_on = ("built-in data" if source.get("kind") != "file" else
                      f"{Path(str(source.get('path') or 'a NumPy file')).name}, whose "
                      "columns have no names")
        raise DataError(f"this project trains on {trained_on}, so the file's target column "
                        "is unknown; name it with --target COLUMN")
    X = input_features(project, path, base_dir)  # first: its errors fit new data best
    names = feature_names(project, base_dir)
    labelled = read_csv(path, target, features=names, task=task_of(project))
    labelled = align_classes(labelled, project.class_names)
    return dataclasses.replace(labelled, X=X)


def align_classes(ds: Dataset, class_names: Sequence[str] | None) -> Dataset:
    """``ds`` with class indices renumbered to the order of ``class_names``."""
    if ds.task != "classification" or not class_names:
        return ds
    names = [str(n) for n in class_names]
    unknown = [n for n in ds.class_names or [] if n not in names]
    if unknown:
        raise DataError(f"the file has class {unknown[0]!r}, which the project was not "
                        f"trained on; its classes are {', '.join(names)}")
    mapping = np.array([names.index(n) for n in ds.class_names], dtype=np.int64)
    return dataclasses.replace(ds, y=mapping[ds.y], class_names=names)


# ------------------------------------------------------------------ network + trainer


def make_trainer(project: Project, net: Network, **overrides: Any) -> Trainer:
    """A Trainer from the project's training settings; non-None ``overrides`` win.

    ``task`` (an override, else :func:`task_of` the project) is the data's task: it
    picks the metrics, so that mse on classes reports accuracy.

    ``lr`` replaces the optimizer's learning rate; other keys (``batch_size``, ``seed``,
    ...) replace the setting of that name for this trainer only. The optimizer state
    saved in the project is restored, so training goes on where it stopped instead of
    restarting Adam's moment estimates.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    task = given.pop("task", None) or task_of(project)
    settings = {**(project.training or {}), **given}
    optimizer = settings.get("optimizer") or {"type": "adam", "lr": 1e-3}
    optimizer = {"type": optimizer} if isinstance(optimizer, str) else optimizer
    if not isinstance(optimizer, Mapping):
        raise ProjectError(f"the project's optimizer setting {optimizer!r} is not valid; "
                           "choose the optimizer in the designer's Training panel.")
    optimizer = dict(optimizer)
    if "lr" in given:
        optimizer["lr"] = float(given["lr"])
    options = {key: settings[key] for key in TRAINER_OPTIONS if settings.get(key) is not None}
    if "backend" in given or "device" in given:  # asked for now, not a setting to fix
        try:
            check_engine(options.get("backend", "numpy"), options.get("device"))
        except ValueError as exc:
            raise ProjectError(str(exc)) from None
    try:
        trainer = Trainer(net, loss=str(settings.get("loss") or "mse"), optimizer=optimizer,
                          batch_size=_whole(settings.get("batch_size") or 32),
                          seed=_whole(settings.get("seed") or 0), task=task, **options)
    except SpecError as exc:  # the loss does not fit the network's output
        errors = [p for p in exc.problems if p.severity == "error"] or exc.problems
        raise ProjectError(problem_text(errors[0])) from None
    except (ValueError, TypeError) as exc:  # a hand-edited or damaged file: say where
        reason = str(exc).strip().rstrip(".")
        raise ProjectError(f"the project's training settings are not valid: {reason}. "
                           "Fix them in the designer's Training panel.") from None
    if project.optimizer_state:
        # A state that no longer fits (the network changed since) restarts the optimizer.
        with contextlib.suppress(ValueError, KeyError):
            trainer.optimizer.load_state_dict(dict(project.optimizer_state))
    trainer.start_at(*trained_so_far(project.history))
    return trainer


def trained_so_far(history: Mapping[str, Any] | None) -> tuple[int, int]:
    """(epochs, steps) a project's history has recorded, for the next run to go on from.

    The epochs are the per-epoch ``loss`` entries. The designer keeps a thinned-out
    per-step curve with its step numbers in ``batch_step``; points appended after the
    last numbered one (a command-line run on an older file) count one step each.
    """
    history = history or {}
    epochs = len(history.get("loss") or [])
    losses = history.get("batch_loss") or []
    numbered = (history.get("batch_step") or [])[:len(losses)]
    steps = len(losses)
    if numbered and _is_count(numbered[-1]):
        steps = int(numbered[-1]) + len(losses) - len(numbered)
    return epochs, steps


def has_fresh_weights(project: Project) -> bool:
    """True when the project's weights are the ones its seed starts from (the designer's
    Reset weights stores them, with no history): nothing has been trained."""
    weights = project.weights or {}
    seed = (project.training or {}).get("seed", 0)
    try:
        fresh = Network.from_spec(project.spec, seed=seed or 0).get_weights()
    except Exception:  # noqa: BLE001 - an invalid network or seed: not the fresh weights
        return False
    return set(fresh) == set(weights) and all(
        set(arrays) == set(weights[node]) and all(
            np.array_equal(np.asarray(weights[node][name]), value)
            for name, value in arrays.items())
        for node, arrays in fresh.items())


def _is_count(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value < 2 ** 53)


def _whole(value: Any) -> Any:
    """A float holding a whole number (32.0 in a hand-edited file) as an int; anything
    else unchanged, for the Trainer to refuse with a message naming the setting."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# -------------------------------------------------------------------------- training


class _LastGood:
    """Copies of the weights and optimizer state after the last complete batch.

    Taken after every batch, so they reuse preallocated buffers (``np.copyto``) for the
    flat parameter buffer and the optimizer's arrays; only networks with non-trainable
    state (BatchNormalization's moving statistics) also copy that.
    """

    def __init__(self, trainer: Trainer) -> None:
        self.net, self.optimizer = trainer.net, trainer.optimizer
        self.params = self.net.params.copy()
        self.state = {name: arr.copy() for name, arr in self.optimizer.state.items()}
        self.iterations = self.optimizer.iterations
        self.has_buffers = any(getattr(layer, "state", None)
                               for layer in getattr(self.net, "layers", {}).values())
        self.weights = self.net.get_weights() if self.has_buffers else None

    def take(self) -> None:
        np.copyto(self.params, self.net.params)
        for name, arr in self.optimizer.state.items():
            np.copyto(self.state[name], arr)
        self.iterations = self.optimizer.iterations
        if self.has_buffers:
            self.weights = self.net.get_weights()

    def restore(self) -> None:
        if self.weights is not None:
            self.net.set_weights(self.weights)
        np.copyto(self.net.params, self.params)
        for name, arr in self.state.items():
            np.copyto(self.optimizer.state[name], arr)
        self.optimizer.iterations = self.iterations


def train_project(project: Project, epochs: int | None = None,
                  on_event: Callable[[TrainEvent], None] | None = None,
                  data: PreparedData | None = None, base_dir: str | Path | None = None,
                  trainer_hook: Callable[[Trainer], None] | None = None,
                  **overrides: Any) -> TrainOutcome:
    """Train a project with its own settings and store the results back in it.

    Weights, optimizer state and the history (appended to the project's) end up in
    ``project``. A KeyboardInterrupt (Ctrl-C) ends the run: the last complete batch's
    weights are put back, so what gets saved is always a consistent state. On
    TrainingDiverged the project is left as it was and the error goes to the caller.
    ``trainer_hook`` receives the Trainer before the first batch (the command line uses
    it to turn Ctrl-C into ``request_stop``).
    """
    data = data or prepare_data(project, base_dir)
    net = build_network(project, seed=overrides.get("seed"))
    trainer = make_trainer(project, net, **{**overrides,
                                            "task": overrides.get("task") or data.task})
    if trainer_hook is not None:
        trainer_hook(trainer)
    n_epochs = _whole(epochs if epochs is not None
                      else (project.training or {}).get("epochs", 10))
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 0:
        raise ProjectError(f"the number of epochs must be a whole number >= 0, not "
                           f"{n_epochs!r}; fix it in the designer's Training panel.")
    (X, Y), validation = data.arrays("train"), data.arrays("val")
    good = _LastGood(trainer)
    last_epoch, reason, interrupted = None, "completed", False
    try:
        for event in trainer.run(X, Y, epochs=n_epochs, validation_data=validation):
            good.take()
            if event.kind == "epoch":
                last_epoch = event
            elif event.kind == "end":
                reason = event.stop_reason or "completed"
            if on_event is not None:
                on_event(event)
    except KeyboardInterrupt:
        good.restore()
        reason, interrupted = "stopped", True
    store_results(project, trainer)
    return TrainOutcome(reason, len(trainer.history.get("loss", [])), net, trainer,
                        last_epoch, interrupted)


def store_results(project: Project, trainer: Trainer) -> None:
    """Put weights, optimizer state and the run's history (appended) into the project.

    The trainer numbers its (bounded, ``core.training.history``) per-step curve in
    ``batch_step``; an older file's steps without numbers are numbered 1, 2, ... first,
    so that the designer draws both and ``trained_so_far`` counts on from the last.
    """
    project.weights = trainer.net.get_weights()
    project.optimizer_state = trainer.optimizer.state_dict()
    history = {key: list(values) for key, values in (project.history or {}).items()}
    if trainer.history.get("batch_step"):
        losses = history.get("batch_loss") or []
        numbered = [float(s) for s in (history.get("batch_step") or [])[:len(losses)]]
        if not all(_is_count(s) for s in numbered):
            numbered = []
        last = int(numbered[-1]) if numbered else 0
        numbered += [float(last + i) for i in range(1, len(losses) - len(numbered) + 1)]
        history["batch_step"] = numbered
    for key, values in trainer.history.items():
        history.setdefault(key, []).extend(float(v) for v in values)
    project.history = history


# ------------------------------------------------------------------------ evaluation


def evaluate_dataset(project: Project, net: Network, ds: Dataset) -> Evaluation:
    """Loss and metrics of ``net`` on the (scaled) ``ds``, as training reports them.

    The numbers come from ``Trainer.evaluate`` so they match the training curves;
    classifiers add a confusion matrix labelled with the class names.
    """
    trainer = make_trainer(project, net, task=ds.task)
    X = as_input(project, ds.X)
    loss, metrics = trainer.evaluate(X, ds.targets(trainer.loss_name))
    result = Evaluation({"loss": float(loss), **{k: float(v) for k, v in metrics.items()}},
                        len(ds))
    if ds.task == "classification":
        names = list(project.class_names or ds.class_names or [])
        predicted = class_predictions(net.predict(X))
        n_classes = max(len(names), int(predicted.max(initial=0)) + 1,
                        int(ds.y.max(initial=0)) + 1)
        names += [str(i) for i in range(len(names), n_classes)]
        result.confusion = confusion_matrix(ds.y, predicted, n_classes)
        result.class_names = names
    return result


def prediction_table(project: Project, net: Network,
                     X: np.ndarray) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) for a predictions CSV.

    Classifiers: the predicted class name, then one probability column per class.
    Regression: one column per output, named after the target columns where known.
    """
    outputs = np.asarray(net.predict(X))
    outputs = outputs.reshape(len(X), -1)
    if task_of(project) == "classification":
        probs = class_probabilities(outputs).astype(outputs.dtype)
        names = list(project.class_names or [str(i) for i in range(probs.shape[1])])
        predicted = class_predictions(outputs)
        header = ["prediction"] + [f"p({name})" for name in names]
        rows = [[spreadsheet_safe(names[c])] + [_num(p) for p in row]
                for c, row in zip(predicted, probs, strict=True)]
        return header, rows
    header = [spreadsheet_safe(n) for n in _target_names(project, outputs.shape[1])]
    return header, [[_num(v) for v in row] for row in outputs]


def _target_names(project: Project, k: int) -> list[str]:
    """Column names for k regression outputs: the target column(s) when they are known."""
    target = (project.data or {}).get("target")
    names = ([target] if isinstance(target, str) else
             list(target) if isinstance(target, (list, tuple)) else [])
    if len(names) == k and all(isinstance(n, str) for n in names):
        return names
    return ["prediction"] if k == 1 else [f"prediction_{i + 1}" for i in range(k)]


def _num(value: np.floating) -> str:
    """The shortest text that reads back as exactly this number in its own precision."""
    return str(value)


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula
    (class names and column names come from the user's data, which we do not trust)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
