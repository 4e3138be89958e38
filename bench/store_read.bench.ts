/**
 * Reading one demo-sized window (16 × 2 × 64² float32, 512 KiB) from a dataset store with and
 * without its CRC-32 check: what `verify: false` (`train --no-verify`) saves.
 * Run: `deno bench -A bench/store_read.bench.ts` (the ratio is printed by deno bench's summary).
 * @module
 */

import { resolveDataConfig } from "../src/data/config.ts";
import {
  openDatasetStore,
  prepareDatasetStore,
  readWindow,
  writeWindow,
} from "../src/data/store.ts";

const config = resolveDataConfig("demo", { seeds: 1, windowsPerSeed: 4 });
const dir = Deno.makeTempDirSync({ prefix: "soad_bench_store_" }) + "/d.zarr";
const s = await prepareDatasetStore(dir, config, { reuse: false });
const data = Float32Array.from({ length: 16 * 2 * 64 * 64 }, (_, i) => Math.sin(i * 0.1));
for (let w = 0; w < 4; w++) await writeWindow(s, w, data);
const checked = openDatasetStore(dir);
const unchecked = openDatasetStore(dir, { verify: false });
let w = 0;

Deno.bench(
  { name: "readWindow 64² x 16 frames, no checksum", group: "read", baseline: true },
  () => {
    readWindow(unchecked, w++ % 4);
  },
);
Deno.bench({ name: "readWindow 64² x 16 frames, CRC-32 checked", group: "read" }, () => {
  readWindow(checked, w++ % 4);
});
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
