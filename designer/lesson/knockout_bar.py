"""Knock-out controls: zero or freeze the neuron or weight selected in Step through.

``Knockouts`` edits the project's knock-out list through the editor (one undo step that
also zeroes the weights), hands training the values to keep fixed (``RunSession.frozen``)
and refreshes the views at once, so the loss and the boundary show the change. The bar
is the row of buttons under the step-through's values.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from designer.lesson import knockout as ko


class Knockouts(QObject):
    """The project's knock-outs: read, add, release; what training keeps fixed."""

    def __init__(self, window: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.document = self.session.document
        ui = getattr(window, "training_ui", None)
        if ui is not None:
            ui.run.frozen = self.frozen

    def entries(self) -> list[dict[str, Any]]:
        return ko.valid_entries({ko.EXTRA_KEY: self.document.extra_value(ko.EXTRA_KEY, [])})

    def _successors(self, node_id: str) -> list[str]:
        return [n for n in self.document.successors(node_id)
                if self.document.node_type(n) == "Dense"]

    def _weights_of(self, node_id: str) -> Any:
        return self.session.layer_weights(node_id) if self.document.has_node(node_id) \
            else None

    def frozen(self) -> tuple:
        """What the next run must keep where it is (``TrainingJob.frozen``)."""
        return ko.frozen(self.entries(), self._successors, self._weights_of)

    def add(self, entry: dict[str, Any]) -> str | None:
        """Knock out (zero) or freeze ``entry``: one undo step; the reason when refused."""
        if not ko.covered(entry, self._successors, self._weights_of):
            return "Select a neuron or a weight of a Dense layer first."
        entries = [e for e in self.entries() if not _same_target(e, entry)] + [entry]
        weights = ko.zeroed([entry], self._successors, self._weights_of)
        verb = "Knock out" if entry.get("zero") else "Freeze"
        return self._apply(entries, weights, f"{verb} {ko.describe(entry)}")

    def release(self, entries: list[dict[str, Any]] | None = None) -> str | None:
        """Let training change these again (all when None); the values stay as they are."""
        keep = [] if entries is None else [e for e in self.entries()
                                           if not any(_same_target(e, r) for r in entries)]
        return self._apply(keep, {}, "Release knock-outs")

    def _apply(self, entries: list, weights: dict, text: str) -> str | None:
        why = self.session.editor.set_extra_with_weights(ko.EXTRA_KEY, entries or None,
                                                         weights, text)
        ui = getattr(self.window, "training_ui", None)
        if why is None and ui is not None and not ui.run.is_running:
            ui.run.static_snapshot()
            ui.refresher.tick(final=True)
        return why


def _same_target(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("node", "unit", "name", "index")
    return all(a.get(k) == b.get(k) for k in keys)


class KnockoutBar(QWidget):
    """Knock out / Freeze / Release for the selected row, and the current list."""

    def __init__(self, knockouts: Knockouts, selected: Any, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.knockouts = knockouts
        self.selected = selected  # () -> a knock-out entry (zero=True) or None
        self.knock_button = QPushButton("Knock out")
        self.knock_button.setToolTip("Set the selected neuron or weight to zero and keep it "
                                     "there while training (undoable)")
        self.freeze_button = QPushButton("Freeze")
        self.freeze_button.setToolTip("Keep the selected neuron's or weight's values fixed "
                                      "while training")
        self.release_button = QPushButton("Release all")
        self.knock_button.clicked.connect(lambda: self._add(True))
        self.freeze_button.clicked.connect(lambda: self._add(False))
        self.release_button.clicked.connect(lambda: self.knockouts.release())
        self.status = QLabel()
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        for b in (self.knock_button, self.freeze_button, self.release_button):
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        knockouts.document.extraChanged.connect(lambda _key: self.show_list())
        knockouts.document.projectReplaced.connect(self.show_list)
        self.show_list()

    def _add(self, zero: bool) -> None:
        entry = self.selected()
        if entry is None:
            self.status.setText("Select a neuron or a weight in the values above first.")
            return
        entry["zero"] = zero
        why = self.knockouts.add(entry)
        if why:
            self.status.setText(why)

    def show_list(self) -> None:
        entries = self.knockouts.entries()
        self.release_button.setEnabled(bool(entries))
        self.status.setText("Knocked out / frozen: " + "; ".join(
            ko.describe(e) for e in entries) if entries else "")
