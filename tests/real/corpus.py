"""The corpus: each program in programs/ with how it is run and what it is expected to do today.

One Entry per program. `eager` / `compiled` are None when that mode must match PyTorch today,
or the reason it does not yet (a missing API or a known bug): the test is then a strict xfail,
so it fails loudly, asking for the reason to be removed, the day it passes. `traces` is how
many traces the compiled run makes in all (asserted), `fallbacks` how many steps it may run
eagerly (0 unless `fallback_why` says why the program truly cannot be compiled).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    source: str                  # where it comes from, for the README's table
    probe: str = "loss"          # the name bound to the step's loss (harness.py)
    lines: tuple = ()            # the training loops' lines, where none calls .backward()
    argv: tuple = ()             # command-line arguments (argparse programs)
    script: str = ""             # its file in programs/, when not <name>.py (one script, many runs)
    data: tuple = ()             # files of tests/real/data/ the program reads from its directory
    dtype: str = "float32"
    rtol: float = 1e-4           # at step k: rtol * sqrt(k + 1) (float32 drift grows)
    atol: float = 1e-6
    eager: str | None = None     # why the eager run does not match PyTorch yet
    compiled: object = None      # why the compiled run does not match yet: a str, or a dict
                                 # {backend: reason} where backends differ
    traces: int | None = None    # traces the compiled run makes (cpu and interpret alike)
    fallbacks: int = 0           # steps the compiled run may run eagerly ...
    fallback_why: str = ""       # ... and why

    @property
    def program(self):
        return self.script or self.name

    def compiled_reason(self, backend):
        if isinstance(self.compiled, dict):
            return self.compiled.get(backend)
        return self.compiled

    def tolerance(self, k):
        if self.dtype == "float64":
            return self.rtol, self.atol
        return self.rtol * (k + 1) ** 0.5, self.atol


GLOBAL_EPOCH = ("the loop variable `epoch` is guarded and then traced symbolically (issue 17), "
                "but `if (epoch+1) % 5 == 0: print(..., loss.item())` makes every printing "
                "epoch a trace of its own (the exact loss is a decision): 8 traces, then the "
                "recompile limit and eager fallback (per-call retracing at an eager step's cost "
                "is still open)")
ITEM_EVERY_STEP = ("print(t, loss.item()) every step: each new value is a new branch of the trace "
                   "tree, recompile limit after 8 calls, then eager fallback (issue 17: per-call "
                   "retracing at the cost of an eager step)")
DATA = "torch.utils.data (TensorDataset, DataLoader)"
TUTORIALS = "pytorch/tutorials"
YUNJEY = "yunjey/pytorch-tutorial"
EXAMPLES = "pytorch/examples"

# The tutorials' steps read the loop variable (`if t % 100 == 99: print(t, loss)`): after it
# changed on two calls in a row it is traced symbolically (tracer/symbolic.py), so the traces
# are: t = 0, t = 1, the non-printing steps, and one per printing step (t = 99, 199, 299).
CORPUS = [
    Entry("polynomial_tensor", TUTORIALS, lines=(43,), traces=6),
    Entry("polynomial_autograd", TUTORIALS),
    Entry("polynomial_custom_function", TUTORIALS, traces=6),
    Entry("polynomial_nn", TUTORIALS, traces=7),
    Entry("polynomial_optim", TUTORIALS, traces=7),
    Entry("polynomial_module", TUTORIALS, traces=7, compiled={
        "interpret": "the replayed trace's loss differs from eager's in the last bits at steps "
                     "5-7 and 11 (130582.0390625 vs 130582.015625 at step 5): not bitwise"}),
    Entry("dynamic_net", TUTORIALS, compiled={
        "interpret": "random.randint is detected and the step traced every call (cpu matches), "
                     "but the interpreted loss differs from eager's in the last bits from step 7 "
                     "(79621.4921875 vs 79621.46875), like polynomial_module's: not bitwise"}),
]

CORPUS += [
    Entry("yunjey_linear_regression", YUNJEY, compiled=GLOBAL_EPOCH),
    Entry("yunjey_logistic_regression", YUNJEY, eager=DATA),
    Entry("yunjey_feedforward", YUNJEY, eager=DATA),
    Entry("yunjey_cnn", YUNJEY, eager=f"{DATA}; nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d"),
    Entry("yunjey_rnn", YUNJEY, eager=f"{DATA}; nn.LSTM"),
    Entry("yunjey_birnn", YUNJEY, eager=f"{DATA}; nn.LSTM(bidirectional=True)"),
    Entry("examples_regression", EXAMPLES, probe="output", eager=(
        "float32 drift over its 749 steps: PyTorch's losses are matched to step 251, then the "
        "difference grows past the tolerance (0.27% at step 252, rtol 0.16%)")),
    Entry("examples_time_sequence_prediction", EXAMPLES, lines=(73,), dtype="float64",
          rtol=1e-6, argv=("--steps", "2"),
          compiled="optim.LBFGS runs eagerly only: its line search reads losses into Python "
                   "every iteration (docs/optim.md)"),
    Entry("examples_mnist", EXAMPLES,
          argv=("--batch-size", "32", "--test-batch-size", "100", "--epochs", "2"),
          eager="torch.accelerator; torch.utils.data; nn.Conv2d, F.max_pool2d, optim.Adadelta, "
                "optim.lr_scheduler.StepLR"),
]

CORPUS += [
    Entry("two_layer_net_autograd", TUTORIALS, traces=4),
    Entry("two_layer_net_custom_function", TUTORIALS, compiled=ITEM_EVERY_STEP),
    Entry("two_layer_net_nn", TUTORIALS, traces=4),
    Entry("two_layer_net_module", TUTORIALS, compiled=(
        "every trace is one-shot: the runtime says 'the step created tensors that outlive it' "
        "though the step keeps none (polynomial_module's identical loop is reusable); 8 traces, "
        "then eager fallback (bug)")),
]

MAKEMORE_ARGS = ("--input-file", "names.txt", "--work-dir", "out", "--num-workers", "0",
                 "--max-steps", "12", "--batch-size", "32", "--n-layer", "2", "--n-head", "2",
                 "--n-embd", "16", "--n-embd2", "16")

CORPUS += [
    Entry(f"makemore_{kind}", "karpathy/makemore", script="makemore", data=("names.txt",),
          argv=(*MAKEMORE_ARGS, "--type", kind), eager=None if kind == "bigram" else DATA,
          compiled="the compiled run fails (not yet investigated)" if kind == "bigram" else None)
    for kind in ("bigram", "mlp", "rnn", "gru", "bow", "transformer")
]

CORPUS += [
    Entry("yunjey_vae", YUNJEY, eager=DATA),
    Entry("yunjey_gan", YUNJEY, probe="g_loss", eager=f"{DATA}; nn.LeakyReLU"),
    Entry("yunjey_resnet", YUNJEY, eager=f"{DATA}; nn.Conv2d, nn.BatchNorm2d, nn.AvgPool2d"),
    Entry("examples_vae", EXAMPLES, argv=("--epochs", "1"), eager=f"torch.accelerator; {DATA}"),
    Entry("examples_mnist_rnn", EXAMPLES,
          argv=("--epochs", "1", "--batch-size", "64", "--test-batch-size", "64"),
          eager=f"{DATA}; nn.LSTM, optim.Adadelta, optim.lr_scheduler.StepLR"),
]

BY_NAME = {e.name: e for e in CORPUS}
