"""TensorBoard event files without the tensorboard package: the TFRecord framing and the few
protobuf messages a scalar needs, written by hand.

A file is a sequence of records: length (uint64 LE), masked CRC-32C of those 8 bytes, the
payload, masked CRC-32C of the payload (masked: rotated right by 15 bits plus 0xa282ead8).
Each payload is a serialized `Event` (wall_time = 1: double, step = 2: int64,
file_version = 3: string, summary = 5: Summary), a `Summary` holds repeated `value = 1`, and a
scalar `Summary.Value` is (tag = 1: string, simple_value = 2: float). The first event of a
file carries file_version "brain.Event:2", as TensorBoard's writer's does.
"""
from __future__ import annotations

import os
import socket
import struct
import time

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1          # (negative int64s as two's complement, ten bytes)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def scalar_value(tag: str, value: float) -> bytes:
    return _bytes_field(1, tag.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", value)


def event(wall_time: float, step: int | None = None, file_version: str | None = None,
          values: tuple = ()) -> bytes:
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time)
    if step:
        out += _varint(2 << 3) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if values:
        out += _bytes_field(5, b"".join(_bytes_field(1, v) for v in values))
    return out


_UID = [0]


class EventFileWriter:
    """One events.out.tfevents.* file in log_dir, opened (with its file_version event) at once."""

    def __init__(self, log_dir, filename_suffix=""):
        os.makedirs(log_dir, exist_ok=True)
        _UID[0] += 1
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{_UID[0]}{filename_suffix}")
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self.write(event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def write(self, payload: bytes):
        self._file.write(record(payload))

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()
