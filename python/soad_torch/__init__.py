"""soad_torch: a small PyTorch bridge for soad — the same U-Net, objective and optimiser as
`deno task train`, reading soad's dataset store and writing soad's checkpoints, so that training
can run on many GPUs with torchrun (DistributedDataParallel). See README.md."""

__all__ = ["unet", "data", "train", "safetensors_io", "parity"]
