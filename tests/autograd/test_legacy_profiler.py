"""stepjit.autograd.profiler.profile, PyTorch's older profiler entry, as the introyt autograd
tutorial uses it: `with torch.autograd.profiler.profile(use_cuda=False) as prf: ...` then
`prf.key_averages().table(sort_by='self_cpu_time_total')`."""
import stepjit


def _work():
    x = stepjit.randn(2, 3, requires_grad=True)
    y = stepjit.rand(2, 3, requires_grad=True)
    z = stepjit.ones(2, 3, requires_grad=True)
    for _ in range(5):
        z = (z / x) * y
    z.sum().backward()


def test_records_ops_and_prints_a_table():
    with stepjit.autograd.profiler.profile(use_cuda=False) as prf:
        _work()
    rows = {r.key: r for r in prf.key_averages()}
    assert rows["div"].count >= 5 and rows["mul"].count >= 5   # (backward adds its own)
    table = prf.key_averages().table(sort_by="self_cpu_time_total")
    assert "div" in table and "Self CPU" in table


def test_disabled_records_nothing():
    with stepjit.autograd.profiler.profile(enabled=False) as prf:
        _work()
    assert len(prf.key_averages()) == 0


def test_record_function_is_the_profilers():
    assert stepjit.autograd.profiler.record_function is stepjit.profiler.record_function
