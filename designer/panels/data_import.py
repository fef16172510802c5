"""The column-mapping dialog of the data import: which column is the target, which
are features, which are categorical, how the features are scaled, whether rows with bad
cells are dropped, with a preview of the first rows.

The target it proposes is the column a person would pick: one named like a target
(``label``, ``class``, ``target``, ``y``), else the last text column (a classifier's
labels), else the last column.

The file is only sniffed here (``core.data.sniff_csv`` reads its first ~64 KiB, or the
first whole lines of a wide file; NPY files are opened memory-mapped without pickle), so
a huge file opens the dialog at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.data import DataError, sniff_csv

NPY_SUFFIXES = (".npy", ".npz")
PREVIEW_ROWS = 20
DROP_OPTION = "Drop rows with bad cells"
#: Words that name a target column ("Class", "target_value", "y"), matched as whole words.
TARGET_WORDS = frozenset({"target", "label", "labels", "class", "classes", "y"})
#: Scaling methods of ``core.data.Scaler`` as the dialog offers them.
SCALINGS = (("standardize", "Standardize (mean 0, standard deviation 1)"),
            ("minmax", "Min-max (from 0 to 1)"),
            ("none", "None (use the values as they are)"))


@dataclass
class ColumnMapping:
    """The user's choice: target column, feature columns and categorical columns."""

    target: str
    features: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    drop_bad_rows: bool = False  # skip rows with an empty or non-numeric feature cell
    scaling: str | None = None  # "standardize" | "minmax" | "none"; None keeps the project's


@dataclass
class FilePreview:
    """Column names, which look numeric, and the first rows as text."""

    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    kind: str  # "csv" | "npy" | "npz"


def preview_file(path: str | Path) -> FilePreview:
    """Sniff a CSV/TSV or open an NPY/NPZ for the dialog; DataError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file; choose an existing file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return FilePreview(["X", "y"], [True, True], [], "npz")
    if suffix == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"{path.name} is not a readable .npy array: {exc}") from None
        if array.ndim != 2:
            raise DataError(f"{path.name} holds an array of shape {array.shape}; the import "
                            "needs a 2-D table (rows = samples, one column is the target), "
                            "or an .npz file with arrays X and y")
        columns = [f"column {j}" for j in range(array.shape[1])]
        rows = [[f"{v:g}" for v in row] for row in np.asarray(array[:PREVIEW_ROWS])]
        return FilePreview(columns, [True] * len(columns), rows, "npy")
    layout = sniff_csv(path)
    return FilePreview(list(layout.columns), list(layout.numeric),
                       [list(r) for r in layout.preview], "csv")


def default_target(columns: list[str], numeric: list[bool]) -> int:
    """The column to propose as target: named like one, else the last text column, else the
    last column (see the module docstring)."""
    named = [j for j, name in enumerate(columns)
             if TARGET_WORDS & set(re.split(r"[^a-z0-9]+", name.lower()))]
    if named:
        return named[-1]
    text = [j for j, is_number in enumerate(numeric) if not is_number]
    return text[-1] if text else len(columns) - 1


class ColumnMappingDialog(QDialog):
    """Choose target, features, categorical columns and scaling of a previewed file."""

    def __init__(self, path: str | Path, preview: FilePreview,
                 parent: QWidget | None = None, scaling: str = "standardize") -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {Path(path).name}")
        self.preview = preview
        self.target_box = QComboBox()
        self.target_box.addItems(preview.columns)
        self.target_box.setCurrentIndex(default_target(preview.columns, preview.numeric))
        self.scaling_box = QComboBox()
        for method, text in SCALINGS:
            self.scaling_box.addItem(text, method)
        self.scaling_box.setCurrentIndex(max(0, self.scaling_box.findData(scaling)))
        self.scaling_box.setToolTip("How the features are scaled before training (fitted on "
                                    "the training split; prediction and export use the same).")
        self.table = QTableWidget(len(preview.rows) + 2, len(preview.columns))
        self.table.setHorizontalHeaderLabels(preview.columns)
        self.table.setVerticalHeaderLabels(["use as", "categorical"] +
                                           [str(i + 1) for i in range(len(preview.rows))])
        for j, numeric in enumerate(preview.numeric):
            self.table.setItem(0, j, _check_item(True))
            self.table.setItem(1, j, _check_item(not numeric))
            for i, row in enumerate(preview.rows):
                item = QTableWidgetItem(row[j] if j < len(row) else "")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(i + 2, j, item)
        self.target_box.currentIndexChanged.connect(self._target_changed)
        self._target_changed()
        self.drop_box = QCheckBox(DROP_OPTION)
        self.drop_box.setToolTip("Skip rows where a feature cell is empty or not a number "
                                 "instead of stopping at the first one; the Data panel "
                                 "says how many were skipped.")
        self.drop_box.setVisible(preview.kind == "csv")
        form = QFormLayout()
        form.addRow("Target column", self.target_box)
        form.addRow("Scaling", self.scaling_box)
        form.addRow("", self.drop_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Tick the columns to use as features; text columns are "
                                "categorical (one-hot encoded)."))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(720, 420)

    def _target_changed(self) -> None:
        target = self.target_box.currentIndex()
        for j in range(self.table.columnCount()):
            item = self.table.item(0, j)
            if j == target:
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)

    def mapping(self) -> ColumnMapping:
        """The choice made in the dialog."""
        columns = self.preview.columns
        target = self.target_box.currentIndex()
        features = [c for j, c in enumerate(columns) if j != target
                    and self.table.item(0, j).checkState() == Qt.CheckState.Checked]
        categorical = [c for j, c in enumerate(columns) if c in features
                       and self.table.item(1, j).checkState() == Qt.CheckState.Checked]
        return ColumnMapping(columns[target], features, categorical,
                             drop_bad_rows=self.drop_box.isChecked(),
                             scaling=self.scaling_box.currentData())


def _check_item(checked: bool) -> QTableWidgetItem:
    item = QTableWidgetItem("")
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    return item
