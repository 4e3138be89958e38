// Helpers of the PyTorch bridge tests (python/soad_torch): find a Python with torch and zarr, and
// run the package's modules. Not a test file itself.

/** The interpreter the tests use (Debian's, where apt installs python3-torch). */
export const PY = "/usr/bin/python3";
/** The bridge's package folder (on PYTHONPATH). */
export const PYTHON_DIR = new URL("../python", import.meta.url).pathname;

/** Why the torch tests cannot run here (null when they can). */
export async function torchReason(): Promise<string | null> {
  try {
    const r = await new Deno.Command(PY, {
      args: ["-c", "import torch, zarr, numpy"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (r.code === 0) return null;
    return `${PY} cannot import torch/zarr/numpy (apt-get install -y python3-torch python3-zarr)`;
  } catch {
    return `${PY} not found`;
  }
}

/** Runs `python3 args…` with the bridge on PYTHONPATH; throws with its stderr on failure. */
export async function python(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await new Deno.Command(PY, {
    args,
    env: { PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const td = new TextDecoder();
  if (r.code !== 0) {
    throw new Error(`python3 ${args.join(" ")} failed (${r.code}):\n${td.decode(r.stderr)}`);
  }
  return td.decode(r.stdout) + td.decode(r.stderr);
}

/** Largest |a − b| over the largest |b| (0 when both are 0). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
