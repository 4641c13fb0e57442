"""Image and volume layers (Conv3d, ConvTranspose1d, pixel shuffles, InstanceNorm,
LocalResponseNorm, ChannelShuffle) checked against PyTorch: one table, recorded by
tests/fixtures/record_vision.py (float64 values, input/parameter gradients, buffers)."""
import numpy as np

from tests.fixtures.oracle import Case, layer

RNG = np.random.default_rng(1820)


def r(*shape):
    return RNG.standard_normal(shape)


VOL = r(2, 4, 5, 6, 5)
IMG = r(2, 4, 5, 6)
SEQ = r(2, 3, 7)
THETA = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]], [[1.2, 0.0, -0.3], [0.1, 0.8, 0.2]]])

CASES = [
    Case("conv3d", lambda T, x: layer(T, T.nn.Conv3d(4, 6, 3), x), VOL, compiled=True),
    Case("conv3d_stride_pad_dilation_groups", lambda T, x: layer(
        T, T.nn.Conv3d(4, 6, (2, 3, 2), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1),
                       groups=2), x), VOL),
    Case("conv3d_same_no_bias", lambda T, x: layer(
        T, T.nn.Conv3d(4, 2, 3, padding="same", bias=False), x), r(1, 4, 4, 4, 4)),
    Case("conv3d_unbatched", lambda T, x: layer(T, T.nn.Conv3d(4, 2, 2), x), r(4, 3, 3, 3)),
    Case("conv3d_functional", lambda T, x, w, b: T.nn.functional.conv3d(x, w, b, stride=2),
         VOL, r(3, 4, 2, 2, 2), r(3)),
    Case("conv_transpose1d", lambda T, x: layer(T, T.nn.ConvTranspose1d(3, 5, 3), x), SEQ,
         compiled=True),
    Case("conv_transpose1d_options", lambda T, x: layer(
        T, T.nn.ConvTranspose1d(3, 4, 4, stride=3, padding=2, output_padding=1, groups=1,
                                dilation=2), x), SEQ),
    Case("conv_transpose1d_groups_unbatched", lambda T, x: layer(
        T, T.nn.ConvTranspose1d(4, 2, 2, stride=2, groups=2), x), r(4, 5)),
    Case("pixel_shuffle", lambda T, x: layer(T, T.nn.PixelShuffle(2), x), r(2, 8, 3, 4),
         compiled=True),
    Case("pixel_shuffle_unbatched", lambda T, x: T.nn.functional.pixel_shuffle(x, 3), r(9, 2, 2)),
    Case("pixel_unshuffle", lambda T, x: layer(T, T.nn.PixelUnshuffle(2), x), IMG[:, :, :4, :]),
    Case("channel_shuffle", lambda T, x: layer(T, T.nn.ChannelShuffle(2), x), IMG),
    Case("instance_norm2d", lambda T, x: layer(T, T.nn.InstanceNorm2d(4), x), IMG,
         compiled=True),
    Case("instance_norm2d_affine_running", lambda T, x: layer(
        T, T.nn.InstanceNorm2d(4, affine=True, track_running_stats=True), x), IMG),
    Case("instance_norm2d_eval_running", lambda T, x: layer(
        T, T.nn.InstanceNorm2d(4, track_running_stats=True, momentum=0.3), x, train=False), IMG),
    Case("instance_norm1d", lambda T, x: layer(T, T.nn.InstanceNorm1d(3, affine=True), x), SEQ),
    Case("instance_norm1d_unbatched", lambda T, x: layer(T, T.nn.InstanceNorm1d(3), x), r(3, 6)),
    Case("instance_norm3d", lambda T, x: layer(T, T.nn.InstanceNorm3d(4), x), VOL),
    Case("instance_norm_functional", lambda T, x, w, b: T.nn.functional.instance_norm(
        x, weight=w, bias=b, eps=1e-3), IMG, r(4), r(4)),
    Case("local_response_norm", lambda T, x: layer(T, T.nn.LocalResponseNorm(3), x), IMG,
         compiled=True),
    Case("local_response_norm_3d_even", lambda T, x: T.nn.functional.local_response_norm(
        x, 4, alpha=0.1, beta=0.6, k=2.0), SEQ),
    Case("spatial_transformer", lambda T, x, th: T.nn.functional.grid_sample(
        x, T.nn.functional.affine_grid(th, (2, 4, 4, 7), align_corners=False),
        align_corners=False), IMG, THETA, compiled=True),
    Case("grid_sample_border_aligned", lambda T, x, th: T.nn.functional.grid_sample(
        x, T.nn.functional.affine_grid(th, (2, 4, 3, 5), align_corners=True),
        padding_mode="border", align_corners=True), IMG, THETA),
    Case("grid_sample_nearest", lambda T, x, g: T.nn.functional.grid_sample(
        x, g, mode="nearest", align_corners=False), IMG, RNG.uniform(-1.2, 1.2, (2, 3, 3, 2))),
    Case("grid_sample_edges", lambda T, x, g: T.nn.functional.grid_sample(
        x, g, padding_mode="border", align_corners=False), r(1, 1, 3, 4),
         np.array([[[[0.2, 0.1], [1.5, 0.3], [-1.4, -0.2], [0.95, 1.2], [0.25, 0.8]]]])),
    Case("local_response_norm_5d", lambda T, x: layer(T, T.nn.LocalResponseNorm(2), x), VOL),
]
