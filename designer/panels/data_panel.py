"""The data panel: choose a built-in data set or import a file, see it, fit the network.

- Built-in sets with noise, sample count, train/validation ratio and a seed (Regenerate
  draws them again; New seed draws different ones).
- CSV/TSV/NPY/NPZ import through the column-mapping dialog (optionally dropping rows with
  bad cells; the features' scaling is chosen there and stored as the project's
  ``preprocessing``, which training, prediction and export use); import errors appear in
  red in the panel.
- Every change of the data set, the split or the input features is one undoable
  edit (``editor.set_data_source`` / ``set_split``); the data is loaded again by the
  run session whenever the document's data source changes, undo and redo included.
- A scatter plot of two chosen features coloured by class (at most 10,000 rows drawn at
  random from a larger set), and the class balance.
- For 2-D data, Playground's input features (x1, x2, x1^2, x2^2, x1*x2, sin x1, sin x2).
- When the Input node's shape, the output layer's size or activation, or the loss does not
  fit the data, the mismatch is named and one click on Fix pushes the edits that fix it
  (one undo step): 3 classes get 3 softmax units and categorical cross-entropy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.data import BUILTIN_DATASETS, FEATURE_TRANSFORMS, DataError, Dataset, Progress
from core.data.csv_readers import DROP_HINT
from core.data_fit import network_fit
from core.workflow import read_source_file
from designer.model.settings import unfitted
from designer.panels.background_read import read_in_background
from designer.panels.data_import import (
    DROP_OPTION,
    ColumnMapping,
    ColumnMappingDialog,
    preview_file,
)
from designer.panels.project_values import as_dict, as_float, as_int
from designer.plots.common import CLASS_COLORS, class_color, diverging_colormap
from designer.run.data import (
    Mismatch,
    Preparation,
    fit_problems,
    preparation_inputs,
    prepare_snapshot,
)

if TYPE_CHECKING:  # the panels use the run session's public methods only
    from designer.training.session import RunSession

MAX_SCATTER_POINTS = 10_000  # larger data sets draw a random sample of this many rows
#: Points added to the scatter per event-loop turn: 10,000 at once held the window for
#: 60-130 ms at the end of an import (pyqtgraph styles each point in Python).
SCATTER_CHUNK = 2_000
FILE_FILTER = "Data files (*.csv *.tsv *.txt *.npy *.npz);;All files (*)"
TRANSFORM_LABELS = {"x1": "x1", "x2": "x2", "x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2",
                    "sin(x1)": "sin x1", "sin(x2)": "sin x2"}


def _given(source: dict) -> dict:
    """A data source without its unset (None) entries, as the project keeps it."""
    return {k: v for k, v in source.items() if v is not None}


def import_request(path: str | Path, mapping: ColumnMapping) -> dict[str, Any]:
    """The data source request for ``read_source_file``: for .npy tables the target is a
    column number ("column 3"), for .npz files the file's own y array."""
    if Path(path).suffix.lower() in (".npy", ".npz"):
        name = mapping.target
        return {"target": int(name.split()[-1]) if name.startswith("column ") else None}
    return {"target": mapping.target, "features": list(mapping.features),
            "categorical": list(mapping.categorical), "drop_bad_rows": mapping.drop_bad_rows}


def scatter_rows(n: int, limit: int = MAX_SCATTER_POINTS) -> np.ndarray:
    """The rows the scatter draws: all of them, or ``limit`` drawn at random (the same
    ones each time) when there are more. A million points took 5 s to draw and showed
    no more than a sample does."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, limit, replace=False))


def class_balance_text(counts: np.ndarray, names: list[str]) -> str:
    """"negative 200 (50 %) · positive 200 (50 %)" from the samples of each class."""
    total = max(int(counts.sum()), 1)
    return " · ".join(f"{names[i] if i < len(names) else i} {int(c)} ({c / total:.0%})"
                      for i, c in enumerate(counts))


class DataPanel(QWidget):
    """Data source, preview and the network/data fit check for one run session."""

    def __init__(self, run: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.document = run.document
        self.editor = run.editor
        self._loading = False
        self._scatter_job = 0  # a newer drawing of the scatter drops the rest of an older
        self._mismatches: list[Mismatch] = []
        self.loss_fix: str | None = None
        self._build()
        self._connect()
        self.load_source()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.dataset_box = QComboBox()
        for name, info in BUILTIN_DATASETS.items():
            self.dataset_box.addItem(info.title, name)
        self.noise_box = QDoubleSpinBox()
        self.noise_box.setRange(0.0, 0.5)
        self.noise_box.setSingleStep(0.05)
        self.samples_box = QSpinBox()
        self.samples_box.setRange(10, 100_000)
        self.samples_box.setSingleStep(50)
        self.val_box = QDoubleSpinBox()
        self.val_box.setRange(0.0, 0.9)
        self.val_box.setSingleStep(0.05)
        self.val_box.setToolTip("Share of the samples held out for validation.")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        for box in (self.noise_box, self.samples_box, self.val_box, self.seed_box):
            box.setKeyboardTracking(False)  # "0.35" is one edit, not "0", "0.", "0.3", ...
        self.regenerate_button = QPushButton("Regenerate")
        self.new_seed_button = QPushButton("New seed")
        self.import_button = QPushButton("Import file…")
        self.source_label = QLabel("")
        self.source_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Data set", self.dataset_box)
        form.addRow("Noise", self.noise_box)
        form.addRow("Samples", self.samples_box)
        form.addRow("Validation share", self.val_box)
        form.addRow("Seed", self.seed_box)
        row = QHBoxLayout()
        for button in (self.regenerate_button, self.new_seed_button, self.import_button):
            row.addWidget(button)
        form.addRow(row)
        form.addRow(self.source_label)
        source = QGroupBox("Source")
        source.setLayout(form)

        self.transform_boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for i, name in enumerate(FEATURE_TRANSFORMS):
            box = QCheckBox(TRANSFORM_LABELS.get(name, name))
            self.transform_boxes[name] = box
            grid.addWidget(box, i // 4, i % 4)
        self.transforms_group = QGroupBox("Input features (2-D data)")
        self.transforms_group.setLayout(grid)

        self.x_box, self.y_box = QComboBox(), QComboBox()
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x:"))
        axes.addWidget(self.x_box, 1)
        axes.addWidget(QLabel("y:"))
        axes.addWidget(self.y_box, 1)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(None)
        self.plot.setMinimumHeight(180)
        self.plot.getPlotItem().setMenuEnabled(False)
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.plot.addItem(self.scatter)
        self.balance_label = QLabel("")
        self.balance_label.setWordWrap(True)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.mismatch_label = QLabel("")
        self.mismatch_label.setWordWrap(True)
        self.mismatch_label.setStyleSheet("color: #b26a00;")
        self.fix_button = QPushButton("Fix the network")
        self.fix_button.setToolTip("Set the Input shape, the output units and activation, "
                                   "and the loss to fit the data.")

        layout = QVBoxLayout(self)
        layout.addWidget(source)
        layout.addWidget(self.transforms_group)
        layout.addWidget(self.error_label)
        layout.addWidget(self.mismatch_label)
        layout.addWidget(self.fix_button)
        layout.addLayout(axes)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.balance_label)

    def _connect(self) -> None:
        self.dataset_box.currentIndexChanged.connect(self._dataset_changed)
        self.regenerate_button.clicked.connect(self.apply_builtin)
        self.new_seed_button.clicked.connect(self.new_seed)
        self.import_button.clicked.connect(self.choose_file)
        self.val_box.valueChanged.connect(self._split_changed)
        for box in (self.noise_box, self.samples_box):  # act at once, as the Playground
            box.valueChanged.connect(self._builtin_setting_changed)
        for box in self.transform_boxes.values():
            box.toggled.connect(self._transforms_changed)
        self.x_box.currentIndexChanged.connect(self.draw_scatter)
        self.y_box.currentIndexChanged.connect(self.draw_scatter)
        self.fix_button.clicked.connect(self.fix_network)
        self.run.dataChanged.connect(self._data_changed)
        self.run.stateChanged.connect(self._state_changed)
        self.document.specChanged.connect(self.check_network)
        self.document.projectReplaced.connect(self.load_source)
        self.document.dataSourceChanged.connect(self.load_source)

    # ------------------------------------------------------------------ source
    @property
    def project(self) -> Any:
        return self.document.project

    def load_source(self) -> None:
        """Show the project's data source in the widgets."""
        source = as_dict(self.project.data)
        params = as_dict(source.get("params"))
        self._loading = True
        try:
            if source.get("kind") == "builtin" and isinstance(source.get("name"), str):
                index = self.dataset_box.findData(source.get("name"))
                if index >= 0:
                    self.dataset_box.setCurrentIndex(index)
            info = BUILTIN_DATASETS.get(self.dataset_box.currentData())
            self.noise_box.setValue(as_float(params.get("noise"), 0.0) or (
                info.noise if info and info.noise else 0.0))
            self.samples_box.setValue(as_int(params.get("n_samples"), 0) or (
                info.n_samples if info else 500))
            self.seed_box.setValue(as_int(params.get("seed"), 0))
            self.val_box.setValue(as_float(as_dict(self.project.split).get("val"), 0.2))
            transforms = source.get("transforms")
            chosen = {t for t in transforms if isinstance(t, str)} \
                if isinstance(transforms, list) else set()
            for name, box in self.transform_boxes.items():
                box.setChecked(name in chosen or (not chosen and name in ("x1", "x2")))
        finally:
            self._loading = False
        self._describe_source()
        self._enable_builtin_settings()

    def _describe_source(self) -> None:
        source = as_dict(self.project.data)
        if source.get("kind") == "file":
            dropped = as_int(source.get("dropped_rows"), 0)
            skipped = (f", {dropped} row{'s' * (dropped != 1)} with bad cells skipped"
                       if dropped else "")
            self.source_label.setText(f"File: {Path(str(source.get('path'))).name}, target "
                                      f"{source.get('target')}{skipped}")
        elif source.get("kind") == "builtin":
            name = source.get("name")
            info = BUILTIN_DATASETS.get(name) if isinstance(name, str) else None
            self.source_label.setText(info.description if info else "")
        else:
            self.source_label.setText("No data yet: choose a data set or import a file.")

    def _enable_builtin_settings(self) -> None:
        info = BUILTIN_DATASETS.get(self.dataset_box.currentData())
        self.noise_box.setEnabled(bool(info and info.synthetic))

    def _dataset_changed(self) -> None:
        if self._loading:
            return
        info = BUILTIN_DATASETS.get(self.dataset_box.currentData())
        if info is not None:
            self._loading = True
            self.samples_box.setValue(info.n_samples)
            self.noise_box.setValue(float(info.noise or 0.0))
            self._loading = False
        self._enable_builtin_settings()
        self.apply_builtin()

    def apply_builtin(self) -> None:
        """Use the built-in data set with the settings shown (draws it again)."""
        name = self.dataset_box.currentData()
        info = BUILTIN_DATASETS[name]
        params: dict[str, Any] = {"n_samples": int(self.samples_box.value()),
                                  "seed": int(self.seed_box.value())}
        if info.synthetic:
            params["noise"] = float(self.noise_box.value())
        source = {"kind": "builtin", "name": name, "params": params}
        transforms = self._chosen_transforms()
        if transforms and info.n_features == 2:
            source["transforms"] = transforms
        self._set_source(source)

    def _builtin_setting_changed(self) -> None:
        if not self._loading and self.run.state == "idle":
            self.apply_builtin()

    def new_seed(self) -> None:
        """Draw a different sample of the same data set."""
        self.seed_box.setValue(self.seed_box.value() + 1)
        self.apply_builtin()

    def _split_changed(self) -> None:
        if self._loading:
            return
        self._show_refusal(self.editor.set_split({"val": float(self.val_box.value())}))

    def _chosen_transforms(self) -> list[str]:
        return [n for n, box in self.transform_boxes.items() if box.isChecked()]

    def _transforms_changed(self) -> None:
        if self._loading:
            return
        source = dict(self.project.data or {})
        chosen = self._chosen_transforms()
        if not chosen:
            self.error_label.setText("Choose at least one input feature.")
            return
        source["transforms"] = None if chosen == ["x1", "x2"] else chosen
        self._set_source(source)

    def _set_source(self, source: dict, scaling: str | None = None) -> str | None:
        """A new data source as one undoable edit (the document refits the scaler, with
        the ``scaling`` method when one is given); the same source and scaling again only
        reloads it. Returns the reason when refused."""
        source = _given(source)
        if self._only_reloads(source, scaling):
            self._reload()
            return None
        preprocessing = None if scaling is None else {
            "method": scaling, "offset": [], "scale": []}
        return self._show_refusal(self.editor.set_data_source(
            source, preprocessing=preprocessing))

    def _only_reloads(self, source: dict, scaling: str | None) -> bool:
        return source == (self.project.data or {}) and (
            scaling is None or scaling == self.scaling_method())

    def _planned_inputs(self, scaling: str | None) -> Callable[[dict], dict[str, Any]]:
        """The ``preparation_inputs`` the project will have once ``_set_source(source,
        scaling)`` is done, for a source known only after the read: a snapshot of the
        project's settings now, safe to call on the worker thread."""
        self.run.settings  # noqa: B018 - fills in the loss the project trains with
        now = preparation_inputs(self.project)
        reload_source = copy.deepcopy(self.project.data or {})
        keeps = scaling is None or scaling == self.scaling_method()
        fresh = unfitted(now["preprocessing"]) if scaling is None else {
            "method": scaling, "offset": [], "scale": []}

        def planned(source: dict) -> dict[str, Any]:
            source = _given(source)
            reloads = source == reload_source and keeps
            return {**now, "data": source,
                    "preprocessing": now["preprocessing"] if reloads else fresh}

        return planned

    def scaling_method(self) -> str:
        """How the project scales its features ("standardize", "minmax" or "none")."""
        method = (self.project.preprocessing or {}).get("method")
        return method if isinstance(method, str) else "none"

    def _show_refusal(self, reason: str | None) -> str | None:
        if reason:
            self.error_label.setText(reason)
        return reason

    def _reload(self) -> None:
        if self.run.is_running:
            self.error_label.setText("Stop training before changing the data.")
            return
        self.run.load_data()

    # ------------------------------------------------------------------ import
    def choose_file(self) -> None:
        """Ask for a data file and import it."""
        path, _ = QFileDialog.getOpenFileName(self, "Import data", "", FILE_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> bool:
        """Preview ``path``, ask for the column mapping, then import (window drop hook)."""
        try:
            preview = preview_file(path)
        except (DataError, OSError) as exc:
            return self._import_failed(path, exc)
        if preview.kind == "npz":
            return self.import_with(path, ColumnMapping(target=""))
        dialog = ColumnMappingDialog(path, preview, self, scaling=self.scaling_method())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.import_with(path, dialog.mapping())

    def import_with(self, path: str, mapping: ColumnMapping) -> bool:
        """Import ``path`` with a column mapping; errors are shown in the panel.

        The file is read as the command line reads it (``core.workflow.read_source_file``)
        and the source records what the reader found (categories, task, dropped rows), so
        that ``ann-designer train``/``predict`` read this project's data the same way. The
        read runs on a worker thread behind a progress dialog with Cancel
        (``background_read``), and only once: the run session is handed the data set
        read here instead of reading the file again. False when cancelled or refused.
        """
        if self.run.is_running:
            self.error_label.setText("Stop training before importing data.")
            return False
        request = import_request(path, mapping)
        planned = self._planned_inputs(mapping.scaling)

        def read_and_prepare(progress: Progress) -> tuple[dict, Dataset, Preparation | None]:
            ds = read_source_file(request, path, progress=progress)
            source = {**ds.source, "path": str(path), "embedded": False,
                      "drop_bad_rows": mapping.drop_bad_rows}
            try:
                preparation = prepare_snapshot(planned(source), ds)
            except Exception:  # noqa: BLE001 - prepared again on the UI thread, error shown
                preparation = None
            return source, ds, preparation

        try:
            read = read_in_background(read_and_prepare, self, f"Reading {Path(path).name}")
        except (DataError, OSError, ValueError) as exc:
            return self._import_failed(path, exc)
        if read is None:  # cancelled: the project stays as it was
            return False
        source, ds, preparation = read
        self.error_label.setText("")
        self.run.offer_data(source, ds, preparation)  # the reload after the edit uses it
        try:
            if self._set_source(source, mapping.scaling) or self.run.data is None:
                return False
        finally:
            self.run.offer_data(None, None)
        self.status = f"Imported {len(ds.X)} samples from {Path(path).name}."
        return True

    def _import_failed(self, path: str, exc: Exception) -> bool:
        text = str(exc).replace(DROP_HINT, f"or import again with “{DROP_OPTION}” ticked")
        self.error_label.setText(f"Could not import {Path(path).name}: {text}")
        return False

    # ------------------------------------------------------------------ display
    def _state_changed(self, state: str) -> None:
        idle = state == "idle"
        for widget in (self.dataset_box, self.noise_box, self.samples_box, self.val_box,
                       self.seed_box, self.regenerate_button, self.new_seed_button,
                       self.import_button, self.transforms_group, self.fix_button):
            widget.setEnabled(idle)
        if idle:
            self._enable_builtin_settings()

    def _data_changed(self) -> None:
        data = self.run.data
        self.error_label.setText(self.run.data_error or "")
        self.transforms_group.setVisible(data is not None and data.n_raw_features == 2)
        names = list(data.raw.feature_names) if data is not None else []
        for box, index in ((self.x_box, 0), (self.y_box, 1)):
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentIndex(min(index, len(names) - 1))
            box.blockSignals(False)
        self.draw_scatter()
        if data is not None and data.task == "classification":
            names = data.class_names
            self.balance_label.setText("Classes: " + class_balance_text(data.class_counts, names))
        elif data is not None:
            self.balance_label.setText(f"Regression, {len(data.raw.X)} samples.")
        else:
            self.balance_label.setText("")
        self.check_network()

    def draw_scatter(self) -> None:
        """Scatter of the two chosen features coloured by class (or by target value); of
        a large data set only a sample of rows is drawn (``scatter_rows``), and a chunk of
        it per event-loop turn (``SCATTER_CHUNK``), so the window answers meanwhile."""
        self._scatter_job += 1
        data = self.run.data
        if data is None:
            self.scatter.setData([], [])
            return
        X = data.raw.X.reshape(len(data.raw.X), -1)
        i, j = self.x_box.currentIndex(), self.y_box.currentIndex()
        if i < 0 or X.shape[1] == 0:
            self.scatter.setData([], [])
            return
        rows = scatter_rows(len(X))
        targets = np.asarray(data.raw.y).reshape(len(X), -1)
        x = X[rows, i]
        y = X[rows, j] if 0 <= j < X.shape[1] else targets[rows, 0].astype(float)
        if data.task == "classification":
            brushes = [pg.mkBrush(class_color(k)) for k in range(len(CLASS_COLORS))]
            brush = [brushes[k % len(brushes)] for k in targets[rows, 0].astype(int)]
        else:
            t = targets[:, 0].astype(float)
            span = float(t.max() - t.min()) or 1.0
            brush = list(diverging_colormap().map((t[rows] - t.min()) / span, "qcolor"))
        self.scatter.setData(x[:SCATTER_CHUNK], y[:SCATTER_CHUNK], brush=brush[:SCATTER_CHUNK])
        self._add_scatter_points(self._scatter_job, x, y, brush, SCATTER_CHUNK)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", self.x_box.currentText())
        item.setLabel("left", self.y_box.currentText() or "target")

    def _add_scatter_points(self, job: int, x: np.ndarray, y: np.ndarray, brush: list,
                            start: int) -> None:
        """Add the next chunk of points from ``start`` in a later event-loop turn."""
        if start >= len(x):
            return

        def add() -> None:
            if job != self._scatter_job:  # drawn again meanwhile
                return
            stop = start + SCATTER_CHUNK
            self.scatter.addPoints(x=x[start:stop], y=y[start:stop], brush=brush[start:stop])
            self._add_scatter_points(job, x, y, brush, stop)

        QTimer.singleShot(0, self, add)

    # ------------------------------------------------------------------ fit check
    def check_network(self) -> list[Mismatch]:
        """Compare Input shape, output units and activation, and the loss with the data
        (:func:`core.data_fit.network_fit`, the rule the CLI shares); offer the fix
        (``self.loss_fix`` is the loss Fix sets, None when it fits)."""
        data = self.run.data
        loss = str(self.run.settings.get("loss", "mse"))
        self._mismatches, self.loss_fix, lines = [], None, []
        if data is not None:
            fit = network_fit(self.document.spec, self.document.shapes, data.shape, loss)
            if fit.loss_changed:
                self.loss_fix = fit.loss
                lines.append(f"The loss {loss} does not fit {data.shape.words()}; Fix sets "
                             f"{fit.loss}.")
            self._mismatches = fit.mismatches
        lines += [m.message for m in self._mismatches]
        self.document.set_data_problems(fit_problems(self._mismatches, lines[:1]
                                                     if self.loss_fix else []))
        self.mismatch_label.setText("\n".join(lines))
        self.mismatch_label.setVisible(bool(lines))
        self.fix_button.setVisible(bool(lines))
        return self._mismatches

    def fix_network(self) -> list[str]:
        """Set the loss Fix proposes and push one ``set_param`` per mismatch, as one undo
        step; returns the reasons of refused edits."""
        locked = self.editor.refuse_if_locked()
        if locked:  # no empty undo step
            self.error_label.setText(locked)
            return [locked]
        refused = []
        stack = self.editor.undo_stack
        stack.beginMacro("Fix the network for the data")  # one click, one undo step
        try:
            if self.loss_fix is not None:
                reason = self.editor.set_training_settings({"loss": self.loss_fix})
                if reason:
                    refused.append(reason)
            for mismatch in list(self._mismatches):
                reason = self.editor.set_param([mismatch.node_id], mismatch.param,
                                               copy.deepcopy(mismatch.value))
                if reason:
                    refused.append(reason)
        finally:
            stack.endMacro()
        if refused:
            self.error_label.setText("; ".join(refused))
        self.check_network()
        return refused
