// deno task demo — the main job on an embedded default. Until the assimilation pipeline lands,
// it spins up the two-layer QG model at nx = 64 for 3 years (past the ~2.5-year spin-up) and
// writes its pictures to run/demo/ (q.png, energy.png, spectrum.png, diagnostics.json, q.npy).
import { runQG } from "./qg_run.ts";

try {
  await runQG({
    params: { nx: 64, dt: 900 },
    days: 3 * 365,
    every: 5,
    ic: "noise",
    seed: 0,
    fft: "auto",
    out: Deno.args[0] ?? "run/demo",
    label: "demo",
  });
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
