"""stepjit.save / stepjit.load: bit-exact round trips, the safe format, resuming training."""
import io
import json
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
from stepjit import serialization


def _roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    stepjit.save(obj, buf)
    buf.seek(0)
    return stepjit.load(buf, **load_kw)


def _same_tensor(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
    x, y = a.detach().numpy(), b.detach().numpy()
    assert x.tobytes() == y.tobytes()  # bits, so nan, -0.0 and inf compare exactly


def test_tensors_of_every_dtype_come_back_bit_for_bit():
    f32 = np.array([1.5, -0.0, np.nan, np.inf, -np.inf, 1e-45], dtype=np.float32)
    tensors = [stepjit.from_numpy(f32), stepjit.randn(3, 4, dtype=stepjit.float64),
               stepjit.tensor([1, -2, 2**40]), stepjit.tensor([7, 8], dtype=stepjit.int32),
               stepjit.tensor([True, False]), stepjit.tensor(2.5), stepjit.zeros(0, 3),
               stepjit.randn(2, 3).t()]   # a transposed view is stored in C order
    for t in tensors:
        _same_tensor(t, _roundtrip(t))


def test_requires_grad_and_parameters_as_pytorch_keeps_them():
    # PyTorch 2.13: a Parameter comes back a Parameter with its flag, a tensor that requires
    # grad (leaf or not) comes back a leaf that requires grad.
    x = stepjit.ones(2, requires_grad=True)
    objs = [x, x * 2, nn.Parameter(stepjit.ones(2)),
            nn.Parameter(stepjit.ones(2), requires_grad=False)]
    back = _roundtrip(objs)
    assert [type(t).__name__ for t in back] == ["Tensor", "Tensor", "Parameter", "Parameter"]
    assert [t.requires_grad for t in back] == [True, True, True, False]
    assert all(t.is_leaf for t in back)


def test_containers_scalars_and_sharing():
    w = stepjit.randn(2, 2)
    obj = {"od": OrderedDict([("b", 1), ("a", 2)]), 0: [w, (w, None)], (1, "k"): "v",
           "nums": [3, -2.5, True, float("nan"), float("inf"), -float("inf"), 2**62],
           "meta": [stepjit.float64, stepjit.device("cpu"), stepjit.Size([2, 3])],
           "np": np.arange(6, dtype=np.int32).reshape(2, 3), "np_scalar": np.float64(0.25)}
    back = _roundtrip(obj)
    assert type(back["od"]) is OrderedDict and list(back["od"].items()) == [("b", 1), ("a", 2)]
    assert back[(1, "k")] == "v" and list(back) == list(obj)
    a, (b, none) = back[0]
    assert a is b and none is None  # one tensor saved twice is one tensor loaded
    _same_tensor(a, w)
    nums = back["nums"]
    assert nums[:3] == [3, -2.5, True] and type(nums[2]) is bool and math.isnan(nums[3])
    assert nums[4:] == [float("inf"), -float("inf"), 2**62]
    assert back["meta"] == [stepjit.float64, stepjit.device("cpu"), stepjit.Size([2, 3])]
    assert isinstance(back["meta"][2], stepjit.Size)
    np.testing.assert_array_equal(back["np"], obj["np"])
    assert back["np"].dtype == np.int32 and back["np_scalar"] == 0.25


def test_paths_and_file_objects(tmp_path):
    t = stepjit.arange(5.0)
    for target in (str(tmp_path / "a.pt"), tmp_path / "b.pt"):
        stepjit.save({"t": t}, target)
        _same_tensor(stepjit.load(target)["t"], t)
    with open(tmp_path / "c.pt", "wb") as f:
        stepjit.save(t, f)
    with open(tmp_path / "c.pt", "rb") as f:
        _same_tensor(stepjit.load(f, weights_only=True), t)
    _same_tensor(stepjit.load(tmp_path / "c.pt", weights_only=False, mmap=False), t)
    with pytest.raises(FileNotFoundError):
        stepjit.load(tmp_path / "missing.pt")


def test_saving_into_a_missing_directory_raises_pytorchs_runtime_error(tmp_path):
    # (a book's checkpoint cell saves under ../data-unversioned/...; its except clause and
    # PyTorch's message expect a RuntimeError, not open()'s FileNotFoundError)
    target = tmp_path / "missing" / "model.pt"
    with pytest.raises(RuntimeError, match=r"^Parent directory .*missing does not exist\.$"):
        stepjit.save({"w": stepjit.ones(2)}, target)
    with pytest.raises(RuntimeError, match="does not exist"):
        stepjit.save(stepjit.ones(2), str(target))
    assert not target.parent.exists()
    stepjit.save(stepjit.ones(2), tmp_path / "here.pt")        # an existing directory
    assert stepjit.load(tmp_path / "here.pt").tolist() == [1.0, 1.0]


def test_the_file_is_a_zip_of_a_json_header_and_raw_bytes(tmp_path):
    stepjit.save({"w": stepjit.tensor([1.0, 2.0])}, tmp_path / "ck.pt")
    with zipfile.ZipFile(tmp_path / "ck.pt") as zf:
        header = json.loads(zf.read("stepjit/header.json"))
        (key, entry), = header["object"]["$dict"]
        body = entry["$tensor"]
        raw = zf.read(body["data"])
    assert header["format"] == "stepjit-checkpoint" and header["version"] == 1 and key == "w"
    assert body["dtype"] == "float32" and body["shape"] == [2] and body["device"] == "cpu"
    assert np.frombuffer(raw, "<f4").tolist() == [1.0, 2.0]


def test_map_location_forms():
    t = stepjit.arange(3.0)
    for loc in ("cpu", stepjit.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
        _same_tensor(_roundtrip(t, map_location=loc), t)
    seen = []
    _roundtrip(t, map_location=lambda storage, loc: seen.append(loc))
    assert seen == ["cpu"]
    if not stepjit.cuda.is_available():
        with pytest.raises(RuntimeError, match="deserialize object on a CUDA device but stepjit.cuda.is_available"):
            _roundtrip(t, map_location="cuda")


class _Hooked(nn.Linear):
    def __init__(self):
        super().__init__(2, 2)
        self.hook = lambda: 0        # not picklable


def test_saving_what_the_format_cannot_hold_names_it():
    with pytest.raises(TypeError, match=r"cannot store _Hooked at obj\['model'\].*pickling it "
                                        r"failed.*state_dict\(\)"):
        stepjit.save({"model": _Hooked()}, io.BytesIO())
    with pytest.raises(TypeError, match=r"cannot store function at obj\[0\]"):
        stepjit.save([lambda: 0], io.BytesIO())
    with pytest.raises(TypeError, match="dict key"):
        stepjit.save({stepjit.float32: 1}, io.BytesIO())
    with pytest.raises(ValueError, match="pickle_module"):
        stepjit.save(1, io.BytesIO(), pickle_module=pickle)


_RAN = []


def _payload():
    _RAN.append("code from the file ran")


class _Boom:
    def __reduce__(self):
        return (_payload, ())


def test_loading_a_pickle_runs_nothing_and_says_what_it_is(tmp_path):
    (tmp_path / "evil.pt").write_bytes(pickle.dumps(_Boom()))
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:  # PyTorch's layout: a pickle in a zip
        zf.writestr("archive/data.pkl", pickle.dumps(_Boom()))
    with pytest.raises(RuntimeError, match="looks like a pickle"):
        stepjit.load(tmp_path / "evil.pt")
    with pytest.raises(RuntimeError, match="looks like a PyTorch checkpoint"):
        stepjit.load(tmp_path / "evil.zip", weights_only=False)
    pickle.loads(pickle.dumps(_Boom()))   # what unpickling it would have done
    assert _RAN == ["code from the file ran"]


def test_a_whole_model_loads_only_with_weights_only_false(tmp_path):
    """The official tutorials' `torch.save(model, path)` / `torch.load(path, weights_only=False)`;
    by default (weights_only=True, as in PyTorch 2.6+) a pickled object is refused unread."""
    stepjit.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    stepjit.save(model, tmp_path / "model.pth")
    with pytest.raises(pickle.UnpicklingError, match=r"whole .*Sequential.*weights_only=False"):
        stepjit.load(tmp_path / "model.pth")
    back = stepjit.load(tmp_path / "model.pth", weights_only=False)
    assert isinstance(back, nn.Sequential) and back is not model
    x = stepjit.randn(5, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    for (k, p), (k2, q) in zip(model.named_parameters(), back.named_parameters()):
        assert k == k2 and isinstance(q, nn.Parameter) and q.requires_grad
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
    loss = back(x).sum()           # the loaded model trains
    loss.backward()
    assert back[0].weight.grad is not None


def test_a_pickled_object_runs_nothing_unless_asked(tmp_path):
    stepjit.save({"w": stepjit.ones(2), "boom": _Boom()}, tmp_path / "boom.pt")
    before = list(_RAN)
    with pytest.raises(pickle.UnpicklingError, match="_Boom"):
        stepjit.load(tmp_path / "boom.pt")
    assert _RAN == before
    stepjit.load(tmp_path / "boom.pt", weights_only=False)
    assert _RAN == before + ["code from the file ran"]


def test_damaged_headers_are_refused():
    def load_header(header, data=b""):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("stepjit/header.json", json.dumps(header))
            zf.writestr("stepjit/data/0", data)
        buf.seek(0)
        return stepjit.load(buf)
    ok = {"format": "stepjit-checkpoint", "version": 1}
    with pytest.raises(RuntimeError, match="newer than this stepjit reads"):
        load_header(dict(ok, version=99, object=1))
    with pytest.raises(RuntimeError, match="unknown node kind '\\$call'"):
        load_header(dict(ok, object={"$call": "os.system"}))
    short = {"$tensor": {"data": "stepjit/data/0", "dtype": "float32", "shape": [4], "ref": 0,
                         "device": "cpu", "requires_grad": False}}
    with pytest.raises(RuntimeError, match="holds 3 bytes, not the 16"):
        load_header(dict(ok, object=short), b"abc")
    with pytest.raises(RuntimeError, match="unknown dtype 'object'"):
        load_header(dict(ok, object={"$ndarray": dict(short["$tensor"], dtype="object")}))


# -- resuming a run from a checkpoint ------------------------------------------------------
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 2)
        self.register_buffer("seen", stepjit.zeros(()))

    def forward(self, x):
        with stepjit.no_grad():
            self.seen.add_(x.shape[0])
        return self.fc2(self.fc1(x).tanh())


_DATA = [(stepjit.from_numpy(np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32)),
          stepjit.from_numpy(np.random.default_rng(50 + i).standard_normal((4, 2)).astype(np.float32)))
         for i in range(6)]


def _runner(make_opt, compiled):
    stepjit.manual_seed(1)
    model = _Net()
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return model, opt, (stepjit.compile(step) if compiled else step)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("make_opt", [
    lambda ps: stepjit.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: stepjit.optim.Adam(ps, lr=0.01, amsgrad=True)], ids=["sgd_momentum", "adam"])
def test_a_resumed_run_continues_exactly_as_the_uninterrupted_one(make_opt, compiled, tmp_path):
    model, opt, step = _runner(make_opt, compiled)
    straight = [step(x, y).item() for x, y in _DATA]
    straight_state = {k: v.clone() for k, v in model.state_dict().items()}

    model, opt, step = _runner(make_opt, compiled)
    first = [step(x, y).item() for x, y in _DATA[:3]]
    stepjit.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
                 tmp_path / "ck.pt")
    del model, opt, step

    model, opt, step = _runner(make_opt, compiled)   # a new process would start like this
    ck = stepjit.load(tmp_path / "ck.pt")
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    resumed = first + [step(x, y).item() for x, y in _DATA[ck["epoch"]:]]
    assert resumed == straight
    for k, v in model.state_dict().items():   # parameters and the buffer, bit for bit
        assert v.numpy().tobytes() == straight_state[k].numpy().tobytes(), k
    assert model.seen.item() == 24.0
