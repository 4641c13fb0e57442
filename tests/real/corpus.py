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
    folder: str = "programs"     # programs/: other people's text; written/: ours, in their style

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


ITEM_EVERY_STEP = ("print(t, loss.item()) every step: each new value is a new branch of the trace "
                   "tree, recompile limit after 8 calls, then eager fallback (issue 17: per-call "
                   "retracing at the cost of an eager step)")
LR_PROMOTES = ("not bitwise equal to eager: SGD's lr is lifted as an f64[] graph input "
               "(tracer/hyperparams.py), so with 0-dim parameters `grad * -lr` promotes to float64 "
               "(two 0-dim tensors) where eager multiplies by a Python float in float32 "
               "(b after step 1: -0.07029113 eager, -0.070291124 compiled)")
NUMPY_IN_STEP = ("`pred.detach().numpy()` inside the step raises TraceError at the first trace: a "
                 "step that cannot be traced should run eagerly with a warning naming the line "
                 "(issue 17)")
REBOUND_GLOBAL = ("the step rebinds globals (`bnmean_running = 0.999 * bnmean_running + ...` under "
                  "no_grad): each call's new tensor is a new guard, 8 traces, then eager fallback "
                  "for the rest of training; the rebinding should be a write-back (issue 17)")
TUTORIALS = "pytorch/tutorials"

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
        "interpret": LR_PROMOTES}),
    Entry("dynamic_net", TUTORIALS, compiled={
        "interpret": "random.randint is detected and the step traced every call (cpu matches), "
                     "but the interpreted loss differs from eager's in the last bits from step 7 "
                     "(79621.4921875 vs 79621.46875), like polynomial_module's: not bitwise"}),
]

CORPUS += [
    Entry("two_layer_net_autograd", TUTORIALS, traces=4),
    Entry("two_layer_net_custom_function", TUTORIALS, compiled=ITEM_EVERY_STEP),
    Entry("two_layer_net_nn", TUTORIALS, traces=4),
    Entry("two_layer_net_module", TUTORIALS, traces=4),
]

# Programs written for this corpus in the style of public training scripts whose text cannot be
# copied here (the MNIST/CNN, RNN, VAE, GAN and ResNet tutorials, the sine-wave LSTMCell
# example, the hand-written character MLP lectures): the same APIs, used the same way.
WRITTEN = "written (style of {})"

CORPUS += [
    Entry("cnn_classifier", WRITTEN.format("MNIST CNN tutorials"), folder="written", traces=4),
    Entry("lstm_classifier", WRITTEN.format("row-by-row RNN tutorials"), folder="written",
          traces=4),
    Entry("bilstm_classifier", WRITTEN.format("row-by-row RNN tutorials"), folder="written",
          script="lstm_classifier", argv=("--bidirectional",), traces=4),
    Entry("vae", WRITTEN.format("VAE tutorials"), folder="written", traces=4),
    Entry("gan", WRITTEN.format("fully connected GAN tutorials"), folder="written",
          probe="g_loss", traces=4),
    Entry("resnet", WRITTEN.format("small ResNet tutorials"), folder="written", rtol=1e-3,
          traces=2),
    Entry("sine_lstm_lbfgs", WRITTEN.format("the sine-wave LSTMCell example"), folder="written",
          lines=(53,), dtype="float64", rtol=1e-6, compiled=NUMPY_IN_STEP),
    Entry("char_mlp_batchnorm", WRITTEN.format("hand-written character MLP lectures"),
          folder="written", compiled=REBOUND_GLOBAL),
    # --dropout 0: PyTorch's nn.LSTM draws its between-layer dropout masks in C++, where the
    # recorder cannot hand it stepjit's numbers (tests/real/torch_streams.py).
    Entry("rnn_language_model", WRITTEN.format("word-level language model examples"),
          folder="written", argv=("--dropout", "0")),
    Entry("rnn_language_model_tied", WRITTEN.format("word-level language model examples"),
          folder="written", script="rnn_language_model", argv=("--tied", "--dropout", "0")),
    Entry("seq2seq_attention", WRITTEN.format("seq2seq translation tutorials"),
          folder="written"),
    Entry("char_rnn_classify", WRITTEN.format("name-classification RNN tutorials"),
          folder="written", compiled=(
              "`output, hidden = rnn(...)` inside the letter loop rebinds module globals with "
              "tensors the step creates: every trace describes one call only, 8 traces, then "
              "eager fallback; the rebinding should be a write-back (issue 17)")),
    Entry("quickstart", WRITTEN.format("the official quickstart tutorials"), folder="written"),
    *[Entry(f"char_models_{kind}", WRITTEN.format("multi-model character LM scripts"),
            folder="written", script="char_models", argv=("--type", kind))
      for kind in ("bow", "rnn", "gru")],
    Entry("finetune", WRITTEN.format("the official transfer-learning tutorial"),
          folder="written", lines=(61,)),
    Entry("dcgan", WRITTEN.format("DCGAN examples"), folder="written", probe="errG", eager=(
        "LeakyReLU(inplace=True) on a Conv2d output, which stepjit's conv returns as a view of "
        "an intermediate: in-place writes through such views are refused (RuntimeError "
        "copy_) until they rebase the base's history as PyTorch's CopySlices does (issue 17)")),
]

BY_NAME = {e.name: e for e in CORPUS}
