"""What an edit of the data or training settings changes, as plain before/after dicts.

The settings are fields of the project file (``training``, ``data``, ``split``,
``preprocessing``), so the model holds them and changes them with one raw mutator,
``Document.set_project_fields``. Deciding what one edit means (which fields changed, so
that edits of one field merge into one undo step; a new optimizer type or new data drops
the optimizer state; new data refits the scaler) is pure logic and lives here, without
Qt, so the editor only adds the refusal and the undo step.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Project fields that describe the data (changing one reloads the data).
DATA_FIELDS = frozenset({"data", "split", "preprocessing"})
#: Every project field that ``Document.set_project_fields`` may replace.
PROJECT_FIELDS = DATA_FIELDS | {"training", "optimizer_state"}


@dataclass(frozen=True)
class SettingsEdit:
    """One edit of project fields: the values before and after, a label for the undo
    history and the key under which consecutive edits of the same field merge."""

    before: dict[str, Any]
    after: dict[str, Any]
    text: str
    merge_key: str


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    """Names of the settings that differ: top-level keys, and ``key.sub`` inside dicts
    (``optimizer.lr``), so that only edits of the same field merge into one undo step."""
    fields: set[str] = set()
    for key in set(old) | set(new):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping) and a.get("type") == b.get(
                "type"):
            fields.update(f"{key}.{sub}" for sub in set(a) | set(b) if a.get(sub) != b.get(sub))
        else:
            fields.add(str(key))
    return fields


def unfitted(preprocessing: Any) -> dict[str, Any] | None:
    """The same scaling method without fitted statistics (fitted again on new data)."""
    if not isinstance(preprocessing, Mapping):
        return None
    return {"method": preprocessing.get("method", "standardize"), "offset": [], "scale": []}


def training_edit(project: Any, changes: Mapping[str, Any]) -> SettingsEdit | None:
    """Training settings with ``changes`` applied (None when nothing changes).

    ``changes`` holds only the keys that change (``{"optimizer": {...}}`` replaces the
    whole optimizer dict). A new optimizer type drops the saved optimizer state.
    """
    old = copy.deepcopy(project.training or {})
    new = {**old, **copy.deepcopy(dict(changes))}
    fields = changed_fields(old, new)
    if not fields:
        return None
    before: dict[str, Any] = {"training": old}
    after: dict[str, Any] = {"training": new}
    if (old.get("optimizer") or {}).get("type") != (new.get("optimizer") or {}).get("type"):
        before["optimizer_state"] = project.optimizer_state
        after["optimizer_state"] = None
    label = ", ".join(sorted(fields))
    return SettingsEdit(before, after, f"Set {label}", "training:" + label)


def data_source_edit(project: Any, source: Mapping[str, Any],
                     split: Mapping[str, Any] | None = None,
                     preprocessing: Mapping[str, Any] | None = None) -> SettingsEdit | None:
    """Another data set, file or feature transforms.

    ``split`` None keeps the split. ``preprocessing`` None keeps the scaling method but
    forgets its fitted statistics, so that it is fitted again on the new data. The
    optimizer state is dropped.
    """
    after: dict[str, Any] = {"data": copy.deepcopy(dict(source))}
    if split is not None:
        after["split"] = copy.deepcopy(dict(split))
    if preprocessing is not None:
        after["preprocessing"] = copy.deepcopy(dict(preprocessing))
    else:
        after["preprocessing"] = unfitted(project.preprocessing)
    return _data_edit(project, after, reset_state=True)


def split_edit(project: Any, split: Mapping[str, Any]) -> SettingsEdit | None:
    """The train/validation/test split with ``split`` (``{"val": 0.25}``) applied."""
    return _data_edit(project, {"split": {**(project.split or {}),
                                          **copy.deepcopy(dict(split))}})


def _data_edit(project: Any, after: dict[str, Any], reset_state: bool = False
               ) -> SettingsEdit | None:
    before = {key: copy.deepcopy(getattr(project, key)) for key in after}
    fields = sorted(f"{key}:{f}" for key in after
                    for f in changed_fields(_as_dict(before[key]), _as_dict(after[key])))
    if not fields:
        return None
    if reset_state and project.optimizer_state is not None:
        before["optimizer_state"] = project.optimizer_state
        after["optimizer_state"] = None
    what = "data split" if list(after) == ["split"] else "data"
    return SettingsEdit(before, after, f"Change the {what}", "data:" + ",".join(fields))


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {"value": value}
