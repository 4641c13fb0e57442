"""`save` / `load`: checkpoints as a zip of one JSON header and raw array bytes.

Why not pickle (what PyTorch writes): unpickling runs whatever code the file
names, so a downloaded checkpoint is a program. A stepjit checkpoint is data
only: `load` reads JSON and bytes and builds tensors, containers and plain
values from them; nothing in the file is ever called or imported. The format
is described for users in docs/serialization.md:

    <file>.zip
      stepjit/header.json   {"format": "stepjit-checkpoint", "version": 1, "object": <node>}
      stepjit/data/<k>      the bytes of tensor k, C order, little-endian

A node is a JSON number, string, bool or null, a list (a Python list), or an
object with one "$"-key naming its kind: $tensor, $tuple, $dict (items as
[key node, value node] pairs, since state_dict keys may be ints), $odict,
$float (nan/inf, which JSON lacks), $ndarray, $dtype, $device, $size.
A tensor met twice (same object) is stored once and comes back as one object.

Whole objects (`stepjit.save(model, f)`, as PyTorch's tutorials and pytorch/examples'
word_language_model save their models): an instance whose state is its `__dict__` (every
Module) is an `$object` node, the class by module and qualified name and the `__dict__` as a
node; functions and classes held as values (`activation = F.relu`) are `$global` nodes.
Loading them is PyTorch's `weights_only` rule (the default since 2.6), made stricter: the
name is looked up among modules already imported (never imported from the file), it must be
allowed (`add_safe_globals`, `with safe_globals([...])`, or `weights_only=False`), and the
object is made by `object.__new__` and given its saved `__dict__`: no `__init__`, `__new__`,
`__setstate__` or other code of the class runs, whatever the flags say.

Anything else picklable (an object with its own `__reduce__` or `__getstate__`, a lambda
held somewhere) is a $pickle node: a pickle whose tensors are stored as data entries like any
other. Loading one runs code the file names, so `load` refuses it unless the caller passes
`weights_only=False`; no other node ever runs anything.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np

from . import cuda as _cuda
from .ir.types import ALL_DTYPES, DType, dtype_from_name
from .tensor import Size, Tensor, device
from .nn.parameter import Parameter

FORMAT = "stepjit-checkpoint"
VERSION = 1
_HEADER = "stepjit/header.json"
_DATA = "stepjit/data/"
_PICKLE = "stepjit/pickle/"
_ARRAY_DTYPES = {np.dtype(d.np).name for d in ALL_DTYPES}


class _Writer:
    def __init__(self, zf):
        self.zf = zf
        self.memo = {}     # id(tensor) -> data key, so a shared tensor is stored once
        self.objects = {}  # id(object) -> ref, so a shared submodule is stored once
        self.keep = []     # the tensors in memo stay alive, so their ids stay unique

    def node(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(float(obj))}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self.array(np.asarray(obj), path)}
        if isinstance(obj, np.generic):
            return self.node(obj.item(), path)
        if isinstance(obj, DType):
            return {"$dtype": obj.name}
        if isinstance(obj, device):
            return {"$device": str(obj)}
        if isinstance(obj, Size):
            return {"$size": list(obj)}
        if isinstance(obj, list):
            return [self.node(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if type(obj) is tuple:
            return {"$tuple": [self.node(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            kind = "$odict" if isinstance(obj, OrderedDict) else "$dict"
            return {kind: [[self.key(k, path), self.node(v, f"{path}[{k!r}]")]
                           for k, v in obj.items()]}
        if type(obj) in (set, frozenset):
            return {"$set": [self.node(v, path) for v in sorted(obj, key=repr)]}
        try:
            if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
                return {"$global": _global_name(obj)}
            if _plain_object(obj):
                return self.object(obj, path)
        except _NotByName:
            pass
        return {"$pickle": self.pickled(obj, path)}

    def pickled(self, obj, path):
        """obj pickled, its tensors kept out of the pickle as data entries."""
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.persistent_id = lambda o: self.tensor(o) if isinstance(o, Tensor) else None
        try:
            pickler.dump(obj)
        except Exception as exc:
            raise TypeError(_unsupported(obj, path, exc)) from None
        name = f"{_PICKLE}{len(self.zf.namelist())}"
        self.zf.writestr(name, buf.getvalue())
        return {"data": name, "type": f"{type(obj).__module__}.{type(obj).__qualname__}"}

    def object(self, obj, path):
        ref = self.objects.get(id(obj))
        if ref is not None:
            return {"$objref": ref}
        name = _global_name(type(obj))
        ref = self.objects[id(obj)] = len(self.objects)     # before its state: cycles end here
        self.keep.append(obj)
        try:
            state = self.node(vars(obj), f"{path}.__dict__")
        except TypeError:           # something in it is neither data nor picklable: say so
            del self.objects[id(obj)]   # about the object itself, as its pickling fails
            return {"$pickle": self.pickled(obj, path)}
        return {"$object": {"class": name, "ref": ref, "state": state}}

    def key(self, k, path):
        if k is None or isinstance(k, (bool, int, float, str)) or type(k) is tuple:
            return self.node(k, path)
        raise TypeError(f"stepjit.save cannot store the dict key {k!r} "
                        f"({type(k).__name__}) in {path}: keys must be numbers, strings, "
                        "None or tuples of them")

    def array(self, a, path):
        a = a if a.flags.c_contiguous else a.copy(order="C")  # (ascontiguousarray: 0-d -> 1-d)
        if a.dtype.name not in _ARRAY_DTYPES:
            raise TypeError(f"stepjit.save cannot store a NumPy array of dtype {a.dtype} at "
                            f"{path}; stepjit's dtypes are {sorted(_ARRAY_DTYPES)}")
        name = f"{_DATA}{len(self.zf.namelist())}"
        self.zf.writestr(name, a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
        return {"data": name, "dtype": a.dtype.name, "shape": list(a.shape)}

    def tensor(self, t):
        ref = self.memo.get(id(t))
        if ref is not None:
            return {"$ref": ref}
        ref = self.memo[id(t)] = len(self.memo)
        self.keep.append(t)
        node = self.array(t.detach().cpu().numpy(), "a tensor")
        node.update(ref=ref, device=str(t.device), requires_grad=bool(t.requires_grad),
                    parameter=isinstance(t, Parameter))
        return {"$tensor": node}


def _plain_object(obj) -> bool:
    """An instance whose state is its __dict__ (what PyTorch's pickling of a Module saves)."""
    cls = type(obj)
    return (hasattr(obj, "__dict__") and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__ and "__getstate__" not in vars(cls)
            and "__slots__" not in vars(cls))


class _NotByName(Exception):
    """A function, class or object that cannot be stored by name (it goes to the pickle)."""


def _global_name(obj) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or "<" in qualname or _resolve(module, qualname) is not obj:
        raise _NotByName(obj)        # a lambda, a local class or function
    return f"{module}:{qualname}"


def _resolve(module, qualname):
    """The object module.qualname names, among modules already imported (nothing is imported)."""
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _unsupported(obj, path, exc):
    what = type(obj).__name__
    hint = ""
    if hasattr(obj, "state_dict"):
        hint = f" Save its state_dict() instead: stepjit.save({path}.state_dict(), f)."
    return (f"stepjit.save cannot store {what} at {path}: it is not data (tensors, numbers, "
            f"strings, None, lists, tuples, dicts, objects whose state is their __dict__) and "
            f"pickling it failed ({exc}).{hint}")


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Write `obj` to `f` (a path or a binary file object). See docs/serialization.md."""
    if pickle_module is not None:
        raise ValueError("stepjit.save writes no pickle; pickle_module is not supported")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        writer = _Writer(zf)
        root = writer.node(obj, "obj")
        header = {"format": FORMAT, "version": VERSION, "object": root}
        zf.writestr(_HEADER, json.dumps(header, allow_nan=False))
    data = buf.getvalue()
    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.fspath(f))
        if parent and not os.path.isdir(parent):
            # PyTorch's error (a RuntimeError, which programs catch), not open()'s OSError
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        with open(f, "wb") as out:
            out.write(data)
    else:
        f.write(data)


_SAFE_GLOBALS = []     # what add_safe_globals allowed, process-wide
_SCOPED = []           # what `with safe_globals(...)` blocks allow, innermost last


def add_safe_globals(safe_globals):
    """Allow `load` to rebuild these classes (and refer to these functions)."""
    _SAFE_GLOBALS.extend(_entry(g) for g in safe_globals)


def get_safe_globals():
    return [g for g in _SAFE_GLOBALS]


def clear_safe_globals():
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """`with safe_globals([...]):` allows those for the loads inside the block."""
    _SCOPED.append([_entry(g) for g in safe_globals])
    try:
        yield
    finally:
        _SCOPED.pop()


def _entry(g):
    return g[0] if isinstance(g, tuple) else g      # PyTorch also takes (obj, "name") pairs


def _allowed(obj, weights_only) -> bool:
    if weights_only is False:
        return True
    return any(obj is g for g in _SAFE_GLOBALS) or any(obj is g for s in _SCOPED for g in s)


class _Reader:
    def __init__(self, zf, map_location, weights_only=None):
        self.zf = zf
        self.map_location = map_location
        self.weights_only = weights_only
        self.tensors = {}
        self.objects = {}

    def global_(self, name):
        module, _, qualname = name.partition(":")
        obj = _resolve(module, qualname)
        if obj is None:
            raise RuntimeError(f"stepjit.load: the checkpoint holds an object of {module}."
                               f"{qualname}, which is not defined in this program (stepjit "
                               "never imports what a file names: import or define it first)")
        if not _allowed(obj, self.weights_only):
            raise pickle.UnpicklingError(
                f"stepjit.load: Weights only load failed: the checkpoint holds a whole "
                f"{module}.{qualname}, not an allowed global. If you trust it, allow it with "
                f"stepjit.serialization.add_safe_globals([{qualname}]) or "
                f"`with stepjit.serialization.safe_globals([{qualname}]):`, or pass "
                "weights_only=False (the object is rebuilt from its saved __dict__; no code "
                "of the class runs either way)")
        return obj

    def object(self, body):
        cls = self.global_(body["class"])
        if not isinstance(cls, type):
            raise _corrupt(f"{body['class']} is not a class")
        obj = self.objects[body["ref"]] = object.__new__(cls)
        state = self.node(body["state"])
        if not isinstance(state, dict):
            raise _corrupt(f"the state of a {body['class']} is not a dict")
        obj.__dict__.update(state)
        return obj

    def node(self, n):
        if n is None or isinstance(n, (bool, int, float, str)):
            return n
        if isinstance(n, list):
            return [self.node(v) for v in n]
        if not isinstance(n, dict) or len(n) != 1:
            raise _corrupt(f"unexpected node {str(n)[:80]}")
        (kind, body), = n.items()
        if kind == "$tensor":
            return self.tensor(body)
        if kind == "$ref":
            if body not in self.tensors:
                raise _corrupt(f"reference to tensor {body} before it is defined")
            return self.tensors[body]
        if kind in ("$dict", "$odict"):
            d = OrderedDict() if kind == "$odict" else {}
            for k, v in body:
                d[_hashable(self.node(k))] = self.node(v)
            return d
        if kind == "$tuple":
            return tuple(self.node(v) for v in body)
        if kind == "$float":
            return float(body)
        if kind == "$ndarray":
            return self.array(body)
        if kind == "$dtype":
            return dtype_from_name(body)
        if kind == "$device":
            return device(body)
        if kind == "$size":
            return Size(body)
        if kind == "$set":
            return set(_hashable(self.node(v)) for v in body)
        if kind == "$global":
            return self.global_(body)
        if kind == "$object":
            return self.object(body)
        if kind == "$objref":
            if body not in self.objects:
                raise _corrupt(f"reference to object {body} before it is defined")
            return self.objects[body]
        if kind == "$pickle":
            return self.unpickled(body)
        raise _corrupt(f"unknown node kind {kind!r}")

    def unpickled(self, body):
        if self.weights_only is not False:
            raise pickle.UnpicklingError(
                f"stepjit.load: this checkpoint holds a pickled {body.get('type', 'object')} "
                "(saved with stepjit.save of a whole object, not a state_dict); loading it runs "
                "code the file names, so it is refused with weights_only=True (the default, as "
                "in PyTorch). If you trust the file, pass weights_only=False")
        unpickler = pickle.Unpickler(io.BytesIO(self.zf.read(body["data"])))
        unpickler.persistent_load = self.node
        return unpickler.load()

    def array(self, body):
        dt = body["dtype"]
        if dt not in _ARRAY_DTYPES:
            raise _corrupt(f"unknown dtype {dt!r}")
        raw = self.zf.read(body["data"])
        shape = tuple(int(d) for d in body["shape"])
        dtype = np.dtype(dt).newbyteorder("<")
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise _corrupt(f"{body['data']} holds {len(raw)} bytes, not the "
                           f"{math.prod(shape) * dtype.itemsize} of {dt}{list(shape)}")
        return np.frombuffer(raw, dtype=dtype).astype(np.dtype(dt)).reshape(shape)

    def tensor(self, body):
        t = Tensor._make(self.array(body))
        t = _place(t, body["device"], self.map_location)
        if body.get("parameter"):
            t = Parameter(t, requires_grad=body["requires_grad"])
        elif body["requires_grad"]:
            t.requires_grad_(True)
        self.tensors[body["ref"]] = t
        return t


def _hashable(k):
    return tuple(_hashable(v) for v in k) if isinstance(k, (list, tuple)) else k


def _place(t, saved, map_location):
    """Move a loaded (host) tensor to where `map_location` says, else where it was saved."""
    target = saved
    if callable(map_location):
        moved = map_location(t, saved)
        return moved if isinstance(moved, Tensor) else t
    if isinstance(map_location, dict):
        target = map_location.get(saved, saved)
    elif map_location is not None:
        target = map_location
    if isinstance(target, Tensor):
        raise TypeError("map_location should be a str, a device, a dict or a callable")
    target = device(target) if not isinstance(target, device) else target
    if target.type == "cuda" and not _cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "stepjit.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use stepjit.load with "
                           "map_location=stepjit.device('cpu') to map your storages to the CPU.")
    return t if target.type == "cpu" else t.to(target)


def _corrupt(why):
    return RuntimeError(f"stepjit.load: not a valid stepjit checkpoint ({why})")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read what `save` wrote. Only data is read, and no code runs, unless the file holds a
    pickled object and the caller passed weights_only=False."""
    if pickle_module is not None:
        raise ValueError("stepjit.load reads no pickle; pickle_module is not supported")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        raw = zf.read(_HEADER)
    except (zipfile.BadZipFile, KeyError):
        kind = "a PyTorch checkpoint (pickle inside a zip)" if data[:2] == b"PK" else \
            "a pickle or other file" if data else "an empty file"
        raise RuntimeError(f"stepjit.load: this is not a stepjit checkpoint (it looks like {kind}). "
                           "stepjit reads only files written by stepjit.save, which hold no "
                           "pickled code; to bring PyTorch weights over, save "
                           "{k: v.numpy() for k, v in model.state_dict().items()} with "
                           "numpy.savez and load those arrays") from None
    header = json.loads(raw)
    if header.get("format") != FORMAT:
        raise _corrupt(f"format {header.get('format')!r}")
    if header.get("version", 0) > VERSION:
        raise RuntimeError(f"stepjit.load: this checkpoint has format version "
                           f"{header['version']}, newer than this stepjit reads ({VERSION})")
    with zf:
        return _Reader(zf, map_location, weights_only).node(header["object"])
