#!/usr/bin/env python3
"""The SOAD denoising U-Net and its VP cosine schedule in PyTorch: soad's network, with the
state-dict names soad's safetensors files use (tests/fixtures/unet/README.md).

Copied from the project's PyTorch reference (the peer `unet_torch.py`, written from the spec's
section 4 and checked bit-identical in float64 to the official SOAD `UNetSDA`), without its
benchmark and self-check code.

Layout conventions (shared with the TypeScript port, see README.md):
  * a window batch is (B, L, C, H, W) = (batch, time/frame, channel, y, x);
  * every 2-D op runs on the frames folded into the batch, (B*L, C, H, W), b-major
    (frame l of window b is row b*L + l);
  * only the temporal blocks mix frames.

Tensor (state-dict) names produced by this module are documented in README.md.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------------------------
# 4.2  VP cosine schedule:  alpha(t) = cos^2(c t),  mu = alpha,  sigma = sqrt(1 - alpha^2 + eta^2)
# ----------------------------------------------------------------------------------------------
ETA = 1e-3
C_COS = math.acos(math.sqrt(ETA))  # 1.5391682773573...


def alpha(t):
    """Signal scale alpha(t) = mu(t). Accepts a python float or a tensor."""
    if isinstance(t, torch.Tensor):
        return torch.cos(C_COS * t) ** 2
    return math.cos(C_COS * t) ** 2


mu = alpha


def sigma(t):
    """Noise scale sigma(t) = sqrt(1 - alpha(t)^2 + eta^2)."""
    a = alpha(t)
    if isinstance(t, torch.Tensor):
        return torch.sqrt(1.0 - a * a + ETA * ETA)
    return math.sqrt(1.0 - a * a + ETA * ETA)


def add_noise(z0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Forward noising z_t = alpha(t) z0 + sigma(t) eps, with one t per window (t has shape (B,))."""
    t = t.reshape(-1, *([1] * (z0.dim() - 1))).to(z0)
    return alpha(t) * z0 + sigma(t) * eps


# ----------------------------------------------------------------------------------------------
# 4.1  Building blocks
# ----------------------------------------------------------------------------------------------
def conv2d_circ(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Conv2d:
    """k x k convolution with circular ('wrap') padding k//2 on both spatial axes.

    Output pixel (i, j) = b[o] + sum_{c,u,v} W[o,c,u,v] * x[c, (s*i+u-k//2) mod H, (s*j+v-k//2) mod W]
    (cross-correlation, PyTorch weight layout [out, in, kh, kw]).  With stride s = 2 and k = 5 an
    H x W input gives H/2 x W/2 (H, W even).
    """
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, padding_mode="circular")


class TimeEmbedding(nn.Module):
    """e0 = [cos(pi j t), sin(pi j t)], j = 1..n_freq (cosines first) -> Linear -> SiLU -> Linear."""

    def __init__(self, dim: int = 64, n_freq: int = 16, hidden: int = 256) -> None:
        super().__init__()
        # frozen constants pi*j; a buffer (not a parameter, not saved in the state dict)
        self.register_buffer("freqs", math.pi * torch.arange(1, n_freq + 1, dtype=torch.float32),
                             persistent=False)
        self.fc1 = nn.Linear(2 * n_freq, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, t: torch.Tensor) -> torch.Tensor:  # t: (B,) -> (B, dim)
        a = t[:, None] * self.freqs.to(t)
        e0 = torch.cat([torch.cos(a), torch.sin(a)], dim=-1)
        return self.fc2(F.silu(self.fc1(e0)))


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channel axis (dim 1) at every pixel; biased variance, eps 1e-5,
    learnable per-channel scale `weight` and shift `bias` (init 1 and 0)."""

    def __init__(self, c: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, c, H, W)
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class ResBlock(nn.Module):
    """RB(c): h = x + Linear(emb)[..., None, None];  out = x + conv2(SiLU(conv1(LN(h)))).
    conv1 is k x k circular c -> 4c, conv2 is 1 x 1, 4c -> c.  The skip adds x, not h."""

    def __init__(self, c: int, emb_dim: int, k: int) -> None:
        super().__init__()
        self.temb = nn.Linear(emb_dim, c)
        self.norm = ChannelLayerNorm(c)
        self.conv1 = conv2d_circ(c, 4 * c, k)
        self.conv2 = nn.Conv2d(4 * c, c, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # x (N,c,H,W), emb (N,D)
        h = x + self.temb(emb)[:, :, None, None]
        return x + self.conv2(F.silu(self.conv1(self.norm(h))))


class TemporalBlock(nn.Module):
    """TB(c): at every pixel, along time: out = x + conv2(SiLU(conv1(x))), conv1 = Conv1d(c, 4c, 3,
    zero padding 1), conv2 = Conv1d(4c, c, 1)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(c, 4 * c, 3, padding=1)
        self.conv2 = nn.Conv1d(4 * c, c, 1)

    def forward(self, x: torch.Tensor, B: int, L: int) -> torch.Tensor:  # x (B*L, c, H, W)
        N, c, H, W = x.shape
        z = x.reshape(B, L, c, H, W).permute(0, 3, 4, 2, 1).reshape(B * H * W, c, L)
        z = self.conv2(F.silu(self.conv1(z)))
        z = z.reshape(B, H, W, c, L).permute(0, 4, 3, 1, 2).reshape(N, c, H, W)
        return x + z


class DownStage(nn.Module):
    """D0: conv(C -> w0) -> RB x n.   Di (i > 0): stride-2 conv(w_{i-1} -> w_i) -> TB -> RB x n."""

    def __init__(self, c_in: int, c: int, n_blocks: int, emb_dim: int, k: int, first: bool) -> None:
        super().__init__()
        self.first = first
        self.conv = conv2d_circ(c_in, c, k, stride=1 if first else 2)
        if not first:
            self.tb = TemporalBlock(c)
        self.rb = nn.ModuleList([ResBlock(c, emb_dim, k) for _ in range(n_blocks)])

    def forward(self, x, emb, B, L):
        x = self.conv(x)
        if not self.first:
            x = self.tb(x, B, L)
        for blk in self.rb:
            x = blk(x, emb)
        return x


class UpStage(nn.Module):
    """Ui (i > 0): RB x n -> TB -> LN -> nearest x2 -> conv(w_i -> w_{i-1}).   U0: RB x n -> conv(w0 -> C)."""

    def __init__(self, c: int, c_out: int, n_blocks: int, emb_dim: int, k: int, last: bool) -> None:
        super().__init__()
        self.last = last
        self.rb = nn.ModuleList([ResBlock(c, emb_dim, k) for _ in range(n_blocks)])
        if not last:
            self.tb = TemporalBlock(c)
            self.norm = ChannelLayerNorm(c)
        self.conv = conv2d_circ(c, c_out, k)

    def forward(self, x, emb, B, L):
        for blk in self.rb:
            x = blk(x, emb)
        if not self.last:
            x = self.tb(x, B, L)
            x = self.norm(x)
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x)


class SOADUNet(nn.Module):
    """eps_hat(z_t, t): (B, L, C, H, W), t (B,) or scalar  ->  (B, L, C, H, W).

    Data flow: D0 -> D1 -> ... -> D_{n-1} -> U_{n-1} (+D_{n-2}) -> ... -> U1 (+D0) -> U0.
    H and W must be divisible by 2**(len(widths)-1); the coarsest grid must be >= k//2.
    """

    def __init__(self, channels: int = 4, widths: Sequence[int] = (16, 32, 64),
                 blocks: Sequence[int] | int = 3, kernel: int = 5, emb_dim: int = 64) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if isinstance(blocks, int):
            blocks = (blocks,) * len(widths)
        blocks = tuple(int(b) for b in blocks)
        assert len(blocks) == len(widths)
        self.channels, self.widths, self.blocks, self.kernel, self.emb_dim = \
            channels, widths, blocks, kernel, emb_dim
        self.temb = TimeEmbedding(emb_dim)
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i, (w, n) in enumerate(zip(widths, blocks)):
            first = i == 0
            self.down.append(DownStage(channels if first else widths[i - 1], w, n, emb_dim, kernel, first))
            self.up.append(UpStage(w, channels if first else widths[i - 1], n, emb_dim, kernel, first))

    def forward(self, z: torch.Tensor, t, return_stages: bool = False):
        B, L, C, H, W = z.shape
        if not isinstance(t, torch.Tensor):
            t = torch.tensor(t)
        t = t.reshape(-1).to(z)
        if t.numel() == 1 and B > 1:
            t = t.expand(B)
        emb = self.temb(t)                                # (B, D)
        emb_f = emb.repeat_interleave(L, dim=0)           # (B*L, D), b-major like the frames
        x = z.reshape(B * L, C, H, W)
        skips = []
        for stage in self.down:
            x = stage(x, emb_f, B, L)
            skips.append(x)
        stages = {"temb": emb}
        for i, s in enumerate(skips):
            stages[f"d{i}"] = s
        for i in reversed(range(len(self.up))):
            x = self.up[i](x, emb_f, B, L)
            if i > 0:
                x = x + skips[i - 1]
                stages[f"u{i}"] = x
        out = x.reshape(B, L, C, H, W)
        if return_stages:
            return out, {k: (v if v.dim() == 2 else v.reshape(B, L, *v.shape[1:])) for k, v in stages.items()}
        return out


def n_params(model: nn.Module) -> int:
    """Trainable parameters (3,721,056 + 801 C for the paper's widths)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
