// Every stored frame of a small store equals a fresh QGModel run from the same seed (spec §1.1):
// noise IC → warm-up → per window a new model started from the window's first state (the store's
// documented restart), daily snapshots every `every` days, window starts `gap` days apart, 2×2
// average pooling written out here; and the normalisation statistics are those of the re-run.
import assert from "node:assert/strict";
import { type DataConfig, resolveDataConfig } from "../src/data/config.ts";
import { generateDataset } from "../src/data/generate.ts";
import { openDatasetStore, readWindow } from "../src/data/store.ts";
import { icNoise } from "../src/qg/initial.ts";
import { QGModel } from "../src/qg/model.ts";
import { tempStore } from "./data_helpers.ts";

/** 2×2 average pooling, float64 then float32. */
function pool2(q: Float64Array, n: number): Float32Array {
  const h = n / 2, out = new Float32Array(2 * h * h);
  for (let c = 0; c < 2; c++) {
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < h; i++) {
        const at = (y: number, x: number) => q[(c * n + y) * n + x];
        const s = at(2 * j, 2 * i) + at(2 * j, 2 * i + 1) + at(2 * j + 1, 2 * i) +
          at(2 * j + 1, 2 * i + 1);
        out[(c * h + j) * h + i] = s / 4;
      }
    }
  }
  return out;
}

/** The windows of one seed, re-simulated: [window][time][layer][y][x]. */
function rerun(c: DataConfig, seed: number): Float32Array[] {
  const n = c.qg.nx, spd = 86400 / c.qg.dt;
  const warm = new QGModel(c.qg);
  warm.setQ(icNoise(n, n, c.seedOffset + seed));
  warm.step(c.warmupDays * spd);
  let start = warm.q;
  const out: Float32Array[] = [];
  const frame = 2 * (n / 2) * (n / 2);
  for (let k = 0; k < c.windowsPerSeed; k++) {
    const m = new QGModel(c.qg);
    m.setQ(start);
    const w = new Float32Array(c.window * frame);
    for (let t = 0; t < c.window; t++) {
      if (t > 0) m.step(c.every * spd);
      w.set(pool2(m.q, n), t * frame);
    }
    // the next window starts gap days after this one's first snapshot
    m.step((c.gap - (c.window - 1) * c.every) * spd);
    start = m.q;
    out.push(w);
  }
  return out;
}

for (
  const [name, config] of [
    ["tiny", resolveDataConfig("tiny")],
    [
      "tiny, every 2 days",
      resolveDataConfig("tiny", { seeds: 1, windowsPerSeed: 3, window: 4, every: 2, gap: 11 }),
    ],
  ] as const
) {
  Deno.test(`data: every frame of the ${name} store equals a fresh QGModel run, pooled`, async () => {
    const out = tempStore();
    try {
      await generateDataset({ out, config, workers: 0, progress: false });
      const s = openDatasetStore(out);
      const total = config.seeds * config.windowsPerSeed;
      const sums = [0, 0], sq = [0, 0], counts = [0, 0];
      const nTrain = s.attrs.split.train[1];
      for (let seed = 0; seed < config.seeds; seed++) {
        const ref = rerun(config, seed);
        for (let k = 0; k < config.windowsPerSeed; k++) {
          const w = seed * config.windowsPerSeed + k;
          assert.ok(w < total);
          const got = readWindow(s, w), want = ref[k];
          assert.equal(got.length, want.length);
          let err = 0, mag = 0;
          for (let i = 0; i < want.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]));
            mag = Math.max(mag, Math.abs(want[i]));
          }
          assert.ok(err <= 1e-6 * mag, `seed ${seed} window ${k}: max difference ${err} (${mag})`);
          if (w < nTrain) {
            const R = want.length / config.window / 2;
            for (let i = 0; i < want.length; i++) {
              const layer = Math.floor(i / R) % 2;
              sums[layer] += want[i];
              sq[layer] += want[i] * want[i];
              counts[layer]++;
            }
          }
        }
      }
      for (let layer = 0; layer < 2; layer++) {
        const mean = sums[layer] / counts[layer];
        const std = Math.sqrt(sq[layer] / counts[layer] - mean * mean);
        const { norm_mean, norm_std } = s.attrs;
        assert.ok(Math.abs(norm_std![layer] / std - 1) < 1e-6, `layer ${layer} std`);
        assert.ok(Math.abs(norm_mean![layer] - mean) < 1e-6 * std, `layer ${layer} mean`);
      }
    } finally {
      await Deno.remove(out.slice(0, out.lastIndexOf("/")), { recursive: true });
    }
  });
}
