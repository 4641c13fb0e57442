"""Less common PyTorch names (tests/ops/extras_cases.py) against PyTorch's recorded values,
dtypes and gradients and a live PyTorch where installed; their errors as PyTorch's; the
stand-in modules for what stepjit does not provide."""
import warnings
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.extras_cases import CASES, X


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "extras" / "torch_extras.npz"

    def by_differences(self, case):
        """Max pooling's and losses' kinks are PyTorch's conventions and `values` mixes
        detached outputs in, so the recording checks those (attention's gradients too: eight
        inputs make differences slow); pdist is checked by differences as well."""
        return case.name == "pdist"

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name, float_tol=1e-12)


def test_frombuffer_shares_a_writable_buffer_and_reads_offsets():
    buf = bytearray(np.arange(6, dtype=np.int16).tobytes())
    t = stepjit.frombuffer(buf, dtype=stepjit.int16, count=3, offset=2)
    assert t.tolist() == [1, 2, 3] and t.dtype is stepjit.int16
    t[0] = 9
    assert np.frombuffer(bytes(buf), np.int16)[1] == 9
    assert stepjit.frombuffer(b"\x00\x00\x80\x3f", dtype=stepjit.float32).tolist() == [1.0]
    with pytest.raises(ValueError, match="must be a multiple of element size"):
        stepjit.frombuffer(b"abc", dtype=stepjit.float32)
    with pytest.raises(ValueError, match="must not be greater than actual buffer length"):
        stepjit.frombuffer(b"abcd", dtype=stepjit.int16, count=3)
    with pytest.raises(ValueError, match="must not be 0"):
        stepjit.frombuffer(b"", dtype=stepjit.uint8)


def test_errors_name_the_op_and_shapes():
    x = stepjit.tensor(X)
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        x.imag
    with pytest.raises(RuntimeError, match=r"requested resize to 5 \(5 elements in total\), but "
                                           r"the given tensor has a size of 3x4 \(12 elements\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x.resize(5)
    with pytest.raises(RuntimeError, match="float_power_ has dtype Float but the operation's "
                                           "result requires dtype Double"):
        x.float().float_power_(2)
    with pytest.raises(RuntimeError, match="fill only supports 0-dimension value tensor"):
        stepjit.fill(x, x[0])
    with pytest.raises(TypeError, match="argument 'reduction' must be int"):
        stepjit.kl_div(x, x, "mean")
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        stepjit.nn.functional.feature_alpha_dropout(x[0], 0.5, True)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 4"):
        stepjit.nn.functional.multi_head_attention_forward(
            x, x, x, 8, 2, None, None, None, None, False, 0.0, None, None)
    assert np.array_equal(x.numpy(), X)


def test_feature_alpha_dropout_drops_whole_channels_and_keeps_selu_statistics():
    F = stepjit.nn.functional
    stepjit.manual_seed(0)
    x = stepjit.randn(400, 8, 6, dtype=stepjit.float64)
    y = F.feature_alpha_dropout(x, 0.3, True)
    # a dropped channel is one constant; a kept one an affine map of x
    alpha = 1.7580993408473766
    a = 1.0 / ((alpha * alpha * 0.3 + 1) * 0.7) ** 0.5
    kept = np.isclose(y.numpy(), x.numpy() * a + alpha * a * 0.3).all(-1)
    dropped = np.isclose(y.numpy(), -alpha * a + alpha * a * 0.3).all(-1)
    assert (kept | dropped).all() and 0.25 < dropped.mean() < 0.35
    assert F.feature_alpha_dropout(x, 0.3, False) is x
    module = stepjit.nn.FeatureAlphaDropout(0.3).eval()
    assert module(x) is x and repr(module) == "FeatureAlphaDropout(p=0.3, inplace=False)"


def test_global_switches_read_back():
    assert stepjit.set_flush_denormal(True) is False     # PyTorch's answer where unsupported
    stepjit.set_warn_always(True)
    assert stepjit.is_warn_always_enabled()
    stepjit.set_warn_always(False)
    stepjit.set_anomaly_enabled(True, check_nan=False)
    assert stepjit.is_anomaly_enabled() and not stepjit.is_anomaly_check_nan_enabled()
    stepjit.set_anomaly_enabled(False)
    assert not stepjit.is_anomaly_enabled()
    stepjit.set_autocast_enabled("cpu", True)
    stepjit.set_autocast_dtype("cpu", stepjit.float16)
    with pytest.warns(DeprecationWarning, match="get_autocast_dtype"):
        assert stepjit.get_autocast_cpu_dtype() is stepjit.float16
    with pytest.warns(DeprecationWarning):
        assert stepjit.is_autocast_cpu_enabled()
    assert stepjit.is_autocast_enabled("cpu")
    stepjit.set_autocast_enabled("cpu", False)
    stepjit.set_autocast_dtype("cpu", stepjit.bfloat16)
    with pytest.warns(DeprecationWarning):
        assert stepjit.get_autocast_gpu_dtype() is stepjit.float16
    stepjit.set_autocast_cache_enabled(False)
    assert not stepjit.is_autocast_cache_enabled()
    stepjit.set_autocast_cache_enabled(True)
    assert stepjit.get_device(stepjit.zeros(1)) == -1


def test_unprovided_modules_say_so_when_used():
    from stepjit.hub import load_state_dict_from_url   # importing is fine
    with pytest.raises(NotImplementedError, match="stepjit does not provide torch.hub"):
        load_state_dict_from_url("https://example.invalid/w.pth")
    with pytest.raises(NotImplementedError, match=r"torch.fx.symbolic_trace: stepjit does not"):
        stepjit.fx.symbolic_trace(lambda x: x)
    for name in ("quantization", "ao", "export"):
        with pytest.raises(NotImplementedError, match=f"stepjit does not provide torch.{name}"):
            getattr(getattr(stepjit, name), "anything")


def test_removed_functions_raise_pytorchs_advice():
    x = stepjit.eye(3)
    for call, replacement in [(lambda: stepjit.solve(x, x), "torch.linalg.solve(A, B)"),
                              (lambda: x.lstsq(x), "torch.linalg.lstsq(A, B)"),
                              (lambda: stepjit.eig(x), "torch.linalg.eigvals(A)"),
                              (lambda: x.symeig(), "torch.linalg.eigvalsh"),
                              (lambda: stepjit.matrix_rank(x), "torch.linalg.matrix_rank")]:
        with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"
                           ) as info:
            call()
        assert replacement in str(info.value)


def test_absent_accelerators_and_global_answers():
    assert not stepjit.xpu.is_available() and stepjit.xpu.device_count() == 0
    assert not stepjit.mtia.is_available() and not stepjit.is_vulkan_available()
    with pytest.raises(RuntimeError, match="stepjit has no XPU backend"):
        stepjit.xpu.current_device()
    assert stepjit.GradScaler is stepjit.amp.GradScaler
    assert issubclass(stepjit.OutOfMemoryError, RuntimeError)
    assert stepjit.cuda.OutOfMemoryError is stepjit.OutOfMemoryError
    x = stepjit.zeros(2)
    assert not (x.is_xla or x.is_ipu or x.is_mtia or x.is_sparse_csr) and x.output_nr == 0
    F = stepjit.nn.functional
    assert not F.has_torch_function((x,)) and not F.has_torch_function_unary(x)
    for mode, enabled, warn_only in [("warn", True, True), (2, True, False), ("default", False,
                                                                             False)]:
        stepjit.set_deterministic_debug_mode(mode)
        assert stepjit.are_deterministic_algorithms_enabled() is enabled
        assert stepjit.is_deterministic_algorithms_warn_only_enabled() is warn_only
    assert stepjit.get_deterministic_debug_mode() == 0
    with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
        stepjit.set_deterministic_debug_mode("loud")


def test_cond_and_while_loop_eager_and_compiled():
    def step(x):
        y = stepjit.cond(x.sum() > 0, lambda t: t * 2, lambda t: t - 1, (x,))
        i, acc = stepjit.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + y),
                                    (0, stepjit.zeros_like(x)))
        return acc

    compiled = stepjit.compile(step)
    for values in ([1.0, 2.0], [-3.0, 1.0], [2.0, 2.0]):
        x = stepjit.tensor(values)
        want = step(x)
        np.testing.assert_array_equal(compiled(x).numpy(), want.numpy())
    assert step(stepjit.tensor([1.0, 2.0])).tolist() == [6.0, 12.0]
    assert step(stepjit.tensor([-3.0, 1.0])).tolist() == [-12.0, 0.0]
    assert compiled.stats()["fallbacks"] == 0
    with pytest.raises(RuntimeError, match="one element"):
        stepjit.cond(stepjit.ones(2), lambda: 1, lambda: 0)


def test_dlpack_shares_memory_both_ways():
    a = np.arange(4.0)
    t = stepjit.from_dlpack(a)
    t[0] = 7.0
    assert a[0] == 7.0
    back = np.from_dlpack(t)
    back[1] = -1.0
    assert t.tolist() == [7.0, -1.0, 2.0, 3.0]


def test_random_fills_follow_their_distributions():
    stepjit.manual_seed(0)
    n = 20000
    lognormal = stepjit.empty(n, dtype=stepjit.float64).log_normal_(0.5, 0.25).log()
    assert abs(float(lognormal.mean()) - 0.5) < 0.01 and abs(float(lognormal.std()) - 0.25) < 0.01
    cauchy = stepjit.empty(n, dtype=stepjit.float64).cauchy_(1.0, 2.0)
    assert abs(float(cauchy.median()) - 1.0) < 0.1
    assert abs(float(((cauchy - 1.0).abs() < 2.0).double().mean()) - 0.5) < 0.02  # quartiles
    geo = stepjit.empty(n).geometric_(0.25)
    assert float(geo.min()) == 1.0 and abs(float(geo.mean()) - 4.0) < 0.1
    assert abs(float((geo == 1).float().mean()) - 0.25) < 0.015
    with pytest.raises(RuntimeError, match="geometric_ expects p to be in"):
        stepjit.empty(2).geometric_(1.5)
    leaf = stepjit.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.cauchy_()


def test_index_reduce_checks_shapes_and_kind():
    x = stepjit.zeros(3, 4)
    with pytest.raises(RuntimeError, match="Source tensor shape must match self tensor shape"):
        x.index_reduce(0, stepjit.tensor([0, 1]), stepjit.ones(2, 3), "prod")
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax"):
        x.index_reduce(0, stepjit.tensor([0]), stepjit.ones(1, 4), "sum")
    assert x.sum() == 0
