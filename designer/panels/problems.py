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
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

NODES_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QWidget):
    """A two-column list (problem, nodes) with the hint as a second line and tooltip.

    `nodesActivated(list[str])` is emitted when a row is clicked or activated.
    """

    nodesActivated = Signal(list)

    def __init__(self, document=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = None
        self.summary = QLabel(self)
        self.summary.setObjectName("hint")
        self.list = QTreeWidget(self)
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Problem", "Nodes"])
        self.list.setRootIsDecorated(False)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.header().setStretchLastSection(False)
        self.list.header().setSectionResizeMode(0, self.list.header().ResizeMode.Stretch)
        self.list.header().setSectionResizeMode(
            1, self.list.header().ResizeMode.ResizeToContents)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.list)
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
            self.list.addTopLevelItem(self._item(problem))
        errors = sum(getattr(p, "severity", "error") == "error" for p in problems)
        warnings = len(problems) - errors
        if not problems:
            self.summary.setText("No problems: the network is valid.")
        else:
            self.summary.setText(f"{errors} error(s), {warnings} warning(s). "
                                 "Click a problem to show its node.")

    def _item(self, problem) -> QTreeWidgetItem:
        node_ids = [str(n) for n in getattr(problem, "node_ids", ())]
        hint = getattr(problem, "hint", "") or ""
        text = problem.message + (f"\n→ {hint}" if hint else "")
        item = QTreeWidgetItem([text, ", ".join(node_ids) or "—"])
        pixmap = (QStyle.StandardPixmap.SP_MessageBoxCritical
                  if getattr(problem, "severity", "error") == "error"
                  else QStyle.StandardPixmap.SP_MessageBoxWarning)
        item.setIcon(0, self.style().standardIcon(pixmap))
        item.setToolTip(0, text)
        item.setData(0, NODES_ROLE, node_ids)
        return item

    def _on_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        node_ids = item.data(0, NODES_ROLE) or []
        if node_ids:
            self.nodesActivated.emit(list(node_ids))
