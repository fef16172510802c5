"""``project.json`` as text: written readable and diff-friendly, read with care.

Saving indents the document so that a version control diff shows what changed, except
the training history, which gets one line per metric (a list of hundreds of numbers one
per line would bury the rest). Reading refuses an oversized, non-UTF-8, invalid or
too deeply nested document with one :class:`ProjectError` line.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from core.project_checks import kind_name
from core.project_errors import ProjectError
from core.project_format import MAX_JSON_BYTES, PROJECT_JSON
from core.safe_zip import NUMERIC_KINDS, read_member


def dump_project_json(document: dict[str, Any]) -> bytes:
    """``document`` as UTF-8 JSON text; ProjectError for a value JSON cannot hold."""
    def default(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
            return value.tolist()
        if isinstance(value, (tuple, set, frozenset)):
            return list(value)
        raise TypeError(type(value).__name__)

    # Readable, diff-friendly layout, except the history: one line per list, not per value.
    token = f"@history-{secrets.token_hex(8)}@"
    try:
        history = _history_lines(document.get("history"), default)
        text = json.dumps({**document, "history": token}, indent=1, default=default,
                          ensure_ascii=False).replace(json.dumps(token), history, 1)
    except (TypeError, ValueError) as exc:
        raise ProjectError(
            f"Cannot save: a setting holds a value of type {exc} that a project file "
            "cannot store (only numbers, text, lists and dictionaries).") from exc
    return text.encode("utf-8")


def _history_lines(history: Any, default: Callable[[Any], Any]) -> str:
    """The history object with one line per metric (a compact list of numbers)."""
    if not isinstance(history, dict) or not history:
        return json.dumps(history, default=default)
    lines = [f"  {json.dumps(str(key))}: "
             f"{json.dumps(values, default=default, separators=(',', ':'))}"
             for key, values in history.items()]
    return "{\n" + ",\n".join(lines) + "\n }"


def read_project_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> dict:
    """The document in ``info``: size-checked before it is read, an object, or ProjectError."""
    if info.file_size > MAX_JSON_BYTES:
        raise ProjectError(f"{where}: {PROJECT_JSON} is {info.file_size / 1024**2:.0f} MiB, "
                           f"more than the {MAX_JSON_BYTES // 1024**2} MiB a project allows.")
    raw = read_member(archive, info, where)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is not valid JSON (line {exc.lineno}, "
                           f"column {exc.colno}: {exc.msg}).") from exc
    except RecursionError as exc:
        raise ProjectError(f"{where}: {PROJECT_JSON} is nested too deeply.") from exc
    if not isinstance(document, dict):
        raise ProjectError(f"{where}: {PROJECT_JSON} should hold an object, not "
                           f"{kind_name(document)}.")
    return document
