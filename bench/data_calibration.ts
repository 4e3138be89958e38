// Calibration of a dataset store against a reference store on the same output grid (e.g. the
// demo preset vs a coarsened higher-resolution run): per-layer q mean/std, KE and APE of the
// pooled fields (inverted on the output grid), and the isotropic KE spectrum, averaged over
// windows and snapshots. Usage:
//   deno run -A bench/data_calibration.ts data/qg.zarr [data/ref.zarr] [--json out.json]
import { parseArgs } from "node:util";
import { QGModel } from "../src/qg/model.ts";
import { outputGrid } from "../src/data/config.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";

interface Summary {
  path: string;
  sim: string;
  windows: number;
  qStd: number[];
  qMean: number[];
  ke: [number, number];
  keLayer: [number[], number[]];
  ape: number;
  kr: number[];
  spectrum: [number[], number[]];
}

function summarize(path: string): Summary {
  const s = openDatasetStore(path);
  const c = s.config;
  const [h, w] = outputGrid(c);
  const model = new QGModel({ ...c.qg, nx: w, ny: h }, { checkStability: false });
  const n = c.seeds * c.windowsPerSeed;
  const frame = 2 * h * w;
  let count = 0, ke = 0, ke2 = 0, ape = 0;
  const keL = [0, 0];
  const sum = [0, 0], sq = [0, 0];
  let spec: [Float64Array, Float64Array] | null = null;
  let kr: Float64Array | null = null;
  const q = new Float64Array(frame);
  for (let win = 0; win < n; win++) {
    const d = readWindow(s, win);
    for (let t = 0; t < c.window; t++) {
      for (let i = 0; i < frame; i++) q[i] = d[t * frame + i];
      for (let l = 0; l < 2; l++) {
        for (let i = 0; i < h * w; i++) {
          const v = q[l * h * w + i];
          sum[l] += v;
          sq[l] += v * v;
        }
      }
      model.setQ(q);
      const dg = model.diagnostics();
      ke += dg.ke;
      ke2 += dg.ke * dg.ke;
      keL[0] += dg.ke_layer[0];
      keL[1] += dg.ke_layer[1];
      ape += dg.ape;
      const sp = model.keSpectrum();
      if (!spec) {
        spec = [new Float64Array(sp.kr.length), new Float64Array(sp.kr.length)];
        kr = sp.kr;
      }
      for (let l = 0; l < 2; l++) {
        for (let i = 0; i < sp.kr.length; i++) spec[l][i] += sp.spectrum[l][i];
      }
      count++;
    }
  }
  const m = count * h * w;
  const mean = sum.map((v) => v / m);
  return {
    path,
    sim: `${c.qg.nx}x${c.qg.ny} dt ${c.qg.dt} pool ${c.pool}`,
    windows: n,
    qMean: mean,
    qStd: sq.map((v, l) => Math.sqrt(v / m - mean[l] * mean[l])),
    ke: [ke / count, Math.sqrt(Math.max(0, ke2 / count - (ke / count) ** 2))],
    keLayer: [[keL[0] / count], [keL[1] / count]],
    ape: ape / count,
    kr: Array.from(kr!),
    spectrum: [Array.from(spec![0], (v) => v / count), Array.from(spec![1], (v) => v / count)],
  };
}

const { positionals, values } = parseArgs({
  args: Deno.args,
  options: { json: { type: "string" } },
  allowPositionals: true,
});
const sums = positionals.map(summarize);
const e = (x: number) => x.toExponential(3);
for (const r of sums) {
  console.log(
    `${r.path} (${r.sim}, ${r.windows} windows): q std ${r.qStd.map(e).join(", ")}; ` +
      `KE ${e(r.ke[0])} ± ${e(r.ke[1])} (layers ${e(r.keLayer[0][0])}, ${
        e(r.keLayer[1][0])
      }); APE ${e(r.ape)}`,
  );
}
if (sums.length === 2) {
  const [a, b] = sums;
  console.log(
    `ratio (first / second): q std ${a.qStd.map((v, i) => (v / b.qStd[i]).toFixed(3))}, ` +
      `KE ${(a.ke[0] / b.ke[0]).toFixed(3)}, APE ${(a.ape / b.ape).toFixed(3)}`,
  );
  console.log("KE spectrum ratio per bin (layer 1 | layer 2):");
  for (let i = 0; i < a.kr.length; i += 3) {
    console.log(
      `  k=${e(a.kr[i])}  ${(a.spectrum[0][i] / b.spectrum[0][i]).toFixed(3)} | ${
        (a.spectrum[1][i] / b.spectrum[1][i]).toFixed(3)
      }`,
    );
  }
}
if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(sums, null, 1));
