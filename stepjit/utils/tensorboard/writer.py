"""SummaryWriter: PyTorch's `torch.utils.tensorboard.SummaryWriter`, writing TensorBoard's
event files itself (event_file.py framing, summaries.py messages), so a program logging its
loss curve, weight histograms, sample images, text, PR curves, hyperparameters or embeddings
runs without the tensorboard package, and TensorBoard reads what it wrote. add_graph,
add_figure, add_video, add_audio, add_mesh, add_custom_scalars and add_tensor raise
NotImplementedError naming themselves."""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import numpy as np

from ...tensor import Tensor
from . import summaries
from .embedding import add_embedding as _add_embedding
from .event_file import EventFileWriter, event, scalar_value as scalar_bytes


def _array(x):
    """A tensor, array, list or number as a NumPy array (PyTorch's make_np)."""
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


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

    def _summary(self, value, global_step, walltime):
        self._writer.write(event(walltime or time.time(), global_step, values=(value,)))

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        if isinstance(bins, str) and bins == "tensorflow":
            bins = summaries.default_bins()
        self._summary(summaries.histogram(tag, _array(values).astype(float), bins, max_bins),
                      global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,  # noqa: A002
                          bucket_counts, global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._summary(summaries.histogram_raw(tag, min, max, num, sum, sum_squares,
                                              bucket_limits, bucket_counts),
                      global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        hwc = summaries.to_hwc(_array(img_tensor), dataformats)
        self._summary(summaries.image(tag, hwc), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._summary(summaries.text(tag, text_string), global_step, walltime)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        self._summary(summaries.pr_curve(tag, _array(labels), _array(predictions),
                                         num_thresholds, None if weights is None
                                         else _array(weights)),
                      global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds=127, weights=None, walltime=None):
        counts = [_array(a) for a in (true_positive_counts, false_positive_counts,
                                      true_negative_counts, false_negative_counts, precision,
                                      recall)]
        self._summary(summaries.pr_curve_raw(tag, *counts, num_thresholds=num_thresholds),
                      global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """The hparams plugin's three summaries and each metric as a scalar, in a run of their
        own (log_dir/run_name, by default the time), as PyTorch lays them out."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        values = summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run = os.path.join(self.log_dir, run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as w:
            for v in values:
                w._summary(v, global_step, None)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """The projector plugin's files: log_dir/<step>/<tag>/tensors.tsv (one row per point),
        metadata.tsv, sprite.png of label_img, and log_dir/projector_config.pbtxt listing
        every embedding added (embedding.py)."""
        _add_embedding(self, _array(mat), metadata, label_img, global_step, tag,
                      metadata_header)

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
        raise NotImplementedError(f"SummaryWriter.{name} is not supported by stepjit's "
                                  "SummaryWriter (scalars, histograms, images, text, PR "
                                  "curves, hparams and embeddings are)")
    method.__name__ = name
    return method


for _name in ("add_figure", "add_video", "add_audio", "add_graph", "add_mesh",
              "add_custom_scalars", "add_tensor"):
    setattr(SummaryWriter, _name, _not_provided(_name))
