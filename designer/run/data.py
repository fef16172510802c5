"""From a project to what a training run and the live views need. No Qt.

``core.workflow`` loads the data (CSV or NumPy), applies Playground's feature transforms
(``project.data["transforms"]``), splits and scales it exactly as the command line does;
this module only adds what the designer needs besides: the raw 2-D coordinates of the
points for the decision boundary, the view grid pushed through the same transforms and
scaler, digit images for the sample grid, and a check that the network's input and
output sizes fit the data (with the edits that would fix them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset import Dataset
from core.data.preprocessing import feature_transforms
from core.data_fit import DataShape, Mismatch, shape_mismatches
from core.project import Project
from core.spec import Problem
from core.workflow import (
    PreparedData,
    applied_transforms,
    load_dataset,
    prepare_parts,
    project_split_indices,
    transformed,
)
from designer.run.protocol import GridSpec

GRID_SIZE = 100
LINE_SIZE = 200
MAX_CONFUSION_SAMPLES = 2000
N_SAMPLE_IMAGES = 16
EXTENT_PADDING = 0.1
KERNEL_TYPES = ("Dense", "Conv2D")


@dataclass
class ViewContext:
    """What the views need to know about the data; set when the data or network changes.

    ``points``/``labels`` are the raw 2-D training and validation coordinates for the
    decision boundary; ``image_shape`` is (H, W) for image data; ``extent`` is the grid's
    raw range (x0, x1, y0, y1).
    """

    task: str = "classification"
    class_names: list[str] = field(default_factory=list)
    n_features: int = 0
    feature_names: list[str] = field(default_factory=list)
    train_points: np.ndarray | None = None
    train_labels: np.ndarray | None = None
    val_points: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    extent: tuple[float, float, float, float] | None = None
    grid_shape: tuple[int, int] | None = None
    image_shape: tuple[int, int] | None = None
    sample_images: np.ndarray | None = None
    sample_labels: np.ndarray | None = None
    metric: str | None = None
    layer_ids: list[str] = field(default_factory=list)


@dataclass
class TrainingData:
    """A project's data ready to train on, plus the raw views of it."""

    prepared: PreparedData
    raw: Dataset
    transforms: list[str] | None
    #: positions of (train, val, test) in ``raw`` (``core.workflow.project_split_indices``)
    split_index: tuple[np.ndarray, np.ndarray | None, np.ndarray | None]
    _summary: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False)

    def feature_summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(min, max, median) of every raw feature, for the typed inputs of the Inference
        panel. Computed once: the import computes it on its worker thread, since the
        medians of a million rows take a quarter of a second."""
        if self._summary is None:
            X = self.raw.X.reshape(len(self.raw.X), -1)
            columns = [X[:, j] for j in range(X.shape[1])]  # one column at a time: no copy
            self._summary = (np.array([c.min() for c in columns]),  # of the whole table
                             np.array([c.max() for c in columns]),
                             np.array([np.median(c) for c in columns]))
        return self._summary

    @cached_property
    def raw_train(self) -> Dataset:
        """The training split of the raw data, for the views; cut when first asked (most
        data sets never need it, and it is as large as the prepared training set)."""
        return self.raw.subset(self.split_index[0])

    @cached_property
    def raw_val(self) -> Dataset | None:
        """The validation split of the raw data (None when it has no samples)."""
        index = self.split_index[1]
        return None if index is None or not len(index) else self.raw.subset(index)

    @property
    def task(self) -> str:
        """"classification" or "regression"."""
        return self.raw.task

    @property
    def n_raw_features(self) -> int:
        """Features per sample before transforms (2 for the Playground sets)."""
        return int(np.prod(self.raw.X.shape[1:]))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """What the network's Input node must take."""
        return tuple(int(s) for s in self.prepared.train.X.shape[1:])

    def to_inputs(self, raw_X: np.ndarray) -> np.ndarray:
        """Raw features (as typed or drawn) -> network inputs: transforms, then scaler."""
        X = np.asarray(raw_X, dtype=np.float32).reshape((-1,) + self.raw.X.shape[1:])
        if self.transforms:
            X = feature_transforms(X, self.transforms)
        if self.prepared.scaler is not None:
            X = np.asarray(self.prepared.scaler.transform(X), dtype=np.float32)
        return X

    def extent(self) -> tuple[float, float, float, float] | None:
        """The raw range of the first two features, padded by 10 %."""
        if self.n_raw_features not in (1, 2):
            return None
        X = self.raw.X.reshape(len(self.raw.X), -1)
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = (hi - lo) * EXTENT_PADDING + 1e-6
        lo, hi = lo - pad, hi + pad
        if self.n_raw_features == 1:
            return float(lo[0]), float(hi[0]), 0.0, 0.0
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])

    def grid(self) -> GridSpec | None:
        """Inputs for the view grid: 100x100 points for 2-D data, a line for 1-D."""
        extent = self.extent()
        if extent is None:
            return None
        x0, x1, y0, y1 = extent
        if self.n_raw_features == 1:
            raw = np.linspace(x0, x1, LINE_SIZE, dtype=np.float32).reshape(-1, 1)
            return GridSpec(self.to_inputs(raw), (1, LINE_SIZE), extent)
        xs = np.linspace(x0, x1, GRID_SIZE, dtype=np.float32)
        ys = np.linspace(y0, y1, GRID_SIZE, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)  # rows follow y, columns follow x (row-major image)
        raw = np.column_stack([gx.ravel(), gy.ravel()])
        return GridSpec(self.to_inputs(raw), (GRID_SIZE, GRID_SIZE), extent)

    def image_shape(self) -> tuple[int, int] | None:
        """(H, W) when the samples are images (digits: 64 pixels or 8x8x1)."""
        shape = self.raw.X.shape[1:]
        if len(shape) == 3:
            return int(shape[0]), int(shape[1])
        if len(shape) == 1 and shape[0] == 64 and "digit" in (self.raw.name or ""):
            return 8, 8
        return None

    def evaluation_set(self) -> tuple[Dataset, Dataset]:
        """(scaled, raw) data for the confusion matrix and sample grid: val, else train."""
        if self.prepared.val is not None:  # then raw_val has the same samples
            return self.prepared.val, self.raw_val
        return self.prepared.train, self.raw_train

    def confusion(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(X, true classes, number of classes) for the per-epoch confusion matrix."""
        if self.task != "classification":
            return None
        ds = self.prepared.val if self.prepared.val is not None else self.prepared.train
        n = min(len(ds.X), MAX_CONFUSION_SAMPLES)
        return ds.X[:n], np.asarray(ds.y[:n], dtype=np.int64), self.n_classes

    @property
    def shape(self) -> DataShape:
        """What the network must fit: input shape, task, classes or targets.

        Without the targets' range: a bounded output on regression targets (a sigmoid
        after a loss change, say) is a choice a lesson may make on purpose, and a fit
        problem would block Train; ``new --example --data`` does replace it.
        """
        return DataShape.of(self.prepared.train.X, self.raw.y, self.task, self.n_classes,
                            with_range=False)

    @cached_property
    def n_classes(self) -> int:
        """Number of classes (0 for regression); a pass over all targets, so kept."""
        if self.task != "classification":
            return 0
        names = self.prepared.class_names or self.raw.class_names or []
        return max(len(names), int(np.max(self.raw.y)) + 1 if len(self.raw.y) else 0)

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Samples of each class, ``n_classes`` long (empty for regression)."""
        if self.task != "classification":
            return np.zeros(0, dtype=np.int64)
        return np.bincount(self.raw.y, minlength=self.n_classes)

    def summarize(self) -> None:
        """Compute now what the views ask of the whole data set (class counts, feature
        ranges and medians): the import does it on its worker thread, since at millions
        of rows each is a pass the window would wait for."""
        self.class_counts  # noqa: B018 - cached
        self.feature_summary()

    def samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(net inputs, raw images, true classes) of the sample grid for image data."""
        if self.image_shape() is None:
            return None
        ds, raw = self.evaluation_set()
        n = min(N_SAMPLE_IMAGES, len(ds.X))
        return ds.X[:n], raw.X[:n], np.asarray(ds.y[:n])

    @property
    def class_names(self) -> list[str]:
        """A name for every class ("0", "1", ... where the data has none)."""
        names = list(self.prepared.class_names or self.raw.class_names or [])
        if self.task == "classification" and len(names) < self.n_classes:
            names = [str(i) for i in range(self.n_classes)]
        return names

    def context(self, layer_ids: list[str]) -> ViewContext:
        """What the live views need to know about this data."""
        two_d = self.n_raw_features in (1, 2)
        extent = self.extent()
        shape = None if extent is None else (
            (1, LINE_SIZE) if self.n_raw_features == 1 else (GRID_SIZE, GRID_SIZE))
        samples = self.samples()
        return ViewContext(
            task=self.task, class_names=self.class_names, n_features=self.n_raw_features,
            feature_names=list(self.raw.feature_names),
            train_points=_points(self.raw_train) if two_d else None,
            train_labels=_labels(self.raw_train) if two_d else None,
            val_points=_points(self.raw_val) if two_d and self.raw_val is not None else None,
            val_labels=_labels(self.raw_val) if two_d and self.raw_val is not None else None,
            extent=extent, grid_shape=shape, image_shape=self.image_shape(),
            sample_images=None if samples is None else samples[1],
            sample_labels=None if samples is None else samples[2],
            metric="accuracy" if self.task == "classification" else "mae",
            layer_ids=list(layer_ids))


def _points(ds: Dataset | None) -> np.ndarray | None:
    return None if ds is None else ds.X.reshape(len(ds.X), -1)


def _labels(ds: Dataset | None) -> np.ndarray | None:
    if ds is None:
        return None
    return ds.y if ds.task == "classification" else np.asarray(ds.y).reshape(len(ds.X), -1)[:, 0]


def load_training_data(project: Any, base_dir: str | Path | None = None,
                       raw: Dataset | None = None) -> TrainingData:
    """Load the project's data (or use ``raw``) and prepare it as ``core.workflow`` does.

    The raw (untransformed, unscaled) data set is kept with the positions of the split,
    which is cut once (``project_split_indices``): the views take the raw parts from it
    when they need them. Raises ``core.data.DataError`` / ``core.project.ProjectError``
    with a readable message.
    """
    raw = raw if raw is not None else load_dataset(project, base_dir)
    ds = transformed(project, raw)
    index = project_split_indices(project, raw)
    prepared = prepare_parts(project, ds, _cut(ds, index))
    return TrainingData(prepared, raw, applied_transforms(project, raw.X) or None, index)


def _cut(ds: Dataset, index: tuple[np.ndarray, np.ndarray | None, np.ndarray | None]
         ) -> tuple[Dataset, Dataset | None, Dataset | None]:
    train, val, test = index
    return (ds.subset(train), None if val is None else ds.subset(val),
            None if test is None else ds.subset(test))


# ------------------------------------------------------------------ preparing off the UI
def preparation_inputs(project: Any) -> dict[str, Any]:
    """What ``load_training_data`` reads from the project besides the data set: the data
    source (its transforms), split, scaling (fitted or not) and loss. A preparation made
    from a snapshot is the project's own only while these are still the same."""
    return copy.deepcopy({"data": project.data, "split": project.split,
                          "preprocessing": project.preprocessing,
                          "loss": (project.training or {}).get("loss") or "mse"})


@dataclass
class Preparation:
    """A data set prepared away from the project (on the import's worker thread), from a
    snapshot of its settings: ``inputs`` are the snapshot's ``preparation_inputs``,
    ``preprocessing`` the snapshot's scaling afterwards (fitted on the training split)."""

    inputs: dict[str, Any]
    data: TrainingData
    preprocessing: dict[str, Any] | None

    def fits(self, project: Any) -> bool:
        """True when preparing ``project``'s data now would give exactly ``data``."""
        return self.inputs == preparation_inputs(project)

    def adopt(self, project: Any) -> TrainingData:
        """Write into ``project`` (which ``fits``) what preparing it would have written
        (``prepare_parts``: the fitted scaler, the class names); returns the data."""
        project.preprocessing = copy.deepcopy(self.preprocessing)
        if self.data.prepared.class_names:
            project.class_names = list(self.data.prepared.class_names)
        return self.data


def prepare_snapshot(inputs: dict[str, Any], raw: Dataset) -> Preparation:
    """Prepare ``raw`` for a project whose ``preparation_inputs`` are ``inputs``, touching
    no project: safe on a worker thread while the window goes on."""
    inputs = copy.deepcopy(inputs)
    snapshot = Project(data=copy.deepcopy(inputs["data"]), split=copy.deepcopy(inputs["split"]),
                       preprocessing=copy.deepcopy(inputs["preprocessing"]),
                       training={"loss": inputs["loss"]})
    data = load_training_data(snapshot, None, raw)
    data.summarize()  # here, not on the UI thread when the panels ask
    return Preparation(inputs, data, snapshot.preprocessing)


# ------------------------------------------------------------------ network vs data
def check_fit(spec: dict, shapes: dict, data: TrainingData, loss: str) -> list[Mismatch]:
    """Input shape and output size against the data; each mismatch carries its fix
    (the rule is :func:`core.data_fit.shape_mismatches`, shared with the CLI)."""
    return shape_mismatches(spec, shapes, data.shape, loss)


FIT_HINT = "Click “Fix the network” in the Data panel, or change the layer."


def fit_problems(mismatches: list[Mismatch], other: tuple[str, ...] | list[str] = ()
                 ) -> list[Problem]:
    """The mismatches (and ``other`` sentences, such as a loss that does not fit) as
    Problems for the Problems list (code ``data_fit``): a network that cannot train on
    its data is not a valid one to a student."""
    return ([Problem((), text, FIT_HINT, "data_fit") for text in other]
            + [Problem((m.node_id,), m.message, FIT_HINT, "data_fit") for m in mismatches])
