import assert from "node:assert/strict";
import { cycle } from "../src/harness/cycle.ts";
import { tuneLetkf } from "../src/harness/tune_letkf.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { resolveParams } from "../src/qg/params.ts";

const identity = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
const quiet = { writeSync: (b: Uint8Array) => b.length };
const common = {
  truth: { simulate: 8, seed: 2, qg: resolveParams({ nx: 32, dt: 7200 }), pool: 2, warmupDays: 40 },
  operator: identity,
  ratio: 0.5,
  normalisation: { offset: [0, 0] as [number, number], std: [1e-5, 1.2e-6] as [number, number] },
  members: 6,
  warmupDays: 40,
  climatologySpacing: 5,
  workers: 0,
  progress: quiet,
};

const xarrayReady = await new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import xarray, zarr"],
})
  .output().then((o) => o.success, () => false);

Deno.test("cycle outputs: summary.json contract keys, figures and an analyses Zarr with coordinates", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/run`;
    await cycle({ ...common, methods: ["letkf", "free", "climatology"], saveMembers: true, out });
    const s = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(s.days, 8);
    for (const m of ["letkf", "free", "climatology"]) {
      const r = s.methods[m];
      assert.equal(r.rmse.length, 8);
      for (const k of ["rmse_mean", "spread_mean", "crps_mean", "seconds"]) {
        assert.equal(typeof r[k], "number", `${m}.${k}`);
      }
      assert.equal(r.rank_histogram.reduce((a: number, b: number) => a + b, 0), 8 * 2 * 16 * 16);
    }
    for (const f of ["rmse.png", "spread.png", "rank_histograms.png", "snapshot.png"]) {
      const b = await Deno.readFile(`${out}/${f}`);
      assert.deepEqual([...b.subarray(1, 4)], [0x50, 0x4e, 0x47], f); // "PNG"
    }
    assert.match(await Deno.readTextFile(`${out}/summary.md`), /\| letkf \| 6 \|/);
    const meta = JSON.parse(await Deno.readTextFile(`${out}/analyses.zarr/.zmetadata`)).metadata;
    assert.deepEqual(meta["letkf_mean/.zattrs"]._ARRAY_DIMENSIONS, ["day", "layer", "y", "x"]);
    assert.deepEqual(meta["letkf_members/.zarray"].shape, [6, 8, 2, 16, 16]);
    assert.deepEqual(meta["x/.zattrs"], { _ARRAY_DIMENSIONS: ["x"], units: "m" });
    if (!xarrayReady) {
      console.log("  xarray check skipped: /usr/bin/python3 with xarray and zarr not found");
      return;
    }
    const py = `import xarray as xr, numpy as np
ds = xr.open_zarr("${out}/analyses.zarr")
assert ds.letkf_mean.dims == ("day", "layer", "y", "x"), ds.letkf_mean.dims
assert float(ds.x[0]) == 1e6 / 32 and float(ds.x[-1]) == 1e6 - 1e6 / 32
t = np.load("${out}/truth.npy")
assert np.array_equal(ds.truth.values, t[:8]), "truth round trip"
m = ds.letkf_members.values.mean(axis=0)
assert np.allclose(m, ds.letkf_mean.values, rtol=1e-4, atol=1e-12), "members average to the mean"
print("ok")`;
    const o = await new Deno.Command("/usr/bin/python3", { args: ["-c", py] }).output();
    assert.ok(o.success, new TextDecoder().decode(o.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cycle outputs: the LETKF tuning sweep ranks its combinations by RMSE", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await tuneLetkf({ ...common, methods: ["letkf"], out: `${dir}/tune` }, {
      loc: [50, Infinity],
      inflation: [1],
      rtps: [0.5],
    });
    assert.equal(r.rows.length, 2);
    assert.ok(r.rows[0].rmse_mean <= r.rows[1].rmse_mean);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/tune/tune.json`));
    assert.equal(saved.rows.length, 2);
    assert.ok(saved.free > r.rows[0].rmse_mean, "the best LETKF beats the free run");
    assert.match(await Deno.readTextFile(`${dir}/tune/tune.md`), /\| loc radius \(km\) \|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
