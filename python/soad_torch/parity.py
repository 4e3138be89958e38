"""Entry points the Deno parity tests call (tests/torch_*_test.ts): one training step's loss and
parameter gradients, the augmented state, and eps-hat for given weights and inputs.

    python3 -m soad_torch.parity grad WEIGHTS BATCH OUT   # BATCH: x, t, eps (+ model in metadata)
    python3 -m soad_torch.parity eps WEIGHTS INPUT OUT    # INPUT: z [B,L,C,H,W], t [B]
"""
from __future__ import annotations

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

from .data import augment, noised
from .safetensors_io import read_safetensors, write_safetensors
from .train import build_net, load_weights


def _net(weights: str):
    tensors, meta = read_safetensors(weights)
    unet = json.loads(meta["unet"])
    net = build_net(unet)
    with torch.no_grad():
        load_weights(net, tensors, weights)
    return net


def grad(weights: str, batch: str, out: str) -> None:
    """Loss and gradients of the mean eps-MSE over the batch (x [B,L,2,H,W], t [B], eps
    [B,L,C,H,W]); also the augmented clean state z0 [B,L,C,H,W]."""
    b, meta = read_safetensors(batch)
    model = meta["model"]
    x, t, eps = b["x"], b["t"].astype(np.float64), b["eps"]
    net = _net(weights)
    torch.use_deterministic_algorithms(True)
    z0 = np.stack([augment(xi, model) for xi in x])
    zt = np.stack([noised(z0[i], float(t[i]), eps[i]) for i in range(len(x))])
    loss = F.mse_loss(net(torch.from_numpy(zt), torch.from_numpy(t.astype(np.float32))),
                      torch.from_numpy(eps.astype(np.float32)))
    loss.backward()
    res = {"grad." + k: p.grad.numpy() for k, p in net.named_parameters()}
    res["loss"] = np.array([float(loss)], np.float64)
    res["z0"] = z0
    write_safetensors(out, res, {"model": model})


def eps(weights: str, inp: str, out: str) -> None:
    """eps-hat(z, t) of the network in `weights`."""
    d, _ = read_safetensors(inp)
    net = _net(weights)
    with torch.no_grad():
        e = net(torch.from_numpy(d["z"]), torch.from_numpy(d["t"].astype(np.float32)))
    write_safetensors(out, {"eps": e.numpy()}, {})


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    {"grad": grad, "eps": eps}[cmd](*rest)
