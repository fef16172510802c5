"""Automatic layered layout (Sugiyama style) for the network DAG, left to right.

1. Layering: longest path from the sources, so every edge points right.
2. Edges that span several layers get dummy nodes, so they take part in ordering.
3. Crossing reduction: barycenter sweeps left-to-right and back, keeping the best order.
4. Coordinates: layer -> x; y pulled towards the neighbours' mean, keeping the order
   and the spacing, so chains run straight.

Also the other geometry of the document's layout: spreading cards that stand too close
for their edge labels, and a free spot for a new card. Pure Python (no Qt) so it can be
tested and benchmarked alone, and the model can use it without importing the canvas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from core.graph_depth import longest_path_depths

LAYER_SPACING = 270.0
NODE_HEIGHT = 110.0
ROW_GAP = 40.0
DUMMY_HEIGHT = 40.0  # a lane for long edges, so they pass between cards
SWEEPS = 8
ALIGN_SWEEPS = 6
#: Connected cards closer than this (left edge to left edge) leave no room for the shape
#: label on their edge; such a layout is spread out when a project is opened.
MIN_EDGE_SPAN = 230.0
SPREAD_SPAN = 240.0  # what the closest connected pair is stretched to
CARD_CLEARANCE = 200.0  # a new card closer than this (sideways) to another would cover it
NEXT_COLUMN = 260.0  # how far right of a card the card added after it goes


def layered_layout(nodes: Sequence[str], edges: Iterable[tuple[str, str]],
                   heights: Mapping[str, float] | None = None, dx: float = LAYER_SPACING,
                   gap: float = ROW_GAP) -> dict[str, tuple[float, float]]:
    """Top-left positions ``{node: (x, y)}`` for a DAG, flowing left to right.

    ``heights`` are the cards' heights (tall neuron-view cards get more room); edges that
    would close a cycle are ignored.
    """
    nodes = list(dict.fromkeys(nodes))
    known = set(nodes)
    edges = _acyclic_edges(nodes, [(s, d) for s, d in edges if s in known and d in known])
    layer = longest_path_depths(nodes, edges)
    layers, succ, pred = _with_dummies(nodes, edges, layer)
    _reduce_crossings(layers, succ, pred)
    size = {n: (heights or {}).get(n, NODE_HEIGHT) if n in known else DUMMY_HEIGHT
            for column in layers for n in column}
    centre = _assign_y(layers, pred, succ, size, gap)
    return {n: (index * dx, round(centre[n] - size[n] / 2.0, 1))
            for index, column in enumerate(layers) for n in column if n in known}


def _assign_y(layers: list[list[str]], pred: dict[str, list[str]], succ: dict[str, list[str]],
              size: dict[str, float], gap: float) -> dict[str, float]:
    """Vertical centres: start stacked and centred, then pull every node towards the mean
    of its neighbours (left, then right) without breaking the order, so chains run
    straight and merges sit between their inputs."""
    centre: dict[str, float] = {}
    for column in layers:
        y = -(sum(size[n] for n in column) + gap * (len(column) - 1)) / 2.0
        for n in column:
            centre[n] = y + size[n] / 2.0
            y += size[n] + gap
    for sweep in range(ALIGN_SWEEPS):
        forward = sweep % 2 == 0
        neighbours = pred if forward else succ
        for column in (layers if forward else reversed(layers)):
            wanted = {n: (sum(centre[m] for m in neighbours[n]) / len(neighbours[n])
                          if neighbours[n] else centre[n]) for n in column}
            _place_column(column, wanted, size, gap, centre)
    return centre


def _place_column(column: list[str], wanted: dict[str, float], size: dict[str, float],
                  gap: float, centre: dict[str, float]) -> None:
    """Put each node as close to its wanted centre as the order and spacing allow: the
    mean of a push-down and a push-up pass (both keep the spacing, so their mean does),
    which leaves nodes without a conflict exactly where they want to be."""
    sep = [(size[a] + size[b]) / 2.0 + gap for a, b in zip(column, column[1:], strict=False)]
    down = [wanted[n] for n in column]
    for i in range(1, len(column)):
        down[i] = max(down[i], down[i - 1] + sep[i - 1])
    up = [wanted[n] for n in column]
    for i in range(len(column) - 2, -1, -1):
        up[i] = min(up[i], up[i + 1] - sep[i])
    for n, a, b in zip(column, down, up, strict=True):
        centre[n] = (a + b) / 2.0


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


def spread_cramped(layout: dict[str, list[float]], edges: Iterable[tuple[str, str]]) -> None:
    """Stretch (in place) a layout whose connected cards stand too close for edge labels.

    Examples and projects made by the command line may place layers 200 units apart,
    which leaves the shape label on an edge no room between two cards. The x positions
    are scaled about the leftmost card (the arrangement is kept) so that the closest pair
    of connected cards in a row is ``SPREAD_SPAN`` apart.
    """
    spans = []
    for src, dst in edges:
        if src in layout and dst in layout:
            (x1, y1), (x2, y2) = layout[src], layout[dst]
            if x2 > x1 and abs(y2 - y1) < 60.0:
                spans.append(x2 - x1)
    if not spans or min(spans) >= MIN_EDGE_SPAN:
        return
    factor = SPREAD_SPAN / min(spans)
    left = min(p[0] for p in layout.values())
    for pos in layout.values():
        pos[0] = round(left + (pos[0] - left) * factor, 1)


def free_spot_near(taken: Iterable[Sequence[float]], x: float, y: float) -> tuple[float, float]:
    """``(x, y)``, or the first spot below it that no card covers (cards never stack)."""
    step = NODE_HEIGHT + ROW_GAP
    taken = list(taken)
    while any(abs(px - x) < CARD_CLEARANCE and abs(py - y) < step for px, py in taken):
        y += step
    return (x, y)


def free_spot(taken: Iterable[Sequence[float]]) -> tuple[float, float]:
    """A position right of every card in ``taken``, level with the topmost one."""
    taken = list(taken)
    if not taken:
        return (0.0, 0.0)
    right = max(p[0] for p in taken)
    return (right + NEXT_COLUMN, min(p[1] for p in taken))
