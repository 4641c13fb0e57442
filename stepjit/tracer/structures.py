"""Names a step rebinds to a tuple or list of tensors it made: a recurrent network's state.

A language model's training step carries its hidden state across calls in a name:

    hidden = repackage_hidden(hidden)        # (h.detach(), c.detach())
    output, hidden = model(data, hidden)     # a new (h, c) tuple, made by the step

Each call leaves a new tuple of new tensors in the name, tensors that outlive the call, so
the trace would describe one call only and every call would trace again. sources.py handles
a name bound directly to such a tensor; here the same is done one level further in: when a
global or closure variable of the step, or an attribute of an object it reaches (`self.hidden
= (h, c)`), holds after the trace a (possibly nested) tuple or list whose every leaf is a
tensor the step made, and nothing else refers to those containers or tensors, each leaf
becomes a LeafPlace escape. The write-back of every call binds the
name to a fresh container of the traced type and structure holding fresh tensors (as eager
binds a new tuple), and the next call reads each leaf through the name (an ItemPlace slot),
checked like an argument, instead of lifting the old tensors by identity. A name holding
another structure then (the user reset it between epochs: `hidden = model.init_hidden(bs)`)
reads the same way: a leaf that is missing or of another shape fails the check and retraces.

Only containers the step made are rebuilt: a list that existed before the call (a `history`
the step appends to) is state, left to the side-effect rules (values.side_effects).
"""
from __future__ import annotations

from ..tensor import Tensor
from .sources import _UNBOUND, NamePlace

_MAX_LEAVES = 64
_MAX_DEPTH = 4


class ItemPlace(NamePlace):
    """The tensor at `path` (list/tuple indices) inside what a NamePlace (root) holds."""
    __slots__ = ("root", "path")

    def __init__(self, root, path):
        super().__init__(root.container, root.key,
                         root.label + "".join(f"[{i}]" for i in path))
        self.root = root
        self.path = path

    def at(self, obj):
        """The item at this place's path inside obj (what the root holds, or held)."""
        return item_at(obj, self.path)

    def raw(self):
        return self.at(self.root.raw())

    def bind(self, obj):
        raise TypeError(f"{self.label}: an item is read through its name, not bound")

    def __eq__(self, other):
        return type(other) is type(self) and other.root == self.root and other.path == self.path

    def __hash__(self):
        return hash((id(self.container), self.key, self.path))


def item_at(obj, path):
    for i in path:
        if type(obj) not in (tuple, list) or i >= len(obj):
            return _UNBOUND
        obj = obj[i]
    return obj


class Structure:
    """The shape of a rebound container: a leaf (None) or (type, children); the tensors of
    one write-back are gathered leaf by leaf, the name bound once all have come."""
    __slots__ = ("root", "tree", "count", "pending", "filled")

    def __init__(self, root, tree, count):
        self.root = root
        self.tree = tree
        self.count = count
        self.pending = [None] * count
        self.filled = 0

    def put(self, index, tensor):
        if self.pending[index] is None:
            self.filled += 1
        self.pending[index] = tensor
        if self.filled == self.count:
            leaves = iter(self.pending)
            self.root.bind(_build(self.tree, leaves))
            self.pending = [None] * self.count
            self.filled = 0


def _build(tree, leaves):
    if tree is None:
        return next(leaves)
    kind, children = tree
    return kind(_build(c, leaves) for c in children)


class LeafPlace(ItemPlace):
    """Leaf `index` of a Structure: binding it hands the tensor to the Structure."""
    __slots__ = ("structure", "index")

    def __init__(self, structure, path, index):
        super().__init__(structure.root, path)
        self.structure = structure
        self.index = index

    def bind(self, obj):
        self.structure.put(self.index, obj)

    def __eq__(self, other):
        return super().__eq__(other) and other.structure.tree == self.structure.tree

    def __hash__(self):
        return super().__hash__()


def flatten(obj, depth=0):
    """(tree, [(path, tensor)], [containers]) of a tuple/list of tensors, or None when obj is
    not one (another leaf, too deep, too many leaves)."""
    if isinstance(obj, Tensor):
        return None, [((), obj)], []
    if type(obj) not in (tuple, list) or depth >= _MAX_DEPTH or not obj:
        return None
    children, leaves, containers = [], [], [obj]
    for i, item in enumerate(obj):
        sub = flatten(item, depth + 1)
        if sub is None:
            return None
        children.append(sub[0])
        leaves += [((i, *p), t) for p, t in sub[1]]
        containers += sub[2]
        if len(leaves) > _MAX_LEAVES:
            return None
    return (type(obj), tuple(children)), leaves, containers


def candidates(named, made, existing):
    """(root NamePlace, flatten's result) for each name whose value is a container the step
    made holding only tensors it made (ids in `made`). named: (container, key, label, object)
    of fn's globals and cells and the attributes it rebound; existing: ids of the lists that
    existed before the trace."""
    out = []
    for container, key, label, obj in named:
        if type(obj) not in (tuple, list):
            continue
        flat = flatten(obj)
        if flat is None or any(id(t) not in made for _, t in flat[1]) \
                or any(id(c) in existing for c in flat[2]):
            continue
        ids = [id(t) for _, t in flat[1]] + [id(c) for c in flat[2]]
        if len(set(ids)) != len(ids):
            continue        # an object in two places: eager keeps them one object
        out.append((NamePlace(container, key, label), flat))
    return out


def leaf_places(root, flat):
    """(tensor, LeafPlace) for each leaf of a rebound container."""
    tree, leaves, _ = flat
    structure = Structure(root, tree, len(leaves))
    return [(t, LeafPlace(structure, path, i)) for i, (path, t) in enumerate(leaves)]


def read_containers(named_first) -> set:
    """The ids of the lists and tuples whose items "name" slots read through a name (a list's
    length is not guarded there: a missing item fails its read)."""
    out = set()
    for _, old in named_first:
        flat = flatten(old) if type(old) in (tuple, list) else None
        if flat is not None:
            out |= {id(c) for c in flat[2]}
    return out
