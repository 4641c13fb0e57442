"""The narrow integer dtypes (uint8, int8, int16) against PyTorch: conversions, arithmetic
that wraps on overflow, and PyTorch's promotion rules. One table, recorded by
tests/fixtures/record_int_dtypes.py (each output keeps its dtype in the recording, and the
tests compare dtypes as well as values)."""
import numpy as np

from tests.fixtures.oracle import Case

RNG = np.random.default_rng(1808)

U8 = np.array([0, 1, 7, 127, 128, 200, 250, 255], np.uint8)
I8 = np.array([-128, -100, -1, 0, 1, 3, 100, 127], np.int8)
I16 = np.array([-32768, -300, -1, 0, 1, 255, 300, 32767], np.int16)
IMAGE = RNG.integers(0, 256, (2, 3, 4)).astype(np.uint8)
F32 = RNG.standard_normal(8).astype(np.float32)
I64 = RNG.integers(-50, 50, 8)
I32 = RNG.integers(-50, 50, 8).astype(np.int32)
MASK = np.array([True, False, True, True, False, False, True, False])

CASES = [
    # -- conversions ---------------------------------------------------------------------------
    Case("to_tensor_scaling", lambda T, x: x.float() / 255, IMAGE, compiled=True),
    Case("to_tensor_div_", lambda T, x: x.to(T.float32).div(255.0).sub(0.5), IMAGE),
    Case("byte_char_short", lambda T, x: (x.byte(), x.char(), x.short()), I16, compiled=True),
    Case("u8_to_signed", lambda T, x: (x.char(), x.short(), x.int(), x.long()), U8),
    Case("i8_to_unsigned", lambda T, x: (x.byte(), x.short()), I8),
    Case("float_to_narrow", lambda T, x: ((x * 50).byte(), (x * 50).char(), (x * 5000).short()),
         np.abs(F32)),
    Case("type_names", lambda T, x: (x.type(T.uint8), x.to(T.int8), x.to(dtype=T.int16)), I64),
    Case("bool_to_u8", lambda T, m: (m.byte(), m.to(T.int8) * 3), MASK),
    # -- arithmetic wraps as C integers do ------------------------------------------------------
    Case("u8_add_wraps", lambda T, x: (x + 10, x + 300, x - 256, x + (-1), x * 3), U8,
         compiled=True),
    Case("u8_neg_wraps", lambda T, x: (-x, x - 1), U8, compiled=True),
    Case("i8_add_wraps", lambda T, x: (x + 100, x * 2, -x, x.abs(), x + 200), I8,
         compiled=True),
    Case("i16_mul_wraps", lambda T, x: (x * 300, x + 32767, x * x), I16, compiled=True),
    Case("u8_pow_square", lambda T, x: (x ** 2, x * x), U8),
    Case("u8_floor_div_rem", lambda T, x: (x // 7, x % 7, T.floor_divide(x, 3)), U8,
         compiled=True),
    Case("i8_floor_div_rem", lambda T, x: (x // 7, x % 7, x // -3), I8),
    Case("u8_true_div", lambda T, x: (x / 2, T.true_divide(x, 4)), U8),
    Case("u8_clamp_max_min", lambda T, x: (x.clamp(10, 200), T.maximum(x, x.flip(0)),
                                           T.minimum(x, x.flip(0))), U8),
    Case("u8_compare_where", lambda T, x: (x > 127, x == 0, T.where(x > 127, x, x * 2)), U8,
         compiled=True),
    # -- promotion ----------------------------------------------------------------------------
    Case("promote_u8_i8", lambda T, a, b: (a + b, a * b, b - a), U8, I8, compiled=True),
    Case("promote_u8_i16", lambda T, a, b: a + b, U8, I16),
    Case("promote_i8_i16", lambda T, a, b: a * b, I8, I16),
    Case("promote_u8_i32_i64", lambda T, a, b, c: (a + b, a + c, b + c), U8, I32, I64),
    Case("promote_u8_bool", lambda T, a, m: (a + m, a * m), U8, MASK),
    Case("promote_u8_float", lambda T, a, f: (a + f, a * f), U8, F32, compiled=True),
    Case("promote_i16_float_scalar", lambda T, a: (a * 0.5, a + 1.25), I16),
    Case("promote_u8_zero_dim", lambda T, a, s: (a + s, a * s), U8, np.array(300)),
    Case("promote_zero_dim_u8", lambda T, a, s: a + s, I64, np.array(250, np.uint8)),
    Case("promote_zero_dim_float", lambda T, a, s: a * s, U8, np.array(0.5)),
    # -- reductions and scans --------------------------------------------------------------------
    Case("u8_sum_prod_cumsum", lambda T, x: (x.sum(), x.sum(0), x.prod(), x.cumsum(0)), IMAGE,
         compiled=True),
    Case("i8_reductions", lambda T, x: (x.sum(), x.max(), x.min(), x.argmax(), x.amax()), I8),
    Case("i16_sum_dim", lambda T, x: x.reshape(2, 4).sum(1, keepdim=True), I16),
    Case("u8_sort_topk", lambda T, x: (x.sort().values, x.topk(3).values, x.argsort()), U8),
    # -- creation and movement ----------------------------------------------------------------
    Case("creation", lambda T: (T.zeros(3, dtype=T.uint8), T.ones(2, 2, dtype=T.int8),
                                T.full((3,), 7, dtype=T.int16), T.arange(5, dtype=T.uint8),
                                T.tensor([1, 255, 3], dtype=T.uint8),
                                T.tensor([-1, 2], dtype=T.int8))),
    Case("u8_movement", lambda T, x: (x.permute(2, 0, 1).reshape(-1), T.cat([x, x], 1),
                                      x[:, 1:, ::2], x.flip(2), T.stack([x[0], x[1]])), IMAGE),
    Case("u8_cat_promotes", lambda T, a, b: T.cat([a, b]), U8, I8),
]
