// deno task qg — run the two-layer QG model with a progress bar and write pictures and
// diagnostics. Usage: deno task qg --nx 64 --days 365 --out run/   (--help for all flags)
import { parseArgs } from "node:util";
import { QG_DEFAULTS, type QGParams } from "../src/qg/params.ts";
import { runQG } from "./qg_run.ts";

const HELP = `deno task qg [flags]

Runs the two-layer QG model (pyqg's QGModel) and writes to --out:
  q.png             PV of both layers at the end (diverging colormap)
  energy.png        KE, APE and energy against time
  spectrum.png      isotropic KE spectrum per layer at the end (log-log)
  diagnostics.json  parameters, run info and the diagnostics time series
  q.npy             the final PV, float64 [layer][y][x]

Flags:
  --days N      simulated days (default 365)
  --every N     days between diagnostics samples (default 1)
  --ic KIND     noise (pyqg's noise IC, default) | modes | path/to/q.npy ([2][ny][nx] float64)
  --seed N      seed of the noise IC (default 0)
  --fft KIND    auto (default) | wasm | ts
  --out DIR     output folder (default run/); refused when it holds files, unless --force
  --force       replace the files of a non-empty --out
  --nx, --ny, --L, --W, --dt, --rek, --filterfac, --beta, --rd, --delta, --H1, --U1, --U2
                any pyqg QGModel parameter (defaults: pyqg's, except dt = 900 s as in SOAD)
`;

const paramFlags = Object.fromEntries(
  Object.keys(QG_DEFAULTS).map((k) => [k, { type: "string" as const }]),
);

try {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ...paramFlags,
      days: { type: "string", default: "365" },
      every: { type: "string", default: "1" },
      ic: { type: "string", default: "noise" },
      seed: { type: "string", default: "0" },
      fft: { type: "string", default: "auto" },
      out: { type: "string", default: "run/" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const num = (name: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === "" || !Number.isFinite(x)) {
      throw new Error(`--${name} expects a number, got "${v}"`);
    }
    return x;
  };
  const params: Partial<QGParams> = { dt: 900 };
  for (const key of Object.keys(QG_DEFAULTS) as (keyof QGParams)[]) {
    const v = (values as Record<string, unknown>)[key];
    if (typeof v === "string") params[key] = num(key, v);
  }
  const fft = values.fft as string;
  if (!["auto", "wasm", "ts"].includes(fft)) {
    throw new Error(`--fft expects auto, wasm or ts, got "${fft}"`);
  }
  await runQG({
    params,
    days: num("days", values.days),
    every: num("every", values.every),
    ic: values.ic as string,
    seed: num("seed", values.seed),
    fft: fft as "auto" | "wasm" | "ts",
    out: values.out as string,
    force: values.force as boolean,
  });
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
