"""Writing a recurring tape's backward as one Python function (autograd/tape.py keys tapes
and runs these; stepjit/api.py hands it `write` as `autograd.generators.write_tape`).

The function is the engine's schedule for one tape structure, unrolled: every node's
gradient is a local and every node's step the engine's step for it:

  - a node no gradient reached is skipped (and released), as the engine skips it;
  - a PrimBackward node calls its plan's straight-line function directly when the
    checks array_vjp.run makes hold (host gradient of the planned shape and dtype,
    not requiring grad, not a view; saved tensors unmodified, on the host; no
    hooks on the node); otherwise, and for every other node type, the node runs
    exactly as the engine runs it (`_slow`: pre-hooks, retain_grad, apply);
  - a gradient a straight-line function made, bound for another straight-line
    node, goes there as its bare array (the function's arrays variant): nothing
    but that node's function would read the tensor the engine makes for it, so
    the tensor is made only where one leaves the straight line (a Function, a
    leaf, a hook, a sum), as the same fresh tensor; a node that would hand one
    gradient object to two children gets it as a tensor first, so that they
    share one object as in the engine;
  - gradients reaching one node output are summed in the engine's order;
  - AccumulateGrad nodes call the engine's `_accumulate`.

The order nodes run in is the engine's, computed from the structure, so the
gradients are the same bits the engine gives. The function starts by binding its nodes
from the root and checking the structure, returning False (having done nothing) on a
tape it was not written for.
"""
from __future__ import annotations

import numpy as np

from ..autograd import array_vjp
from ..autograd.engine import RUNNING, _accumulate
from ..autograd.function import FunctionBackward
from ..autograd.node import AccumulateGrad, PrimBackward, SavedTensor
from ..autograd import tape
from .codewriter import CodeWriter, ident
from ..tensor import Tensor
from .eager_vjp import arrays_variant, literal_or_const

_NDARRAY = np.ndarray


def _schedule(nodes):
    """The order the engine runs nodes in: dependency counts, a last-in-first-out ready stack,
    children handed gradients in edge order."""
    index = {n: j for j, n in enumerate(nodes)}
    deps = [0] * len(nodes)
    for n in nodes:
        for child, _ in n.edges:
            if child is not None:
                deps[index[child]] += 1
    ready, order = [0], []
    while ready:
        j = ready.pop()
        order.append(j)
        for child, _ in nodes[j].edges:
            if child is not None:
                k = index[child]
                deps[k] -= 1
                if deps[k] == 0:
                    ready.append(k)
    return order, index


def write(nodes, root_nr, seed):
    """The tape's backward as a Python function (nodes, seed, retain_graph, owned)."""
    order, index = _schedule(nodes)
    metas = _grad_metas(nodes, index, root_nr, seed)
    w = CodeWriter({"ndarray": _NDARRAY, "_slow": tape._slow, "_tensor": tape._tensor,
                    "_accumulate_leaf": tape._accumulate_leaf, "_accumulate": _accumulate,
                    "RUNNING": RUNNING, "make": Tensor._make},
                   reserved=("nr", "seed", "retain", "owned", "g", "gd", "s", "c", "r", "slow"))
    names = [w.local(f"n{j}_{ident(nodes[j].name())}") for j in range(len(nodes))]
    _write_match(w, nodes, names, index, root_nr)
    slots = {(j, k): w.local(f"g{j}_{k}")
             for j, n in enumerate(nodes) for k in range(max(1, n.n_outputs))}
    fasts = {j: _fast_call(w, n, metas.get(j)) for j, n in enumerate(nodes)
             if isinstance(n, PrimBackward)}
    takes = {j for j, f in fasts.items() if _takes_bare(w, f)}
    arrays_out = _arrays_out(nodes, index, takes)
    arrays = set()   # slots that may hold a bare array: a fresh gradient not yet in a tensor
    assigned = {(0, root_nr)}
    w.emit(f"{slots[(0, root_nr)]} = seed")
    reached = {(index.get(c), k) for n in nodes for c, k in n.edges}
    for slot in slots:   # outputs no edge leads to (a Function's other outputs)
        if slot not in assigned and slot not in reached:
            w.emit(f"{slots[slot]} = None")
    for j in order:
        node = nodes[j]
        grads = [slots[(j, k)] for k in range(max(1, node.n_outputs))]
        bare = [g for k, g in enumerate(grads) if (j, k) in arrays]
        w.emit(f"# {node.name()}")
        if bare and j not in takes:   # the tensor the straight-line function would have made
            for g in bare:
                w.emit(f"if type({g}) is ndarray: {g} = make({g})")
            bare = []
        _write_step(w, node, names[j], grads, fasts.get(j), bool(bare), j in arrays_out)
        for e, (child, child_nr) in enumerate(node.edges):
            if child is not None:
                at = (index[child], child_nr)
                if j in arrays_out or (bare and _passes_g(w, fasts[j], e)):
                    arrays.add(at)
                later = at in assigned
                _write_hand_on(w, e, slots[at], later, at in arrays, nodes[at[0]].name())
                if later:
                    arrays.discard(at)   # (a sum is a tensor)
                assigned.add(at)
    header = (f"def tape_{len(nodes)}_nodes({names[0]}, nr, seed, retain, owned):\n"
              f'    """A recurring tape\'s backward, the engine\'s walk unrolled; False (having done\n'
              f'    nothing) when the tape from {names[0]} is not the one it was written for."""')
    fn, src = w.function(header, "", "tape backward")
    fn.source = src
    return fn


def _write_hand_on(w, e, slot, later, bare, child_name):
    """Edge e's gradient (r[e]) to its child's slot: the first arrival as is, a later one summed
    in the engine's order (as tensors)."""
    if not later:
        w.emit(f"{slot} = r[{e}]   # to {child_name}")
        return
    w.emit(f"c = r[{e}]")
    if bare:
        w.emit("if type(c) is ndarray: c = make(c)")
        w.emit(f"if type({slot}) is ndarray: {slot} = make({slot})")
    w.emit(f"if c is not None: {slot} = c if {slot} is None else {slot} + c")


def _takes_bare(w, fast):
    """Whether a node's straight-line call may be handed a bare array: it returns the incoming
    gradient at most once (the engine would hand one tensor object to several children)."""
    return fast is not None and w.glob[fast[0]].written_from[2].count("g") <= 1


def _passes_g(w, fast, e):
    """Whether a straight-line call returns its incoming gradient object at edge e."""
    return w.glob[fast[0]].written_from[2][e] == "g"


def _arrays_out(nodes, index, fast):
    """The straight-line nodes that hand on bare arrays (their functions' arrays variant): those
    whose every gradient goes to a straight-line node that takes one, and to no sum."""
    arrivals = {}
    for n in nodes:
        for child, child_nr in n.edges:
            if child is not None:
                at = (index[child], child_nr)
                arrivals[at] = arrivals.get(at, 0) + 1
    return {j for j in fast
            if all(child is None or (index[child] in fast and arrivals[(index[child], 0)] == 1)
                   for child, _ in nodes[j].edges)}


def _write_match(w, nodes, names, index, root_nr):
    """Lines that bind every node's local from the root, returning False where the tape differs
    from `nodes`: what equal keys of `_walk` say (plans or types, saved numbers, edges), and
    the node types. Nodes that could be one object (same type and plan) are checked distinct,
    so that the walk would index the same nodes."""
    w.emit("# the structure this function was written for")
    w.emit("try:")
    checks = [f"nr != {root_nr}"]   # (each line's checks run once its locals are bound)
    bound = {0}
    for j, n in enumerate(nodes):
        name = names[j]
        checks += _node_checks(w, n, name)
        w.emit(f"    if {' or '.join(checks)}: return False")
        checks, targets = [], []
        for e, (child, child_nr) in enumerate(n.edges):
            k = index.get(child)
            if child is None:
                targets.append(f"(c{e}, _)")
                checks.append(f"c{e} is not None")
                continue
            if k in bound:
                targets.append(f"(c{e}, k{e})")
                checks.append(f"c{e} is not {names[k]}")
            else:
                targets.append(f"({names[k]}, k{e})")
                bound.add(k)
            checks.append(f"k{e} != {child_nr}")
        if targets:
            w.emit(f"    {', '.join(targets)}{',' if len(targets) == 1 else ''} = {name}.edges")
        else:
            checks.append(f"{name}.edges")
    groups = {}
    for j, n in enumerate(nodes):
        groups.setdefault((type(n), getattr(n, "plan", None)), []).append(names[j])
    checks += [f"len({{{', '.join(g)}}}) != {len(g)}" if len(g) > 2 else f"{g[0]} is {g[1]}"
               for g in groups.values() if len(g) > 1]
    if checks:
        w.emit(f"    if {' or '.join(checks)}: return False")
    w.emit("except ValueError:   # a node with another number of edges")
    w.emit("    return False")


def _node_checks(w, n, name):
    """What the key holds of node n: its plan and saved numbers, or its type (and outputs)."""
    checks = [f"type({name}) is not {w.const(type(n), n.name() + '_type')}"]
    kind = tape._KINDS[type(n)]
    if kind == tape._PRIM:
        checks.append(f"{name}.plan is not {w.const(n.plan, n.name() + '_plan')}")
        if n.plan.numbers:
            checks.append(f"{name}.saved is None")
            checks += [f"{name}.saved[{k!r}] != {literal_or_const(w, n.saved[k], 'number')}"
                       for k in n.plan.numbers]
    elif kind == tape._OTHER:
        checks.append(f"{name}.n_outputs != {n.n_outputs}")
    return checks


def _grad_metas(nodes, index, root_nr, seed):
    """(shape, NumPy dtype) of the gradient each single-output node receives, where the structure
    fixes it: the root's from the seed, others from the plan or Function that feeds them."""
    metas = {0: (seed._data.shape, seed._data.dtype)} if root_nr == 0 else {}
    for n in nodes:
        if type(n) is AccumulateGrad:
            continue
        per_input = _input_metas(n)
        for e, (child, child_nr) in enumerate(n.edges):
            if child is not None and child_nr == 0 and e in per_input:
                metas.setdefault(index[child], per_input[e])
    return metas


def _input_metas(n):
    if isinstance(n, PrimBackward):
        return {i: (shape, dtype.np) for i, *_, shape, dtype in n.plan.calls}
    in_meta = getattr(n, "in_meta", None)   # a custom Function's inputs
    if in_meta is None:
        return {}
    return {i: (m[0], m[1].np) for i, m in enumerate(in_meta) if m is not None}


def _write_step(w, node, name, grads, fast, bare, arrays_out):
    """The engine's step for one node; `r` ends holding its output gradients per edge. `fast`:
    node's straight-line call (_fast_call); `bare`: its gradient may come as a bare array;
    `arrays_out`: it hands on bare arrays."""
    n_edges = len(node.edges)
    if type(node) is AccumulateGrad:
        # (its release only marks it: an AccumulateGrad holds nothing to free)
        g = grads[0]
        w.emit(f"if {g} is not None:")
        w.emit(f"    if {name}.pre_hooks or {name}.retained or {name}.variable._hooks: "
               f"_accumulate_leaf({name}, {g}, owned)")
        w.emit(f"    else: _accumulate({name}.variable, {g}, owned)")
        return
    none = w.const((None,) * n_edges, f"no_grads_{n_edges}")
    if isinstance(node, FunctionBackward):
        # _slow's steps where no hook runs (apply returns one gradient per edge)
        w.emit(f"if {' is None and '.join(grads)} is None: r = {none}")
        w.emit(f"elif {name}.pre_hooks or {name}.retained: "
               f"r = _slow({name}, [{', '.join(grads)}], {n_edges})")
        w.emit("else:")
        w.emit(f"    RUNNING.node = {name}")
        w.emit(f"    r = {name}.apply([{', '.join(grads)}])")
        w.emit("    RUNNING.node = None")
        w.emit(f"if not retain: {name}.release()")
        return
    if fast is None:
        w.emit(f"if {' is None and '.join(grads)} is None: r = {none}")
        w.emit(f"else: r = _slow({name}, [{', '.join(grads)}], {n_edges})")
        w.emit(f"if not retain: {name}.release()")
        return
    _write_straight(w, node, name, grads[0], fast, bare, arrays_out, none)


def _write_straight(w, node, name, g, fast, bare, arrays_out, none):
    """A primitive node's step by its straight-line function, where the checks array_vjp.run
    makes hold (else `_slow`); then PrimBackward.release's effect."""
    n_edges = len(node.edges)
    fn, shape, dtype, tensors = fast
    if arrays_out:
        fn = w.const(arrays_variant(w.glob[fn]), fn + "_arrays")
    tg = f"_tensor({g})" if bare else g   # (what _slow is handed)
    w.emit(f"if {g} is None: r = {none}")
    w.emit("else:")
    w.emit(f"    s = {name}.saved")
    hooks = f"{name}.pre_hooks or {name}.retained"
    tensor = (f"type(gd) is not ndarray or gd.dtype is not {dtype} or gd.shape != {shape!r} "
              f"or {g}._requires_grad or {g}._base is not None")
    if bare:
        w.emit(f"    if type({g}) is ndarray:   # a fresh gradient, bare: no tensor to check")
        w.emit(f"        gd = {g}")
        w.emit(f"        slow = s is None or gd.dtype is not {dtype} or gd.shape != {shape!r} or {hooks}")
        w.emit("    else:")
        w.emit(f"        gd = {g}._data")
        w.emit(f"        slow = s is None or {tensor} or {hooks}")
        w.emit("    if slow:")
    else:
        w.emit(f"    gd = {g}._data")
        w.emit(f"    if s is None or {tensor} or {hooks}:")
    w.emit(f"        r = _slow({name}, [{tg}], {n_edges})")
    w.emit("    else:")
    saved = [w.local(f"saved_{t}") for t in tensors]
    indent = "        "
    if saved:   # a saved tensor modified in place: the engine's path raises the error
        for local, t in zip(saved, tensors):
            w.emit(f"        {local} = s[{t!r}]")
        checks = [f"{s}.version.value != {s}.saved_version or type({s}.data) is not ndarray"
                  for s in saved]
        w.emit(f"        if {' or '.join(checks)}:")
        w.emit(f"            r = _slow({name}, [{tg}], {n_edges})")
        w.emit("        else:")
        indent += "    "
    w.emit(f"{indent}try: r = {fn}({g}, gd{''.join(f', {s}.data' for s in saved)})")
    w.emit(f"{indent}except Exception: r = _slow({name}, [{tg}], {n_edges})")
    # PrimBackward.release: a node that saved nothing keeps its (empty) saved values, and
    # any other is known here to hold its own (the check above sent saved=None to _slow)
    w.emit("if not retain:")
    w.emit(f"    {name}._freed = True")
    if node.plan.save:
        w.emit(f"    {name}.saved = None")


def _fast_call(w, node, meta):
    """(function name, gradient shape, dtype name, saved tensor names) of node's straight-line
    VJP function, or None when the node must run as the engine runs it."""
    if meta is None or node.saved is None:
        return None
    tensors = []
    for name, _ in node.plan.save:
        v = node.saved[name]
        if type(v) is SavedTensor:
            tensors.append(name)
        elif type(v) not in (int, float, bool):   # a list ("xs"): the engine's path
            return None
    shape, dtype = meta
    fn = array_vjp.function_for(node, shape, dtype)
    if fn is None:
        return None
    return (w.const(fn, f"{node.name()}_vjp"), shape, w.const(np.dtype(dtype), np.dtype(dtype).name),
            tensors)
