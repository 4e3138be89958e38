/**
 * LETKF analysis speed against the NumPy peer (`../shared/peers/letkf_numpy.py bench`), in the same
 * run, on the peer's benchmark case: N members on an nx² × 2 grid, m random observations, cutoff
 * 200 km on a 1000 km periodic square, inflation 1.05, RTPS 0.5. Prints ms per analysis and the ratio
 * (both single-threaded: the peer runs with one BLAS thread), and the machine's load average.
 *
 *   deno run -A bench/letkf_peer.ts [N] [nx] [m] [repeats]     (defaults 32 64 1024 3)
 * @module
 */

import { letkfAnalysis, letkfNeighbours } from "../src/assim/letkf.ts";
import { Rng } from "../src/rng.ts";

const [N, nx, m, repeats] = [32, 64, 1024, 3].map((d, i) => Number(Deno.args[i] ?? d));
const L = 1e6, cutoff = 2e5, layers = 2;
const rng = new Rng(1);
const normal = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const forecast = normal(N * layers * nx * nx), observed = normal(N * m), y = normal(m);
const xy = Float64Array.from({ length: 2 * m }, () => rng.uniform() * L);
const grid = { nx, ny: nx, layers, lengthX: L };

const t0 = performance.now();
const neighbours = letkfNeighbours(grid, xy, cutoff);
const tNb = performance.now() - t0;
const input = { members: N, forecast, observed, y, sigma: 0.1 };
letkfAnalysis(input, grid, { neighbours, inflation: 1.05, rtps: 0.5 }); // warm-up (JIT)
const times: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  letkfAnalysis(input, grid, { neighbours, inflation: 1.05, rtps: 0.5 });
  times.push(performance.now() - t);
}
const ours = Math.min(...times);
const timesW: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  letkfAnalysis(input, grid, { neighbours, inflation: 1.05, rtps: 0.5, weightStride: 2 });
  timesW.push(performance.now() - t);
}
const oursW = Math.min(...timesW);
const local = neighbours.index.length / (nx * nx);
console.log(
  `soad LETKF: N=${N} grid=${nx}x${nx}x2 m=${m} cutoff=200km (${
    local.toFixed(0)
  } obs per column): ` +
    `${ours.toFixed(0)} ms per analysis (best of ${repeats}; neighbour lists once: ${
      tNb.toFixed(0)
    } ms)`,
);

const peer = new URL("../../shared/peers/letkf_numpy.py", import.meta.url).pathname;
try {
  await Deno.stat(peer);
} catch {
  console.log(`peer ${peer} not found (needs ../shared): ratio not measured`);
  Deno.exit(0);
}
const runs: number[] = [];
for (let r = 0; r < Math.min(repeats, 2); r++) {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [peer, "bench", String(N), String(nx), String(m)],
    // one BLAS thread: the peer's small matrix products oversubscribe a shared machine otherwise
    env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const ms = Number(/: (\d+) ms per analysis/.exec(text)?.[1]);
  if (!out.success || !Number.isFinite(ms)) {
    console.log(`peer failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    Deno.exit(0);
  }
  runs.push(ms);
}
const theirs = Math.min(...runs);
console.log(`numpy peer: ${theirs} ms per analysis (best of ${runs.length})`);
console.log(`ratio peer / soad: ${(theirs / ours).toFixed(2)}x (goal >= 5x), the same analysis`);
console.log(
  `with weight interpolation (weightStride 2, an approximation): ${oursW.toFixed(0)} ms, ` +
    `ratio ${(theirs / oursW).toFixed(2)}x`,
);
try {
  console.log(
    `load average: ${(await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")}`,
  );
} catch {
  // not Linux
}
