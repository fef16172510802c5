"""validate(): every problem at once, with node ids, a sentence and a hint."""

from __future__ import annotations

import copy
import random

import pytest

from core.network import Network
from core.spec import (
    LAYER_SCHEMAS,
    MAX_PARAMS,
    SpecError,
    output_shapes,
    param_counts,
    problem_text,
    validate,
)

IN = {"id": "in", "type": "Input", "shape": [4]}


def spec(nodes, edges):
    return {"nodes": nodes, "edges": edges}


def codes(problems, severity="error"):
    return {p.code for p in problems if p.severity == severity}


def only(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"no {code!r} problem in {problems}"
    for p in found:
        assert p.message.endswith(".") and p.hint, p
    return found


def test_valid_mlp_has_no_problems():
    s = spec([IN, {"id": "h", "type": "Dense", "units": 8, "activation": "tanh"},
              {"id": "out", "type": "Dense", "units": 3, "activation": "softmax"}],
             [["in", "h"], ["h", "out"]])
    assert validate(s) == []
    assert validate(s, loss="categorical_crossentropy") == []
    assert validate(s, loss="sparse_categorical_crossentropy") == []


def test_cycle_names_the_nodes_on_it():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 3}, {"id": "b", "type": "Add"},
              {"id": "c", "type": "Dense", "units": 3}, {"id": "out", "type": "Dense",
                                                          "units": 1}],
             [["in", "a"], ["a", "b"], ["b", "c"], ["c", "b"], ["c", "out"]])
    (p,) = only(validate(s), "cycle")
    assert set(p.node_ids) == {"b", "c"}


def test_node_off_the_path_and_several_outputs():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 3},
              {"id": "b", "type": "Dense", "units": 3}],
             [["in", "a"], ["in", "b"]])
    (p,) = only(validate(s), "several_outputs")
    assert set(p.node_ids) == {"a", "b"}
    lonely = spec([IN, {"id": "a", "type": "Dense", "units": 3},
                   {"id": "x", "type": "Dense", "units": 3},
                   {"id": "y", "type": "Add"}],
                  [["in", "a"], ["x", "y"], ["a", "y"]])
    problems = validate(lonely)
    assert "x" in only(problems, "disconnected")[0].node_ids
    assert any(p.node_ids == ("x",) for p in only(problems, "input_count"))


def test_wrong_number_of_inputs():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 3},
              {"id": "b", "type": "Dense", "units": 3}, {"id": "m", "type": "Add"},
              {"id": "out", "type": "Dense", "units": 2}],
             [["in", "a"], ["in", "b"], ["a", "m"], ["a", "out"], ["b", "out"], ["m", "out"]])
    problems = validate(s)
    ids = {p.node_ids for p in only(problems, "input_count")}
    assert ("m",) in ids and ("out",) in ids


def test_input_cannot_receive_and_needs_exactly_one_input_node():
    s = spec([IN, {"id": "in2", "type": "Input", "shape": [4]},
              {"id": "a", "type": "Dense", "units": 2}], [["in", "a"], ["in2", "a"]])
    assert only(validate(s), "several_inputs")[0].node_ids == ("in", "in2")
    assert "no_input" in codes(validate(spec([{"id": "a", "type": "Dense", "units": 2}],
                                             [])))
    assert only(validate(spec([IN], [])), "no_output")[0].node_ids == ("in",)


@pytest.mark.parametrize("layer", ["Dense", "Concatenate"])
def test_dense_or_concatenate_fed_an_image_says_add_a_flatten(layer):
    img = {"id": "in", "type": "Input", "shape": [8, 8, 1]}
    if layer == "Dense":
        s = spec([img, {"id": "a", "type": "Dense", "units": 3}], [["in", "a"]])
    else:
        s = spec([img, {"id": "f", "type": "Flatten"}, {"id": "a", "type": "Concatenate"}],
                 [["in", "f"], ["in", "a"], ["f", "a"]])
    (p,) = only(validate(s), "rank")
    assert p.node_ids == ("a",) and "Flatten" in p.hint


def test_add_with_unequal_shapes():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 3},
              {"id": "b", "type": "Dense", "units": 4}, {"id": "s", "type": "Add"}],
             [["in", "a"], ["in", "b"], ["a", "s"], ["b", "s"]])
    (p,) = only(validate(s), "add_shapes")
    assert p.node_ids == ("s",) and "(3,)" in p.message and "(4,)" in p.message


def test_windows_larger_than_their_input():
    img = {"id": "in", "type": "Input", "shape": [4, 4, 1]}
    s = spec([img, {"id": "c", "type": "Conv2D", "filters": 2, "kernel_size": 5},
              {"id": "p", "type": "MaxPooling2D", "pool_size": 8},
              {"id": "s", "type": "Add"}],
             [["in", "c"], ["in", "p"], ["c", "s"], ["p", "s"]])
    found = {p.node_ids for p in only(validate(s), "window_too_large")}
    assert found == {("c",), ("p",)}
    same = spec([img, {"id": "c", "type": "Conv2D", "filters": 2, "kernel_size": 5,
                       "padding": "same"}], [["in", "c"]])
    assert validate(same) == []


@pytest.mark.parametrize("node,param", [
    ({"type": "Dense", "units": 0}, "units"),
    ({"type": "Dense", "units": 2.5}, "units"),
    ({"type": "Conv2D", "filters": -1}, "filters"),
    ({"type": "Conv2D", "filters": 2, "kernel_size": [0, 3]}, "kernel_size"),
    ({"type": "Dropout", "rate": 1.0}, "rate"),
    ({"type": "Dropout", "rate": "half"}, "rate"),
    ({"type": "MaxPooling2D", "pool_size": 0}, "pool_size"),
    ({"type": "Reshape", "target_shape": [0, 2]}, "target_shape"),
    ({"type": "BatchNormalization", "momentum": 1.5}, "momentum"),
    ({"type": "Dense", "units": 2, "use_bias": "yes"}, "use_bias"),
])
def test_out_of_range_values(node, param):
    img = {"id": "in", "type": "Input", "shape": [4, 4, 1]}
    s = spec([img, {"id": "x", **node}], [["in", "x"]])
    problems = [p for p in validate(s) if p.code in ("out_of_range", "bad_value")]
    assert len(problems) == 1 and problems[0].node_ids == ("x",)
    assert param in problems[0].message and problems[0].hint


def test_a_huge_value_is_shown_short_not_in_300_digits():
    s = spec([IN, {"id": "d", "type": "Dense", "units": 1e300}], [["in", "d"]])
    (problem,) = only(validate(s), "out_of_range")
    assert problem.message == "d: units = 1e+300 is too large."


def test_problem_text_names_each_node_once_and_keeps_the_hint():
    s = spec([IN, {"id": "d", "type": "Dense", "units": 3, "activation": "relu6"}],
             [["in", "d"]])
    (problem,) = validate(s)
    assert problem_text(problem).startswith("d: activation 'relu6' is not known. Did you")
    s = spec([IN, {"id": "d", "type": "Dense", "units": 3}], [["in", "d"], ["d", "d"]])
    texts = [problem_text(p) for p in validate(s) if p.code == "cycle"]
    assert texts and texts[0].startswith("The connections between d form a loop.")


def test_unknown_names_suggest_the_closest():
    s = spec([IN, {"id": "a", "type": "Dens", "units": 3},
              {"id": "b", "type": "Dense", "units": 3, "activaton": "relu"},
              {"id": "c", "type": "Dense", "units": 3, "activation": "rleu"}],
             [["in", "a"], ["a", "b"], ["b", "c"]])
    problems = validate(s)
    assert "'Dense'" in only(problems, "unknown_type")[0].hint
    assert "'activation'" in only(problems, "unknown_parameter")[0].hint
    assert "'relu'" in only(problems, "unknown_activation")[0].hint
    assert "'binary_crossentropy'" in only(validate(s, loss="binary_crossentropy_"),
                                           "unknown_loss")[0].hint


def test_all_problems_are_reported_at_once():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 0},
              {"id": "b", "type": "Conv2D", "filters": 2},
              {"id": "c", "type": "Dropuot"}],
             [["in", "a"], ["in", "b"], ["a", "c"], ["b", "c"]])
    assert {"out_of_range", "rank", "unknown_type"} <= codes(validate(s))


def test_too_large_is_refused_before_allocating():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 20_000},
              {"id": "b", "type": "Dense", "units": 20_000}], [["in", "a"], ["a", "b"]])
    (p,) = only(validate(s), "too_large")
    assert "b" in p.node_ids and f"{MAX_PARAMS:,}" in p.message
    huge = spec([{"id": "in", "type": "Input", "shape": [100_000, 100_000, 3]},
                 {"id": "c", "type": "Conv2D", "filters": 64}], [["in", "c"]])
    assert only(validate(huge), "too_large")[0].node_ids == ("c",)
    with pytest.raises(SpecError) as info:  # would need terabytes if it allocated
        Network.from_spec(huge)
    assert "c" in str(info.value)


@pytest.mark.parametrize("units,act,loss,code", [
    (1, "sigmoid", "categorical_crossentropy", "loss_output"),
    (1, "linear", "sparse_categorical_crossentropy", "loss_output"),
    (3, "softmax", "binary_crossentropy", "loss_output"),
    (3, "linear", "categorical_crossentropy", "loss_activation"),
    (1, "relu", "binary_crossentropy", "loss_activation"),
])
def test_loss_and_output_that_do_not_fit(units, act, loss, code):
    s = spec([IN, {"id": "out", "type": "Dense", "units": units, "activation": act}],
             [["in", "out"]])
    (p,) = only(validate(s, loss=loss), code)
    assert p.node_ids == ("out",)
    assert codes(validate(s)) == set()  # the layers alone are fine


def test_softmax_on_one_unit_is_a_warning():
    s = spec([IN, {"id": "out", "type": "Dense", "units": 1, "activation": "softmax"}],
             [["in", "out"]])
    assert "softmax_one_unit" in codes(validate(s), "warning")
    Network.from_spec(s)  # warnings do not stop the build


@pytest.mark.parametrize("bad", [None, "x", [], {"nodes": 3}, {"nodes": [1, {"id": ""}]},
                                 {"nodes": [IN], "edges": ["a", ["in"], [1, 2]]},
                                 {"nodes": [IN, IN], "edges": [["in", "in"]]}])
def test_malformed_input_never_raises(bad):
    problems = validate(bad)
    assert problems and all(p.severity == "error" for p in problems)


def test_duplicate_edges_and_unknown_nodes():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 2}],
             [["in", "a"], ["in", "a"], ["a", "ghost"]])
    assert {"duplicate_edge", "unknown_node"} <= codes(validate(s))


def test_from_spec_raises_spec_error_listing_problems():
    s = spec([IN, {"id": "a", "type": "Dense", "units": 0}], [["in", "a"]])
    with pytest.raises(SpecError) as info:
        Network.from_spec(s)
    assert info.value.problems and "units" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_shapes_and_counts_without_allocating():
    s = spec([{"id": "in", "type": "Input", "shape": [28, 28, 1]},
              {"id": "c", "type": "Conv2D", "filters": 16, "kernel_size": 3,
               "padding": "same"},
              {"id": "p", "type": "MaxPooling2D"},
              {"id": "bn", "type": "BatchNormalization"},
              {"id": "f", "type": "Flatten"},
              {"id": "d", "type": "Dense", "units": 10},
              {"id": "bad", "type": "Dense", "units": 0}],
             [["in", "c"], ["c", "p"], ["p", "bn"], ["bn", "f"], ["f", "d"], ["d", "bad"]])
    shapes = output_shapes(s)
    assert shapes["c"] == (28, 28, 16) and shapes["p"] == (14, 14, 16)
    assert shapes["f"] == (14 * 14 * 16,) and shapes["d"] == (10,)
    assert "bad" not in shapes
    counts = param_counts(s)
    assert counts["c"] == 3 * 3 * 16 + 16 and counts["bn"] == 4 * 16
    assert counts["d"] == 14 * 14 * 16 * 10 + 10 and counts["in"] == 0


def test_conv_and_pool_output_shapes_follow_keras():
    img = {"id": "in", "type": "Input", "shape": [7, 9, 3]}
    cases = [
        ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2}, (3, 4, 4)),
        ({"type": "Conv2D", "filters": 4, "kernel_size": 3, "strides": 2,
          "padding": "same"}, (4, 5, 4)),
        ({"type": "MaxPooling2D", "pool_size": 2}, (3, 4, 3)),
        ({"type": "AveragePooling2D", "pool_size": 3, "strides": 1}, (5, 7, 3)),
        ({"type": "MaxPooling2D", "pool_size": 2, "padding": "same"}, (4, 5, 3)),
        ({"type": "Reshape", "target_shape": [-1, 3]}, (63, 3)),
    ]
    for node, want in cases:
        assert output_shapes(spec([img, {"id": "x", **node}], [["in", "x"]]))["x"] == want


def test_layer_schemas_describe_every_type():
    assert set(LAYER_SCHEMAS) == {
        "Input", "Dense", "Activation", "Dropout", "BatchNormalization", "Flatten",
        "Reshape", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Add", "Concatenate"}
    groups = {"Core", "Convolution", "Pooling", "Merge", "Shape", "Regularization"}
    for name, schema in LAYER_SCHEMAS.items():
        assert schema.group in groups and schema.description and schema.formula, name
        for p in schema.params:
            assert p.kind in ("int", "float", "bool", "choice", "shape", "int_or_pair")
            if p.kind == "choice":
                assert p.default in p.choices
    dense = {p.name: p for p in LAYER_SCHEMAS["Dense"].params}
    assert dense["units"].min == 1 and "softmax" in dense["activation"].choices


def test_random_junk_never_makes_validate_raise():
    rng = random.Random(0)
    junk = [None, -1, 0, 2.5, float("nan"), "x", "", [], [0], [1, 2, 3], {}, True, [-1],
            10**30, "same", "relu", "Dense", [2, 2]]
    base = {"nodes": [{"id": "in", "type": "Input", "shape": [6, 6, 1]},
                      {"id": "c", "type": "Conv2D", "filters": 2, "padding": "same"},
                      {"id": "p", "type": "MaxPooling2D"}, {"id": "f", "type": "Flatten"},
                      {"id": "a", "type": "Dense", "units": 3},
                      {"id": "b", "type": "Dense", "units": 3},
                      {"id": "s", "type": "Add"}, {"id": "k", "type": "Concatenate"}],
            "edges": [["in", "c"], ["c", "p"], ["p", "f"], ["f", "a"], ["f", "b"],
                      ["a", "s"], ["b", "s"], ["s", "k"], ["a", "k"]]}
    assert validate(base) == []
    for _ in range(300):
        s = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            node = rng.choice(s["nodes"])
            key = rng.choice([*node, "units", "strides", "pool_size", "axis", "rate"])
            node[key] = rng.choice(junk)
            if rng.random() < 0.3:
                s["edges"].append(rng.choice([[node["id"], "in"], rng.choice(junk)]))
        for p in validate(s, loss=rng.choice([None, "mse", [1], "x"])):
            assert p.message and p.hint is not None and p.severity in ("error", "warning")
