"""Train and watch: the training UI that ``designer.app`` installs into the main window.

``session.py`` is the Qt bridge to the training process (``designer.run``), ``live.py``
refreshes the views from its snapshot buffer, ``docks.py`` builds the docks. The heavy
imports wait for :func:`install` so that importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(window: Any) -> Any:
    """Add the training UI to ``window``; returns the ``TrainingUI`` it made."""
    from designer.training.docks import install as install_ui

    return install_ui(window)
