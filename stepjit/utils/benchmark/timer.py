"""Timer: one statement timed in blocks of runs (see the package docstring)."""
from __future__ import annotations

import enum
import textwrap
import timeit

from ... import threads
from .measurement import Measurement, TaskSpec


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


class Timer:
    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timeit.default_timer,
                 globals=None, label=None, sub_label=None, description=None, env=None,
                 num_threads=1, language=Language.PYTHON):
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("Timer: stepjit has no C++ front end; time Python "
                                      "statements (language=Language.PYTHON)")
        self._task = TaskSpec(textwrap.dedent(stmt).strip(), textwrap.dedent(setup).strip(),
                              label, sub_label, description, env, num_threads)
        self._timer = timeit.Timer(self._task.stmt, self._task.setup, timer,
                                   globals=dict(globals or {}))

    def _block(self, number):
        saved = threads.get_num_threads()
        threads.set_num_threads(self._task.num_threads)
        try:
            return self._timer.timeit(number)
        finally:
            threads.set_num_threads(saved)

    def timeit(self, number=1000000):
        """One block of `number` runs (after a warm-up run)."""
        self._block(1)
        return Measurement(number, [self._block(number)], self._task)

    def _estimate_block(self):
        number = 1
        while self._block(number) < 1e-4 and number < 10**9:
            number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        number = self._estimate_block()
        times, total = [], 0.0
        while total < min_run_time or not times:
            t = self._block(number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
        return Measurement(number, times, self._task)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        number = self._estimate_block()
        times, total = [], 0.0
        while total < max_run_time:
            t = self._block(number)
            if callback is not None:
                callback(number, t)
            times.append(t)
            total += t
            if total >= min_run_time and len(times) >= 3:
                m = Measurement(number, times, self._task)
                if m.iqr / m.median < threshold:
                    return m
        return Measurement(number, times, self._task)

    def collect_callgrind(self, *args, **kwargs):
        raise NotImplementedError("Timer.collect_callgrind: Callgrind counts need valgrind and "
                                  "PyTorch's C++ build; use blocked_autorange")
