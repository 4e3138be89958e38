// deno task generate — the SOAD data pipeline: QG trajectories → pooled float32 windows in a
// Zarr v2 store. Usage: deno task generate --preset demo --out data/qg.zarr   (--help for all)
import { parseArgs } from "node:util";
import { QG_DEFAULTS, type QGParams } from "../src/qg/params.ts";
import { DATA_PRESETS, type DataConfigOverrides, resolveDataConfig } from "../src/data/config.ts";
import { generateDataset, type Shard } from "../src/data/generate.ts";
import { finalizeDataset } from "../src/data/finalize.ts";
import { openDatasetStore } from "../src/data/store.ts";

const HELP = `deno task generate [flags]

Runs the SOAD data pipeline: for each seed, pyqg's noise IC -> warm-up -> consecutive windows of
daily snapshots -> average pooling -> float32 windows (time, layer, y, x) in a Zarr v2 store
(arrays q, seed, start_day, done; attributes: config, QG params, split, normalisation stats).

Flags:
  --preset NAME       ${Object.keys(DATA_PRESETS).join(" | ")} (default demo)
  --out PATH          store directory (default data/qg.zarr)
  --resume            continue an interrupted store (same preset and flags); same bytes as one run;
                      every done window is re-checked (checksum) and damaged ones regenerated
  --shard I/N         generate only seeds s with s % N == I (0-based), into a shared store;
                      then run once with --finalize
  --finalize          check that every window is written and intact, compute the statistics,
                      finish (damaged windows are named and cleared for --resume)
  --workers N         parallel Deno Workers (default: one per core; 0 = this thread)
  --limit N           stop each seed after N model steps (smoke test; store left incomplete)
  --fft KIND          auto (default) | wasm | ts
  --quiet             no progress output
Config overrides (every field of the preset):
  --warmup-days N --seeds N --seed-offset N --windows N (per seed) --window N (snapshots)
  --every N (days between snapshots) --gap N (days between window starts) --pool N
  --train-fraction X --valid-fraction X
  --nx, --ny, --L, --W, --dt, --rek, --filterfac, --beta, --rd, --delta, --H1, --U1, --U2
`;

const CONFIG_FLAGS: Record<string, keyof DataConfigOverrides> = {
  "warmup-days": "warmupDays",
  "seeds": "seeds",
  "seed-offset": "seedOffset",
  "windows": "windowsPerSeed",
  "window": "window",
  "every": "every",
  "gap": "gap",
  "pool": "pool",
  "train-fraction": "trainFraction",
  "valid-fraction": "validFraction",
};

function num(name: string, v: string): number {
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x)) {
    throw new Error(`--${name} expects a number, got "${v}"`);
  }
  return x;
}

try {
  const str = { type: "string" as const };
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ...Object.fromEntries(Object.keys(QG_DEFAULTS).map((k) => [k, str])),
      ...Object.fromEntries(Object.keys(CONFIG_FLAGS).map((k) => [k, str])),
      preset: { type: "string", default: "demo" },
      out: { type: "string", default: "data/qg.zarr" },
      resume: { type: "boolean", default: false },
      shard: str,
      finalize: { type: "boolean", default: false },
      workers: str,
      limit: str,
      fft: { type: "string", default: "auto" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const out = v.out as string;
  if (v.finalize) {
    const attrs = finalizeDataset(openDatasetStore(out));
    console.log(
      `finalized ${out}: mean ${attrs.norm_mean?.map((x) => x.toExponential(3))}, ` +
        `std ${attrs.norm_std?.map((x) => x.toExponential(3))}`,
    );
    Deno.exit(0);
  }
  const overrides: DataConfigOverrides = {};
  const qg: Partial<QGParams> = {};
  for (const key of Object.keys(QG_DEFAULTS) as (keyof QGParams)[]) {
    if (typeof v[key] === "string") qg[key] = num(key, v[key] as string);
  }
  if (Object.keys(qg).length > 0) overrides.qg = qg;
  for (const [flag, field] of Object.entries(CONFIG_FLAGS)) {
    if (typeof v[flag] === "string") {
      (overrides as Record<string, number>)[field] = num(flag, v[flag] as string);
    }
  }
  const config = resolveDataConfig(v.preset as string, overrides);
  let shard: Shard | undefined;
  if (typeof v.shard === "string") {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard);
    if (!m) throw new Error(`--shard expects I/N (e.g. 0/4), got "${v.shard}"`);
    shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  const fft = v.fft as string;
  if (!["auto", "wasm", "ts"].includes(fft)) {
    throw new Error(`--fft expects auto, wasm or ts, got "${fft}"`);
  }
  if (!v.quiet) {
    const n = config.seeds * config.windowsPerSeed;
    console.error(
      `${config.name}: ${n} windows (${config.seeds} seeds x ${config.windowsPerSeed}) of ` +
        `${config.window} snapshots, ${config.qg.nx}x${config.qg.ny} dt ${config.qg.dt} s pooled ` +
        `by ${config.pool}, warm-up ${config.warmupDays} days -> ${out}` +
        (shard ? ` (shard ${shard.index}/${shard.count})` : ""),
    );
  }
  const r = await generateDataset({
    out,
    config,
    resume: v.resume as boolean,
    shard,
    workers: typeof v.workers === "string" ? num("workers", v.workers) : undefined,
    limitSteps: typeof v.limit === "string" ? num("limit", v.limit) : undefined,
    fft: fft as "auto" | "wasm" | "ts",
    progress: v.quiet ? false : "auto",
  });
  const rate = r.written / Math.max(r.seconds / 60, 1e-9);
  console.log(
    `${r.limited ? "stopped by --limit" : "done"}: ${out} — ${r.written} windows written, ` +
      `${r.skipped} already done, ${r.seconds.toFixed(1)} s (${rate.toFixed(1)} windows/min)` +
      (r.repaired.length
        ? `, ${r.repaired.length} damaged window(s) regenerated (${
          r.repaired.slice(0, 5).join(", ")
        })`
        : "") +
      (r.finalized
        ? ", finalized"
        : shard
        ? `; shard ${shard.index}/${shard.count} done — run --finalize once all shards finish`
        : "; store incomplete"),
  );
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
