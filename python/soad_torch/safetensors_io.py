"""Reading and writing safetensors files (the format soad's checkpoints use) without the
`safetensors` package: an 8-byte little-endian header length, a JSON header (dtype, shape and
byte range of every tensor, string metadata under ``__metadata__``), then the raw data.
Writes are atomic (a temporary file renamed into place)."""
from __future__ import annotations

import json
import os
import struct
import tempfile
from typing import Dict, Mapping, Tuple

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64,
           "F16": np.float16, "U8": np.uint8}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Returns (tensors by name, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path} is not a safetensors file (only {len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path} is not a safetensors file (header length {n} past the end)")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    for name, h in header.items():
        if h["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {h['dtype']}")
        a, b = h["data_offsets"]
        arr = np.frombuffer(data[base + a:base + b], dtype=_DTYPES[h["dtype"]])
        out[name] = arr.reshape(h["shape"]).copy()
    return out, dict(meta)


def encode_safetensors(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The bytes of a safetensors file (tensors in the given order, 8-byte aligned header)."""
    header: Dict[str, object] = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    off = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        if a.dtype not in _NAMES:
            raise ValueError(f"tensor {name}: unsupported dtype {a.dtype}")
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def write_atomic(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file in the same folder, then renames it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_safetensors(path: str, tensors: Mapping[str, np.ndarray],
                      metadata: Mapping[str, str]) -> None:
    """Writes a safetensors file atomically."""
    write_atomic(path, encode_safetensors(tensors, metadata))
