"""The main window's dialogs: pick an example, recover unsaved work, list the keyboard
shortcuts, about.

They only show information and return a choice; the window does the work.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

NAME_ROLE = Qt.ItemDataRole.UserRole


class ExampleDialog(QDialog):
    """Every example with its title, task and description; returns the chosen name."""

    def __init__(self, examples: list, parent: QWidget | None = None,
                 current: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from example")
        self.resize(620, 520)
        intro = QLabel("Start from a ready-made network and data set. Each example trains "
                       "in seconds; open it and press Train.", self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setSpacing(2)
        for info in examples:
            task = getattr(info, "task", "")
            item = QListWidgetItem(f"{info.title}   ({task})\n{info.description}")
            item.setData(NAME_ROLE, info.name)
            item.setToolTip(info.description)
            self.list.addItem(item)
            if info.name == current:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def selected_name(self) -> str | None:
        """The name of the highlighted example (None when the list is empty)."""
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None


class RecoveryDialog(QDialog):
    """Work left by sessions that did not end normally: recover one, discard one, or later.

    After ``exec()``, ``choice`` is ``RECOVER``, ``DISCARD`` or ``LATER`` and ``row`` the
    chosen line. Nothing is deleted unless the person presses Discard: closing the dialog
    is Later, and the list comes back at the next start.
    """

    RECOVER, DISCARD, LATER = "recover", "discard", "later"
    INTRO = ("ANN Designer did not close normally (a crash, a kill or a logout) and kept the "
             "unsaved work below.\n"
             "Recover opens the chosen one here; the others stay and are offered again "
             "(File > Recover unsaved work, or the next start). Discard deletes the chosen "
             "one for good. Later keeps them all.")

    def __init__(self, entries: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.resize(560, 320)
        self.choice = self.LATER
        intro = QLabel(self.INTRO, self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.addItems(entries)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._choose(self.RECOVER))
        box = QDialogButtonBox(self)
        self.buttons: dict[str, QPushButton] = {}
        for choice, text, role in (
                (self.RECOVER, "&Recover", QDialogButtonBox.ButtonRole.AcceptRole),
                (self.DISCARD, "&Discard", QDialogButtonBox.ButtonRole.DestructiveRole),
                (self.LATER, "&Later", QDialogButtonBox.ButtonRole.RejectRole)):
            button = box.addButton(text, role)
            button.clicked.connect(lambda _checked=False, c=choice: self._choose(c))
            self.buttons[choice] = button
        self.buttons[self.RECOVER].setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(box)

    @property
    def row(self) -> int:
        """The highlighted line (-1 when none)."""
        return self.list.currentRow()

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice != self.LATER else self.reject()


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(command, keys) for every action that has a shortcut, in menu order.

    Only the primary binding is listed: the alternatives Qt adds (Ctrl+Insert, media keys
    such as "Copy") would make the table harder to read on a projector.
    """
    rows = []
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            label = action.property("label") or action.text().replace("&", "").rstrip("…. ")
            rows.append((label, keys))
    return rows


CANVAS_GESTURES = (
    ("Zoom around the cursor", "Mouse wheel"),
    ("Pan", "Middle button drag, or Space + drag"),
    ("Connect two layers", "Drag from an output port to an input port"),
    ("Select several", "Drag a rectangle, or Ctrl + click"),
    ("Add a layer", "Drag it from the palette, or double-click it"),
    ("Add a neuron", "Drop the Neuron item on a Dense layer"),
)


class ShortcutsDialog(QDialog):
    """A two-column table of every shortcut plus the mouse gestures of the canvas."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 640)
        rows = shortcut_rows(actions) + list(CANVAS_GESTURES)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Command", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents)
        for row, (command, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(command))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)


ABOUT_HTML = """
<h2>ANN Designer {version}</h2>
<p>Design, train, watch and export artificial neural networks.</p>
<p>Draw a network on the canvas, connect layers, train it on built-in or your own data and
watch it learn; export it to ONNX, NumPy or PyTorch.</p>
<p>The engine is plain NumPy; the interface uses Qt (PySide6) and pyqtgraph.</p>
<p>License: MIT.</p>
"""
