"""SummaryWriter: PyTorch's `torch.utils.tensorboard.SummaryWriter` for scalars, writing
TensorBoard's event files itself (event_file.py), so a program logging its loss curve (karpathy's
makemore) runs without the tensorboard package. Other summaries (images, histograms, graphs,
text, hparams, embeddings) raise NotImplementedError naming themselves."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime

from ...tensor import Tensor
from .event_file import EventFileWriter, event, scalar_value as scalar_bytes


def _number(value, method):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{method}: the scalar must have one element, got a tensor of "
                             f"shape {tuple(value.shape)}")
        return float(value.item())
    return float(value)


class SummaryWriter:
    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step, self.max_queue, self.flush_secs = purge_step, max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self._writer = EventFileWriter(log_dir, filename_suffix)
        self._scalars_writers = {}

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        if new_style:
            raise NotImplementedError("add_scalar(new_style=True): stepjit writes the "
                                      "simple_value form")
        value = _number(scalar_value, "add_scalar")
        self._writer.write(event(walltime or time.time(), global_step,
                                 values=(scalar_bytes(tag, value),)))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Each tag to its own run, log_dir/<main_tag>_<tag>, under main_tag (PyTorch's layout)."""
        walltime = walltime or time.time()
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, (main_tag + "_" + tag).replace("/", "_"))
            if run not in self._scalars_writers:
                self._scalars_writers[run] = EventFileWriter(run, self.filename_suffix)
            self._scalars_writers[run].write(event(
                walltime, global_step,
                values=(scalar_bytes(main_tag, _number(value, "add_scalars")),)))

    def flush(self):
        for w in [self._writer, *self._scalars_writers.values()]:
            w.flush()

    def close(self):
        for w in [self._writer, *self._scalars_writers.values()]:
            w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _not_provided(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"SummaryWriter.{name}: stepjit's SummaryWriter writes "
                                  "scalars (add_scalar, add_scalars) only")
    method.__name__ = name
    return method


for _name in ("add_histogram", "add_histogram_raw", "add_image", "add_images", "add_figure",
              "add_video", "add_audio", "add_text", "add_graph", "add_embedding", "add_pr_curve",
              "add_hparams", "add_mesh", "add_custom_scalars", "add_tensor"):
    setattr(SummaryWriter, _name, _not_provided(_name))
