"""Bicubic interpolation and ConvTranspose3d against PyTorch: one table, recorded by
tests/fixtures/record_upsampling.py (float64, one float32 case)."""
import numpy as np

from tests.fixtures.oracle import Case, layer

RNG = np.random.default_rng(31)


def r(*shape):
    return RNG.standard_normal(shape)


IMG = r(2, 3, 5, 6)
VOL = r(2, 4, 3, 4, 3)


def F(T):
    return T.nn.functional


def bicubic(**kw):
    return lambda T, x: F(T).interpolate(x, mode="bicubic", **kw)


CASES = [
    Case("bicubic_scale2", bicubic(scale_factor=2), IMG, compiled=True),
    Case("bicubic_scale2_corners", bicubic(scale_factor=2, align_corners=True), IMG),
    Case("bicubic_size_down", bicubic(size=(3, 4)), IMG),
    Case("bicubic_size_corners", bicubic(size=(7, 4), align_corners=True), IMG),
    Case("bicubic_uneven_scales", bicubic(scale_factor=(1.7, 0.6)), IMG),
    Case("bicubic_recompute", bicubic(scale_factor=1.5, recompute_scale_factor=True), IMG),
    Case("bicubic_to_one_pixel", bicubic(size=(1, 1)), IMG),
    Case("bicubic_module", lambda T, x: T.nn.Upsample(scale_factor=2, mode="bicubic")(x), IMG),
    Case("bicubic_float32", bicubic(scale_factor=2), IMG.astype(np.float32), tol=1e-5),
    Case("conv_transpose3d", lambda T, x, w, b: F(T).conv_transpose3d(x, w, b), VOL,
         r(4, 3, 2, 3, 2), r(3), compiled=True),
    Case("conv_transpose3d_strided", lambda T, x, w: F(T).conv_transpose3d(
        x, w, stride=(2, 1, 2), padding=1, output_padding=(1, 0, 1)), VOL, r(4, 2, 3, 3, 3)),
    Case("conv_transpose3d_dilated_groups", lambda T, x, w: F(T).conv_transpose3d(
        x, w, groups=2, dilation=2, padding=(0, 1, 1)), VOL, r(4, 1, 2, 2, 2)),
    Case("conv_transpose3d_unbatched", lambda T, x, w: F(T).conv_transpose3d(x, w, stride=2),
         VOL[0], r(4, 2, 2, 2, 2)),
    Case("ConvTranspose3d", lambda T, x: layer(
        T, T.nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1), x), VOL),
]
