"""ModuleList and Sequential as Python lists: `layers += [block]` (the autoregressive spline
flows of pytorch-normalizing-flows build their networks so), `a + b`, insert and pop, with
the modules registered under "0".."n-1" as PyTorch keeps them, and Sequential's refusal of
anything but a Sequential."""
import pytest

import stepjit
from stepjit import nn


def _names(container):
    return [name for name, _ in container.named_children()]


def test_in_place_add_registers_the_new_modules():
    layers = nn.ModuleList([nn.Linear(2, 3)])
    layers += [nn.Linear(3, 3), nn.Linear(3, 1)]
    assert _names(layers) == ["0", "1", "2"]
    assert len(list(layers.parameters())) == 6
    x = stepjit.ones(4, 2)
    for layer in layers:
        x = layer(x)
    assert tuple(x.shape) == (4, 1)


def test_add_makes_a_new_list_and_leaves_both_operands():
    a, b = nn.ModuleList([nn.ReLU()]), nn.ModuleList([nn.Tanh(), nn.Sigmoid()])
    c = a + b
    assert type(c) is nn.ModuleList and _names(c) == ["0", "1", "2"]
    assert len(a) == 1 and len(b) == 2
    assert [type(m) for m in c] == [nn.ReLU, nn.Tanh, nn.Sigmoid]


def test_insert_and_pop_renumber():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    layers.insert(1, nn.Sigmoid())
    assert [type(m) for m in layers] == [nn.ReLU, nn.Sigmoid, nn.Tanh]
    assert type(layers.pop(0)) is nn.ReLU
    assert _names(layers) == ["0", "1"] and [type(m) for m in layers] == [nn.Sigmoid, nn.Tanh]


def test_sequential_adds_sequentials_only():
    s = nn.Sequential(nn.Linear(2, 2))
    s += nn.Sequential(nn.ReLU())
    assert type(s + s) is nn.Sequential and len(s + s) == 4
    assert tuple(s(stepjit.ones(1, 2)).shape) == (1, 2)
    with pytest.raises(ValueError, match="supports only objects of Sequential class"):
        s += [nn.ReLU()]
