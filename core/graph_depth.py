"""The depth of each node of a network graph: the longest path that reaches it.

Both layouts put a node in the column of its depth, so every edge points right: the
command line's starter layout (``core.starter``) and the designer's layered layout
(``designer.model.layout``, which may import core but not the other way round).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def longest_path_depths(nodes: Sequence[str],
                        edges: Iterable[Sequence[str]]) -> dict[str, int]:
    """Depth of each node = length of the longest path from a source (Kahn's order).

    Edges with an end that is not in ``nodes`` are ignored. A node on or after a cycle
    never becomes ready: it keeps the depth its ordered predecessors gave it (0 if none),
    so a broken design still gets positions instead of an endless loop.
    """
    indegree = dict.fromkeys(nodes, 0)
    out: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        if src in out and dst in out:
            out[src].append(dst)
            indegree[dst] += 1
    depth = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        current = ready.pop()
        for nxt in out[current]:
            depth[nxt] = max(depth[nxt], depth[current] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    return depth
