// The QG run shared by `deno task qg` and `deno task demo`: simulate, sample diagnostics, and
// write pictures, a JSON of diagnostics and the final state, each file atomically.
import { join } from "node:path";
import { InvalidArgumentError } from "../src/errors.ts";
import { QGModel } from "../src/qg/model.ts";
import type { QGParams } from "../src/qg/params.ts";
import { icModes, icNoise } from "../src/qg/initial.ts";
import type { QGDiagnostics } from "../src/qg/diagnostics.ts";
import { encodeNpy, readNpy } from "../src/io/npy.ts";
import { writeFileAtomic, writeJsonAtomic } from "../src/io/atomic.ts";
import { prepareOutputDir } from "../src/io/output_dir.ts";
import { writePng } from "../src/io/image.ts";
import { fieldPanels, lineChart } from "../src/io/plot.ts";
import { Progress } from "../src/io/progress.ts";

/** What to run and where to write it. */
export interface QGRunOptions {
  params: Partial<QGParams>;
  days: number;
  every: number;
  ic: string;
  seed: number;
  fft: "auto" | "wasm" | "ts";
  out: string;
  label?: string;
  /** Replace the files of a non-empty `out` (default: refuse it before simulating). */
  force?: boolean;
}

/** Most diagnostics samples kept (each holds every diagnostic; ~200 bytes). */
export const MAX_QG_SAMPLES = 1_000_000;
/** Most model steps of one run (≈ 27 000 years at dt = 900 s). */
export const MAX_QG_STEPS = 1_000_000_000;

/** Runs the model and writes q.png, energy.png, spectrum.png, diagnostics.json and q.npy. */
export async function runQG(o: QGRunOptions): Promise<QGDiagnostics> {
  if (!(o.days > 0)) throw new InvalidArgumentError(`--days must be > 0, got ${o.days}`);
  if (!(o.every > 0)) throw new InvalidArgumentError(`--every must be > 0, got ${o.every}`);
  if (o.every > o.days) {
    throw new InvalidArgumentError(
      `--every (${o.every} days) must be <= --days (${o.days}): the run samples its ` +
        `diagnostics within the days it simulates`,
    );
  }
  const model = new QGModel(o.params, { fft: o.fft });
  const p = model.params;
  const total = Math.round((o.days * 86400) / p.dt);
  if (total < 1) {
    throw new InvalidArgumentError(
      `--days ${o.days} with --dt ${p.dt} s is ${o.days * 86400 / p.dt} steps, which rounds to ` +
        `0; give more --days or a smaller --dt (at least one step)`,
    );
  }
  if (total > MAX_QG_STEPS) {
    throw new InvalidArgumentError(
      `--days ${o.days} with --dt ${p.dt} s is ${total.toExponential(2)} steps, over the limit ` +
        `of ${
          MAX_QG_STEPS.toExponential(0)
        } steps per run; run fewer days (or chain runs with --ic)`,
    );
  }
  const perSample = Math.min(total, Math.max(1, Math.round((o.every * 86400) / p.dt)));
  const samples = Math.ceil(total / perSample);
  if (samples > MAX_QG_SAMPLES) {
    throw new InvalidArgumentError(
      `--days ${o.days} / --every ${o.every} is ${samples} diagnostics samples (about ` +
        `${Math.ceil(samples * 200 / 2 ** 20)} MiB kept in memory), over the limit of ` +
        `${MAX_QG_SAMPLES}; give a larger --every`,
    );
  }
  const q0 = await initialCondition(o.ic, o.seed, p.nx, p.ny);
  await prepareOutputDir(o.out, { force: o.force });
  model.setQ(q0);
  const series: (QGDiagnostics & { day: number })[] = [{ day: 0, ...model.diagnostics() }];
  console.error(
    `QG nx=${p.nx} ny=${p.ny} dt=${p.dt}s, ${total} steps (${o.days} days), ` +
      `FFT: ${model.fft.backend}`,
  );
  const progress = new Progress({ total: samples, label: o.label ?? "qg" });
  const t0 = performance.now();
  for (let s = 0; s < samples; s++) {
    model.step(Math.min(perSample, total - s * perSample));
    const d = model.diagnostics();
    series.push({ day: model.time / 86400, ...d });
    progress.tick(1, `KE ${d.ke.toExponential(2)} CFL ${d.cfl.toFixed(3)}`);
  }
  progress.done();
  const wall = (performance.now() - t0) / 1000;
  const { nx, ny } = p;
  const q = model.q;
  const days = series.map((d) => d.day);
  const spec = model.keSpectrum();
  const title = `day ${(model.time / 86400).toFixed(0)}`;
  await writePng(
    join(o.out, "q.png"),
    fieldPanels([
      { title: `q1 (upper) ${title}`, data: q.subarray(0, nx * ny), ny, nx },
      { title: `q2 (lower) ${title}`, data: q.subarray(nx * ny), ny, nx },
    ], { suptitle: `QG potential vorticity [1/s], nx=${nx}, dt=${p.dt}s` }),
  );
  await writePng(
    join(o.out, "energy.png"),
    lineChart([
      { name: "KE", x: days, y: series.map((d) => d.ke) },
      { name: "APE", x: days, y: series.map((d) => d.ape) },
      { name: "KE + APE", x: days, y: series.map((d) => d.energy) },
    ], { title: "energy per unit mass", xlabel: "day", ylabel: "m^2/s^2", logY: true }),
  );
  const kr = Array.from(spec.kr);
  // the filter's tail falls to ~1e-30; show 8 decades below the peak
  const peak = Math.max(...spec.spectrum[0], ...spec.spectrum[1]);
  const positive = (a: Float64Array) => Array.from(a, (v) => Math.max(v, peak * 1e-8));
  await writePng(
    join(o.out, "spectrum.png"),
    lineChart([
      { name: "upper layer", x: kr, y: positive(spec.spectrum[0]) },
      { name: "lower layer", x: kr, y: positive(spec.spectrum[1]) },
    ], {
      title: `isotropic KE spectrum, ${title}`,
      xlabel: "wavenumber [1/m]",
      ylabel: "KE density",
      logX: true,
      logY: true,
    }),
  );
  await writeFileAtomic(join(o.out, "q.npy"), encodeNpy(q, [2, ny, nx]));
  const final = series[series.length - 1];
  await writeJsonAtomic(join(o.out, "diagnostics.json"), {
    params: p,
    ic: o.ic === "noise" ? `noise (seed ${o.seed})` : o.ic,
    steps: model.steps,
    days: model.time / 86400,
    wall_s: wall,
    steps_per_s: model.steps / wall,
    fft: model.fft.backend,
    final,
    spectrum: {
      kr,
      ke_layer1: Array.from(spec.spectrum[0]),
      ke_layer2: Array.from(spec.spectrum[1]),
    },
    series,
  });
  console.error(
    `done: ${model.steps} steps in ${wall.toFixed(1)} s (${
      (model.steps / wall).toFixed(0)
    } steps/s); ` +
      `KE ${final.ke.toExponential(3)} m^2/s^2, max CFL seen ${
        Math.max(...series.map((d) => d.cfl)).toFixed(3)
      }; wrote ${o.out}`,
  );
  return final;
}

async function initialCondition(
  ic: string,
  seed: number,
  nx: number,
  ny: number,
): Promise<Float64Array> {
  if (ic === "noise") {
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) {
      throw new InvalidArgumentError(`--seed must be an integer in 0..${2 ** 31 - 1}, got ${seed}`);
    }
    return icNoise(nx, ny, seed);
  }
  if (ic === "modes") return icModes(nx, ny);
  let arr;
  try {
    arr = await readNpy(ic);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new InvalidArgumentError(
        `--ic expects noise, modes or an existing .npy file; "${ic}" not found`,
      );
    }
    throw e;
  }
  const want = [2, ny, nx];
  if (arr.shape.length !== 3 || arr.shape.some((s, i) => s !== want[i])) {
    throw new InvalidArgumentError(
      `--ic ${ic}: expected shape [${want}] ([layer][y][x]), got [${arr.shape}]`,
    );
  }
  const q = Float64Array.from(arr.data as ArrayLike<number>);
  const bad = q.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new InvalidArgumentError(
      `--ic ${ic}: value ${q[bad]} at flat index ${bad} is not finite`,
    );
  }
  return q;
}
