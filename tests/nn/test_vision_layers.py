"""Conv3d, ConvTranspose1d, pixel shuffles, InstanceNorm, LocalResponseNorm, ChannelShuffle
(tests/nn/vision_cases.py) against PyTorch's recorded values, gradients and buffers, a live
PyTorch where installed, and compiled steps against eager; their errors on bad shapes."""
from pathlib import Path

import pytest

import stepjit
from stepjit.errors import StepjitError
from tests.fixtures import checks, oracle
from tests.nn.vision_cases import CASES


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "nn" / "torch_vision.npz"

    def by_differences(self, case):
        return False        # gradients checked against PyTorch's recorded ones only

    def compiled_case(self, case):
        return oracle.Case(case.name, lambda T, *xs: oracle.outputs(case.fn(T, *xs)),
                           *case.inputs, grad=case.grad)


F = stepjit.nn.functional
BAD = [
    ("conv3d channels", lambda: F.conv3d(stepjit.ones(1, 3, 4, 4, 4), stepjit.ones(2, 2, 1, 1, 1)),
     ["conv3d", "[1, 3, 4, 4, 4]", "2 channels"]),
    ("conv3d rank", lambda: F.conv3d(stepjit.ones(4, 4, 4), stepjit.ones(2, 4, 1, 1, 1)),
     ["conv3d", "[4, 4, 4]"]),
    ("conv3d kernel", lambda: F.conv3d(stepjit.ones(1, 1, 2, 4, 4), stepjit.ones(1, 1, 3, 1, 1)),
     ["conv3d", "kernel size 3"]),
    ("conv_transpose1d weight", lambda: F.conv_transpose1d(stepjit.ones(1, 2, 3),
                                                           stepjit.ones(2, 2)),
     ["conv_transpose1d", "[2, 2]"]),
    ("pixel_shuffle channels", lambda: F.pixel_shuffle(stepjit.ones(1, 6, 2, 2), 2),
     ["pixel_shuffle", "[1, 6, 2, 2]", "4"]),
    ("pixel_unshuffle size", lambda: F.pixel_unshuffle(stepjit.ones(1, 1, 3, 4), 2),
     ["pixel_unshuffle", "[1, 1, 3, 4]"]),
    ("instance_norm rank", lambda: F.instance_norm(stepjit.ones(2, 3)),
     ["instance_norm", "[2, 3]"]),
    ("affine_grid theta", lambda: F.affine_grid(stepjit.ones(2, 3, 3), (2, 1, 4, 4),
                                                align_corners=False),
     ["affine_grid", "[2, 3, 3]"]),
    ("grid_sample grid", lambda: F.grid_sample(stepjit.ones(1, 1, 4, 4), stepjit.ones(1, 4, 4),
                                               align_corners=False),
     ["grid_sample", "[1, 1, 4, 4]", "[1, 4, 4]"]),
    ("local_response_norm rank", lambda: F.local_response_norm(stepjit.ones(2, 3), 2),
     ["local_response_norm", "2 dimensions"]),
]


@pytest.mark.parametrize("name,fn,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_op_and_shapes(name, fn, words):
    with pytest.raises((StepjitError, ValueError)) as info:
        fn()
    for w in words:
        assert w in str(info.value), f"{name}: {w!r} not in {info.value}"


def test_instance_norm_module_wants_its_ranks():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        stepjit.nn.InstanceNorm2d(3)(stepjit.ones(2, 3))
