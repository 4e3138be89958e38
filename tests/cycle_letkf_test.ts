import assert from "node:assert/strict";
import { cycle } from "../src/harness/cycle.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { resolveParams } from "../src/qg/params.ts";

const identity = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
const quiet = { writeSync: (b: Uint8Array) => b.length };

Deno.test("cycle LETKF: on a tiny QG twin with dense linear observations it stays below the free run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const common = {
      // 32² simulation (dt 2 h) pooled to 16², identity observations of every 2nd point each day
      truth: {
        simulate: 30,
        seed: 0,
        qg: resolveParams({ nx: 32, dt: 7200 }),
        pool: 2,
        warmupDays: 300,
      },
      methods: ["letkf" as const, "free" as const, "climatology" as const],
      operator: identity,
      stride: 2,
      normalisation: {
        offset: [0, 0] as [number, number],
        std: [1e-5, 1.2e-6] as [number, number],
      },
      members: 16,
      locRadiusKm: 100,
      inflation: 1.05,
      rtps: 0.5,
      warmupDays: 300,
      climatologySpacing: 10,
      progress: quiet,
    };
    const r = await cycle({ ...common, workers: 2, out: `${dir}/a` });
    const { letkf, free, climatology } = r.summary.methods;
    assert.equal(r.summary.days, 30);
    for (const m of [letkf, free, climatology]) assert.equal(m.error, undefined);
    // the free run starts from the climatological mean and never sees an observation; the LETKF
    // is below it on every day after a short spin-up, and far below on average
    for (let d = 3; d < 30; d++) {
      assert.ok(
        letkf.rmse[d] < 0.6 * free.rmse[d],
        `day ${d}: ${letkf.rmse[d]} vs ${free.rmse[d]}`,
      );
    }
    assert.ok(letkf.rmse_mean < 0.5 * free.rmse_mean, `${letkf.rmse_mean} vs ${free.rmse_mean}`);
    assert.ok(letkf.rmse_mean < 0.5 * climatology.rmse_mean);
    assert.ok(letkf.crps_mean < 0.5 * climatology.crps_mean);
    assert.ok(letkf.spread_mean > 0 && free.spread_mean === 0);
    assert.equal(letkf.rank_histogram.length, 17);
    // forecasts in Workers or in this thread: the same bytes
    await cycle({ ...common, workers: 0, out: `${dir}/b` });
    for (const f of ["state/letkf/day_0029.f32", "state/free/day_0017.f32"]) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/a/${f}`),
        await Deno.readFile(`${dir}/b/${f}`),
        f,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
