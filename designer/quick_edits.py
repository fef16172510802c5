"""One-click edits of a Playground-style network: Input -> hidden Dense layers -> output.

TensorFlow Playground does in one click what takes several edits on a canvas: choose
classification or regression (loss and output activation together), add or remove a
hidden layer (wired like its neighbours), give every hidden layer one activation. Each
function here is one undo step made of the editor's public edits, and returns the
reason when it cannot be done (a network of another shape, a running training).
"""

from __future__ import annotations

from designer.editor import Editor
from designer.model.document import Document

PROBLEM_TYPES = ("classification", "regression")


def output_layer(doc: Document) -> str | None:
    """The one Dense layer nothing reads from (None when there is not exactly one)."""
    ends = [n for n in doc.node_ids() if not doc.successors(n) and doc.predecessors(n)]
    return ends[0] if len(ends) == 1 and doc.node_type(ends[0]) == "Dense" else None


def hidden_layers(doc: Document) -> list[str] | None:
    """The hidden Dense layers of a chain Input -> Dense ... -> output, in order; None
    when the network is not such a chain (merges, convolutions)."""
    out = output_layer(doc)
    if out is None:
        return None
    chain, node = [], out
    while True:
        preds = doc.predecessors(node)
        if len(preds) != 1:
            return None
        node = preds[0]
        if doc.node_type(node) == "Input":
            return list(reversed(chain))
        if doc.node_type(node) != "Dense":
            return None
        chain.append(node)


def problem_type(doc: Document, data_task: str | None = None) -> str:
    """"regression" for a regression loss, else "classification". A squared-error loss
    on class data (``data_task``) stays classification: the TensorFlow Playground trains
    its classifiers so, and the run reports accuracy."""
    loss = str(doc.training.get("loss", ""))
    if loss in ("mse", "mae", "huber"):
        return "classification" if data_task == "classification" else "regression"
    return "classification"


def set_problem_type(editor: Editor, kind: str, n_classes: int = 2) -> str | None:
    """Classification (binary cross-entropy and one sigmoid unit for two classes,
    softmax over ``n_classes`` otherwise) or regression (mse, a linear output), as one
    undo step."""
    if kind not in PROBLEM_TYPES:
        return f"Choose one of: {', '.join(PROBLEM_TYPES)}."
    doc = editor.document
    out = output_layer(doc)
    if out is None:
        return "The network needs one Dense output layer for this."
    locked = editor.refuse_if_locked()
    if locked:
        return locked
    if kind == "regression":
        loss, activation, units = "mse", "linear", None
    elif n_classes <= 2:
        loss, activation, units = "binary_crossentropy", "sigmoid", 1
    else:
        loss, activation, units = "categorical_crossentropy", "softmax", n_classes
    stack = editor.undo_stack
    stack.beginMacro(f"Make it {kind}")
    try:
        editor.set_training_settings({"loss": loss})
        reason = editor.set_param([out], "activation", activation)
        if units is not None and reason is None:
            reason = editor.set_param([out], "units", units)
    finally:
        stack.endMacro()
    return reason


def add_hidden_layer(editor: Editor) -> str | None:
    """A hidden layer before the output, like the last hidden one (8 tanh units when
    there is none yet)."""
    doc = editor.document
    hidden = hidden_layers(doc)
    if hidden is None:
        return "Adding a layer here needs a chain of Dense layers from the Input."
    out = output_layer(doc)
    after = hidden[-1] if hidden else doc.predecessors(out)[0]
    params = None if hidden else {"units": 8, "activation": "tanh"}
    return None if editor.add_node_after("Dense", after, params) else (
        editor.refuse_if_locked() or "The layer could not be added.")


def remove_hidden_layer(editor: Editor) -> str | None:
    """Remove the last hidden layer and wire the one before it to the output."""
    doc = editor.document
    hidden = hidden_layers(doc)
    if not hidden:
        return "There is no hidden layer to remove."
    locked = editor.refuse_if_locked()
    if locked:
        return locked
    last, out = hidden[-1], output_layer(doc)
    before = doc.predecessors(last)[0]
    stack = editor.undo_stack
    stack.beginMacro(f"Remove {last}")
    try:
        reason = editor.remove_nodes([last])
        if reason is None:
            reason = editor.connect(before, out)
    finally:
        stack.endMacro()
    return reason


def set_hidden_activation(editor: Editor, activation: str) -> str | None:
    """One activation for every hidden layer (one undo step)."""
    hidden = hidden_layers(editor.document)
    if not hidden:
        return "There is no hidden layer to change."
    return editor.set_param(hidden, "activation", activation)
