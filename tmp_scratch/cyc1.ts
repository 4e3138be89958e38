import { cycle } from "../src/harness/cycle.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { resolveParams } from "../src/qg/params.ts";
const id = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
const out = "/tmp/cyc1";
await Deno.remove(out, { recursive: true }).catch(() => {});
const t = performance.now();
const r = await cycle({
  truth: { simulate: 30, seed: 0, qg: resolveParams({ nx: 32, dt: 7200 }), pool: 2, warmupDays: 300 },
  methods: ["letkf", "free", "climatology"], operator: id, stride: 2, interval: 1,
  normalisation: { offset: [0, 0], std: [1e-5, 1.2e-6] }, members: 16, locRadiusKm: 100, inflation: 1.05, rtps: 0.5,
  warmupDays: 300, climatologySpacing: 10, workers: Number(Deno.args[0] ?? 0), out,
});
for (const [m, s] of Object.entries(r.summary.methods)) console.log(m, s.rmse_mean.toFixed(3), s.spread_mean.toFixed(3), s.crps_mean.toFixed(3), s.rmse.map((x) => x.toFixed(2)).join(" "));
console.log((performance.now() - t) / 1000, "s");
