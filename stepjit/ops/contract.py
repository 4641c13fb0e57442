"""einsum and the add-matmul family (addmm, baddbmm, addbmm, addmv, addr), over matmul.

einsum works operand by operand: repeated letters in one operand become a
diagonal; letters no later operand or the output needs are summed out; two
operands meet in one batched matmul (batch letters, then the left operand's own
letters, contracted letters, the right operand's own letters), and a final
permutation puts the output's letters in order. Size-1 dimensions broadcast,
as in PyTorch.
"""
from __future__ import annotations

from ..errors import ShapeError, op_error
from ..ir.primitives.shapes import broadcast_shapes, fmt
from .shape import matmul, permute, reshape
from .tiling import diagonal


def _error(msg):
    return op_error(ShapeError(msg), "einsum")


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise _error(f"{len(terms)} operands in the equation {equation!r} but "
                     f"{len(operands)} given")
    used = set(c for c in eq if c.isalpha())
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
    ell = None
    parsed = []
    for term, x in zip(terms, operands):
        if "..." in term:
            n = x.ndim - (len(term) - 3)
            if n < 0:
                raise _error(f"operand {term!r} has more letters than dimensions {fmt(x.shape)}")
            if ell is None or len(ell) < n:
                ell = (ell or "") + "".join(next(spare) for _ in range(n - len(ell or "")))
            term = term.replace("...", ell[len(ell) - n:])
        if len(term) != x.ndim or not all(c.isalpha() for c in term):
            raise _error(f"subscripts {term!r} do not match an operand of shape {fmt(x.shape)}")
        parsed.append(term)
    if arrow:
        out = out.replace("...", ell or "")
    else:
        letters = "".join(parsed)
        out = (ell or "") + "".join(sorted(c for c in set(letters)
                                           if letters.count(c) == 1 and c not in (ell or "")))
    for c in out:
        if not any(c in t for t in parsed):
            raise _error(f"output subscript {c!r} appears in no operand of {equation!r}")
    return parsed, out


def _diagonals(x, term):
    """Repeated letters in one operand: keep their diagonal (as the last dimension)."""
    while True:
        dup = next((c for c in term if term.count(c) > 1), None)
        if dup is None:
            return x, term
        a = term.index(dup)
        b = term.index(dup, a + 1)
        if x.shape[a] != x.shape[b]:
            raise _error(f"subscript {dup!r} is repeated for dimensions of sizes "
                         f"{x.shape[a]} and {x.shape[b]}")
        x = diagonal(x, 0, a, b)
        term = "".join(c for i, c in enumerate(term) if i not in (a, b)) + dup


def _sum_out(x, term, keep):
    drop = tuple(i for i, c in enumerate(term) if c not in keep)
    if not drop:
        return x, term
    return x.sum(drop), "".join(c for c in term if c in keep)


def _size(shapes, c):
    sizes = {s for s in shapes.get(c, ()) if s != 1}
    return sizes.pop() if sizes else 1


def _pair(a, ta, b, tb, keep):
    a, ta = _sum_out(a, ta, set(tb) | keep)
    b, tb = _sum_out(b, tb, set(ta) | keep)
    shapes = {}
    for t, x in ((ta, a), (tb, b)):
        for c, n in zip(t, x.shape):
            shapes.setdefault(c, []).append(n)
    for c, ns in shapes.items():
        if len({n for n in ns if n != 1}) > 1:
            raise _error(f"operands do not broadcast: subscript {c!r} has sizes {ns} "
                         f"(shapes {fmt(a.shape)} and {fmt(b.shape)})")
    batch = [c for c in ta if c in tb and c in keep]
    inner = [c for c in ta if c in tb and c not in keep]
    left = [c for c in ta if c not in tb]
    right = [c for c in tb if c not in ta]
    # a size-1 contracted letter against a larger one: sum the other side first
    for c in inner:
        if a.shape[ta.index(c)] != b.shape[tb.index(c)]:
            if a.shape[ta.index(c)] == 1:
                b = b.sum(tb.index(c), keepdim=True)
            else:
                a = a.sum(ta.index(c), keepdim=True)
    n = {c: _size(shapes, c) for c in batch + left + right}
    a = a.permute([ta.index(c) for c in batch + left + inner])
    b = b.permute([tb.index(c) for c in batch + inner + right])
    a = a.expand(tuple(n[c] for c in batch) + tuple(a.shape[len(batch):]))
    b = b.expand(tuple(n[c] for c in batch) + tuple(b.shape[len(batch):]))
    nb = [n[c] for c in batch]
    k = 1
    for c in inner:
        k *= a.shape[len(batch) + len(left) + inner.index(c)]
    m = 1
    for c in left:
        m *= n[c]
    r = 1
    for c in right:
        r *= n[c]
    a = reshape(a, tuple(nb) + (m, k))
    b = reshape(b, tuple(nb) + (k, r))
    out = matmul(a, b)
    out = reshape(out, tuple(nb) + tuple(n[c] for c in left) + tuple(n[c] for c in right))
    return out, "".join(batch + left + right)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise _error("einsum(): must provide at least one operand")
    terms, out = _parse(equation, operands)
    xs = []
    for x, t in zip(operands, terms):
        xs.append(_diagonals(x, t))
    x, t = xs[0]
    for i in range(1, len(xs)):
        later = set(out).union(*[set(tt) for _, tt in xs[i + 1:]])
        y, ty = xs[i]
        x, t = _pair(x, t, y, ty, later)
    x, t = _sum_out(x, t, set(out))
    if t == out:
        return x * 1 if x is operands[0] else x
    return permute(x, [t.index(c) for c in out])


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return _add_scaled(input, matmul(_matrix(mat1, "addmm"), _matrix(mat2, "addmm")), beta, alpha)


def _matrix(x, op):
    if x.ndim != 2:
        raise op_error(ShapeError(f"{op}: expected a 2-D matrix, got shape {fmt(x.shape)}"), op)
    return x


def _batch(x, op):
    if x.ndim != 3:
        raise op_error(ShapeError(f"{op}: expected a 3-D batch of matrices, got shape "
                                  f"{fmt(x.shape)}"), op)
    return x


def _add_scaled(input, product, beta, alpha):
    """beta * input + alpha * product; beta == 0 ignores input (NaNs in it included)."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product.expand(broadcast_shapes(tuple(input.shape), tuple(product.shape))) * 1
    return (input if beta == 1 else input * beta) + product


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _add_scaled(input, matmul(_batch(batch1, "baddbmm"), _batch(batch2, "baddbmm")),
                       beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    prod = matmul(_batch(batch1, "addbmm"), _batch(batch2, "addbmm")).sum(0)
    return _add_scaled(input, prod, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _add_scaled(input, matmul(_matrix(mat, "addmv"), vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return _add_scaled(input, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)
