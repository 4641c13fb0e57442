"""stepjit.utils.tensorboard.SummaryWriter: event files in TensorBoard's format (TFRecord
framing with masked CRC-32C, Event / Summary protobufs), read back here by an independent
decoder of the wire format, with the CRC checked against the published CRC-32C test vectors."""
import glob
import os
import struct

import pytest

import stepjit
from stepjit.utils.tensorboard import SummaryWriter
from stepjit.utils.tensorboard.event_file import crc32c, masked_crc32c


def test_crc32c_matches_the_published_check_values():
    # RFC 3720 B.4 and the CRC catalogue's check value for "123456789"
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(bytes([0xFF] * 32)) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E


def _varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    i, out = 0, []
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = struct.unpack("<d", buf[i:i + 8])[0], i + 8
        elif wire == 5:
            value, i = struct.unpack("<f", buf[i:i + 4])[0], i + 4
        else:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        out.append((number, wire, value))
    return out


def read_events(path):
    data, i, events = open(path, "rb").read(), 0, []
    while i < len(data):
        header = data[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8:i + 12])[0] == masked_crc32c(header)
        payload = data[i + 12:i + 12 + length]
        assert struct.unpack("<I", data[i + 12 + length:i + 16 + length])[0] == \
            masked_crc32c(payload)
        i += 16 + length
        event = {n: v for n, _, v in _fields(payload)}
        values = []
        if 5 in event:
            for _, _, value in _fields(event[5]):
                f = {n: v for n, _, v in _fields(value)}
                values.append((f[1].decode(), f[2]))
        events.append((event[1], event.get(2, 0), event.get(3), values))
    return events


def test_scalars_round_trip_through_the_event_file(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as w:
        assert w.get_logdir() == str(tmp_path)
        for step in range(3):
            w.add_scalar("Loss/train", stepjit.tensor(2.5 - step), step)
        w.add_scalar("lr", 0.125, global_step=10, walltime=1234.5)
        w.flush()
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    events = read_events(path)
    assert events[0][2] == b"brain.Event:2" and events[0][3] == []
    assert [(e[1], e[3]) for e in events[1:]] == [
        (0, [("Loss/train", 2.5)]), (1, [("Loss/train", 1.5)]), (2, [("Loss/train", 0.5)]),
        (10, [("lr", 0.125)])]
    assert events[-1][0] == 1234.5


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalars("run/loss", {"train": 1.0, "val": 2.0}, 5)
    w.close()
    runs = sorted(os.listdir(tmp_path))
    assert [r for r in runs if not r.startswith("events")] == ["run_loss_train", "run_loss_val"]
    (val,) = glob.glob(str(tmp_path / "run_loss_val" / "events.*"))
    assert read_events(val)[1][1:] == (5, None, [("run/loss", 2.0)])


def test_default_log_dir_and_refusals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_lr0.1")
    with pytest.raises(ValueError, match="one element"):
        w.add_scalar("x", stepjit.ones(2))
    with pytest.raises(NotImplementedError, match="add_graph"):
        w.add_graph(stepjit.nn.Linear(2, 2), stepjit.ones(1, 2))
    w.close()
