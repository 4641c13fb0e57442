"""SummaryWriter.add_embedding: the files TensorBoard's projector reads, as PyTorch writes them.

log_dir/<step, 5 digits>/<tag, with %, / and \\ escaped>/ holds tensors.tsv (a row per point,
tab-separated), metadata.tsv (a label per line, or a header row and tab-separated columns) and
sprite.png (label images tiled into a square, ceil(sqrt(N)) per row). log_dir holds
projector_config.pbtxt, the text-format ProjectorConfig listing every embedding the writer
added, rewritten whole each time (filesystems need not append).
"""
from __future__ import annotations

import math
import os

import numpy as np

from . import summaries


def _escape(tag):
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def add_embedding(writer, mat, metadata, label_img, global_step, tag, metadata_header):
    step = 0 if global_step is None else global_step
    subdir = f"{str(step).zfill(5)}/{_escape(tag)}"
    path = os.path.join(writer.log_dir, subdir)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"Path: `{path}` exists, but is a file. Cannot proceed.")
    if os.path.isdir(path):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    os.makedirs(path, exist_ok=True)
    if mat.ndim != 2:
        raise ValueError(f"add_embedding: mat must be 2-D (points x features), got shape "
                         f"{list(mat.shape)}")
    if metadata is not None:
        if len(metadata) != mat.shape[0]:
            raise ValueError("#labels should equal with #data points")
        _write_tsv(metadata, path, metadata_header)
    if label_img is not None:
        images = _array_of(label_img)
        if images.shape[0] != mat.shape[0]:
            raise ValueError("#images should equal with #data points")
        _write_sprite(images, path)
    with open(os.path.join(path, "tensors.tsv"), "wb") as f:
        for row in mat:
            f.write(("\t".join(str(x.item()) for x in row) + "\n").encode())
    entries = writer.__dict__.setdefault("_projector_entries", [])
    entries.append(_entry(metadata, label_img, subdir, step, tag))
    with open(os.path.join(writer.log_dir, "projector_config.pbtxt"), "wb") as f:
        f.write("".join(entries).encode())


def _array_of(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _write_tsv(metadata, path, header):
    if header:
        if len(header) != len(metadata[0]):
            raise ValueError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [header] + list(metadata)]
    else:
        lines = [str(x) for x in metadata]
    with open(os.path.join(path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())


def _write_sprite(images, path):
    """(N, C, H, W) images in [0, 1] tiled into a square RGB sprite."""
    grid = summaries.make_grid(images, ncols=math.ceil(images.shape[0] ** 0.5))   # (C, H', W')
    side = grid.shape[2]
    square = np.zeros((side, side, 3))
    square[:grid.shape[1]] = grid.transpose(1, 2, 0)[:, :, :3]
    pixels = np.uint8((square * 255).clip(0, 255))
    with open(os.path.join(path, "sprite.png"), "wb") as f:
        f.write(summaries.png(pixels))


def _entry(metadata, label_img, subdir, step, tag):
    """One `embeddings { ... }` block of the text-format ProjectorConfig (EmbeddingInfo's
    fields in number order, as text_format prints them: tensor_name 1, metadata_path 2,
    sprite 5, tensor_path 8)."""
    lines = [f'  tensor_name: "{tag}:{str(step).zfill(5)}"']
    if metadata is not None:
        lines.append(f'  metadata_path: "{subdir}/metadata.tsv"')
    if label_img is not None:
        lines += ["  sprite {", f'    image_path: "{subdir}/sprite.png"',
                  f"    single_image_dim: {label_img.shape[3]}",
                  f"    single_image_dim: {label_img.shape[2]}", "  }"]
    lines.append(f'  tensor_path: "{subdir}/tensors.tsv"')
    return "embeddings {\n" + "\n".join(lines) + "\n}\n"
