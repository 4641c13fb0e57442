"""The first-call latency table of `python -m benchmarks.workloads --latency` marks each
figure over its target (first call with an empty cache, steady state, warm first call)."""
from benchmarks.workloads import LATENCY_TARGETS, latency_table


def test_latency_table_marks_figures_over_their_targets():
    text = latency_table([("W1", (1.5, 3.0, 0.1)), ("W6", (9.0, 4.5, 0.2))])
    rows = text.strip().splitlines()
    assert LATENCY_TARGETS == (2.0, 4.0, 0.3)
    assert rows[-2] == "| W1 | 1.50 s | 3.00 s | 0.10 s |"
    assert rows[-1] == "| W6 | 9.00 s (over 2 s) | 4.50 s (over 4 s) | 0.20 s |"
