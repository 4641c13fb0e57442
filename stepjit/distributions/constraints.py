"""The constraints argument checks use, named as PyTorch names them (`constraints.positive`).

A constraint's `check(value)` returns a bool tensor; `Distribution` raises ValueError naming
the distribution, the argument and its shape when a check fails on concrete values.
"""
from __future__ import annotations


class Constraint:
    is_discrete = False
    event_dim = 0

    def __init__(self, name, check, is_discrete=False, event_dim=0):
        self.name, self._check = name, check
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def check(self, value):
        return self._check(value)

    def __repr__(self):
        return self.name


real = Constraint("Real()", lambda x: x == x)
real_vector = Constraint("IndependentConstraint(Real(), 1)", lambda x: (x == x).all(-1),
                         event_dim=1)
positive = Constraint("GreaterThan(lower_bound=0.0)", lambda x: x > 0)
nonnegative = Constraint("GreaterThanEq(lower_bound=0.0)", lambda x: x >= 0)
independent_positive = Constraint("IndependentConstraint(GreaterThan(lower_bound=0.0), 1)",
                                  lambda x: (x > 0).all(-1), event_dim=1)
unit_interval = Constraint("Interval(lower_bound=0.0, upper_bound=1.0)",
                           lambda x: (x >= 0) & (x <= 1))
boolean = Constraint("Boolean()", lambda x: (x == 0) | (x == 1), is_discrete=True)
simplex = Constraint("Simplex()", lambda x: (x >= 0).all(-1) & ((x.sum(-1) - 1).abs() < 1e-6),
                     event_dim=1)


def integer_interval(low, high):
    return Constraint(f"IntegerInterval(lower_bound={low}, upper_bound={high})",
                      lambda x: (x % 1 == 0) & (x >= low) & (x <= high), is_discrete=True)


def interval(low, high):
    return Constraint(f"Interval(lower_bound={low}, upper_bound={high})",
                      lambda x: (x >= low) & (x <= high))


def half_open_interval(low, high):
    return Constraint(f"HalfOpenInterval(lower_bound={low}, upper_bound={high})",
                      lambda x: (x >= low) & (x < high))


one_hot = Constraint("OneHot()", lambda x: ((x == 0) | (x == 1)).all(-1) & (x.sum(-1) == 1),
                     is_discrete=True, event_dim=1)


nonnegative_integer = Constraint("IntegerGreaterThan(lower_bound=0)",
                                 lambda x: (x % 1 == 0) & (x >= 0), is_discrete=True)
positive_integer = Constraint("IntegerGreaterThan(lower_bound=1)",
                              lambda x: (x % 1 == 0) & (x >= 1), is_discrete=True)


def multinomial(upper_bound):
    return Constraint("Multinomial()",
                      lambda x: (x >= 0).all(-1) & (x.sum(-1) <= upper_bound),
                      is_discrete=True, event_dim=1)


def independent(base, reinterpreted_batch_ndims):
    """`base` checked over `reinterpreted_batch_ndims` more rightmost dims (all must hold)."""
    n = reinterpreted_batch_ndims

    def check(x):
        ok = base.check(x)
        for _ in range(n):
            ok = ok.all(-1)
        return ok
    return Constraint(f"IndependentConstraint({base!r}, {n})", check, base.is_discrete,
                      base.event_dim + n)


def greater_than_eq(lower_bound):
    return Constraint(f"GreaterThanEq(lower_bound={lower_bound})", lambda x: x >= lower_bound)
