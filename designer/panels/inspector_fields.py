"""One editor widget per parameter kind of `core.spec.LAYER_SCHEMAS`.

Each field shows a value, checks what is typed as it is typed, and reports a valid new
value through `on_commit(value)`; an invalid one turns the field red and says why, and is
never sent to the document.  Kinds: int, float, bool, choice, shape, int_or_pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

INT_LIMIT = 2**31 - 1
MIXED = "(mixed)"


def param_attr(param: Any, name: str, default: Any = None) -> Any:
    """An attribute of a parameter schema, whether it is an object or a dict."""
    if isinstance(param, dict):
        return param.get(name, default)
    return getattr(param, name, default)


class Field:
    """Base class: owns one widget, sets values without echo, reports valid edits."""

    def __init__(self, param: Any, on_commit: Callable[[Any], None],
                 on_error: Callable[[str | None], None]) -> None:
        self.param = param
        self.name: str = param_attr(param, "name")
        self.kind: str = param_attr(param, "kind", "float")
        self.minimum = param_attr(param, "min")
        self.maximum = param_attr(param, "max")
        self.default = param_attr(param, "default")
        self._on_commit = on_commit
        self._on_error = on_error
        self._silent = False
        self.widget: QWidget = self.build()
        tip = param_attr(param, "description") or param_attr(param, "help") or ""
        self.widget.setToolTip(self._range_text() if not tip else f"{tip}\n{self._range_text()}")
        self.widget.setObjectName(f"field_{self.name}")

    # -- to override ------------------------------------------------------------------
    def build(self) -> QWidget:
        raise NotImplementedError

    def show_value(self, value: Any, mixed: bool) -> None:
        raise NotImplementedError

    def current(self) -> Any:
        """The value the widget shows now (may be invalid for text fields)."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------
    def set_value(self, value: Any, mixed: bool = False) -> None:
        """Show `value` (or a "mixed" marker) without sending it back to the document."""
        if self.widget.hasFocus() and not mixed and self._same(value):
            return  # the user is typing this very value: keep their text and cursor
        self._silent = True
        try:
            self.show_value(value, mixed)
            self._mark(None)
        finally:
            self._silent = False

    def _same(self, value: Any) -> bool:
        try:
            return self.current() == value
        except ValueError:
            return False

    def commit(self, value: Any) -> None:
        if not self._silent:
            self._mark(None)
            self._on_commit(value)

    def reject(self, reason: str) -> None:
        if not self._silent:
            self._mark(reason)

    def _mark(self, reason: str | None) -> None:
        invalid = reason is not None
        if self.widget.property("invalid") != invalid:
            self.widget.setProperty("invalid", invalid)
            self.widget.style().unpolish(self.widget)
            self.widget.style().polish(self.widget)
        self._on_error(reason)

    def _range_text(self) -> str:
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"From {lo} to {hi}."
        if lo is not None:
            return f"At least {lo}."
        if hi is not None:
            return f"At most {hi}."
        return ""

    def check_range(self, number: float) -> str | None:
        """Why `number` is out of range, or None."""
        if self.minimum is not None and number < self.minimum:
            return f"{self.name} must be at least {self.minimum}."
        if self.maximum is not None and number > self.maximum:
            return f"{self.name} must be at most {self.maximum}."
        return None


class IntField(Field):
    """A spin box bounded by the schema's range (typing outside it is impossible)."""

    def build(self) -> QWidget:
        box = QSpinBox()
        box.setRange(int(self.minimum) if self.minimum is not None else -INT_LIMIT,
                     int(self.maximum) if self.maximum is not None else INT_LIMIT)
        box.setKeyboardTracking(True)
        box.setAccelerated(True)
        box.valueChanged.connect(self.commit)
        return box

    def show_value(self, value: Any, mixed: bool) -> None:
        box: QSpinBox = self.widget
        box.setSpecialValueText(MIXED if mixed else "")
        if mixed or not isinstance(value, (int, float)):
            box.setValue(box.minimum())  # the special text shows at the minimum
        else:
            box.setValue(int(value))

    def current(self) -> Any:
        return self.widget.value()


class FloatField(Field):
    """A text box for numbers from 1e-8 to 1e8 alike; checked against the range as typed."""

    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.textEdited.connect(self._typed)
        return edit

    def show_value(self, value: Any, mixed: bool) -> None:
        edit: QLineEdit = self.widget
        edit.setPlaceholderText(MIXED if mixed else "")
        edit.setText("" if mixed or value is None else format_float(value))

    def current(self) -> Any:
        return parse_float(self.widget.text())

    def _typed(self, text: str) -> None:
        try:
            number = parse_float(text)
        except ValueError as exc:
            self.reject(str(exc))
            return
        reason = self.check_range(number)
        if reason:
            self.reject(reason)
        else:
            self.commit(number)


class BoolField(Field):
    """A check box (partially checked when a multi-selection disagrees)."""

    def build(self) -> QWidget:
        box = QCheckBox()
        box.clicked.connect(lambda checked: self.commit(bool(checked)))
        return box

    def show_value(self, value: Any, mixed: bool) -> None:
        box: QCheckBox = self.widget
        box.setTristate(mixed)
        box.setCheckState(Qt.CheckState.PartiallyChecked if mixed
                          else Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)

    def current(self) -> Any:
        return self.widget.isChecked()


class ChoiceField(Field):
    """A combo box of the schema's choices (activations, initializers, padding...)."""

    def build(self) -> QWidget:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)  # narrow docks: shrink instead of scrolling
        self.choices = list(param_attr(self.param, "choices") or [])
        for choice in self.choices:
            combo.addItem("none" if choice is None else str(choice), choice)
        combo.currentIndexChanged.connect(self._picked)
        return combo

    def _picked(self, index: int) -> None:
        if index >= 0 and self.widget.itemText(index) != MIXED:
            self.commit(self.widget.itemData(index))

    def show_value(self, value: Any, mixed: bool) -> None:
        combo: QComboBox = self.widget
        mixed_index = combo.findText(MIXED)
        if mixed and mixed_index < 0:
            combo.insertItem(0, MIXED, None)
        elif not mixed and mixed_index >= 0:
            combo.removeItem(mixed_index)
        index = combo.findText(MIXED) if mixed else combo.findData(value)
        if index < 0 and not mixed:  # a value the schema does not list: show it anyway
            combo.addItem(str(value), value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def current(self) -> Any:
        return self.widget.currentData()


class ShapeField(Field):
    """A comma-separated list of positive sizes, e.g. `28, 28, 1` (kind "shape")."""

    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.setPlaceholderText("e.g. 28, 28, 1")
        edit.textEdited.connect(self._typed)
        return edit

    def show_value(self, value: Any, mixed: bool) -> None:
        edit: QLineEdit = self.widget
        edit.setPlaceholderText(MIXED if mixed else "e.g. 28, 28, 1")
        edit.setText("" if mixed else format_ints(value))

    def current(self) -> Any:
        sizes = parse_ints(self.widget.text(), self.name, minimum=self._min_size())
        if self.maximum is not None and max(sizes) > self.maximum:
            raise ValueError(f"Every size in {self.name} must be at most {self.maximum:g}.")
        return sizes

    def _min_size(self) -> int:
        return int(self.minimum) if self.minimum is not None else 1

    def _typed(self, _text: str) -> None:
        try:
            value = self.current()
        except ValueError as exc:
            self.reject(str(exc))
            return
        self.commit(value)


class IntOrPairField(ShapeField):
    """One size or two (`3` or `3, 5`): kernel_size, strides, pool_size.

    Empty means None when the schema's default is None (pooling strides = pool size).
    """

    def build(self) -> QWidget:
        edit = super().build()
        edit.setPlaceholderText(self._placeholder())
        return edit

    def _placeholder(self) -> str:
        return "default" if self._nullable() else "e.g. 3 or 3, 5"

    def _nullable(self) -> bool:
        return bool(param_attr(self.param, "nullable")) or self.default is None

    def show_value(self, value: Any, mixed: bool) -> None:
        edit: QLineEdit = self.widget
        edit.setPlaceholderText(MIXED if mixed else self._placeholder())
        edit.setText("" if mixed or value is None else format_ints(value))

    def current(self) -> Any:
        text = self.widget.text().strip()
        if not text and self._nullable():
            return None
        sizes = super().current()
        if len(sizes) > 2:
            raise ValueError(f"{self.name} takes one number or two (height, width).")
        return sizes[0] if len(sizes) == 1 else sizes


class TextField(Field):
    """A free text (the node's optional `name` label); empty removes it."""

    MAX_LENGTH = 80

    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.setMaxLength(self.MAX_LENGTH)
        edit.setPlaceholderText("optional label")
        edit.textEdited.connect(lambda text: self.commit(text.strip() or None))
        return edit

    def show_value(self, value: Any, mixed: bool) -> None:
        self.widget.setText("" if mixed or value is None else str(value))

    def current(self) -> Any:
        return self.widget.text().strip() or None


class IdField(Field):
    """The node's id: checked as it is typed, renamed when editing finishes (one step).

    `check(text)` returns why an id is refused (empty, taken, odd characters) or None.
    Renaming on every keystroke would make a dozen undo steps and clash with ids on the
    way ("d" while typing "dense_9"), so the rename waits for Enter or leaving the field.
    """

    def __init__(self, param: Any, on_commit: Callable[[Any], None],
                 on_error: Callable[[str | None], None],
                 check: Callable[[str], str | None] = lambda _text: None) -> None:
        self.check = check
        self._shown = ""
        super().__init__(param, on_commit, on_error)

    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.setMaxLength(80)
        edit.textEdited.connect(self._typed)
        edit.editingFinished.connect(self._finished)
        return edit

    def _typed(self, text: str) -> None:
        reason = self.check(text.strip())
        if reason:
            self.reject(reason)
        else:
            self._mark(None)

    def _finished(self) -> None:
        text = self.widget.text().strip()
        if self._silent or text == self._shown:
            self._mark(None)
            return
        reason = self.check(text)
        if reason:
            self.reject(reason)
            return
        self.commit(text)

    def set_value(self, value: Any, mixed: bool = False) -> None:
        self._shown = "" if mixed or value is None else str(value)
        super().set_value(value, mixed)

    def show_value(self, value: Any, mixed: bool) -> None:
        self.widget.setText("" if mixed or value is None else str(value))

    def current(self) -> Any:
        return self.widget.text().strip()


FIELD_KINDS: dict[str, type[Field]] = {
    "int": IntField,
    "float": FloatField,
    "bool": BoolField,
    "choice": ChoiceField,
    "shape": ShapeField,
    "int_or_pair": IntOrPairField,
    "text": TextField,
}


def make_field(param: Any, on_commit: Callable[[Any], None],
               on_error: Callable[[str | None], None]) -> Field:
    """The editor for `param` (unknown kinds get a float box rather than nothing)."""
    kind = param_attr(param, "kind", "float")
    return FIELD_KINDS.get(kind, FloatField)(param, on_commit, on_error)


def parse_float(text: str) -> float:
    """A finite float from what a person typed (`1e-3`, `0,5`); ValueError says why."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        raise ValueError("Type a number.")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number.") from None
    if not math.isfinite(number):
        raise ValueError("Type a finite number.")
    return number


def format_float(value: Any) -> str:
    """Short text for a float: `0.001`, `1e-07`, `0.99`."""
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def parse_ints(text: str, name: str, minimum: int = 1) -> list[int]:
    """Sizes from `28, 28, 1` or `28 x 28`; ValueError names the wrong part."""
    parts = [p for p in text.replace("x", ",").replace("×", ",").replace(" ", ",").split(",")
             if p.strip()]
    if not parts:
        raise ValueError(f"Type the {name} as numbers separated by commas, e.g. 28, 28, 1.")
    sizes = []
    for part in parts:
        try:
            size = int(part.strip())
        except ValueError:
            raise ValueError(f"{part.strip()!r} in {name} is not a whole number.") from None
        if size == -1 and minimum == -1:
            if sizes.count(-1):
                raise ValueError(f"Only one size in {name} can be -1 (inferred).")
        elif size < max(minimum, 1):
            raise ValueError(f"Every size in {name} must be at least 1"
                             + (" (or -1 for one inferred size)." if minimum == -1 else "."))
        sizes.append(size)
    return sizes


def format_ints(value: Any) -> str:
    """`[28, 28, 1]` -> `28, 28, 1`; a single int stays as it is."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
