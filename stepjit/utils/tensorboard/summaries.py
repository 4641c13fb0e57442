"""The `Summary.Value` messages beyond scalars, serialized by hand (protobuf wire format), as
PyTorch's `torch.utils.tensorboard.summary` builds them, so TensorBoard's plugins read them:

  histogram   Value.histo (5): HistogramProto {min 1, max 2, num 3, sum 4, sum_squares 5:
              double; bucket_limit 6, bucket 7: packed doubles}, the counts trimmed to the
              support plus one empty bucket on the left (TensorBoard reads right limits only)
  image       Value.image (4): Image {height 1, width 2, colorspace 3: int32;
              encoded_image_string 4: a PNG written here with zlib}
  text        Value.tensor (8) of dtype DT_STRING (7) and shape [1], metadata (9) naming the
              "text" plugin; the tag gets "/text_summary"
  pr_curve    Value.tensor of DT_FLOAT (1), shape [6, thresholds] (TP, FP, TN, FN, precision,
              recall), metadata naming "pr_curves" with PrCurvePluginData {num_thresholds 2}
  hparams     three values with the "hparams" plugin's HParamsPluginData {experiment 2 |
              session_start_info 3 | session_end_info 4}, tags "_hparams_/experiment",
              "_hparams_/session_start_info", "_hparams_/session_end_info"

TensorProto: dtype 1 (enum), tensor_shape 2 (TensorShapeProto {dim 2: Dim {size 1}}),
float_val 5 (packed), string_val 8. SummaryMetadata: plugin_data 1 (PluginData
{plugin_name 1, content 2: bytes}). Proto3 leaves out fields at their defaults, as here.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from .event_file import _bytes_field, _varint


# -- wire format ----------------------------------------------------------------------------
def _int_field(number, value):
    return _varint(number << 3) + _varint(int(value)) if value else b""


def _double_field(number, value):
    return _varint(number << 3 | 1) + struct.pack("<d", float(value)) if value else b""


def _packed(number, values, fmt):
    data = struct.pack(f"<{len(values)}{fmt}", *values)
    return _bytes_field(number, data) if len(values) else b""


def _value(tag, field, message, metadata=b""):
    """A Summary.Value: the tag, the payload message in `field`, and metadata (9)."""
    out = _bytes_field(1, tag.encode())
    if metadata:
        out += _bytes_field(9, metadata)
    return out + _bytes_field(field, message)


def _plugin_metadata(name, content=b""):
    plugin = _bytes_field(1, name.encode()) + (_bytes_field(2, content) if content else b"")
    return _bytes_field(1, plugin)


def _tensor(dtype, shape, payload):
    dims = b"".join(_bytes_field(2, _int_field(1, n)) for n in shape)
    return _int_field(1, dtype) + _bytes_field(2, dims) + payload


# -- histograms -----------------------------------------------------------------------------
def default_bins():
    """PyTorch's "tensorflow" bins: +-1e-12 growing by 1.1 up to 1e20, mirrored around 0."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0] + edges


def histogram(tag, values, bins, max_bins=None):
    values = np.asarray(values).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _merge_bins(counts, limits, len(counts) // max_bins)
    used = np.flatnonzero(counts > 0)
    first = int(used[0]) if used.size else 0
    last = int(used[-1]) + 1 if used.size else len(counts)
    # an empty bucket left of the support, so its left limit shows
    kept = counts[first - 1:last] if first > 0 else np.concatenate([[0], counts[:last]])
    limits = limits[first:last + 1]
    msg = (_double_field(1, values.min()) + _double_field(2, values.max())
           + _double_field(3, len(values)) + _double_field(4, values.sum())
           + _double_field(5, values.dot(values))
           + _packed(6, [float(x) for x in limits], "d")
           + _packed(7, [float(x) for x in kept], "d"))
    return _value(tag, 5, msg)


def _merge_bins(counts, limits, group):
    """Every `group` neighbouring buckets summed (the last group padded with empty ones)."""
    extra = (-len(counts)) % group
    counts = np.concatenate([counts, np.zeros(extra, counts.dtype)]).reshape(-1, group).sum(-1)
    return counts, np.concatenate([limits[:-1:group], limits[-1:]])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):  # noqa: A002
    msg = (_double_field(1, min) + _double_field(2, max) + _double_field(3, num)
           + _double_field(4, sum) + _double_field(5, sum_squares)
           + _packed(6, [float(x) for x in bucket_limits], "d")
           + _packed(7, [float(x) for x in bucket_counts], "d"))
    return _value(tag, 5, msg)


# -- images ---------------------------------------------------------------------------------
def to_hwc(array, dataformats):
    """An image array in `dataformats` (CHW, HWC, HW, or NCHW-like for a grid) as HWC with 3
    or 4 channels, as PyTorch's convert_to_HWC."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or array.ndim != len(fmt):
        raise ValueError(f"add_image: an image of shape {list(array.shape)} does not match "
                         f"dataformats={dataformats!r}")
    if len(fmt) == 4:
        return make_grid(array.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = array.transpose([fmt.find(c) for c in "HW"])
    return np.stack([hw] * 3, 2)


def make_grid(images, ncols=8):
    """N images (N, C, H, W), C 1 (made 3), 3 or 4, tiled row-major into one (C, H', W')."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    n, c, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((c, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * h:(y + 1) * h, x * w:(x + 1) * w] = images[i]
    return canvas


def image(tag, hwc):
    """hwc: float in [0, 1] (scaled by 255) or uint8 (as is), 3 or 4 channels."""
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    h, w, c = pixels.shape
    msg = (_int_field(1, h) + _int_field(2, w) + _int_field(3, c)
           + _bytes_field(4, png(pixels)))
    return _value(tag, 4, msg)


def png(pixels):
    """A PNG of uint8 pixels (H, W, 1 | 3 | 4): gray, RGB or RGBA, unfiltered rows."""
    h, w, c = pixels.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


# -- text, PR curves ------------------------------------------------------------------------
def text(tag, string):
    payload = _bytes_field(8, string.encode("utf_8"))
    return _value(tag + "/text_summary", 8, _tensor(7, (1,), payload),
                  _plugin_metadata("text"))


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    n = min(num_thresholds, 127)
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    weights = 1.0 if weights is None else np.asarray(weights)
    bucket = np.floor(predictions * (n - 1)).astype(np.int32)
    positive = labels.astype(np.float64)
    tp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=positive * weights)
    fp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=(1.0 - positive) * weights)
    return pr_curve_raw(tag, *_curve(tp_b, fp_b), num_thresholds=n)


def _curve(tp_buckets, fp_buckets):
    """(tp, fp, tn, fn, precision, recall) at each threshold from per-bucket counts."""
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return tp, fp, tn, fn, precision, recall


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127):
    n = min(num_thresholds, 127)
    data = np.stack([np.asarray(a) for a in (tp, fp, tn, fn, precision, recall)])
    payload = _packed(5, [float(np.float32(x)) for x in data.reshape(-1)], "f")
    meta = _plugin_metadata("pr_curves", _int_field(2, n))
    return _value(tag, 8, _tensor(1, data.shape, payload), meta)


# -- hparams --------------------------------------------------------------------------------
_FLOAT64, _STRING = 3, 1   # hparams.DataType
_SUCCESS = 1                        # hparams.Status


def hparams(hparam_dict, metric_dict, domain_discrete=None):
    """The experiment, session start and session end values of the hparams plugin."""
    domain_discrete = domain_discrete or {}
    for k, v in domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same "
                            f"type as hparam_dict[{k}].")
    entries, infos = b"", b""
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if hasattr(v, "numpy"):   # a tensor: its first element
            v = float(np.asarray(v.detach().numpy()).reshape(-1)[0])
        kind, value = _hparam_value(k, v)
        entries += _bytes_field(1, _bytes_field(1, k.encode()) + _bytes_field(2, value))
        info = _bytes_field(1, k.encode()) + _int_field(4, kind)
        if k in domain_discrete:
            items = b"".join(_bytes_field(1, _hparam_value(k, d)[1]) for d in domain_discrete[k])
            info += _bytes_field(5, items)
        infos += _bytes_field(4, info)
    metrics = b"".join(_bytes_field(5, _bytes_field(1, _bytes_field(2, k.encode())))
                       for k in metric_dict)
    experiment = _bytes_field(2, infos + metrics)
    start = _bytes_field(3, entries)
    end = _bytes_field(4, _int_field(1, _SUCCESS))
    return [_bytes_field(1, tag.encode()) + _bytes_field(9, _plugin_metadata("hparams", content))
            for tag, content in (("_hparams_/experiment", experiment),
                                 ("_hparams_/session_start_info", start),
                                 ("_hparams_/session_end_info", end))]


def _hparam_value(name, v):
    """(DataType, google.protobuf.Value) of one hyperparameter value. A bool is an int first,
    as PyTorch's checks run: a number 0 or 1."""
    if isinstance(v, (int, float)):
        return _FLOAT64, _varint(2 << 3 | 1) + struct.pack("<d", float(v))
    if isinstance(v, str):
        return _STRING, _bytes_field(3, v.encode())
    raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
