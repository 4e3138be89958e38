/**
 * LETKF analysis speed against the NumPy peer (`letkf_numpy.py bench`: `../shared/peers/`, else
 * the copy in `tests/fixtures/letkf/`), in the same run, on the peer's benchmark case: N members on
 * an nx² × 2 grid, m random observations, cutoff 200 km on a 1000 km periodic square, inflation
 * 1.05, RTPS 0.5. Prints ms per analysis and the ratios of the exact analysis on one thread (the
 * peer runs with one BLAS thread; its 32×32 `eigh` is single-threaded LAPACK anyway) and on two
 * threads (`setLetkfThreads(2)`: the same bytes), the TypeScript reference engine, the
 * weight-interpolation approximation, and the machine's load average (the ratios are only
 * comparable within one run).
 *
 *   deno run -A bench/letkf_peer.ts [N] [nx] [m] [repeats]     (defaults 32 64 1024 3)
 * @module
 */

import { letkfAnalysis, letkfNeighbours, type LetkfOptions } from "../src/assim/letkf.ts";
import { setLetkfThreads } from "../src/assim/letkf_wasm.ts";
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
const base: LetkfOptions = { neighbours, inflation: 1.05, rtps: 0.5 };
/** Best of `repeats` timed analyses after one warm-up (JIT, memory). */
function best(options: LetkfOptions): { ms: number; xa: Float64Array } {
  let xa = letkfAnalysis(input, grid, options);
  let ms = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    xa = letkfAnalysis(input, grid, options);
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, xa };
}
const one = best(base);
await setLetkfThreads(2);
const two = best(base);
await setLetkfThreads(1);
const ts = best({ ...base, engine: "ts" });
const oursW = best({ ...base, weightStride: 2 }).ms;
let diff2 = 0, diffTs = 0;
for (let i = 0; i < one.xa.length; i++) {
  diff2 = Math.max(diff2, Math.abs(two.xa[i] - one.xa[i]));
  diffTs = Math.max(diffTs, Math.abs(ts.xa[i] - one.xa[i]));
}
const ours = one.ms;
const local = neighbours.index.length / (nx * nx);
console.log(
  `soad LETKF: N=${N} grid=${nx}x${nx}x2 m=${m} cutoff=200km (${
    local.toFixed(0)
  } obs per column): ` +
    `${ours.toFixed(0)} ms per analysis on 1 thread, ${two.ms.toFixed(0)} ms on 2 threads ` +
    `(max |difference| ${diff2}), TypeScript engine ${ts.ms.toFixed(0)} ms (max |difference| ` +
    `${diffTs.toExponential(1)}); best of ${repeats}; neighbour lists once: ${tNb.toFixed(0)} ms`,
);

const peers = ["../../shared/peers/letkf_numpy.py", "../tests/fixtures/letkf/letkf_numpy.py"];
let peer = "";
for (const p of peers.map((f) => new URL(f, import.meta.url).pathname)) {
  try {
    await Deno.stat(p);
    peer = p;
    break;
  } catch {
    // next
  }
}
if (!peer) {
  console.log(`peer letkf_numpy.py not found: ratio not measured`);
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
console.log(
  `ratio peer / soad, the same analysis: ${(theirs / ours).toFixed(2)}x on 1 thread, ` +
    `${(theirs / two.ms).toFixed(2)}x on 2 threads (goal >= 5x); TypeScript engine ` +
    `${(theirs / ts.ms).toFixed(2)}x`,
);
console.log(
  `with weight interpolation (weightStride 2, an approximation, 1 thread): ${
    oursW.toFixed(0)
  } ms, ratio ${(theirs / oursW).toFixed(2)}x`,
);
try {
  console.log(
    `load average: ${(await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")}`,
  );
} catch {
  // not Linux
}
