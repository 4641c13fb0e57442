"""The CUDA backend: the CPU backend's optimized, fused groups run as numba.cuda kernels.

A CudaProgram is built like a CpuProgram (stepjit/programs/cpu.py): the same
lowering, optimization pipeline and fusion groups, the same in-place plan for
written-back values. Only the steps differ:

  loop group   one CUDA kernel per reduction of the group (producers computed
               inline) and one elementwise kernel for its other outputs
               (codegen/cuda_kernels.py; the per-element code is the CPU kernel's)
  matmul       a tiled shared-memory kernel
  full         an elementwise kernel writing the constant (into the written
               tensor's own buffer for `w.grad.zero_()`)
  views        device views (reshape, transpose, expand, slice): no copy
  other ops    indexing with tensor indices (gather, index_put), slice_scatter,
               concat, arange, random draws and the rest: a host round trip
               (inputs copied to the host, the registry's NumPy impl, result
               copied back), listed in HOST_OPS and in docs/cuda.md

Memory: buffers of values that stay inside the program are device arrays
allocated once, at build time; values that leave it are fresh device arrays
each call, or the written tensor's own device buffer. Host values the runtime
puts in env (optimizer hyperparameters such as lr, trace constants) are copied
to the device (constants once). The only device -> host copies in a step are
data-dependent decisions (tracer/decisions.py) and the ops above.

Eager ops on CUDA tensors (`run_eager_op`, called by dispatch) run as a
one-node graph through the same program: a cached single-op kernel per
primitive, input shapes, dtypes, scalar operands and attributes.
"""
from __future__ import annotations

import numpy as np

from .. import cuda as dev
from ..codegen.cuda_kernels import (launch_sizes, load_cuda_kernel, loop_kernel, matmul_kernel, matmul_launch,
                            scalar_args)
from ..ir.impl import run_impl
from ..errors import user_location
from ..ir import primitives as P
from ..ir.graph import Graph, Node, Value
from ..ir.interpreter import evaluate
from ..ir.types import AVal, as_dtype
from ..passes.fusion import Group, is_fusible_reduction
from ..pipeline import compile_graph
from .cpu import CpuProgram
from ..tensor import Tensor

HOST_OPS: dict = {}      # primitive name -> times it ran through a host round trip


class DeviceError(RuntimeError):
    """Tensors on different devices met in one op."""


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


# -- device views and copies -----------------------------------------------------------------
def device_view(prim, a, attrs):
    """prim (reshape, transpose, expand, slice) applied to device array `a` as a view of its
    memory, laid out by the registry's own NumPy impl."""
    if dev.is_simulator():
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
        return FakeCUDAArray(prim.impl(a._ary, **attrs))
    if prim is P.reshape and not a.is_c_contiguous():
        a = contiguous(a)
    # The layout of the view: the impl applied to a host array with a's shape and strides over
    # a one-element buffer (never read), then the same shape, strides and offset on the device.
    proxy = np.lib.stride_tricks.as_strided(np.zeros(1, a.dtype), a.shape, a.strides)
    r = prim.impl(proxy, **attrs)
    offset = r.__array_interface__["data"][0] - proxy.__array_interface__["data"][0]
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    return DeviceNDArray(r.shape, r.strides, a.dtype, gpu_data=a.gpu_data.view(offset))


def _copy_group(shape, src_dtype, dst_dtype):
    """A one-node loop group: out = cast(x), with x read through its strides."""
    x = Value("x", shape, src_dtype)
    out = Value("out", shape, dst_dtype)
    node = Node(P.cast, [x], {"dtype": dst_dtype}, out)
    return Group("loop", nodes=[node], shape=tuple(shape), inputs=[x], outputs=[out])


def copy_into(dst, src):
    """dst[...] = src on the device, converting the dtype, through any strides."""
    if _numel(dst.shape) == 0:
        return dst
    if not dev.is_device_array(src):
        src = dev.to_device(np.broadcast_to(np.asarray(src, dtype=dst.dtype), dst.shape))
    elif src.shape != dst.shape:
        src = device_view(P.expand, src, {"shape": tuple(dst.shape)})
    group = _copy_group(dst.shape, as_dtype(src.dtype), as_dtype(dst.dtype))
    kernel, _, _, _ = loop_kernel(group, {})
    args = [src, dst]
    if not dst.shape:
        args = [device_view(P.reshape, a, {"shape": (1,)}) for a in args]
    kernel[_grid_1d(_numel(dst.shape))](*args, *dst.shape)
    return dst


def contiguous(a):
    return copy_into(dev.empty(a.shape, a.dtype), a)


def store_device(dst, result):
    """`dispatch.store` for a tensor on the device: result's value into dst's own buffer."""
    copy_into(dst._data, result._data)


def _grid_1d(total):
    threads, cap, _ = launch_sizes()
    return max(1, min(cap, -(-total // threads))), threads


# -- steps -----------------------------------------------------------------------------------
class CudaLoopStep:
    """A loop group: its reduction kernels, then its elementwise kernel (the record's
    pipeline.CudaKernel parts, codegen/cuda_kernels.py)."""
    __slots__ = ("parts", "sizes", "sources")

    def __init__(self, group, parts, program):
        self.sizes = tuple(group.shape)
        self.parts, self.sources = [], []
        for part in parts:
            kernel, text = load_cuda_kernel(part.fname, part.text)
            ins, outs = part.ins, part.outs
            self.parts.append((kernel, ins, outs, [program.allocator(v) for v in outs],
                               self._launch(part.group), scalar_args(ins + outs)))
            self.sources.append(text)

    def _launch(self, sub):
        threads, cap, _ = launch_sizes()
        red = next((n for n in sub.nodes if is_fusible_reduction(n)), None)
        if red is None:
            total = _numel(sub.shape)
            return _grid_1d(total) if total else None
        axis = red.attrs["axis"]
        nout = 1 if axis is None else _numel(d for i, d in enumerate(sub.shape) if i not in axis)
        return (min(cap, nout), threads) if nout else None

    def __call__(self, env):
        for kernel, ins, outs, alloc, launch, scalars in self.parts:
            bufs = [a(env) for a in alloc]
            if launch is not None:
                args = [env[v] for v in ins] + bufs
                for i in scalars:
                    args[i] = device_view(P.reshape, args[i], {"shape": (1,)})
                kernel[launch](*args, *self.sizes)
            for v, b in zip(outs, bufs):
                env[v] = b


def device_matmul(a, b, out):
    """out = a @ b on the device (np.matmul's rules: 1-D operands, broadcast batch dims)."""
    if a.ndim == 1:
        a = device_view(P.reshape, a, {"shape": (1,) + tuple(a.shape)})
        out = device_view(P.reshape, out, {"shape": tuple(out.shape[:-1]) + (1, out.shape[-1])})
    if b.ndim == 1:
        b = device_view(P.reshape, b, {"shape": tuple(b.shape) + (1,)})
        out = device_view(P.reshape, out, {"shape": tuple(out.shape) + (1,)})
    if out.ndim > 2:
        for i in range(out.shape[0]):
            device_matmul(a[i] if a.ndim == out.ndim and a.shape[0] > 1 else (a[0] if a.ndim == out.ndim else a),
                          b[i] if b.ndim == out.ndim and b.shape[0] > 1 else (b[0] if b.ndim == out.ndim else b),
                          out[i])
        return
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        copy_into(out, 0)
        return
    kernel, tile = matmul_kernel(as_dtype(out.dtype).name)
    kernel[matmul_launch(m, n, tile)](a, b, out, m, n, k)


# The cuda backend's lowering table: how an op group runs, by its primitive's registry
# `lowering` (loop groups are CudaLoopSteps; "impl" is a host round trip).
OP_LOWERING = {"matmul": "matmul", "fill": "full", "view": "view", "impl": "host", "loop": "host",
               "size": "host"}


class CudaOpStep:
    """One node that is not a loop: matmul, a constant fill, a view, or a host round trip."""
    __slots__ = ("node", "alloc", "aval", "kind", "fill", "leaves")

    def __init__(self, node, program):
        self.node = node
        self.aval = AVal(node.out.shape, node.out.dtype)
        self.kind = OP_LOWERING[node.prim.lowering]
        self.alloc = program.allocator(node.out) if self.kind in ("matmul", "full") else None
        self.leaves = node.out in program.leaving
        if self.kind == "full":
            g = Group("loop", nodes=[node], shape=node.out.shape, inputs=[], outputs=[node.out])
            self.fill = loop_kernel(g, {})[0]

    def __call__(self, env):
        node = self.node
        args = [env[v] if isinstance(v, Value) else v for v in node.inputs]
        out = node.out
        if self.kind == "matmul":
            env[out] = buf = self.alloc(env)
            device_matmul(args[0], args[1], buf)
        elif self.kind == "full":
            env[out] = buf = self.alloc(env)
            if _numel(out.shape):
                arg = buf if out.shape else device_view(P.reshape, buf, {"shape": (1,)})
                self.fill[_grid_1d(_numel(out.shape))](arg, *out.shape)
        elif self.kind == "view":
            view = device_view(node.prim, args[0], node.attrs)
            env[out] = contiguous(view) if self.leaves else view   # a result owns its memory
        else:
            HOST_OPS[node.prim.name] = HOST_OPS.get(node.prim.name, 0) + 1
            host = [dev.to_host(a) for a in args]
            env[out] = dev.to_device(run_impl(node.prim, host, node.attrs, self.aval, node.loc))


# -- the program -----------------------------------------------------------------------------
class _Env(dict):
    """A value the program did not materialize is computed by the interpreter on host copies
    and copied to the device, like every value of the program: a host round trip, for a value
    the optimizer removed that neither an output nor a write of its graph stands for."""
    __slots__ = ("program",)

    def __missing__(self, v):
        host = {k: dev.to_host(a) for k, a in self.items()}
        full = evaluate(self.program.source_graph, host)
        if v not in full:
            raise KeyError(f"stepjit: the cuda program has no value %{v.name}")
        self[v] = dev.to_device(full[v])
        return self[v]


class CudaProgram(CpuProgram):
    """CpuProgram's graph, fusion and in-place plan; CUDA steps and device memory."""
    backend = "cuda"

    def __init__(self, graph, keep=None, materialize_all=False):
        dev.require()
        self._adopt(compile_graph(graph, "cuda", keep, materialize_all))
        self.materialize_all = materialize_all
        self.inputs = self.graph.all_inputs()
        self.uploaded = {}       # input Value -> (host array, its value then, its device copy)
        self.steps = [CudaLoopStep(g, k, self) if g.kind == "loop" else CudaOpStep(g.nodes[0], self)
                      for g, k in zip(self.fused.groups, self.record.kernels)]

    def run(self, env):
        env = _Env(env)
        env.program = self
        for v in self.inputs:
            a = env.get(v)
            if type(a) is np.ndarray:
                env[v] = self._upload(v, a)
        for step in self.steps:
            step(env)
        for a, b in self.aliases:
            env[a] = env[b]
        for v in self.graph.outputs:   # an output that is an input passes through unchanged
            if isinstance(v, Value) and v not in env:
                env[v]
        return env

    def _upload(self, v, a):
        """A device copy of host input `a`, reused while `a` holds what was copied: host inputs
        are hyperparameters and constants, but also state written back in place between calls
        (the generator's (seed, offset), Adam's step count), so the same array is not enough."""
        hit = self.uploaded.get(v)
        if hit is not None and hit[0] is a and np.array_equal(hit[1], a):
            return hit[2]
        d = dev.to_device(a)
        self.uploaded[v] = (a, np.array(a), d)
        return d

    @staticmethod
    def empty(shape, dtype):
        return dev.empty(shape, dtype)

    def kernel_sources(self):
        return [s for step in self.steps if isinstance(step, CudaLoopStep) for s in step.sources]


def build(graph, keep=None):
    return CudaProgram(graph, keep)


# -- eager ops on CUDA tensors ---------------------------------------------------------------
_EAGER: dict = {}


def _check_devices(prim, args):
    """All tensor operands on the device; a 0-dim CPU tensor is a scalar, and CPU index tensors
    may index a CUDA tensor, as in PyTorch."""
    for i, a in enumerate(args):
        if i and prim.kind == "indexing":
            continue
        if isinstance(a, Tensor) and type(a._data) is np.ndarray and a._data.ndim:
            raise DeviceError(
                f"{prim.name}: expected all tensors to be on the same device, but found at least "
                f"two devices, cuda:0 and cpu (operand {i} is a cpu tensor of shape "
                f"{list(a._data.shape)}; move it with .to(device)) (at {user_location(3)})")


def run_eager_op(prim, args, arrays, attrs, aval):
    """prim on CUDA operands (device arrays, 0-dim host arrays, Python scalars): a device array."""
    _check_devices(prim, args)
    if prim.view:
        return device_view(prim, arrays[0], attrs)
    if aval.shape is None:       # a data-dependent shape (x[mask]): a host round trip
        HOST_OPS[prim.name] = HOST_OPS.get(prim.name, 0) + 1
        host = [dev.to_host(a) for a in arrays]
        return dev.to_device(run_impl(prim, host, attrs, aval))
    key = [prim, tuple(sorted(attrs.items()))]
    for a in arrays:
        key.append((a.shape, a.dtype) if hasattr(a, "shape") and not isinstance(a, np.generic)
                   else (type(a), a))
    try:
        key = tuple(key)
        program = _EAGER.get(key)
    except TypeError:       # an unhashable attribute: built each time (kernels still cached)
        key, program = None, None
    if program is None:
        program = _single_op(prim, arrays, attrs, aval)
        if key is not None:
            if len(_EAGER) > 4096:
                _EAGER.clear()
            _EAGER[key] = program
    ins, out, prog = program
    env = prog.run({v: a for v, a in zip(ins, arrays) if v is not None})
    result = env[out]
    if any(result is a for a in arrays):      # simplified to an operand (x * 1): a new tensor
        result = contiguous(result)
    return result


def _single_op(prim, arrays, attrs, aval):
    """(input Values, output Value, CudaProgram) of the one-node graph prim(*arrays)."""
    ins, node_inputs = [], []
    for i, a in enumerate(arrays):
        if hasattr(a, "shape") and not isinstance(a, np.generic):
            v = Value(f"x{i}", a.shape, as_dtype(a.dtype))
            ins.append(v)
            node_inputs.append(v)
        else:
            ins.append(None)
            node_inputs.append(a)
    out = Value("out", aval.shape, aval.dtype)
    graph = Graph(name=prim.name, inputs=[v for v in ins if v is not None],
                  nodes=[Node(prim, node_inputs, attrs, out)], outputs=[out], stage="eager")
    return ins, out, CudaProgram(graph, keep=())
