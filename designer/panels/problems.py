"""The Problems dock: what `core.validate` found, one row per problem.

The list mirrors `document.problems` (it never keeps problems of its own) and is refreshed
on the document's `problemsChanged` signal.  Clicking a row asks the main window to select
and centre the node(s) the problem is about, so a student can go from "what is wrong" to
"where" in one click.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QVBoxLayout,
    QWidget,
)

NODES_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QWidget):
    """A list of problems, each with its hint on a second line, errors first.

    `nodesActivated(list[str])` is emitted when a row is clicked or activated.
    """

    nodesActivated = Signal(list)

    def __init__(self, document=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = None
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)  # a long summary must not widen the dock
        self.summary.setObjectName("hint")
        # One wrapped column (the messages name their nodes); Adjust re-wraps on resize.
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addStretch(0)  # takes the room of the hidden list when all is well
        if document is not None:
            self.set_document(document)
        else:
            self.set_problems([])

    def set_document(self, document) -> None:
        """Follow `document`'s problems from now on."""
        if self.document is not None:
            self.document.problemsChanged.disconnect(self.refresh)
        self.document = document
        document.problemsChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the document's problems."""
        self.set_problems(list(self.document.problems) if self.document is not None else [])

    def set_problems(self, problems: list) -> None:
        """Show `problems` (core.spec.Problem objects), errors first."""
        self.list.clear()
        ordered = sorted(problems, key=lambda p: getattr(p, "severity", "error") != "error")
        for problem in ordered:
            self.list.addItem(self._item(problem))
        errors = sum(getattr(p, "severity", "error") == "error" for p in problems)
        warnings = len(problems) - errors
        self.list.setVisible(bool(problems))  # no empty white box under "all is well"
        if not problems:
            self.summary.setText("✓ No problems: the network is valid.")
        else:
            parts = [_count(errors, "error"), _count(warnings, "warning")]
            self.summary.setText(", ".join(p for p in parts if p)
                                 + ". Click a problem to show its layer.")

    def _item(self, problem) -> QListWidgetItem:
        node_ids = [str(n) for n in getattr(problem, "node_ids", ())]
        hint = getattr(problem, "hint", "") or ""
        text = problem.message + (f"\n→ {hint}" if hint else "")
        item = QListWidgetItem(text)
        pixmap = (QStyle.StandardPixmap.SP_MessageBoxCritical
                  if getattr(problem, "severity", "error") == "error"
                  else QStyle.StandardPixmap.SP_MessageBoxWarning)
        item.setIcon(self.style().standardIcon(pixmap))
        item.setToolTip(text + (f"\nNodes: {', '.join(node_ids)}" if node_ids else ""))
        item.setData(NODES_ROLE, node_ids)
        return item

    def node_ids_at(self, row: int) -> list[str]:
        """The node ids of the problem shown in `row`."""
        return list(self.list.item(row).data(NODES_ROLE) or [])

    def _on_item(self, item: QListWidgetItem) -> None:
        node_ids = item.data(NODES_ROLE) or []
        if node_ids:
            self.nodesActivated.emit(list(node_ids))


def _count(n: int, noun: str) -> str:
    """"1 error", "2 errors", "" for none."""
    return "" if n == 0 else f"{n} {noun}{'s' if n != 1 else ''}"
