"""The graph of fusion groups, kept as fusion grows it, with what each group reads from.

Fusion asks, before each merge, whether one group reaches another (the merge would make a
cycle). Answered by a search over every group that computed a value, each question cost time
in proportion to the graph, so fusing an unrolled RNN took time quadratic (and worse) in its
length: 80 LSTM steps spent 90 s there. A search that only looks between the two groups is
not enough either: the backward of step k reads step k's forward values, and the path
between them runs through every later step and back.

So each group holds the set of groups it reads from, transitively (its *ancestors*), as a
bitset: a Python int with one bit per group (XLA's HloReachabilityMap does the same). A
question is then one AND. Keeping the sets is linear in the group graph's edges, each a
word-parallel OR: a new group's set is the union of its producers' sets, a group that
gains a producer passes the new bits on to its consumers, and stops where a group has them
already (whatever it reads from, its consumers read from too). A group absorbed into
another keeps its bit as part of the merged group's bits, so what named it names the merge.

`visits` counts the groups the updates and questions looked at, so a test can see that
fusing a graph twice as long costs about twice as much (tests/passes/test_fusion_scaling.py).
"""
from __future__ import annotations


class GroupDag:
    def __init__(self):
        self.preds = {}      # group -> {producer group: None} (a dict keeps insertion order)
        self.succs = {}      # group -> {consumer group: None}
        self.bits = {}       # group -> its bit, or its parts' bits after a merge
        self.ancestors = {}  # group -> OR of the bits of every group it reads from, transitively
        self._next = 0
        self.visits = 0

    def add_group(self, g):
        self.preds[g], self.succs[g] = {}, {}
        self.bits[g], self.ancestors[g] = 1 << self._next, 0
        self._next += 1

    def add_edge(self, x, y):
        """y reads a value of x. The caller knows this makes no cycle."""
        if x is y or y in self.succs[x]:
            return
        self.succs[x][y] = None
        self.preds[y][x] = None
        self._spread((y,), self.ancestors[x] | self.bits[x])

    def merge(self, other, into):
        """`other` becomes part of `into`. The caller has checked that no path joins them
        through a third group, so the merged group reaches nothing that reaches it."""
        for p in self.preds.pop(other):
            del self.succs[p][other]
            if p is not into:
                self.succs[p][into] = None
                self.preds[into][p] = None
        for s in self.succs.pop(other):
            del self.preds[s][other]
            if s is not into:
                self.preds[s][into] = None
                self.succs[into][s] = None
        self.bits[into] |= self.bits.pop(other)
        self.ancestors[into] = (self.ancestors[into] | self.ancestors.pop(other)) & ~self.bits[into]
        self._spread(self.succs[into], self.ancestors[into] | self.bits[into])

    def reaches(self, src, dst) -> bool:
        """Does dst (transitively) read a value of src? (True when src is dst.)"""
        return src is dst or bool(self.ancestors[dst] & self.bits[src])

    def read_by_any(self, groups) -> int:
        """The bits of every group that one of `groups` reads from, transitively: test a
        group g with `read_by_any(...) & dag.bits[g]`."""
        out = 0
        for g in groups:
            out |= self.ancestors[g]
        return out

    def reaches_via_other(self, a, b) -> bool:
        """Is there a path a -> X -> ... -> b through some group X other than a and b?"""
        below_b = self.ancestors[b]
        for x in self.succs[a]:
            self.visits += 1
            if x is not b and below_b & self.bits[x]:
                return True
        return False

    def _spread(self, starts, bits):
        """Add `bits` to the ancestors of `starts` and of every group reading from them."""
        stack = list(starts)
        while stack:
            g = stack.pop()
            self.visits += 1
            have = self.ancestors[g]
            if have | bits != have:
                self.ancestors[g] = have | bits
                stack.extend(self.succs[g])
