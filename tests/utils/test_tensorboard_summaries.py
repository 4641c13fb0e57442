"""SummaryWriter beyond scalars: histograms, images, text, PR curves, hparams, embeddings.

Decoded here by the wire-format reader of test_tensorboard.py (no tensorboard package), and,
where PyTorch, tensorboard and PIL are installed, compared with what PyTorch's own
SummaryWriter writes for the same calls, both files read back by TensorBoard's event loader
(images compared as decoded pixels: the PNG compression may differ, the image may not)."""
import glob
import io
import os
import struct
import zlib

import numpy as np
import pytest

import stepjit
from stepjit.utils.tensorboard import SummaryWriter
from tests.utils.test_tensorboard import _fields

RNG = np.random.default_rng(0)
VALUES = RNG.standard_normal(500)
IMG = RNG.uniform(0, 1, (3, 4, 5))
IMGS = RNG.uniform(0, 1, (5, 1, 3, 2))
LABELS = RNG.integers(0, 2, 60)
PREDS = RNG.uniform(0, 1, 60)
EMB = RNG.standard_normal((4, 3))
SPRITES = RNG.uniform(0, 1, (4, 3, 2, 2))


def log_everything(T, W, log_dir):
    """The same calls on PyTorch's SummaryWriter or stepjit's."""
    w = W(log_dir)
    w.add_histogram("hist", T.from_numpy(VALUES), 3)
    w.add_histogram("hist_bins", VALUES, 4, bins=10, max_bins=3)
    w.add_image("img", T.from_numpy(IMG), 1)
    w.add_images("grid", T.from_numpy(IMGS), 2)
    w.add_image("gray", IMG[0], 1, dataformats="HW")
    w.add_image("hwc_uint8", (IMG.transpose(1, 2, 0) * 255).astype(np.uint8), 1,
                dataformats="HWC")
    w.add_text("notes", "lr **0.1**", 5)
    w.add_pr_curve("pr", LABELS, T.from_numpy(PREDS), 6, num_thresholds=20)
    w.add_hparams({"lr": 0.1, "bs": 32, "opt": "adam", "flag": True}, {"hparam/loss": 0.5},
                  hparam_domain_discrete={"opt": ["adam", "sgd"]}, run_name="hp")
    w.add_embedding(T.from_numpy(EMB), metadata=["a", "b", "c", "d"],
                    label_img=T.from_numpy(SPRITES), global_step=1)
    w.close()


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("ours"))
    log_everything(stepjit, SummaryWriter, d)
    return d


def _raw_values(log_dir):
    """{tag: (step, Summary.Value fields)} of the event file in log_dir."""
    (path,) = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
    data, i, out = open(path, "rb").read(), 0, {}
    while i < len(data):
        (length,) = struct.unpack("<Q", data[i:i + 8])
        event = {n: v for n, _, v in _fields(data[i + 12:i + 12 + length])}
        i += 16 + length
        for _, _, value in _fields(event.get(5, b"")):
            f = {n: v for n, _, v in _fields(value)}
            out[f[1].decode()] = (event.get(2, 0), f)
    return out


def _png_pixels(data):
    """Pixels of a PNG of unfiltered 8-bit rows (what stepjit writes)."""
    chunks, i = {}, 8
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        chunks.setdefault(data[i + 4:i + 8], b"")
        chunks[data[i + 4:i + 8]] += data[i + 8:i + 8 + n]
        i += 12 + n
    w, h, _, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    c = {0: 1, 2: 3, 6: 4}[color]
    rows = zlib.decompress(chunks[b"IDAT"])
    assert all(rows[y * (w * c + 1)] == 0 for y in range(h))
    return np.frombuffer(rows, np.uint8).reshape(h, w * c + 1)[:, 1:].reshape(h, w, c)


def test_histogram_buckets_and_moments(ours):
    step, f = _raw_values(ours)["hist"]
    h = {n: v for n, _, v in _fields(f[5])}
    assert step == 3
    assert (h[1], h[2], h[3]) == (VALUES.min(), VALUES.max(), 500.0)
    np.testing.assert_allclose([h[4], h[5]], [VALUES.sum(), VALUES.dot(VALUES)])
    limits = np.frombuffer(h[6], "<f8")
    counts = np.frombuffer(h[7], "<f8")
    assert counts.sum() == 500 and counts[0] == 0 and len(limits) == len(counts)
    assert limits[0] <= VALUES.min() and limits[-1] >= VALUES.max()


def test_images_are_pngs_of_the_scaled_pixels(ours):
    values = _raw_values(ours)
    _, f = values["img"]
    im = {n: v for n, _, v in _fields(f[4])}
    assert (im[1], im[2], im[3]) == (4, 5, 3)
    want = (IMG.transpose(1, 2, 0).astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_png_pixels(im[4]), want)
    grid = {n: v for n, _, v in _fields(values["grid"][1][4])}
    assert (grid[1], grid[2]) == (3, 2 * 5)   # five 3x2 images in one row (up to 8)
    hwc = {n: v for n, _, v in _fields(values["hwc_uint8"][1][4])}
    np.testing.assert_array_equal(_png_pixels(hwc[4]),
                                  (IMG.transpose(1, 2, 0) * 255).astype(np.uint8))


def test_text_and_pr_curve_tensors(ours):
    values = _raw_values(ours)
    _, f = values["notes/text_summary"]
    tensor = {n: v for n, _, v in _fields(f[8])}
    assert tensor[1] == 7 and tensor[8] == b"lr **0.1**"
    plugin = {n: v for n, _, v in _fields({n: v for n, _, v in _fields(f[9])}[1])}
    assert plugin[1] == b"text"
    _, f = values["pr"]
    tensor = {n: v for n, _, v in _fields(f[8])}
    data = np.frombuffer(tensor[5], "<f4").reshape(6, 20)
    tp = data[0]
    assert tp[0] == LABELS.sum() and data[1][0] == len(LABELS) - LABELS.sum()
    np.testing.assert_allclose(data[4], tp / np.maximum(1e-7, tp + data[1]), rtol=1e-6)


def test_hparams_run_and_embedding_files(ours):
    hp = _raw_values(os.path.join(ours, "hp"))
    assert set(hp) == {"_hparams_/experiment", "_hparams_/session_start_info",
                       "_hparams_/session_end_info", "hparam/loss"}
    base = os.path.join(ours, "00001", "default")
    assert open(os.path.join(base, "metadata.tsv")).read() == "a\nb\nc\nd\n"
    rows = [list(map(float, line.split("\t")))
            for line in open(os.path.join(base, "tensors.tsv")).read().splitlines()]
    np.testing.assert_array_equal(rows, EMB)
    sprite = _png_pixels(open(os.path.join(base, "sprite.png"), "rb").read())
    assert sprite.shape == (4, 4, 3)
    config = open(os.path.join(ours, "projector_config.pbtxt")).read()
    assert 'tensor_name: "default:00001"' in config and "single_image_dim: 2" in config


def test_matches_pytorchs_summary_writer(ours, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    Image = pytest.importorskip("PIL.Image")
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.plugins.hparams import plugin_data_pb2
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    theirs = str(tmp_path / "theirs")
    log_everything(torch, TorchWriter, theirs)

    def summaries(d):
        out = {}
        for run in ("", "hp"):
            (path,) = glob.glob(os.path.join(d, run, "events.out.tfevents.*"))
            for e in LegacyEventFileLoader(path).Load():
                for v in e.summary.value:
                    out[v.tag] = (e.step, v)
        return out
    got, want = summaries(ours), summaries(theirs)
    assert set(got) == set(want)
    for tag, (step, w) in want.items():
        g = got[tag][1]
        assert got[tag][0] == step, tag
        if w.HasField("image"):
            pix = [np.array(Image.open(io.BytesIO(v.image.encoded_image_string))) for v in (g, w)]
            np.testing.assert_array_equal(pix[0], pix[1], err_msg=tag)
            for v in (g, w):
                v.image.encoded_image_string = b""
        if w.metadata.plugin_data.plugin_name == "hparams":   # (a map: order is free)
            parsed = [plugin_data_pb2.HParamsPluginData.FromString(v.metadata.plugin_data.content)
                      for v in (g, w)]
            assert parsed[0] == parsed[1], tag
            continue
        assert g == w, tag
    for name in ("00001/default/metadata.tsv", "00001/default/tensors.tsv",
                 "projector_config.pbtxt"):
        assert open(os.path.join(ours, name)).read() == open(os.path.join(theirs, name)).read()
