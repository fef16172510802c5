"""Train and watch: the training UI that ``designer.app`` installs into the main window.

``install(window)`` creates the controller (training process, snapshot buffer), the Data,
Training and Inference panels and the live views (curves, decision boundary, weights,
confusion matrix, images) as docks, wires them to ``window.document``, makes dropped data
files go through the Data panel's importer, and stops training when the window closes.
The heavy imports wait for ``install`` so that importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(window: Any) -> Any:
    """Add the training UI to ``window``; returns the ``TrainingUI`` it made."""
    from designer.training.ui import install as install_ui

    return install_ui(window)
