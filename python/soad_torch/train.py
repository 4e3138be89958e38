"""Training soad's U-Net prior on PyTorch, one process or many (`torchrun`, DistributedDataParallel
on NCCL for GPUs or gloo for CPUs), with the same objective and optimiser as `deno task train`
(src/train): one diffusion time t ~ U(0, 1) per chunk (optionally oversampling the noisiest
times), z_t = alpha(t) z0 + sigma(t) eps with the VP cosine schedule, the MSE on eps over every
element, AdamW (PyTorch's, which soad's AdamW reproduces) with the learning rate decayed linearly
per step, a random circular roll of each chunk, observation channels from `data.augment`.

The random draws are torch generators seeded per (seed, purpose, global sample index), so a
step's global batch is the same for any number of processes; they are not soad's counter streams,
so a Deno run and a PyTorch run of one seed see different (equally distributed) batches.

Writes soad's run folder: checkpoint.safetensors (weights + AdamW moments, soad's checkpoint
format: `deno task train --resume` continues it), model.safetensors at the end, best.safetensors
(best validation loss), log.csv and train.json; `deno task ship-prior --run DIR` packages it with
a model card.

    python3 -m soad_torch.train --data data/qg.zarr --model arctan3x --steps 1000 --out run/x
    torchrun --nproc_per_node 4 -m soad_torch.train --data ... --batch-size 32 ...
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .data import StoreData, augment, draw_chunk, model_channels, noised
from .safetensors_io import read_safetensors, write_atomic, write_safetensors
from .unet import SOADUNet

CHECKPOINT_FORMAT = "soad-train-checkpoint/1"
WEIGHTS_FORMAT = "soad-unet-weights/1"

# src/train/config.ts TRAIN_DEFAULTS
DEFAULTS = dict(frames=9, batchSize=4, lr=1.5e-4, weightDecay=7.5e-6, beta1=0.9, beta2=0.999,
                eps=1e-8, roll=True, seed=0, initSeed=0, checkpointEvery=100, validEvery=100,
                validSamples=16, highTimeFraction=0.0, highTimeFrom=0.8)


def generator(seed: int, purpose: str, *counters: int) -> torch.Generator:
    """A CPU generator for one (seed, purpose, counters) stream (independent of the process)."""
    h = hashlib.sha256(f"soad-torch/{seed}/{purpose}/{'/'.join(map(str, counters))}".encode())
    return torch.Generator().manual_seed(int.from_bytes(h.digest()[:8], "little") >> 1)


def build_net(unet: Dict) -> SOADUNet:
    return SOADUNet(channels=unet["channels"], widths=unet["widths"], blocks=unet["blocks"],
                    kernel=unet["kernel"])


def state_arrays(net: torch.nn.Module) -> Dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}


def load_weights(net: torch.nn.Module, tensors: Dict[str, np.ndarray], what: str,
                 prefix: str = "") -> None:
    """Sets every parameter from `tensors[prefix + name]` (shapes must match)."""
    sd = net.state_dict()
    missing = [k for k in sd if prefix + k not in tensors]
    if missing:
        raise ValueError(f"{what} lacks {len(missing)} tensors of the network, e.g. {missing[0]}")
    for k, v in sd.items():
        a = tensors[prefix + k]
        if tuple(a.shape) != tuple(v.shape):
            raise ValueError(f"{what}: {prefix + k} has shape {list(a.shape)}, the network "
                             f"{list(v.shape)} (other widths, blocks, kernel or channels)")
        v.copy_(torch.from_numpy(np.asarray(a, dtype=np.float32)))


def sample(cfg: Dict, src: StoreData, g: int) -> Tuple[np.ndarray, float, np.ndarray]:
    """Global training sample g: (chunk [L, 2, H, W], t, eps [L, C, H, W])."""
    n = src.count("train")
    perm = torch.randperm(n, generator=generator(cfg["seed"], "perm", g // n))
    rng = generator(cfg["seed"], "sample", g)
    x = draw_chunk(src, "train", int(perm[g % n]), cfg["frames"], cfg["roll"], rng)
    t = float(torch.rand(1, dtype=torch.float64, generator=rng))
    if cfg["highTimeFraction"] > 0 and float(torch.rand(1, dtype=torch.float64,
                                                        generator=rng)) < cfg["highTimeFraction"]:
        t = cfg["highTimeFrom"] + (1 - cfg["highTimeFrom"]) * t
    C = cfg["unet"]["channels"]
    eps = torch.randn(cfg["frames"], C, src.height, src.width,
                      generator=generator(cfg["seed"], "noise", g)).numpy()
    return x, t, eps


def valid_samples(cfg: Dict, src: StoreData) -> List[Tuple[np.ndarray, float, np.ndarray]]:
    n = src.count("valid")
    if n == 0 or cfg["validEvery"] == 0:
        return []
    out = []
    for i in range(cfg["validSamples"]):
        rng = generator(cfg["seed"], "valid", i)
        x = draw_chunk(src, "valid", i % n, cfg["frames"], False, rng)
        t = float(torch.rand(1, dtype=torch.float64, generator=rng))
        eps = torch.randn(cfg["frames"], cfg["unet"]["channels"], src.height, src.width,
                          generator=generator(cfg["seed"], "valid-noise", i)).numpy()
        out.append((x, t, eps))
    return out


def batch_tensors(model: str, items, device) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(z_t [B, L, C, H, W], t [B], eps) for a list of (chunk, t, eps)."""
    zs = [noised(augment(x, model), t, e) for x, t, e in items]
    z = torch.from_numpy(np.stack(zs)).to(device)
    t = torch.tensor([t for _, t, _ in items], dtype=torch.float32, device=device)
    eps = torch.from_numpy(np.stack([e.astype(np.float32) for _, _, e in items])).to(device)
    return z, t, eps


def batch_loss(net, model: str, items, device) -> torch.Tensor:
    """Mean over the batch of each sample's eps-MSE (every sample has L C H W elements)."""
    z, t, eps = batch_tensors(model, items, device)
    return F.mse_loss(net(z, t), eps)


def make_optimizer(net: torch.nn.Module, cfg: Dict) -> torch.optim.AdamW:
    return torch.optim.AdamW(net.parameters(), lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]),
                             eps=cfg["eps"], weight_decay=cfg["weightDecay"])


def checkpoint_meta(cfg: Dict, step: int, data: Dict, best: Optional[float],
                          kind: str) -> Dict[str, str]:
    md = {
        "format": kind, "step": str(step), "model": cfg["model"],
        "unet": json.dumps(cfg["unet"]), "config": json.dumps(cfg), "data": json.dumps(data),
        "normalisation": json.dumps({"offset": data.get("norm_offset"),
                                     "std": data.get("norm_std")}),
        "best_valid": json.dumps(best),
        "trainer": f"soad_torch (PyTorch {torch.__version__})",
    }
    if kind == CHECKPOINT_FORMAT:
        md["rng"] = json.dumps({"kind": "soad-torch-generators", "seed": cfg["seed"],
                                "step": step})
    return md


def write_checkpoint(path: str, net, opt, cfg, step, data, best) -> None:
    tensors = state_arrays(net)
    names = list(tensors)
    params = dict(net.named_parameters())
    for prefix, key in (("optim.exp_avg.", "exp_avg"), ("optim.exp_avg_sq.", "exp_avg_sq")):
        for k in names:
            st = opt.state.get(params[k], {})
            v = st.get(key)
            tensors[prefix + k] = (v.detach().cpu().numpy().astype(np.float32) if v is not None
                                   else np.zeros(tensors[k].shape, np.float32))
    write_safetensors(path, tensors, checkpoint_meta(cfg, step, data, best,
                                                           CHECKPOINT_FORMAT))


def write_weights(path: str, net, cfg, step, data, best) -> None:
    write_safetensors(path, state_arrays(net),
                      checkpoint_meta(cfg, step, data, best, WEIGHTS_FORMAT))


def read_checkpoint(path: str) -> Tuple[Dict, int, Dict[str, np.ndarray], Optional[float], Dict]:
    tensors, meta = read_safetensors(path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a soad training checkpoint (format "
                         f"\"{meta.get('format', 'none')}\", expected \"{CHECKPOINT_FORMAT}\")")
    return (json.loads(meta["config"]), int(meta["step"]), tensors,
            json.loads(meta.get("best_valid", "null")), json.loads(meta.get("data", "{}")))


def load_optimizer(opt, net, tensors: Dict[str, np.ndarray], step: int) -> None:
    for k, p in net.named_parameters():
        opt.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": torch.from_numpy(tensors["optim.exp_avg." + k].copy()).to(p.device),
            "exp_avg_sq": torch.from_numpy(tensors["optim.exp_avg_sq." + k].copy()).to(p.device),
        }


def log_csv(records: List[Dict]) -> str:
    lines = ["step,epoch,lr,loss,grad_norm,valid_loss,seconds"]
    for r in records:
        v = "" if r["validLoss"] is None else repr(r["validLoss"])
        lines.append(",".join([str(r["step"]), repr(r["epoch"]), repr(r["lr"]), repr(r["loss"]),
                               repr(r["gradNorm"]), v, repr(r["seconds"])]))
    return "\n".join(lines) + "\n"


def parse_log(text: str) -> List[Dict]:
    out = []
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        f = line.split(",")
        out.append({"step": int(f[0]), "epoch": float(f[1]), "lr": float(f[2]),
                    "loss": float(f[3]), "gradNorm": float(f[4]),
                    "validLoss": None if f[5] == "" else float(f[5]), "seconds": float(f[6])})
    return out


def train(args: argparse.Namespace) -> Dict:
    """Runs (or resumes) a training run; returns the final train.json content (rank 0)."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        backend = args.dist_backend or ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend=backend)
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and args.device != "cpu"
    device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    src = StoreData(args.data, subtract_mean=args.subtract_mean)
    ckpt = os.path.join(args.out, "checkpoint.safetensors")
    records: List[Dict] = []
    if args.resume:
        if not os.path.exists(ckpt):
            raise SystemExit(f"error: cannot resume: {ckpt} does not exist (start without "
                             f"--resume)")
        cfg, step, tensors, best, _ = read_checkpoint(ckpt)
        if cfg.get("ema"):
            raise SystemExit(f"error: cannot resume: {ckpt} averages its weights (EMA decay "
                             f"{cfg['ema']}), which this bridge does not do; resume it with "
                             f"deno task train --resume")
        if cfg.get("warmup"):
            raise SystemExit(f"error: cannot resume: {ckpt} warms its learning rate up over "
                             f"{cfg['warmup']} steps (deno task train --warmup), which this "
                             f"bridge does not do; resume it with deno task train --resume")
        given = {"model": args.model, "batchSize": args.batch_size, "lr": args.lr,
                 "weightDecay": args.weight_decay, "frames": args.frames, "seed": args.seed,
                 "highTimeFraction": args.high_t_fraction}
        diff = [f"{k}={cfg.get(k)!r}" for k, v in given.items()
                if v is not None and v != cfg.get(k)]
        if diff:
            raise SystemExit(f"error: cannot resume: the checkpoint was trained with other "
                             f"{', '.join(diff)}; leave these flags out to continue with the "
                             f"checkpoint's values")
        if args.steps is not None:
            cfg["steps"] = args.steps
        net = build_net(cfg["unet"])
        load_weights(net, tensors, ckpt)
        if os.path.exists(os.path.join(args.out, "log.csv")):
            with open(os.path.join(args.out, "log.csv")) as f:
                records = [r for r in parse_log(f.read()) if r["step"] <= step]
    else:
        if os.path.exists(ckpt) and not args.force:
            raise SystemExit(f"error: {ckpt} exists: pass --resume to continue it, --force to "
                             f"start over, or choose another --out")
        if args.steps is None:
            raise SystemExit("error: --steps is required for a new run")
        args.model = args.model or "sda"
        C = model_channels(args.model)
        widths = [int(w) for w in args.widths.split(",")]
        cfg = dict(DEFAULTS)
        cfg.update(model=args.model, steps=args.steps)
        for k, v in (("frames", args.frames), ("batchSize", args.batch_size), ("lr", args.lr),
                     ("weightDecay", args.weight_decay), ("seed", args.seed),
                     ("initSeed", args.init_seed), ("checkpointEvery", args.checkpoint_every),
                     ("validEvery", args.valid_every), ("validSamples", args.valid_samples),
                     ("highTimeFraction", args.high_t_fraction)):
            if v is not None:
                cfg[k] = v
        cfg["roll"] = not args.no_roll
        cfg["unet"] = dict(channels=C, widths=widths, blocks=args.blocks, kernel=args.kernel,
                           frames=cfg["frames"])
        torch.manual_seed(cfg["initSeed"])
        net = build_net(cfg["unet"])
        if args.init:
            tensors, _ = read_safetensors(args.init)
            with torch.no_grad():
                load_weights(net, tensors, args.init)
        step, best, tensors = 0, None, None
    B = cfg["batchSize"]
    if B % world:
        raise SystemExit(f"error: --batch-size {B} must be divisible by the {world} processes "
                         f"(each takes B / N samples of every step)")
    f = 2 ** (len(cfg["unet"]["widths"]) - 1)
    if src.height % f or src.width % f or src.length < cfg["frames"]:
        raise SystemExit(f"error: the data ({src.length} snapshots of {src.height}x{src.width}) "
                         f"does not fit frames {cfg['frames']} and {len(cfg['unet']['widths'])} "
                         f"levels")
    net.to(device)
    opt = make_optimizer(net, cfg)
    if tensors is not None and args.resume:
        load_optimizer(opt, net, tensors, step)
    model = torch.nn.parallel.DistributedDataParallel(net) if distributed else net
    data_desc = src.describe()
    valid = valid_samples(cfg, src) if rank == 0 else []
    until = min(args.until if args.until is not None else cfg["steps"], cfg["steps"])
    per = B // world
    n_train = src.count("train")
    os.makedirs(args.out, exist_ok=True)

    def save(final: bool) -> Dict:
        info = {"config": cfg, "data": data_desc, "step": step, "finished": step >= cfg["steps"],
                "best_valid": best, "workers": world, "engine": f"soad_torch on {device.type}",
                "last": records[-1] if records else None}
        if rank == 0:
            write_checkpoint(ckpt, net, opt, cfg, step, data_desc, best)
            if final:
                write_weights(os.path.join(args.out, "model.safetensors"), net, cfg, step,
                              data_desc, best)
            write_atomic(os.path.join(args.out, "log.csv"), log_csv(records).encode())
            write_atomic(os.path.join(args.out, "train.json"),
                         (json.dumps(info, indent=2) + "\n").encode())
        return info

    info: Dict = {}
    ran = 0
    while step < until:
        t0 = time.perf_counter()
        items = [sample(cfg, src, step * B + rank * per + b) for b in range(per)]
        lr = cfg["lr"] * max(0.0, 1.0 - step / cfg["steps"])
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = batch_loss(model, cfg["model"], items, device)
        loss.backward()
        sq = sum(float((p.grad.double() ** 2).sum()) for p in net.parameters() if p.grad is not None)
        lval = float(loss.detach())
        if distributed:
            lt = torch.tensor([lval], dtype=torch.float64, device=device)
            dist.all_reduce(lt)
            lval = float(lt) / world
        if not (math.isfinite(lval) and math.isfinite(sq)):
            raise SystemExit(f"error: training diverged at step {step + 1}: loss {lval}; the last "
                             f"good checkpoint is kept in {args.out}; lower --lr and --resume")
        opt.step()
        step += 1
        ran += 1
        end = step >= until
        vloss = None
        if valid and (step % cfg["validEvery"] == 0 or end):
            with torch.no_grad():
                vloss = float(np.mean([float(batch_loss(net, cfg["model"], [v], device))
                                       for v in valid]))
        records.append({"step": step, "epoch": step * B / n_train, "lr": lr, "loss": lval,
                        "gradNorm": math.sqrt(sq), "validLoss": vloss,
                        "seconds": time.perf_counter() - t0})
        if vloss is not None and (best is None or vloss < best):
            best = vloss
            if rank == 0:
                write_weights(os.path.join(args.out, "best.safetensors"), net, cfg, step,
                              data_desc, best)
        if step % cfg["checkpointEvery"] == 0 or end:
            info = save(step >= cfg["steps"])
        if rank == 0 and not args.quiet:
            print(f"step {step}/{cfg['steps']} loss {lval:.5g}" +
                  (f" valid {vloss:.5g}" if vloss is not None else ""), file=sys.stderr)
    if ran == 0:
        info = save(step >= cfg["steps"])
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return info


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m soad_torch.train",
                                description="Train soad's U-Net prior on PyTorch (torchrun for "
                                            "many processes); see python/soad_torch/README.md.")
    p.add_argument("--data", required=True, help="soad dataset store (deno task generate)")
    p.add_argument("--out", required=True, help="run folder (as deno task train --out)")
    p.add_argument("--model", choices=["sda", "arctan3x", "sin3x", "vor2vel", "full"],
                   help="default sda")
    p.add_argument("--steps", type=int)
    p.add_argument("--until", type=int, help="stop at this step (resume later)")
    p.add_argument("--batch-size", type=int, help="global batch (default 4)")
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--frames", type=int)
    p.add_argument("--widths", default="16,32,64")
    p.add_argument("--blocks", type=int, default=3)
    p.add_argument("--kernel", type=int, default=5)
    p.add_argument("--seed", type=int)
    p.add_argument("--init-seed", type=int)
    p.add_argument("--init", help="start from these weights (safetensors, same network)")
    p.add_argument("--checkpoint-every", type=int)
    p.add_argument("--valid-every", type=int)
    p.add_argument("--valid-samples", type=int)
    p.add_argument("--high-t-fraction", type=float)
    p.add_argument("--no-roll", action="store_true")
    p.add_argument("--subtract-mean", action="store_true")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--force", action="store_true", help="start over in a folder with a run")
    p.add_argument("--device", choices=["auto", "cpu"], default="auto")
    p.add_argument("--dist-backend", choices=["nccl", "gloo"])
    p.add_argument("--deterministic", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    args = parser().parse_args(argv)
    try:
        train(args)
    except (ValueError, IndexError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
