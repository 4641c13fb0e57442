"""Bitwise and logical functions against PyTorch: `&`, `|`, `^`, `~`, `<<`, `>>`, their
named, method, reflected and in-place forms, on every integer dtype and bool, with shift
amounts that are negative or past the width, and logical_* on non-bool inputs. One table,
recorded by tests/fixtures/record_bitwise.py (outputs keep their dtypes)."""
import numpy as np

from tests.fixtures.oracle import Case

I64 = np.array([1, -8, 5, 2 ** 62, -(2 ** 40) - 3, 0, 7, -1], np.int64)
J64 = np.array([3, -2, 12, 2 ** 33 + 1, 6, -1, 0, 9], np.int64)
SHIFT = np.array([64, 65, -1, 2, 70, 3, 0, 63], np.int64)
U8 = np.array([200, 7, 255, 0, 1, 128, 64, 3], np.uint8)
I8 = np.array([-128, -100, -1, 0, 1, 3, 100, 127], np.int8)
I16 = np.array([-32768, -300, -1, 0, 1, 255, 300, 32767], np.int16)
I32 = np.array([6, -6, 1, 0, 9, 2, -3, 5], np.int32)
MASK = np.array([True, False, True, True, False, False, True, False])
F64 = np.array([0.0, -1.5, 2.0, 0.0, np.nan, 3.0, -0.0, 1e-300])


def _inplace(T, a, b):
    x, y, z = a.clone(), a.clone(), a.clone()
    x &= b
    y |= 3
    z ^= b
    w = a.clone()
    w <<= 2
    v = a.clone().bitwise_and_(b)
    u = a.clone()
    u >>= 1
    return x, y, z, w, v, u, a.clone().bitwise_not_()


CASES = [
    Case("int64_operators", lambda T, a, b: (a & b, a | b, a ^ b, ~a), I64, J64, compiled=True),
    Case("int64_scalars", lambda T, a: (a & 6, a | 1, a ^ -1, 3 & a, 5 | a, 9 ^ a), I64,
         compiled=True),
    Case("int64_named", lambda T, a, b: (T.bitwise_and(a, b), T.bitwise_or(a, 4),
                                         T.bitwise_xor(a, b), T.bitwise_not(a), a.bitwise_and(b),
                                         a.bitwise_or(b), a.bitwise_xor(2), a.bitwise_not()),
         I64, J64),
    Case("shifts_out_of_range", lambda T, a, s: (a << s, a >> s, T.bitwise_left_shift(a, s),
                                                 T.bitwise_right_shift(a, s)), I64, SHIFT,
         compiled=True),
    Case("shift_scalars", lambda T, a: (a << 3, a >> 2, a << 63, a >> 63, 1 << a.clamp(0, 20),
                                        1024 >> a.clamp(0, 20), a.bitwise_left_shift(1),
                                        a.bitwise_right_shift(1)), I64, compiled=True),
    Case("uint8", lambda T, u: (u << 3, u >> 1, u >> 9, ~u, u & 12, u | 0x81, u ^ 255), U8,
         compiled=True),
    Case("int8_int16_wrap", lambda T, a, b: (a << 1, a >> 3, ~a, b << 4, b >> 20, ~b, a & b),
         I8, I16, compiled=True),
    Case("promotion", lambda T, u, a, b, c: (u & a, u | b, a ^ c, b & c, u << a.clamp(0, 3)),
         U8, I8, I32, I64),
    Case("bool_operators", lambda T, m: (m & m.flip(0), m | m.flip(0), m ^ m.flip(0), ~m,
                                         m & True, m | False, m ^ True, T.bitwise_not(m)),
         MASK, compiled=True),
    Case("bool_with_int", lambda T, m, a: (m & a, a | m, m ^ a, m << 1, m >> 0), MASK, I64),
    Case("inplace", _inplace, I64, J64),
    Case("logical_any_dtype", lambda T, f, a, m: (
        T.logical_and(f, a), T.logical_or(f, m), T.logical_xor(a, f), T.logical_not(f),
        T.logical_not(a), f.logical_and(m), a.logical_or(a), f.logical_not()),
        F64, I64, MASK, grad=(), compiled=True),
    Case("masks_combined", lambda T, f: ((f > 0) & (f < 3), (f > 2) | (f < -1), ~(f == 0),
                                         f[(f > 0) & ~f.isnan()]), F64, grad=()),
]
