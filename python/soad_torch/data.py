"""soad's dataset store (a Zarr v2 group written by `deno task generate`) read with zarr-python,
normalised as `deno task train` does (divide each layer by the training split's std; optionally
subtract its mean), and the observation channels of SOAD's augmented state computed as soad's
`src/obs` does (arctan3x, sin3x, vor2vel; `augment`)."""
from __future__ import annotations

import math
import zlib
from typing import Dict, List

import numpy as np
import zarr

STORE_FORMAT = "soad-qg-windows/2"
SIN3X_AMPLITUDE = 1.5
# vor2vel output scales of [u1, u2, v1, v2] (src/obs/vor2vel.ts VOR2VEL_SCALES)
VOR2VEL_SCALES = (1.2e4, 1.6e4, 1.1e4, 1.6e4)
# pyqg defaults used by vor2vel's inversion (src/qg/params.ts): domain, deformation radius, delta
_L, _RD, _DELTA = 1e6, 15000.0, 0.25
# observation channels of each model, in order (src/obs/layout.ts augmentedLayout)
MODEL_OPERATORS: Dict[str, List[str]] = {
    "sda": [], "arctan3x": ["arctan3x"], "sin3x": ["sin3x"], "vor2vel": ["vor2vel"],
    "full": ["arctan3x", "sin3x", "vor2vel"],
}
_OUT_CHANNELS = {"arctan3x": 2, "sin3x": 2, "vor2vel": 4}


def model_channels(model: str) -> int:
    """Channels C of a model's augmented state (2 state channels + its operators' outputs)."""
    if model not in MODEL_OPERATORS:
        raise ValueError(f'unknown model "{model}"; expected {", ".join(MODEL_OPERATORS)}')
    return 2 + sum(_OUT_CHANNELS[o] for o in MODEL_OPERATORS[model])


def vor2vel(x: np.ndarray) -> np.ndarray:
    """[F, 2, H, W] normalised q -> [F, 4, H, W] scaled [u1, u2, v1, v2] (float64): invert the
    two-layer PV for psi (pyqg's inversion, default parameters) and take u = -dpsi/dy,
    v = dpsi/dx spectrally, on a square 1e6 m domain."""
    F, _, H, W = x.shape
    if H != W or H & (H - 1) or not 2 <= H <= 1024:
        raise ValueError(f"vor2vel needs a square power-of-two grid in 2..1024, got {H}x{W}")
    f1 = 1.0 / (_RD * _RD * (1.0 + _DELTA))
    f2 = _DELTA * f1
    k = 2 * math.pi / _L * np.arange(W // 2 + 1, dtype=np.float64)
    n = np.arange(H)
    ll = 2 * math.pi / _L * np.where(n < H / 2, n, n - H).astype(np.float64)
    k2 = k[None, :] ** 2 + ll[:, None] ** 2
    det = k2 * (k2 + f1 + f2)
    inv = np.divide(1.0, det, out=np.zeros_like(det), where=det != 0)
    a11, a12 = -(k2 + f2) * inv, -f1 * inv
    a21, a22 = -f2 * inv, -(k2 + f1) * inv
    qh = np.fft.rfft2(x.astype(np.float64), axes=(-2, -1))
    p1 = a11 * qh[:, 0] + a12 * qh[:, 1]
    p2 = a21 * qh[:, 0] + a22 * qh[:, 1]
    il, ik = -1j * ll[:, None], 1j * k[None, :]
    spec = np.stack([il * p1, il * p2, ik * p1, ik * p2], axis=1)
    out = np.fft.irfft2(spec, s=(H, W), axes=(-2, -1))
    return out / np.asarray(VOR2VEL_SCALES)[None, :, None, None]


def apply_operator(name: str, x: np.ndarray) -> np.ndarray:
    """One observation operator on [F, 2, H, W] (float64 result)."""
    x64 = x.astype(np.float64)
    if name == "arctan3x":
        return np.arctan(3.0 * x64)
    if name == "sin3x":
        return SIN3X_AMPLITUDE * np.sin(3.0 * x64)
    if name == "vor2vel":
        return vor2vel(x64)
    raise ValueError(f'unknown operator "{name}"')


def augment(x: np.ndarray, model: str) -> np.ndarray:
    """The augmented state [F, C, H, W] float32: the state's 2 channels, then each operator's
    clean observation channels in the model's order (as src/obs/layout.ts augmentState)."""
    parts = [x.astype(np.float32)]
    for op in MODEL_OPERATORS[model]:
        parts.append(apply_operator(op, x).astype(np.float32))
    return np.concatenate(parts, axis=1)


class StoreData:
    """Normalised windows of a finalised soad store: `window(split, i)` -> float32 [T, 2, H, W].

    Training windows are kept in memory once read (the store's q is float32)."""

    def __init__(self, path: str, subtract_mean: bool = False) -> None:
        self.path = path
        g = zarr.open_group(path, mode="r")
        a = dict(g.attrs)
        if a.get("format") != STORE_FORMAT:
            raise ValueError(f"{path} is not a soad dataset store (no {STORE_FORMAT} attributes)")
        if not a.get("complete") or not a.get("norm_std") or not a.get("norm_mean"):
            raise ValueError(f"dataset {path} is not finalised; run deno task generate --out "
                             f"{path} --finalize")
        self.attrs = a
        self.q = g["q"]
        self.crc = g["q_crc32"]  # CRC-32 (zlib) of each window's raw q chunk, checked on read
        _, self.length, layers, self.height, self.width = self.q.shape
        if layers != 2:
            raise ValueError(f"dataset {path} has {layers} layers; training needs the 2 QG layers")
        self.offset = [float(m) if subtract_mean else 0.0 for m in a["norm_mean"]]
        self.scale = [float(s) for s in a["norm_std"]]
        self.split = {k: tuple(v) for k, v in a["split"].items() if v is not None}
        self._cache: Dict[int, np.ndarray] = {}

    def count(self, split: str) -> int:
        r = self.split.get(split)
        return 0 if r is None else r[1] - r[0]

    def window(self, split: str, i: int) -> np.ndarray:
        n = self.count(split)
        if not 0 <= i < n:
            raise IndexError(f"window index {i} is outside {split} split 0..{n - 1}")
        w = self.split[split][0] + i
        hit = self._cache.get(w)
        if hit is not None:
            return hit
        raw = np.asarray(self.q[w], dtype=np.float32).copy()
        got = zlib.crc32(raw.astype("<f4").tobytes())
        if got != int(self.crc[w]):
            raise ValueError(f"window {w} of {self.path} fails its checksum (CRC-32 {got:08x}, "
                             f"recorded {int(self.crc[w]):08x}); run deno task generate --out "
                             f"{self.path} --resume (same flags) to regenerate it")
        for c in range(2):
            # (raw - off) * (1 / std) in float64, rounded to float32, as StoreSource.window
            raw[:, c] = ((raw[:, c].astype(np.float64) - self.offset[c])
                         * (1.0 / self.scale[c])).astype(np.float32)
        self._cache[w] = raw
        return raw

    def describe(self) -> Dict[str, object]:
        """What `StoreSource.describe` records in a checkpoint's `data` metadata."""
        cfg = self.attrs.get("config", {})
        return {
            "kind": "store", "path": self.path, "config_name": cfg.get("name"),
            "grid": [self.height, self.width], "snapshots": self.length,
            "split": {k: list(v) for k, v in self.split.items()},
            "norm_offset": self.offset, "norm_std": self.scale,
            "fingerprint": self.attrs.get("fingerprint"),
        }


def cut_chunk(win: np.ndarray, start: int, frames: int, dy: int, dx: int) -> np.ndarray:
    """Frames start..start+frames of a [T, C, H, W] window, rolled circularly by (dy, dx):
    out[y, x] = win[(y - dy) mod H, (x - dx) mod W] (src/train/source.ts cutChunk)."""
    return np.roll(win[start:start + frames], shift=(dy, dx), axis=(-2, -1)).copy()


def draw_chunk(src: StoreData, split: str, i: int, frames: int, roll: bool, gen) -> np.ndarray:
    """A random chunk of window i: uniform start, uniform circular roll when `roll` (torch
    generator `gen`)."""
    import torch

    if not 1 <= frames <= src.length:
        raise ValueError(f"frames must be in 1..{src.length}, got {frames}")
    start = int(torch.randint(src.length - frames + 1, (1,), generator=gen))
    dy = int(torch.randint(src.height, (1,), generator=gen)) if roll else 0
    dx = int(torch.randint(src.width, (1,), generator=gen)) if roll else 0
    return cut_chunk(src.window(split, i), start, frames, dy, dx)


def noised(z0: np.ndarray, t: float, eps: np.ndarray) -> np.ndarray:
    """z_t = alpha(t) z0 + sigma(t) eps in float64, rounded to float32 (as the Deno trainer)."""
    from .unet import alpha, sigma

    return (alpha(float(t)) * z0.astype(np.float64)
            + sigma(float(t)) * eps.astype(np.float64)).astype(np.float32)
