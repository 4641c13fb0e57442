"""A printed model reads as PyTorch prints it: activations show `inplace=True` only when set,
quote string options and print a shrink's threshold bare (recorded from PyTorch in
tests/fixtures/module_reprs)."""
import json
from pathlib import Path

import pytest

import stepjit

from tests.nn.module_repr_cases import CASES, build

RECORDED = json.loads((Path(__file__).parents[1] / "fixtures" / "module_reprs" /
                       "torch_reprs.json").read_text())["reprs"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_pytorch(name):
    assert repr(build(stepjit.nn, name)) == RECORDED[name]


def test_a_printed_generator_lists_its_layers_as_pytorch_does():
    net = stepjit.nn.Sequential(stepjit.nn.Linear(4, 8), stepjit.nn.LeakyReLU(0.2, inplace=True),
                                stepjit.nn.Linear(8, 1), stepjit.nn.Tanh())
    assert repr(net).splitlines()[2] == "  (1): " + RECORDED["leaky_relu_inplace"]
