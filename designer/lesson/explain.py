"""A neuron's, a weight's or the loss's computation written out with one sample's numbers.

Qt-free: the functions return Qt rich text (a small HTML subset) built from a
:class:`~designer.lesson.trace.SampleTrace`, so every number printed is the trace's, and
the trace's are the engine's. ``num`` is the one formatting rule, so tests can look for
exactly the strings a student sees.
"""

from __future__ import annotations

from html import escape

import numpy as np

from core.activations import ACTIVATIONS
from core.losses import LOSSES
from designer.lesson.trace import NodeValues, ParamStep, SampleTrace

#: How each optimizer turns a gradient g into the step subtracted from w (Keras' rules).
UPDATE_RULES = {
    "sgd": "v = μ·v − lr·g;&nbsp; w ← w + v &nbsp;(μ = 0: w ← w − lr·g)",
    "rmsprop": "s = ρ·s + (1 − ρ)·g²;&nbsp; w ← w − lr·g / √(s + ε)",
    "adagrad": "a = a + g²;&nbsp; w ← w − lr·g / √(a + ε)",
    "adam": "m = β₁·m + (1 − β₁)·g;&nbsp; v = β₂·v + (1 − β₂)·g²;&nbsp; "
            "w ← w − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)",
    "adamw": "w ← w − lr·λ·w (every weight; kernels only with decay_kernels_only), "
             "then Adam's step: m, v as Adam; "
             "w ← w − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)",
}


def num(value: float) -> str:
    """A number as the panels print it: 4 significant digits."""
    return f"{float(value):.4g}"


def _signed(value: float) -> str:
    return f"− {num(-value)}" if value < 0 else f"+ {num(value)}"


def _head(title: str) -> str:
    return f"<h3>{escape(title)}</h3>"


def _row(label: str, formula: str) -> str:
    return f"<p><b>{label}</b> &nbsp; {formula}</p>"


def explain_neuron(trace: SampleTrace, node_id: str, unit: int) -> str:
    """z = Σ w·x + b with the terms, a = f(z), f'(z), dL/da, δ and dL/dw = δ·x."""
    v = trace.nodes[node_id]
    if v.type == "BatchNormalization":
        return explain_batch_norm(trace, node_id, unit)
    if v.type != "Dense" or v.z is None:
        return _explain_other(trace, v, unit)
    x = trace.nodes[v.inputs[0]].a
    w = trace.params[(node_id, "kernel")].old[:, unit]
    bias = trace.params.get((node_id, "bias"))
    b = float(bias.old[unit]) if bias is not None else 0.0
    terms = " ".join(f"{'' if k == 0 else '+ '}({num(w[k])})·({num(x[k])})"
                     for k in range(len(x)))
    parts = [_head(f"Neuron {node_id}[{unit}]  ({v.activation})"),
             _row("z = Σ<sub>i</sub> w<sub>i</sub>·x<sub>i</sub> + b =",
                  f"{terms} {_signed(b)} = <b>{num(v.z[unit])}</b>"),
             _row(f"a = f(z) = {escape(ACTIVATIONS[v.activation].formula)} →",
                  f"a = <b>{num(v.a[unit])}</b>")]
    if v.fprime is not None:
        parts.append(_row("f′(z) =", num(v.fprime[unit])))
    else:
        parts.append(_row("f′(z):", "softmax's derivative couples every output: δ comes "
                          "from the whole vector (with cross-entropy δ = a − t)."))
    if v.dl_da is not None:
        parts.append(_row("∂L/∂a =", num(v.dl_da[unit])))
    if v.delta is not None:
        how = (f"∂L/∂a · f′(z) = {num(v.dl_da[unit])} · {num(v.fprime[unit])} = "
               if v.dl_da is not None and v.fprime is not None
               and node_id != trace.output_id else "")
        parts.append(_row("δ = ∂L/∂z =", f"{how}<b>{num(v.delta[unit])}</b>"))
        grads = " ".join(f"{num(v.delta[unit] * x[k])}" for k in range(len(x)))
        parts.append(_row("∂L/∂w<sub>i</sub> = δ·x<sub>i</sub> =", grads))
        parts.append(_row("∂L/∂b = δ =", num(v.delta[unit])))
    parts.append(_update_rule(trace))
    return "".join(parts)


def _explain_other(trace: SampleTrace, v: NodeValues, unit: int) -> str:
    what = {"Input": "the sample's (preprocessed) input feature",
            "Add": f"the sum of its inputs {', '.join(v.inputs)}, element by element"}
    parts = [_head(f"{v.type} {v.node_id}[{unit}]"),
             _row("a =", f"{what.get(v.type, 'this layer’s output')}: <b>{num(v.a[unit])}</b>")]
    if v.type == "Add":
        terms = " + ".join(num(trace.nodes[i].a[unit]) for i in v.inputs)
        parts.append(_row("a =", f"{terms} = {num(v.a[unit])}"))
        parts.append(_row("backward:", "an Add passes ∂L/∂a unchanged to each input."))
    if v.dl_da is not None:
        parts.append(_row("∂L/∂a =", num(v.dl_da[unit])))
    return "".join(parts)


def explain_batch_norm(trace: SampleTrace, node_id: str, unit: int) -> str:
    """The normalisation of this sample, honestly: a batch of one is its own mean."""
    v = trace.nodes[node_id]
    bn = v.batch_norm
    assert bn is not None
    x = trace.nodes[v.inputs[0]].a[unit]
    parts = [_head(f"BatchNormalization {node_id}[{unit}]"),
             _row("x =", num(x)),
             _row("batch mean μ =", f"{num(bn.mean[unit])}, variance σ² = {num(bn.var[unit])}"),
             _row("x̂ = (x − μ) / √(σ² + ε) =",
                  f"({num(x)} − {num(bn.mean[unit])}) / √({num(bn.var[unit])} + "
                  f"{num(bn.epsilon)}) = <b>{num(bn.x_hat[unit])}</b>"),
             _row("a = γ·x̂ + β =",
                  f"{num(bn.gamma[unit])}·{num(bn.x_hat[unit])} + {num(bn.beta[unit])} = "
                  f"<b>{num(v.a[unit])}</b>"),
             "<p><i>Stepping one sample makes a batch of one: the sample is its own mean, "
             "so x̂ = 0 and the output is β whatever the input. No gradient reaches the "
             "layers before this one in this step. In training the batch (of "
             "batch_size samples) is normalised together, which is what makes it useful.</i></p>",
             _row("with the moving statistics (prediction):",
                  f"(x − {num(bn.moving_mean[unit])}) / √({num(bn.moving_variance[unit])} + "
                  f"ε)·γ + β = {num(bn.inference_output[unit])}")]
    if v.dl_da is not None:
        parts.append(_row("∂L/∂a =", num(v.dl_da[unit])))
    return "".join(parts)


def explain_weight(trace: SampleTrace, node_id: str, i: int, j: int) -> str:
    """One weight: its gradient δ_j·x_i, the optimizer's step, and its path to the loss."""
    step = trace.params[(node_id, "kernel")]
    v = trace.nodes[node_id]
    src = v.inputs[0]
    x = trace.nodes[src].a[i]
    delta = v.delta[j] if v.delta is not None else float("nan")
    path = " → ".join([f"{src}[{i}]", f"{node_id}[{j}]",
                       *trace.weight_path(node_id, i, j)[1:], "loss"])
    parts = [_head(f"Weight {src}[{i}] → {node_id}[{j}]"),
             _row("w =", num(step.old[i, j])),
             _row("path of influence:", escape(path)),
             _gradient_row(trace, step.old[i, j], delta, x, step.grad[i, j])]
    parts.append(_step_rows(trace, step, (i, j)))
    return "".join(parts)


def _gradient_row(trace: SampleTrace, w: float, delta: float, x: float,
                  grad: float) -> str:
    """dL/dw = delta x, plus the penalties' terms when the training settings have them."""
    l1, l2 = trace.penalties
    terms = f"{num(delta)} · {num(x)}"
    formula = "∂L/∂w = δ<sub>j</sub>·x<sub>i</sub>"
    if l2:
        formula += " + 2·l2·w"
        terms += f" + 2·{num(l2)}·{num(w)}"
    if l1:
        formula += " + l1·sign(w)"
        terms += f" + {num(l1)}·{num(float(np.sign(w)))}"
    return _row(formula + " =", f"{terms} = <b>{num(grad)}</b>")


def _step_rows(trace: SampleTrace, step: ParamStep, index: tuple[int, ...]) -> str:
    parts = [_update_rule(trace)]
    if step.clipped is not None:
        parts.append(_row("clipped gradient g =", f"<b>{num(step.clipped[index])}</b>"))
    for name, arr in step.state.items():
        parts.append(_row(f"{escape(name)} (after) =", num(arr[index])))
    parts.append(_row("step =", f"<b>{num(step.step[index])}</b>"))
    parts.append(_row("w<sub>new</sub> = w − step =",
                      f"{num(step.old[index])} − ({num(step.step[index])}) = "
                      f"<b>{num(step.new[index])}</b>"))
    return "".join(parts)


def explain_param(trace: SampleTrace, node_id: str, name: str, index: tuple[int, ...]) -> str:
    """Any weight array's entry (a bias, γ, β): gradient and the optimizer's step."""
    step = trace.params[(node_id, name)]
    return "".join([_head(f"{node_id}.{name}{list(index)}"),
                    _row("value =", num(step.old[index])),
                    _row("∂L/∂" + escape(name) + " =", num(step.grad[index])),
                    _step_rows(trace, step, index)])


def explain_loss(trace: SampleTrace) -> str:
    """The loss of this sample and its gradient at the output."""
    out = trace.nodes[trace.output_id]
    loss = LOSSES[trace.loss_name]
    pred = ", ".join(num(a) for a in out.a)
    target = ", ".join(num(t) for t in np.asarray(trace.target, dtype=float))
    parts = [_head(f"Loss: {trace.loss_name}"),
             _row("L =", escape(loss.formula)),
             _row("prediction a =", f"[{pred}]"),
             _row("target t =", f"[{target}]"),
             _row("L =", f"<b>{num(trace.loss)}</b>")]
    if out.dl_da is not None:
        parts.append(_row("∂L/∂a =", "[" + ", ".join(num(g) for g in out.dl_da) + "]"))
    if loss.fuses_with and out.activation == loss.fuses_with and out.delta is not None:
        parts.append(_row(f"with {out.activation}: δ = ∂L/∂z = a − t =",
                          "[" + ", ".join(num(d) for d in out.delta) + "]"))
    return "".join(parts)


def _update_rule(trace: SampleTrace) -> str:
    cfg = trace.optimizer
    kind = cfg["type"]
    settings = ", ".join(f"{k} = {num(v)}" for k, v in cfg.items()
                         if k != "type" and isinstance(v, (int, float))
                         and not isinstance(v, bool))
    if trace.lr is not None and trace.lr != cfg.get("lr"):
        settings += f"; this step's learning rate (the schedule's): lr = {num(trace.lr)}"
    rule = _row(f"update ({escape(kind)}, step t = {trace.iteration}):", UPDATE_RULES[kind])
    notes = "".join(f"<p><i>{escape(n)}</i></p>" for n in trace.notes)
    return rule + f"<p>{escape(settings)}</p>" + notes
