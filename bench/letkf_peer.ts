/**
 * LETKF analysis speed against the NumPy peer (`letkf_numpy.py bench`: `../shared/peers/`, else
 * the copy in `tests/fixtures/letkf/`), in the same run, on the peer's benchmark case: N members on
 * an nx² × 2 grid, m random observations, cutoff 200 km on a 1000 km periodic square, inflation
 * 1.05, RTPS 0.5. Ours and the peer alternate for `rounds` rounds (a shared machine's speed drifts
 * over seconds); each round times our exact analysis on one thread (the peer runs with one BLAS
 * thread; its 32×32 `eigh` is single-threaded LAPACK anyway) and on two threads
 * (`setLetkfThreads(2)`: the same bytes), best of `repeats`, then one peer analysis (the peer's own
 * `bench` case and call, timed here in wall and CPU time). Prints the best times, their ratios and
 * every round's ratio, the ratio of CPU times (one thread each: less sensitive to other load on
 * the machine), the TypeScript reference engine and the weight-interpolation approximation once,
 * and the machine's load average (wall ratios are only comparable within one run).
 *
 *   deno run -A bench/letkf_peer.ts [N] [nx] [m] [repeats] [rounds]     (defaults 32 64 1024 3 3)
 * @module
 */

import process from "node:process";
import { letkfAnalysis, letkfNeighbours, type LetkfOptions } from "../src/assim/letkf.ts";
import { setLetkfThreads } from "../src/assim/letkf_wasm.ts";
import { Rng } from "../src/rng.ts";

const [N, nx, m, repeats, rounds] = [32, 64, 1024, 3, 3].map((d, i) => Number(Deno.args[i] ?? d));
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
/**
 * Best of `n` timed analyses (after a warm-up: JIT, memory, the helper thread): wall ms and the
 * process's CPU ms (all its threads).
 */
function best(options: LetkfOptions, n = repeats): { ms: number; cpu: number; xa: Float64Array } {
  let xa = letkfAnalysis(input, grid, options);
  let ms = Infinity, cpu = Infinity;
  for (let r = 0; r < n; r++) {
    const t = performance.now(), u = process.cpuUsage();
    xa = letkfAnalysis(input, grid, options);
    const c = process.cpuUsage(u);
    ms = Math.min(ms, performance.now() - t);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { ms, cpu, xa };
}

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
/**
 * The peer's `bench` case (its data, warm-up and call, from its `bench` command), timed in wall
 * and process CPU time: one analysis, ms (undefined when the peer is missing or fails).
 */
const PEER_BENCH = `
import sys, time, importlib.util, numpy as np
spec = importlib.util.spec_from_file_location("peer", sys.argv[1])
p = importlib.util.module_from_spec(spec); spec.loader.exec_module(p)
N, nx, m = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(1); L = 1e6
Xf = rng.standard_normal((N, 2, nx, nx)); HXf = rng.standard_normal((N, m)); y = rng.standard_normal(m)
obs_xy = rng.random((m, 2)) * L
p.analyse(Xf[:, :, :4, :4], HXf, y, obs_xy, L, 0.1, 2e5)
w = time.perf_counter(); c = time.process_time()
p.analyse(Xf, HXf, y, obs_xy, L, 0.1, 2e5, 1.05, 0.5)
print(f"{(time.perf_counter() - w) * 1e3:.1f} {(time.process_time() - c) * 1e3:.1f}")
`;
async function peerMs(): Promise<{ ms: number; cpu: number } | undefined> {
  if (!peer) return undefined;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", PEER_BENCH, peer, String(N), String(nx), String(m)],
    // one BLAS thread: the peer's small matrix products oversubscribe a shared machine otherwise
    env: { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" },
  }).output();
  const [ms, cpu] = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
  if (!out.success || !Number.isFinite(ms) || !Number.isFinite(cpu)) {
    console.log(`peer failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    return undefined;
  }
  return { ms, cpu };
}

const one: number[] = [], two: number[] = [], theirs: number[] = [];
const oneCpu: number[] = [], theirsCpu: number[] = [];
let xa1: Float64Array = new Float64Array(0), xa2: Float64Array = new Float64Array(0);
for (let r = 0; r < rounds; r++) {
  await setLetkfThreads(1);
  const a = best(base);
  await setLetkfThreads(2);
  const b = best(base);
  await setLetkfThreads(1);
  one.push(a.ms);
  oneCpu.push(a.cpu);
  two.push(b.ms);
  xa1 = a.xa;
  xa2 = b.xa;
  const p = await peerMs();
  if (p !== undefined) {
    theirs.push(p.ms);
    theirsCpu.push(p.cpu);
  }
}
const ts = best({ ...base, engine: "ts" }, 1);
const oursW = best({ ...base, weightStride: 2 }, 1).ms;
let diff2 = 0, diffTs = 0;
for (let i = 0; i < xa1.length; i++) {
  diff2 = Math.max(diff2, Math.abs(xa2[i] - xa1[i]));
  diffTs = Math.max(diffTs, Math.abs(ts.xa[i] - xa1[i]));
}
const ours = Math.min(...one), ours2 = Math.min(...two);
const local = neighbours.index.length / (nx * nx);
console.log(
  `soad LETKF: N=${N} grid=${nx}x${nx}x2 m=${m} cutoff=200km (${
    local.toFixed(0)
  } obs per column), best of ${rounds} rounds × ${repeats}: ${ours.toFixed(0)} ms per analysis ` +
    `on 1 thread, ${ours2.toFixed(0)} ms on 2 threads (max |difference| ${diff2}); TypeScript ` +
    `engine ${ts.ms.toFixed(0)} ms (max |difference| ${
      diffTs.toExponential(1)
    }); neighbour lists ` +
    `once: ${tNb.toFixed(0)} ms`,
);
if (theirs.length > 0) {
  const peerBest = Math.min(...theirs);
  const perRound = theirs.map((p, r) => `${(p / one[r]).toFixed(2)}`).join(", ");
  console.log(
    `numpy peer: ${peerBest.toFixed(0)} ms per analysis (best of ${theirs.length} rounds)`,
  );
  console.log(
    `ratio peer / soad, the same analysis: ${(peerBest / ours).toFixed(2)}x on 1 thread ` +
      `(rounds: ${perRound}), ${(peerBest / ours2).toFixed(2)}x on 2 threads (goal >= 5x); ` +
      `TypeScript engine ${(peerBest / ts.ms).toFixed(2)}x`,
  );
  const ourCpu = Math.min(...oneCpu), peerCpu = Math.min(...theirsCpu);
  console.log(
    `CPU time (less sensitive to other load): soad ${ourCpu.toFixed(0)} ms on 1 thread, peer ` +
      `${peerCpu.toFixed(0)} ms: ratio ${(peerCpu / ourCpu).toFixed(2)}x`,
  );
  console.log(
    `with weight interpolation (weightStride 2, an approximation, TypeScript path): ${
      oursW.toFixed(0)
    } ms, ratio ${(peerBest / oursW).toFixed(2)}x`,
  );
} else {
  console.log(`peer letkf_numpy.py not found or failed: ratio not measured`);
}
try {
  console.log(
    `load average: ${(await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")}`,
  );
} catch {
  // not Linux
}
