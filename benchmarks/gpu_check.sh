#!/usr/bin/env bash
# The CUDA backend on a GPU machine, in one run: stepjit from this tree on the machine's own
# Python (its numba, numba-cuda, CuPy and PyTorch untouched), print the
# device and library versions, run the CUDA tests, the regression programs and the fuzzer on
# backend="cuda", then the GPU benchmarks. Everything it prints goes under $OUT too.
#
#   bash benchmarks/gpu_check.sh            # on a GPU machine
#   bash benchmarks/gpu_check.sh --small    # rehearsal: Numba's CUDA simulator, tiny sizes
#
# Each phase has its own time limit (GPU_CHECK_TEST_S, GPU_CHECK_BENCH_S) so that one that
# hangs leaves the others their time; the exit status is the number of phases that failed.
set -u
cd "$(dirname "$0")/.."

OUT=${OUT:-$PWD/gpu_check_out}
mkdir -p "$OUT"
small=""
if [ "${1:-}" = "--small" ]; then
    small="--small"
    export NUMBA_ENABLE_CUDASIM=1
else
    export NUMBA_ENABLE_CUDASIM=0
fi
export STEPJIT_CACHE_DIR=${STEPJIT_CACHE_DIR:-$OUT/cache}
failed=0

phase() {   # phase NAME SECONDS COMMAND...: run, log to $OUT/NAME.log, count a failure
    local name=$1 limit=$2
    shift 2
    echo "== $name ($(date -u +%T), limit ${limit}s): $*"
    local start=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    tail -n 60 "$OUT/$name.log"
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
}

# 1. stepjit from this tree, on the machine's own Python: nothing is installed, so the
#    preinstalled numba, numba-cuda, NumPy, CuPy and PyTorch stay exactly as they are.
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import stepjit, sys; print('== stepjit', stepjit.__version__, 'from', stepjit.__file__)" \
    || { echo "stepjit does not import here"; exit 1; }

# 2. What the machine is.
{
    echo "date: $(date -u)"
    if command -v nvidia-smi > /dev/null; then nvidia-smi; else echo "nvidia-smi: not found"; fi
    "$PY" -c "import sys; print('python', sys.version)"
    "$PY" -m pip list 2>/dev/null | grep -iE '^(numpy|numba|numba-cuda|llvmlite|cupy|torch|jax|jaxlib) '
    "$PY" -c "from numba import cuda; cuda.detect()" 2>&1
} > "$OUT/versions.log" 2>&1
cat "$OUT/versions.log"

# 3. The CUDA tests (tests/cuda runs tests/cuda/sim, the regression programs and the fuzzer's
#    cuda examples in a child process on the GPU, or on the simulator with --small).
phase tests "${GPU_CHECK_TEST_S:-300}" "$PY" -m pytest tests/cuda -x -q -s -p no:cacheprovider

# 4. The GPU benchmarks, interleaved, with JSON figures.
if [ -n "$small" ]; then
    phase bench "${GPU_CHECK_BENCH_S:-300}" "$PY" -m benchmarks.gpu --small --reps 2 --inner 1 \
        --warmup 1 --json "$OUT/gpu_bench.json"
else
    phase bench "${GPU_CHECK_BENCH_S:-300}" "$PY" -m benchmarks.gpu --json "$OUT/gpu_bench.json"
fi

echo "== done: $failed phase(s) failed; logs under $OUT"
exit "$failed"
