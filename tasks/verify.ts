/**
 * `deno task verify PATH...` — checks the integrity and identity of soad outputs, one line per
 * object: a dataset store (metadata documents, every window's size and checksum, the
 * fingerprint recomputed), a training checkpoint or weights file (safetensors structure, tensors
 * against the network, finite values), a prior folder or training run (each of its safetensors
 * files), an experiment output (results.json: format, unique cells, finite numbers, the data
 * fingerprint it was run on). Exit status 1 when anything is damaged, 2 on bad usage.
 * @module
 */

import { storeFingerprint } from "../src/data/finalize.ts";
import { openDatasetStore, windowStatus } from "../src/data/store.ts";
import { readSafetensors, readSafetensorsMetadata } from "../src/io/safetensors.ts";
import { unetConfigFromWeights } from "../src/diffusion/unet_config.ts";
import { CHECKPOINT_FORMAT, decodeCheckpoint, valuesCrc32 } from "../src/train/checkpoint.ts";
import { ParamLayout } from "../src/train/param_layout.ts";
import { readResults } from "../src/harness/experiment.ts";

const HELP = `deno task verify PATH [PATH...]

Checks soad outputs and prints one line per object ("ok" or "DAMAGED" with the reason):
  a dataset store (.zarr)   metadata, every window's checksum, the fingerprint
  a .safetensors file       a training checkpoint (tensors vs its network, finite values) or
                            U-Net weights (complete network, finite values)
  a prior folder / run      every .safetensors file in it (card.json / train.json readable)
  an experiment output      results.json: format, unique cells, finite RMSE, data fingerprint
Exit status: 0 when everything is intact, 1 when anything is damaged, 2 on bad usage.
`;

/** One verified object. */
export interface VerifyLine {
  /** What was checked. */
  path: string;
  /** Kind of object. */
  kind: string;
  /** Whether it is intact. */
  ok: boolean;
  /** What was found (identity when ok, the damage otherwise). */
  detail: string;
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function verifyStore(path: string): VerifyLine {
  const s = openDatasetStore(path);
  const n = s.config.seeds * s.config.windowsPerSeed;
  const damaged: number[] = [];
  let missing = 0;
  for (let w = 0; w < n; w++) {
    const st = windowStatus(s, w);
    if (st === "damaged") damaged.push(w);
    else if (st === "missing") missing++;
  }
  if (damaged.length) {
    return {
      path,
      kind: "store",
      ok: false,
      detail: `${damaged.length} of ${n} windows damaged (first: ${
        damaged.slice(0, 5).join(", ")
      }); run deno task generate --out ${path} --resume (same flags) to regenerate them`,
    };
  }
  const a = s.attrs;
  if (a.complete) {
    if (!a.norm_mean || !a.norm_std || !a.fingerprint) {
      return { path, kind: "store", ok: false, detail: "complete but without statistics" };
    }
    const fp = storeFingerprint(s, a.norm_mean, a.norm_std);
    if (fp !== a.fingerprint) {
      return {
        path,
        kind: "store",
        ok: false,
        detail: `fingerprint ${a.fingerprint} recorded, ${fp} recomputed (altered attributes ` +
          `or checksums); run deno task generate --out ${path} --finalize`,
      };
    }
  }
  return {
    path,
    kind: "store",
    ok: true,
    detail: `${n - missing}/${n} windows intact, ${
      a.complete ? `complete, ${a.fingerprint}` : `incomplete (${missing} to generate)`
    }`,
  };
}

function verifySafetensors(path: string): VerifyLine {
  const bytes = Deno.readFileSync(path);
  const md = readSafetensorsMetadata(bytes);
  if (md.format === CHECKPOINT_FORMAT) {
    const st = decodeCheckpoint(bytes, `checkpoint ${path}`);
    const arrays = [["weights", st.params], ["exp_avg", st.m], ["exp_avg_sq", st.v]];
    if (st.ema) arrays.push(["ema", st.ema]);
    for (const [what, arr] of arrays) {
      const i = firstNonFinite(arr as Float32Array);
      if (i >= 0) {
        return {
          path,
          kind: "checkpoint",
          ok: false,
          detail: `${what} value ${(arr as Float32Array)[i]} at flat index ${i} is not finite`,
        };
      }
    }
    const fp = (st.data as { fingerprint?: string }).fingerprint;
    return {
      path,
      kind: "checkpoint",
      ok: true,
      detail: `${st.config.model}, step ${st.step}/${st.config.steps}` +
        (fp ? `, data ${fp}` : ""),
    };
  }
  const tensors = readSafetensors(bytes);
  const config = unetConfigFromWeights(tensors);
  const flat = new ParamLayout(config).fromTorch(tensors);
  if (md.crc32 !== undefined && md.crc32 !== valuesCrc32(flat)) {
    return {
      path,
      kind: "weights",
      ok: false,
      detail: `tensors fail the CRC-32 recorded in the metadata (${md.crc32})`,
    };
  }
  for (const [name, t] of tensors) {
    const i = firstNonFinite(t.data);
    if (i >= 0) {
      return {
        path,
        kind: "weights",
        ok: false,
        detail: `tensor ${name}: value ${t.data[i]} at index ${i} is not finite`,
      };
    }
  }
  return {
    path,
    kind: "weights",
    ok: true,
    detail: `U-Net C = ${config.channels}, widths [${config.widths}]` +
      (md.model ? `, model ${md.model}` : ""),
  };
}

async function verifyResults(path: string): Promise<VerifyLine> {
  const r = (await readResults(path))!;
  const keys = r.cells.map((c) => c.key);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) return { path, kind: "experiment", ok: false, detail: `cell ${dup} appears twice` };
  const bad = r.cells.find((c) => !Number.isFinite(c.rmse) || !c.rmseFrames.every(Number.isFinite));
  if (bad) {
    return { path, kind: "experiment", ok: false, detail: `cell ${bad.key}: non-finite RMSE` };
  }
  const data = (r.inputs as { data?: unknown }).data;
  const fp = (data as { fingerprint?: string })?.fingerprint;
  return {
    path,
    kind: "experiment",
    ok: true,
    detail: `${r.cells.length} cells` + (fp ? `, data ${fp}` : `, data ${JSON.stringify(data)}`),
  };
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Verifies one path (see the module doc), returning one line per object found.
 *
 * @example
 * ```ts
 * import { verifyPath } from "./verify.ts";
 * const lines = await verifyPath("/nonexistent");
 * console.log(lines[0].ok); // false
 * ```
 */
export async function verifyPath(path: string): Promise<VerifyLine[]> {
  const wrap = async (kind: string, f: () => VerifyLine | Promise<VerifyLine>) => {
    try {
      return await f();
    } catch (e) {
      return { path, kind, ok: false, detail: (e as Error).message };
    }
  };
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch {
    return [{ path, kind: "?", ok: false, detail: "does not exist" }];
  }
  if (st.isFile) {
    if (path.endsWith(".safetensors")) {
      return [await wrap("safetensors", () => verifySafetensors(path))];
    }
    return [{
      path,
      kind: "?",
      ok: false,
      detail: "not a store, safetensors file or folder soad knows",
    }];
  }
  if (exists(`${path}/.zattrs`)) return [await wrap("store", () => verifyStore(path))];
  const lines: VerifyLine[] = [];
  if (exists(`${path}/results.json`)) {
    lines.push(await wrap("experiment", () => verifyResults(path)));
  }
  for (const f of ["card.json", "train.json"]) {
    if (!exists(`${path}/${f}`)) continue;
    lines.push(
      await wrap("json", () => {
        JSON.parse(Deno.readTextFileSync(`${path}/${f}`));
        return { path: `${path}/${f}`, kind: "json", ok: true, detail: "readable" };
      }),
    );
  }
  const files = [...Deno.readDirSync(path)].filter((e) =>
    e.isFile && e.name.endsWith(".safetensors")
  )
    .map((e) => e.name).sort();
  for (const f of files) {
    const p = `${path}/${f}`;
    lines.push(await wrap("safetensors", () => verifySafetensors(p)));
  }
  if (!lines.length) {
    lines.push({
      path,
      kind: "?",
      ok: false,
      detail: "no store, results, prior or checkpoint here",
    });
  }
  return lines;
}

if (import.meta.main) {
  const args = Deno.args;
  if (args.includes("--help") || args.includes("-h") || args.length === 0) {
    console.log(HELP);
    Deno.exit(args.length === 0 ? 2 : 0);
  }
  let damaged = 0;
  for (const p of args) {
    for (const l of await verifyPath(p)) {
      if (!l.ok) damaged++;
      console.log(`${l.ok ? "ok      " : "DAMAGED "} ${l.kind} ${l.path}: ${l.detail}`);
    }
  }
  Deno.exit(damaged ? 1 : 0);
}
