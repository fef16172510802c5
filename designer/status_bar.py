"""The status bar's permanent figures: layers, parameters, valid or not, training lock.

They are recomputed from the document on every spec or problem change and from the
editor on a lock change; transient
messages (a refused edge, a saved file) use the status bar's own message area on the left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QStatusBar

if TYPE_CHECKING:
    from designer.session import Session


class DocumentStatus:
    """Four labels added to the right of a QStatusBar, following one open project."""

    def __init__(self, status_bar: QStatusBar, session: Session) -> None:
        self.document = document = session.document
        self.editor = session.editor
        self.lock = QLabel(status_bar)
        self.lock.setObjectName("statusLock")
        self.layers = QLabel(status_bar)
        self.params = QLabel(status_bar)
        self.validity = QLabel(status_bar)
        for label in (self.lock, self.layers, self.params, self.validity):
            status_bar.addPermanentWidget(label)
        document.specChanged.connect(self.refresh)
        document.problemsChanged.connect(self.refresh)
        document.projectReplaced.connect(self.refresh)
        self.editor.lockChanged.connect(lambda _reason: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Re-read the figures from the document and the lock from the editor."""
        doc = self.document
        count = len(doc.node_ids())
        self.layers.setText(f"{count} layer{'s' if count != 1 else ''}")
        self.params.setText(f"{doc.total_params:,} parameters")
        errors = [p for p in doc.problems if p.severity == "error"]
        if count == 0:
            text, name, tip = "Empty network", "statusInvalid", "Add an Input layer to start."
        elif errors:
            n = len(errors)
            text, name = f"✗ {n} problem{'s' if n != 1 else ''}", "statusInvalid"
            tip = "\n".join(p.message for p in errors[:10])
        else:
            text, name, tip = "✓ Valid network", "statusValid", "Ready to train."
        self.validity.setText(text)
        self.validity.setToolTip(tip)
        if self.validity.objectName() != name:
            self.validity.setObjectName(name)
            self.validity.style().unpolish(self.validity)
            self.validity.style().polish(self.validity)
        reason = self.editor.structure_lock
        self.lock.setText(f"Locked: {reason}" if reason else "")
        self.lock.setToolTip("The structure cannot change while this lasts." if reason else "")
        self.lock.setVisible(bool(reason))
