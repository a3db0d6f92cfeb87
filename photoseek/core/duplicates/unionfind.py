"""Connected components of a graph given as pairs of node numbers (union-find).

A duplicate group is a connected component: A is a copy of B and B of C
puts A, B and C in one group even when A and C are too far apart to be
joined directly. Union by size with path halving: each union costs nearly
constant time, so 100,000 joined pairs take a fraction of a second in
Python; the pairs themselves are chosen with numpy beforehand.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["UnionFind", "components"]


class UnionFind:
    """Disjoint sets over the nodes ``0 .. n - 1``."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))
        self._size = [1] * n

    def find(self, node: int) -> int:
        """The representative of ``node``'s set."""
        parent = self._parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False when they were one already."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return False
        if self._size[root_a] < self._size[root_b]:
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._size[root_a] += self._size[root_b]
        return True

    def sets(self) -> list[list[int]]:
        """Every set of more than one node, each in ascending order, by its smallest node."""
        members: dict[int, list[int]] = {}
        for node in range(len(self._parent)):
            if self._size[self.find(node)] > 1:
                members.setdefault(self.find(node), []).append(node)
        return sorted(members.values(), key=lambda nodes: nodes[0])


def components(n: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The connected components of more than one node among ``0 .. n - 1``."""
    sets = UnionFind(n)
    for a, b in pairs:
        sets.union(a, b)
    return sets.sets()
