// Interop: the store opens in Python with xarray.open_zarr and zarr, with the same values.
// Skipped (with the reason printed) when /usr/bin/python3 lacks xarray or zarr
// (apt-get install -y python3-xarray python3-zarr).
import assert from "node:assert/strict";
import { DATA_PRESETS } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { tempStore } from "./data_helpers.ts";

const PY = "/usr/bin/python3";

async function pythonReason(): Promise<string | null> {
  try {
    const r = await new Deno.Command(PY, {
      args: ["-c", "import xarray, zarr"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (r.code === 0) return null;
    return `${PY} cannot import xarray/zarr (apt-get install -y python3-xarray python3-zarr)`;
  } catch {
    return `${PY} not found`;
  }
}

const reason = await pythonReason();
if (reason) console.log(`skipping data interop test: ${reason}`);

Deno.test({
  name: "data interop: xarray.open_zarr and zarr read the store",
  ignore: reason !== null,
  fn: async () => {
    const out = tempStore();
    await generateDataset({ out, config: DATA_PRESETS.tiny, workers: 0, progress: false });
    const script = `
import json, sys
import numpy as np, xarray as xr, zarr
ds = xr.open_zarr(sys.argv[1])
z = zarr.open(sys.argv[1], mode="r")
q = ds.q.values
train = q[ds.attrs["split"]["train"][0]:ds.attrs["split"]["train"][1]].astype(np.float64)
print(json.dumps({
  "dims": list(ds.q.dims), "shape": list(q.shape), "dtype": str(q.dtype),
  "seed": ds.seed.values.tolist(), "start_day": ds.start_day.values.tolist(),
  "done": z["done"][:].tolist(), "nx": ds.attrs["config"]["qg"]["nx"],
  "norm_std": ds.attrs["norm_std"], "complete": ds.attrs["complete"],
  "std": [float(train[:, :, c].std()) for c in range(2)],
  "mean": [float(train[:, :, c].mean()) for c in range(2)],
  "w3": q[3, 2, 1, 5, 7].item(),
  "coords": sorted(ds.coords),
  "time_days": (ds.time.values / np.timedelta64(1, "D")).tolist(),
  "x": ds.x.values.tolist(), "y_units": ds.y.attrs["units"], "layer": ds.layer.values.tolist(),
  "window": ds.window.values.tolist(),
}))
`;
    const r = await new Deno.Command(PY, { args: ["-c", script, out] }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, err);
    const py = JSON.parse(new TextDecoder().decode(r.stdout));
    const s = openDatasetStore(out);
    assert.deepEqual(py.dims, ["window", "time", "layer", "y", "x"]);
    assert.deepEqual(py.shape, [10, 10, 2, 16, 16]);
    assert.equal(py.dtype, "float32");
    assert.deepEqual(py.seed, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert.deepEqual(py.start_day, [20, 32, 44, 56, 68, 20, 32, 44, 56, 68]);
    assert.deepEqual(py.done, Array(10).fill(1));
    assert.equal(py.nx, 32);
    assert.equal(py.complete, true);
    assert.deepEqual(py.norm_std, s.attrs.norm_std);
    for (let c = 0; c < 2; c++) {
      assert.ok(Math.abs(py.std[c] / s.attrs.norm_std![c] - 1) < 1e-9);
      assert.ok(Math.abs(py.mean[c] - s.attrs.norm_mean![c]) < 1e-9 * py.std[c]);
    }
    assert.equal(py.w3, readWindow(s, 3)[((2 * 2 + 1) * 16 + 5) * 16 + 7]);
    // coordinates: time in days, layer, y and x cell centres in metres (domain 1e6 m, 16 cells)
    assert.deepEqual(py.coords, ["layer", "time", "window", "x", "y"]);
    assert.deepEqual(py.time_days, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(py.x, Array.from({ length: 16 }, (_, i) => (i + 0.5) * 62500));
    assert.equal(py.y_units, "m");
    assert.deepEqual(py.layer, [0, 1]);
    assert.deepEqual(py.window, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  },
});
