// saveAnalysis: the ensemble, mean, spread and truth as a Zarr group with coordinates, in
// physical q; xarray opens it (skipped with the reason printed when /usr/bin/python3 lacks xarray).
import assert from "node:assert/strict";
import { saveAnalysis } from "../src/assim/save_analysis.ts";

const PY = "/usr/bin/python3";
const reason = await new Deno.Command(PY, { args: ["-c", "import xarray, zarr"], stderr: "null" })
  .output()
  .then((r) => (r.code === 0 ? null : `${PY} cannot import xarray/zarr`), () => `${PY} not found`);
if (reason) console.log(`skipping the xarray check of saveAnalysis: ${reason}`);

function fakeResult() {
  const [S, L, C, H, W] = [2, 3, 4, 4, 8];
  const samples = Float32Array.from({ length: S * L * C * H * W }, (_, i) => (i % 17) / 8 - 1);
  const R = H * W;
  const mean = new Float32Array(L * 2 * R), spread = new Float32Array(L * 2 * R);
  for (let f = 0; f < L; f++) {
    for (let k = 0; k < 2 * R; k++) {
      const a = samples[(0 * L + f) * C * R + k], b = samples[(1 * L + f) * C * R + k];
      mean[f * 2 * R + k] = (a + b) / 2;
      spread[f * 2 * R + k] = Math.abs(a - b) / 2;
    }
  }
  return {
    samples,
    shape: [S, L, C, H, W] as [number, number, number, number, number],
    mean,
    spread,
  };
}

const norm = { offset: [1e-7, 0], std: [8e-6, 1e-6] };

Deno.test("saveAnalysis writes physical q with coordinates and refuses an existing store", async () => {
  const dir = await Deno.makeTempDir();
  const r = fakeResult();
  const out = `${dir}/a.zarr`;
  await saveAnalysis(out, r, { normalisation: norm, extent: 8e5, startDay: 4, truth: r.mean });
  const meta = JSON.parse(await Deno.readTextFile(`${out}/.zmetadata`)).metadata;
  assert.deepEqual(meta["q_mean/.zattrs"]._ARRAY_DIMENSIONS, ["time", "layer", "y", "x"]);
  assert.deepEqual(meta["q_ensemble/.zarray"].shape, [2, 3, 2, 4, 8]);
  // the mean's first value in physical units: x * std + offset (layer 0)
  const bytes = await Deno.readFile(`${out}/q_mean/0.0.0.0`);
  const first = new DataView(bytes.buffer).getFloat32(0, true);
  assert.equal(first, Math.fround(r.mean[0] * 8e-6 + 1e-7));
  await assert.rejects(() => saveAnalysis(out, r, { normalisation: norm }));
  await saveAnalysis(out, r, { normalisation: norm, replace: true });
  if (!reason) {
    const py = await new Deno.Command(PY, {
      args: [
        "-c",
        `
import json, sys, numpy as np, xarray as xr
d = xr.open_zarr(sys.argv[1])
print(json.dumps({"days": (d.time.values / np.timedelta64(1, "D")).tolist(), "x": d.x.values.tolist(),
  "y": d.y.values.tolist(), "spread": float(d.q_spread.isel(time=1, layer=1, y=2, x=3)),
  "member": d.q_ensemble.dims[0], "mean": float(d.q_mean.isel(time=0, layer=0, y=0, x=0))}))`,
        `${dir}/b.zarr`,
      ],
    });
    await saveAnalysis(`${dir}/b.zarr`, r, {
      normalisation: norm,
      extent: 8e5,
      startDay: 4,
      daysPerFrame: 2,
    });
    const o = await py.output();
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const v = JSON.parse(new TextDecoder().decode(o.stdout));
    assert.deepEqual(v.days, [4, 6, 8]);
    assert.deepEqual(v.x, [5e4, 1.5e5, 2.5e5, 3.5e5, 4.5e5, 5.5e5, 6.5e5, 7.5e5]);
    assert.deepEqual(v.y, [1e5, 3e5, 5e5, 7e5]);
    assert.equal(v.member, "member");
    const k = (1 * 2 + 1) * 32 + 2 * 8 + 3;
    assert.ok(Math.abs(v.spread - r.spread[k] * 1e-6) < 1e-12);
    assert.equal(v.mean, Math.fround(r.mean[0] * 8e-6 + 1e-7));
  }
  await Deno.remove(dir, { recursive: true });
});
