"""The first-call latency table of `python -m benchmarks.workloads --latency` marks each
figure over its target (first call with an empty cache, steady state, warm first call) and
says how many steps the steady state took."""
from benchmarks.workloads import LATENCY_TARGETS, latency_table


def test_latency_table_marks_figures_over_their_targets():
    text = latency_table([("W1", ((1.5, 1.2), (3.0, 2.5), (0.1, 0.09), 100, 6.5)),
                          ("W6", ((9.0, 4.0), (4.5, 3.9), (0.2, 0.1), 129, 8.0))])
    rows = [r for r in text.strip().splitlines() if r.startswith("| W")]
    assert LATENCY_TARGETS == (2.0, 4.0, 0.3)
    assert rows[0] == ("| W1 | 1.50 s (1.20 s CPU) | 3.00 s (2.50 s CPU) | 100 "
                       "| 0.10 s (0.09 s CPU) | 6.5 |")
    # a figure over its target is marked by its wall time (the CPU time is shown beside it)
    assert rows[1] == ("| W6 | 9.00 s (4.00 s CPU) over 2 s | 4.50 s (3.90 s CPU) over 4 s "
                       "| 129 | 0.20 s (0.10 s CPU) | 8.0 |")
