"""Automatic layered layout (Sugiyama style) for the network DAG, left to right.

1. Layering: longest path from the sources, so every edge points right.
2. Edges that span several layers get dummy nodes, so they take part in ordering.
3. Crossing reduction: barycenter sweeps left-to-right and back, keeping the best order.
4. Coordinates: layer -> x, order -> y, each layer centred around y = 0.

Pure Python (no Qt) so it can be tested and benchmarked alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

LAYER_SPACING = 270.0
NODE_HEIGHT = 110.0
ROW_GAP = 40.0
DUMMY_HEIGHT = 24.0
SWEEPS = 8


def layered_layout(nodes: Sequence[str], edges: Iterable[tuple[str, str]],
                   heights: Mapping[str, float] | None = None, dx: float = LAYER_SPACING,
                   gap: float = ROW_GAP) -> dict[str, tuple[float, float]]:
    """Top-left positions ``{node: (x, y)}`` for a DAG, each column centred on y = 0.

    ``heights`` are the cards' heights (tall neuron-view cards get more room); edges that
    would close a cycle are ignored.
    """
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    edges = _acyclic_edges(nodes, [(s, d) for s, d in edges if s in known and d in known])
    layer = _longest_path_layers(nodes, edges)
    layers, succ, pred = _with_dummies(nodes, edges, layer)
    _reduce_crossings(layers, succ, pred)
    heights = heights or {}
    positions: dict[str, tuple[float, float]] = {}
    for index, column in enumerate(layers):
        sizes = [heights.get(n, NODE_HEIGHT) if n in known else DUMMY_HEIGHT for n in column]
        y = -(sum(sizes) + gap * (len(column) - 1)) / 2.0
        for name, size in zip(column, sizes, strict=True):
            if name in known:
                positions[name] = (index * dx, round(y, 1))
            y += size + gap
    return positions


def _acyclic_edges(nodes: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop the back edges found by a depth-first search (none for a valid network)."""
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for s, d in edges:
        out[s].append(d)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((current, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return [e for e in edges if e not in back and e[0] != e[1]]


def _longest_path_layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Layer of a node = length of the longest path reaching it (Kahn's order)."""
    indegree = {n: 0 for n in nodes}
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for s, d in edges:
        out[s].append(d)
        indegree[d] += 1
    layer = {n: 0 for n in nodes}
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        current = ready.pop()
        for nxt in out[current]:
            layer[nxt] = max(layer[nxt], layer[current] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return layer


def _with_dummies(nodes: list[str], edges: list[tuple[str, str]], layer: dict[str, int]
                  ) -> tuple[list[list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """Columns of nodes per layer, long edges split by dummy nodes (``\\0`` prefixed)."""
    depth = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for n in nodes:
        layers[layer[n]].append(n)
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for k, (s, d) in enumerate(edges):
        previous = s
        for step in range(layer[s] + 1, layer[d]):
            dummy = f"\0{k}:{step}"
            layers[step].append(dummy)
            succ[dummy], pred[dummy] = [], []
            succ[previous].append(dummy)
            pred[dummy].append(previous)
            previous = dummy
        succ[previous].append(d)
        pred[d].append(previous)
    return layers, succ, pred


def _reduce_crossings(layers: list[list[str]], succ: dict[str, list[str]],
                      pred: dict[str, list[str]]) -> None:
    """Barycenter heuristic, alternating sweep directions; keeps the best order found."""
    best = [list(c) for c in layers]
    best_crossings = count_crossings(layers, succ)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        order = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for i in order:
            fixed = layers[i - 1] if forward else layers[i + 1]
            neighbours = pred if forward else succ
            _sort_by_barycenter(layers[i], fixed, neighbours)
        crossings = count_crossings(layers, succ)
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in layers], crossings
        if best_crossings == 0:
            break
    layers[:] = best


def _sort_by_barycenter(column: list[str], fixed: list[str],
                        neighbours: dict[str, list[str]]) -> None:
    """Order ``column`` by the mean position of each node's neighbours in ``fixed``."""
    where = {n: i for i, n in enumerate(fixed)}
    keys: dict[str, float] = {}
    for i, n in enumerate(column):
        spots = [where[m] for m in neighbours[n] if m in where]
        keys[n] = sum(spots) / len(spots) if spots else float(i)
    column.sort(key=lambda n: keys[n])


def count_crossings(layers: list[list[str]], succ: dict[str, list[str]]) -> int:
    """Edge crossings between adjacent layers (the quantity the layout minimises)."""
    total = 0
    for left, right in zip(layers, layers[1:], strict=False):
        where = {n: i for i, n in enumerate(right)}
        pairs = sorted((i, where[m]) for i, n in enumerate(left)
                       for m in succ[n] if m in where)
        targets = [t for _, t in pairs]
        total += _inversions(targets)
    return total


def _inversions(values: list[int]) -> int:
    """Number of pairs i < j with values[i] > values[j] (merge sort, O(n log n))."""
    if len(values) < 2:
        return 0
    mid = len(values) // 2
    left, right = values[:mid], values[mid:]
    count = _inversions(left) + _inversions(right)
    left.sort()
    right.sort()
    j = 0
    for value in left:
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    return count
