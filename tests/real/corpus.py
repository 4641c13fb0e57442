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


TUTORIALS = "pytorch/tutorials"

# The tutorials' steps read the loop variable (`if t % 100 == 99: print(t, loss)`): from its
# first change (or the first call that misses for another reason, a .grad now present, and
# finds it changed) it is traced symbolically (tracer/symbolic.py), so the traces are: t = 0,
# the non-printing steps, and one per printing step (t = 99, 199, 299).
CORPUS = [
    Entry("polynomial_tensor", TUTORIALS, lines=(43,), traces=5),
    Entry("polynomial_autograd", TUTORIALS),
    Entry("polynomial_custom_function", TUTORIALS, traces=5),
    Entry("polynomial_nn", TUTORIALS, traces=5),
    Entry("polynomial_optim", TUTORIALS, traces=5),
    Entry("polynomial_module", TUTORIALS, traces=5),
    Entry("dynamic_net", TUTORIALS),
]

CORPUS += [
    Entry("two_layer_net_autograd", TUTORIALS, traces=2),   # t = 0, then t symbolic
    # print(t, loss.item()) every step, which no replay would do: the first call's trace is for
    # that call only, the second call prints again and the step runs its Python on every call
    # from then on, its small ops eagerly (stepjit/runtime/per_call.py); after 8 and 16 such
    # calls it tries its trace tree again (the probe's trace prints, the next call's too): 2 more
    # traces each time in its 50 steps
    Entry("two_layer_net_custom_function", TUTORIALS, traces=6),
    Entry("two_layer_net_nn", TUTORIALS, traces=2),
    Entry("two_layer_net_module", TUTORIALS, traces=2),
]

# Programs written for this corpus in the style of public training scripts whose text cannot be
# copied here (the MNIST/CNN, RNN, VAE, GAN and ResNet tutorials, the sine-wave LSTMCell
# example, the hand-written character MLP lectures): the same APIs, used the same way.
WRITTEN = "written (style of {})"

CORPUS += [
    Entry("cnn_classifier", WRITTEN.format("MNIST CNN tutorials"), folder="written", traces=4),
    # `inputs, labels = data` binds the script's global `labels` to the batch's tensor: the
    # name is bound again after every call (stepjit/tracer/aliases.py), one trace after the first
    Entry("cifar_tutorial", WRITTEN.format("the CIFAR-10 classifier tutorial"), folder="written",
          traces=2),
    Entry("lstm_classifier", WRITTEN.format("row-by-row RNN tutorials"), folder="written",
          traces=1),
    Entry("bilstm_classifier", WRITTEN.format("row-by-row RNN tutorials"), folder="written",
          script="lstm_classifier", argv=("--bidirectional",), traces=1),
    # `train_loss += loss.item()`: the first trace bakes train_loss = 0 in, the second reads
    # it per call and writes it back (stepjit/tracer/results.py), then replayed
    Entry("vae", WRITTEN.format("VAE tutorials"), folder="written", traces=2),
    Entry("gan", WRITTEN.format("fully connected GAN tutorials"), folder="written",
          probe="g_loss", traces=1),
    Entry("resnet", WRITTEN.format("small ResNet tutorials"), folder="written", rtol=1e-3,
          traces=1),   # the last epoch's step: its batch is read through the loop's names
    Entry("sine_lstm_lbfgs", WRITTEN.format("the sine-wave LSTMCell example"), folder="written",
          lines=(53,), dtype="float64", rtol=1e-6),   # .numpy() in the step: traced every call
    Entry("char_mlp_batchnorm", WRITTEN.format("hand-written character MLP lectures"),
          folder="written"),   # lossi.append(loss.log10().item()): traced every call
    # --dropout 0: PyTorch's nn.LSTM draws its between-layer dropout masks in C++, where the
    # recorder cannot hand it stepjit's numbers (tests/real/torch_streams.py).
    Entry("rnn_language_model", WRITTEN.format("word-level language model examples"),
          folder="written", argv=("--dropout", "0")),
    Entry("rnn_language_model_tied", WRITTEN.format("word-level language model examples"),
          folder="written", script="rnn_language_model", argv=("--tied", "--dropout", "0")),
    Entry("seq2seq_attention", WRITTEN.format("seq2seq translation tutorials"),
          folder="written"),
    Entry("char_rnn_classify", WRITTEN.format("name-classification RNN tutorials"),
          folder="written"),
    Entry("quickstart", WRITTEN.format("the official quickstart tutorials"), folder="written"),
    *[Entry(f"char_models_{kind}", WRITTEN.format("multi-model character LM scripts"),
            folder="written", script="char_models", argv=("--type", kind))
      for kind in ("bow", "rnn", "gru")],
    Entry("finetune", WRITTEN.format("the official transfer-learning tutorial"),
          folder="written", lines=(61,)),
    Entry("dcgan", WRITTEN.format("DCGAN examples"), folder="written", probe="errG"),
]

BY_NAME = {e.name: e for e in CORPUS}
