"""Dtypes and abstract values (shape + dtype), shared by eager mode, the tracer and the IR.

Type promotion follows PyTorch, not NumPy: operands are ranked by category
(bool < integer < floating) and by kind of participant (tensors with dimensions,
then zero-dim tensors, then Python scalars). A lower-priority participant only
changes the result when it brings a higher category; a Python float then
yields the default float dtype (float32), never float64.
"""
from __future__ import annotations

import numpy as np

BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class DType:
    __module__ = "stepjit"
    __slots__ = ("name", "short", "np", "category", "itemsize")

    def __init__(self, name: str, short: str, np_dtype, category: int):
        self.name = name
        self.short = short
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.category == FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == COMPLEX

    def __repr__(self) -> str:
        return f"stepjit.{self.name}"

    def __reduce__(self):
        return (dtype_from_name, (self.name,))


DType.__name__ = DType.__qualname__ = "dtype"   # type(x.dtype) prints as PyTorch's torch.dtype


float32 = DType("float32", "f32", np.float32, FLOAT)
float64 = DType("float64", "f64", np.float64, FLOAT)
int32 = DType("int32", "i32", np.int32, INT)
int64 = DType("int64", "i64", np.int64, INT)
bool_ = DType("bool", "bool", np.bool_, BOOL)
# The narrow integers images and quantized data come in (ToTensor's uint8 pixels).
uint8 = DType("uint8", "u8", np.uint8, INT)
int8 = DType("int8", "i8", np.int8, INT)
int16 = DType("int16", "i16", np.int16, INT)

ALL_DTYPES = (float32, float64, int32, int64, bool_, uint8, int8, int16)

# Named so programs that pick a precision by name (`{'float16': torch.float16, ...}[dtype]`,
# `autocast(dtype=torch.bfloat16)`) import and run; no kernel computes in them, so making a
# tensor of one is refused by `as_dtype` with a sentence saying so.
float16 = DType("float16", "f16", np.float16, FLOAT)
bfloat16 = DType("bfloat16", "bf16", np.dtype("V2"), FLOAT)
REDUCED_FLOATS = (float16, bfloat16)
# Complex tensors are pairs of real ones (ops/complex_numbers.py): made by polar, complex and
# view_as_complex, never by a factory, so `as_dtype` refuses these too.
complex64 = DType("complex64", "c64", np.complex64, COMPLEX)
complex128 = DType("complex128", "c128", np.complex128, COMPLEX)
_BY_NP = {d.np: d for d in ALL_DTYPES}
_BY_NP[bfloat16.np] = bfloat16   # an array of bfloat16 bits (ir/bfloat16.py)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({d.short: d for d in ALL_DTYPES})
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32,
                 "short": int16, "char": int8, "byte": uint8})
_BY_NAME.update({"float16": float16, "half": float16, "bfloat16": bfloat16})
_BY_NAME.update({"complex64": complex64, "cfloat": complex64, "complex128": complex128,
                 "cdouble": complex128})

DEFAULT_FLOAT = float32   # the default floating dtype at start; default_float() is the current one
DEFAULT_INT = int64


class _Defaults:
    """What `set_default_dtype` changes: the dtype of Python floats, of float factories and of
    int-to-float promotion. (A compiled step bakes it in where it traced.)"""
    float = DEFAULT_FLOAT


DEFAULTS = _Defaults()


def default_float() -> "DType":
    return DEFAULTS.float


def dtype_from_name(name: str) -> DType:
    return _BY_NAME[name]


def storage_dtype(d) -> DType:
    """as_dtype, admitting bfloat16: a dtype a tensor may be converted to and stored in
    (ir/bfloat16.py) though no op computes in it."""
    if d is bfloat16 or (isinstance(d, str) and _BY_NAME.get(d) is bfloat16):
        return bfloat16
    return as_dtype(d)


def as_dtype(d) -> DType:
    """Accept a DType, a NumPy dtype, a Python type or a name; reject the rest clearly."""
    if isinstance(d, DType) or (isinstance(d, str) and d in _BY_NAME):
        d = _BY_NAME[d] if isinstance(d, str) else d
        if d in REDUCED_FLOATS:
            raise TypeError(f"stepjit does not compute in {d.name}: its kernels are float32 and "
                            "float64 (autocast regions run in the tensors' own dtypes); use "
                            "float32" + (" (bfloat16 tensors are storage only: t.to(bfloat16), "
                                         "t.view(int16), t.float())" if d is bfloat16 else ""))
        if d.category == COMPLEX:
            raise TypeError(f"stepjit makes {d.name} tensors only with polar, complex and "
                            "view_as_complex (complex numbers as rotary embeddings use them), "
                            "not with factories or casts")
        return d
    if d is float:
        return default_float()
    if d is int:
        return DEFAULT_INT
    if d is bool:
        return bool_
    try:
        found = _BY_NP.get(np.dtype(d))
    except TypeError:
        found = None
    if found is None:
        raise TypeError(f"stepjit does not support dtype {d!r}; use one of "
                        + ", ".join(x.name for x in ALL_DTYPES))
    return found


def _promote_pair(a: DType, b: DType) -> DType:
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a is uint8 or b is uint8:
        # PyTorch: uint8 with a signed integer is the narrowest signed type holding both
        # (uint8 + int8 -> int16), and uint8 with a wider one is the wider one.
        other = b if a is uint8 else a
        return int16 if other.itemsize == 1 else other
    return a if a.itemsize >= b.itemsize else b


def scalar_dtype(x) -> DType:
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (int, np.integer)):
        return DEFAULT_INT
    return default_float()


class AVal:
    """Abstract value: what the shape rules see. `weak` marks a Python scalar."""
    __slots__ = ("shape", "dtype", "weak")

    def __init__(self, shape: tuple, dtype: DType, weak: bool = False):
        self.shape = shape
        self.dtype = dtype
        self.weak = weak

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __eq__(self, other):
        return (isinstance(other, AVal) and self.shape == other.shape
                and self.dtype is other.dtype and self.weak == other.weak)

    def __hash__(self):
        return hash((self.shape, self.dtype.name, self.weak))

    def __repr__(self) -> str:
        return type_str(self.shape, self.dtype)


def type_str(shape, dtype: DType) -> str:
    return f"{dtype.short}[{','.join(str(s) for s in shape)}]"


def result_type(*avals: AVal) -> DType:
    """PyTorch's promotion over tensors, zero-dim tensors and Python scalars."""
    groups = ([], [], [])
    for a in avals:
        groups[2 if a.weak else (1 if not a.shape else 0)].append(a.dtype)
    result = None
    for rank, group in enumerate(groups):
        if not group:
            continue
        d = group[0]
        for other in group[1:]:
            d = _promote_pair(d, other)
        if result is None:
            result = d
        elif d.category > result.category:
            # A scalar's own width never counts: 2.5 promotes an int tensor to the default float.
            result = d if rank < 2 else (default_float() if d.category == FLOAT else d)
    return result

