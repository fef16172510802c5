"""The Inspector dock: edit every parameter of the selected node(s).

The form is generated from `core.spec.LAYER_SCHEMAS`, so each layer gets exactly its own
fields with their ranges and choices.  Every valid edit goes through
`editor.set_param(ids, name, value)`, one undoable command that merges with the previous
edit of the same field, so typing "128" is one undo step and not three.  A multi-selection
edits the fields its nodes share; fields whose values differ show "(mixed)".  The panel
reads values from the document on every `nodeChanged`, so undo/redo is reflected at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.panels.inspector_fields import Field, IdField, make_field, param_attr
from designer.panels.layer_icons import layer_pixmap

if TYPE_CHECKING:
    from designer.editor import Editor
    from designer.model.document import Document

#: The free label Keras calls `name` (shown on the card instead of the id when set).
NAME_PARAM = {"name": "name", "kind": "text", "default": None,
              "description": "A label for this layer, shown on its card and saved with "
                             "the project."}
#: The node id: unique, what edges, weights and exports refer to; renaming is undoable.
ID_PARAM = {"name": "id", "kind": "id", "default": None,
            "description": "The layer's unique id (edges, weights and exported files use "
                           "it). Press Enter to rename; Ctrl+Z undoes it."}


def schema_params(schema: Any) -> list[Any]:
    """The parameter schemas of a layer schema, as a list (dicts keep their names)."""
    params = getattr(schema, "params", None)
    if params is None and isinstance(schema, Mapping):
        params = schema.get("params")
    if isinstance(params, Mapping):
        return [p if param_attr(p, "name") else {**p, "name": key} for key, p in params.items()]
    return list(params or [])


def shared_params(schemas: Mapping, types: list[str]) -> list[Any]:
    """Parameters that every type in `types` has with the same name and kind."""
    if not types or any(t not in schemas for t in types):
        return []
    first = schema_params(schemas[types[0]])
    shared = []
    for param in first:
        name, kind = param_attr(param, "name"), param_attr(param, "kind")
        if all(any(param_attr(q, "name") == name and param_attr(q, "kind") == kind
                   for q in schema_params(schemas[t])) for t in types[1:]):
            shared.append(param)
    return shared


class InspectorPanel(QWidget):
    """Header (icon, id, type, description), a form of fields, and the node's figures."""

    def __init__(self, editor: Editor | None = None, schemas: Mapping | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if schemas is None:
            from core.spec import LAYER_SCHEMAS
            schemas = LAYER_SCHEMAS
        self.schemas = schemas
        self.editor: Editor | None = None
        self.document: Document | None = None
        self.node_ids: list[str] = []
        self.fields: dict[str, Field] = {}
        self._errors: dict[str, QLabel] = {}
        self._refused: set[str] = set()  # fields showing a refusal of the training lock
        self._build()
        if editor is not None:
            self.set_editor(editor)
        self._rebuild()

    # -- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        self.icon = QLabel(self)
        self.icon.setFixedSize(40, 40)
        self.title = QLabel(self)
        self.title.setObjectName("inspectorTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description = QLabel(self)
        self.description.setObjectName("hint")
        self.description.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.figures = QLabel(self)
        self.figures.setObjectName("hint")
        self.figures.setWordWrap(True)
        self.node_problems = QLabel(self)
        self.node_problems.setObjectName("fieldError")
        self.node_problems.setWordWrap(True)
        body = QWidget(self)
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 8, 8, 8)
        column.addLayout(head)
        column.addWidget(self.description)
        column.addWidget(_line(body))
        column.addWidget(self.form_host)
        column.addWidget(_line(body))
        column.addWidget(self.figures)
        column.addWidget(self.node_problems)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    # -- wiring -------------------------------------------------------------------
    def set_editor(self, editor: Editor) -> None:
        """Edit through `editor`; follow its document: values on nodeChanged, removal,
        renames, problems, a new project; and the training lock."""
        self.editor = editor
        self.document = document = editor.document
        document.nodeChanged.connect(self._on_node_changed)
        document.nodeRemoved.connect(self._on_node_removed)
        document.nodeRenamed.connect(self._on_node_renamed)
        document.problemsChanged.connect(self._show_figures)
        document.specChanged.connect(self._show_figures)
        document.projectReplaced.connect(lambda: self.set_selection([]))
        editor.lockChanged.connect(self._on_lock_changed)
        self.set_selection([])

    def set_selection(self, node_ids: list[str]) -> None:
        """Edit these nodes (the canvas selection); rebuild the form for their types."""
        ids = [n for n in node_ids if self._node(n) is not None]
        same_form = bool(ids) and len(ids) == len(self.node_ids) and \
            sorted({self._node(n)["type"] for n in ids}) == self._types()
        self.node_ids = ids
        if same_form:  # same fields (e.g. after a rename): keep the widgets, show the values
            self._show_header(self._types())
            self._show_values()
            self._show_figures()
        else:
            self._rebuild()

    def focus_first_field(self) -> None:
        """Focus the first parameter (the label only when there is none) after a double-click."""
        fields = [f for n, f in self.fields.items() if n not in ("name", "id")] or \
            list(self.fields.values())
        for field in fields:
            field.widget.setFocus()
            if hasattr(field.widget, "selectAll"):
                field.widget.selectAll()
            return

    def _on_node_changed(self, node_id: str) -> None:
        if node_id in self.node_ids:
            self._show_values()
            self._show_figures()

    def _on_node_removed(self, node_id: str) -> None:
        if node_id in self.node_ids:
            self.set_selection([n for n in self.node_ids if n != node_id])

    # -- content ------------------------------------------------------------------
    def _node(self, node_id: str) -> dict | None:
        if self.document is None or not self.document.has_node(node_id):
            return None
        return self.document.node(node_id)

    def _types(self) -> list[str]:
        nodes = [self._node(n) for n in self.node_ids]
        return sorted({n["type"] for n in nodes if n is not None})

    def _rebuild(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields.clear()
        self._errors.clear()
        types = self._types()
        self._show_header(types)
        if len(self.node_ids) == 1:
            self._add_field(ID_PARAM)
            self._add_field(NAME_PARAM)
        for param in shared_params(self.schemas, types):
            self._add_field(param)
        if self.node_ids and len(self.fields) <= (len(self.node_ids) == 1):
            note = QLabel("No parameters to edit." if len(types) == 1 else
                          "These layers share no parameters.")
            note.setObjectName("hint")
            self.form.addRow(note)
        self._show_values()
        self._show_figures()

    def _show_header(self, types: list[str]) -> None:
        self.icon.clear()
        self.icon.setVisible(bool(self.node_ids))
        if not self.node_ids:
            self._show_network_summary()
            return
        if len(types) == 1:
            schema = self.schemas.get(types[0])
            group = getattr(schema, "group", "Core")
            self.icon.setPixmap(layer_pixmap(types[0], group, 80).scaled(
                40, 40, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
            self.description.setText(getattr(schema, "description", "") or "")
            self.description.setToolTip(getattr(schema, "formula", "") or "")
        else:
            self.description.setText("Only the fields these layers share are shown.")
            self.description.setToolTip("")
        if len(self.node_ids) == 1:
            self.title.setText(f"{self.node_ids[0]}  ·  {types[0]}")
        else:
            self.title.setText(f"{len(self.node_ids)} nodes  ·  {', '.join(types)}")

    def _show_network_summary(self) -> None:
        """With nothing selected: what the project is about and how big the network is."""
        doc = self.document
        project = doc.project if doc is not None else None
        name = getattr(project, "name", "") or "Network"
        about = getattr(project, "description", "") or ""
        count = len(doc.node_ids()) if doc is not None else 0
        params = doc.total_params if doc is not None else 0
        self.title.setText(name)
        lines = [about] if about else []
        lines.append(f"{count} layer{'s' if count != 1 else ''}, {params:,} parameters.")
        lines.append("Select a layer on the canvas to edit its parameters.")
        self.description.setText("\n\n".join(lines))
        self.description.setToolTip("")

    def _add_field(self, param: Any) -> None:
        name = param_attr(param, "name")
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        commit = lambda value, n=name: self._commit(n, value)  # noqa: E731
        show = lambda reason, e=error: _show_error(e, reason)  # noqa: E731
        if name == "id":
            field: Field = IdField(param, self._rename, show, self._id_refusal)
        else:
            field = make_field(param, commit, show)
        self.fields[name] = field
        self._errors[name] = error
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(field.widget)
        column.addWidget(error)
        label = QLabel(name.replace("_", " "))
        label.setToolTip(field.widget.toolTip())
        self.form.addRow(label, holder)

    def _show_values(self) -> None:
        nodes = [self._node(n) for n in self.node_ids]
        nodes = [n for n in nodes if n is not None]
        for name, field in self.fields.items():
            values = [node.get(name, field.default) for node in nodes]
            mixed = any(v != values[0] for v in values[1:])
            field.set_value(values[0] if values else field.default, mixed)

    def _show_figures(self) -> None:
        if not self.node_ids and self.document is not None:
            self._show_network_summary()
        if not self.node_ids or self.document is None:
            self.figures.clear()
            self.node_problems.clear()
            return
        counts = self.document.param_counts
        lines = []
        if len(self.node_ids) == 1:
            node_id = self.node_ids[0]
            shape = self.document.shape(node_id)
            lines.append(f"Output shape: {_shape_text(shape) if shape is not None else '?'}")
        total = sum(counts.get(n, 0) for n in self.node_ids)
        lines.append(f"Parameters: {total:,}")
        self.figures.setText("\n".join(lines))
        problems = [p for p in self.document.problems if set(p.node_ids) & set(self.node_ids)]
        self.node_problems.setText("\n".join(f"• {p.message}" for p in problems))

    def _id_refusal(self, text: str) -> str | None:
        if self.editor is None or len(self.node_ids) != 1:
            return None
        return self.editor.id_refusal(self.node_ids[0], text)

    def _rename(self, new_id: Any) -> None:
        """Rename the single selected node; the canvas re-selects it under its new id."""
        if self.editor is None or len(self.node_ids) != 1:
            return
        reason = self.editor.rename_node(self.node_ids[0], str(new_id))
        if reason:
            if self.editor.structure_lock:  # not made: show the real id
                self._show_values()
                self._refused.add("id")
            _show_error(self._errors["id"], str(reason))

    def _on_node_renamed(self, old: str, new: str) -> None:
        """Same node, new id: update in place (the id field may be the sender; keep it)."""
        if old in self.node_ids:
            self.node_ids = [new if n == old else n for n in self.node_ids]
            self._show_header(self._types())
            self._show_values()
            self._show_figures()

    def _commit(self, name: str, value: Any) -> None:
        if self.editor is None or not self.node_ids:
            return
        reason = self.editor.set_param(list(self.node_ids), name, value)
        if reason and name in self._errors:
            # Refused (training runs): show what the network really holds, not the edit
            # that was not made, then say why.
            self._show_values()
            _show_error(self._errors[name], str(reason))
            self._refused.add(name)

    def _on_lock_changed(self, reason: str) -> None:
        """Training stopped: the refusals it caused are no longer true."""
        if not reason:
            for name in self._refused & set(self._errors):
                _show_error(self._errors[name], None)
            self._refused.clear()


def _show_error(label: QLabel, reason: str | None) -> None:
    label.setText(reason or "")
    label.setVisible(bool(reason))


def _shape_text(shape: Any) -> str:
    """(None, 28, 28, 1)-style text without the batch dimension: `28 × 28 × 1`."""
    if isinstance(shape, (tuple, list)):
        return " × ".join(str(s) for s in shape) or "scalar"
    return str(shape)


def _line(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
