// Speed against the NumPy peer (../shared/peers/qg_numpy.py: the same scheme, vectorised NumPy
// and pocketfft), timed in the same run on the same state and step count.
// Run: deno run -A bench/qg_peer.ts [nx ...]   (needs /usr/bin/python3 with python3-numpy)
import { QGModel } from "../src/qg/model.ts";
import { icModes } from "../src/qg/initial.ts";

const PEER = new URL("../../shared/peers/qg_numpy.py", import.meta.url).pathname;
const STEPS: Record<number, number> = { 32: 2000, 64: 1000, 128: 300, 256: 100 };

/** Best-of-`reps` milliseconds per step, as the peer's own `bench` measures it. */
function ours(nx: number, fft: "wasm" | "ts", reps = 3): number {
  const m = new QGModel({ nx, dt: 900 }, { fft });
  m.setQ(icModes(nx));
  m.step(3);
  const n = STEPS[nx] ?? 30;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    m.step(n);
    best = Math.min(best, (performance.now() - t0) / n);
  }
  return best;
}

function peerEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

async function peer(nx: number): Promise<number> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [PEER, "bench", String(nx)],
    // one thread, and without this machine's OpenBLAS work-arounds (they slow a current NumPy)
    clearEnv: true,
    env: { ...peerEnv(), OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const match = text.match(/([\d.]+) ms\/step/);
  if (!out.success || !match) {
    throw new Error(
      `the NumPy peer failed (apt-get install python3-numpy?):\n${text}` +
        new TextDecoder().decode(out.stderr),
    );
  }
  return Number(match[1]);
}

const sizes = Deno.args.length ? Deno.args.map(Number) : [64, 128, 256];
console.log("nx   | numpy peer steps/s | soad wasm steps/s (ratio) | soad ts steps/s (ratio)");
for (const nx of sizes) {
  const p = await peer(nx);
  const w = ours(nx, "wasm");
  const t = ours(nx, "ts");
  const f = (ms: number) => (1000 / ms).toFixed(0).padStart(8);
  console.log(
    `${String(nx).padEnd(4)} | ${f(p)}           | ${f(w)} (${(p / w).toFixed(2)}x)       | ${
      f(t)
    } (${(p / t).toFixed(2)}x)`,
  );
}
