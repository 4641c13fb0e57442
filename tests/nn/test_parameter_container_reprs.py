"""A printed ParameterList or ParameterDict lists its entries as PyTorch prints them: each
`(key): Parameter containing: [<dtype or tensor type> of size 4x4]`, two spaces in from the
container's own indent (a ParameterDict printed nothing before: `ParameterDict()`)."""
import pytest

import stepjit


def _model(nn, torch):
    class ListDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterList([nn.Parameter(torch.zeros(4, 4)) for _ in range(2)])
            self.params.append(nn.Parameter(torch.zeros(4, 1)))

    class DictDense(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterDict({"linear1": nn.Parameter(torch.zeros(4, 4))})
            self.params.update({"linear2": nn.Parameter(torch.zeros(4, 2, dtype=torch.float64))})
            self.params["plain"] = nn.Parameter(torch.zeros(3))

    return nn.Sequential(DictDense(), ListDense())


WANT = """Sequential(
  (0): DictDense(
    (params): ParameterDict(
        (linear1): Parameter containing: [stepjit.FloatTensor of size 4x4]
        (linear2): Parameter containing: [stepjit.DoubleTensor of size 4x2]
        (plain): Parameter containing: [stepjit.FloatTensor of size 3]
    )
  )
  (1): ListDense(
    (params): ParameterList(
        (0): Parameter containing: [stepjit.float32 of size 4x4]
        (1): Parameter containing: [stepjit.float32 of size 4x4]
        (2): Parameter containing: [stepjit.float32 of size 4x1]
    )
  )
)"""


def test_parameter_containers_print_their_entries():
    assert repr(_model(stepjit.nn, stepjit)) == WANT


def test_parameter_containers_print_as_pytorch_does():
    torch = pytest.importorskip("torch")
    want = repr(_model(torch.nn, torch)).replace("torch.", "stepjit.")
    assert repr(_model(stepjit.nn, stepjit)) == want
