/**
 * A small writer of self-describing Zarr v2 groups (uncompressed, little-endian, C order) that
 * `xarray.open_zarr` opens with named dimensions and coordinates: analyses, ensembles and any other
 * labelled arrays. A 1-D variable whose name equals its only dimension is a coordinate (e.g. `x`
 * in metres, `day`). The group is written into a temporary sibling folder and renamed into place,
 * so a reader never sees half a store.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** One labelled array of a {@link writeZarrGroup} group. */
export interface ZarrVariable {
  /** Dimension names, one per axis (xarray's `_ARRAY_DIMENSIONS`). */
  dims: string[];
  /** Shape, one length per axis. */
  shape: number[];
  /** Values in C order, `shape` product long. */
  data: Float32Array | Float64Array | Int32Array;
  /** Attributes (units, long_name, …). */
  attrs?: Record<string, unknown>;
  /** Chunk shape (default: 1 along the first axis of arrays with 3 or more axes, else whole). */
  chunks?: number[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function dtypeOf(data: ZarrVariable["data"]): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  return "<i4";
}

function check(name: string, v: ZarrVariable): number[] {
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`Zarr variable name '${name}' must match ${NAME.source}`);
  }
  if (v.dims.length !== v.shape.length) {
    throw new InvalidArgumentError(
      `Zarr variable ${name}: ${v.dims.length} dims (${v.dims}) for a ${v.shape.length}-axis shape`,
    );
  }
  if (!v.shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new InvalidArgumentError(
      `Zarr variable ${name}: shape [${v.shape}] must be integers ≥ 0`,
    );
  }
  const size = v.shape.reduce((a, b) => a * b, 1);
  if (v.data.length !== size) {
    throw new InvalidArgumentError(
      `Zarr variable ${name}: ${v.data.length} values for shape [${v.shape}] (expected ${size})`,
    );
  }
  const chunks = v.chunks ??
    v.shape.map((n, i) => (i === 0 && v.shape.length >= 3 ? 1 : Math.max(n, 1)));
  if (chunks.length !== v.shape.length || !chunks.every((c) => Number.isInteger(c) && c >= 1)) {
    throw new InvalidArgumentError(
      `Zarr variable ${name}: chunks [${chunks}] must be one positive integer per axis`,
    );
  }
  return chunks;
}

function chunkBytes(v: ZarrVariable, chunks: number[], index: number[]): Uint8Array {
  const n = chunks.reduce((a, b) => a * b, 1);
  const Ctor = v.data.constructor as
    | Float32ArrayConstructor
    | Float64ArrayConstructor
    | Int32ArrayConstructor;
  const out = new Ctor(n);
  if (!(v.data instanceof Int32Array)) out.fill(NaN);
  const nd = v.shape.length;
  const strides = new Array<number>(nd);
  let s = 1;
  for (let a = nd - 1; a >= 0; a--) {
    strides[a] = s;
    s *= v.shape[a];
  }
  const local = new Array<number>(nd).fill(0);
  for (let k = 0; k < n; k++) {
    let r = k;
    for (let a = nd - 1; a >= 0; a--) {
      local[a] = r % chunks[a];
      r = Math.floor(r / chunks[a]);
    }
    let src = 0;
    let inside = true;
    for (let a = 0; a < nd; a++) {
      const g = index[a] * chunks[a] + local[a];
      if (g >= v.shape[a]) {
        inside = false;
        break;
      }
      src += g * strides[a];
    }
    if (inside) out[k] = v.data[src];
  }
  return new Uint8Array(out.buffer);
}

function* chunkIndices(shape: number[], chunks: number[]): Generator<number[]> {
  const counts = shape.map((n, i) => Math.max(1, Math.ceil(n / chunks[i])));
  const total = counts.reduce((a, b) => a * b, 1);
  if (shape.some((n) => n === 0)) return;
  for (let k = 0; k < total; k++) {
    const idx = new Array<number>(counts.length);
    let r = k;
    for (let a = counts.length - 1; a >= 0; a--) {
      idx[a] = r % counts[a];
      r = Math.floor(r / counts[a]);
    }
    yield idx;
  }
}

/**
 * Writes a Zarr v2 group of labelled arrays (with consolidated metadata) at `dir`, atomically;
 * refuses an existing `dir`. Throws {@link InvalidArgumentError} on inconsistent variables.
 *
 * @example
 * ```ts
 * import { writeZarrGroup } from "@soad/soad";
 * const dir = `${await Deno.makeTempDir()}/analysis.zarr`;
 * await writeZarrGroup(dir, {
 *   day: { dims: ["day"], shape: [2], data: new Float64Array([0, 1]), attrs: { units: "days" } },
 *   mean: { dims: ["day", "x"], shape: [2, 3], data: new Float32Array(6) },
 * }, { title: "demo" });
 * console.log(JSON.parse(await Deno.readTextFile(`${dir}/mean/.zattrs`))._ARRAY_DIMENSIONS);
 * // [ "day", "x" ]
 * ```
 */
export async function writeZarrGroup(
  dir: string,
  variables: Record<string, ZarrVariable>,
  attrs: Record<string, unknown> = {},
): Promise<void> {
  const plan = Object.entries(variables).map(([name, v]) => ({ name, v, chunks: check(name, v) }));
  const dims = new Map<string, number>();
  for (const { name, v } of plan) {
    v.dims.forEach((d, i) => {
      const prev = dims.get(d);
      if (prev !== undefined && prev !== v.shape[i]) {
        throw new InvalidArgumentError(
          `Zarr variable ${name}: dimension ${d} has length ${v.shape[i]}, elsewhere ${prev}`,
        );
      }
      dims.set(d, v.shape[i]);
    });
  }
  try {
    Deno.statSync(dir);
    throw new InvalidArgumentError(`Zarr output ${dir} already exists; choose another path`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const tmp = `${dir.replace(/\/+$/, "")}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const meta: Record<string, unknown> = {
    ".zgroup": { zarr_format: 2 },
    ".zattrs": attrs,
  };
  const enc = new TextEncoder();
  try {
    await Deno.mkdir(tmp, { recursive: true });
    for (const { name, v, chunks } of plan) {
      const zarray = {
        chunks,
        compressor: null,
        dtype: dtypeOf(v.data),
        fill_value: v.data instanceof Int32Array ? null : "NaN",
        filters: null,
        order: "C",
        shape: v.shape,
        zarr_format: 2,
      };
      const zattrs = { ...(v.attrs ?? {}), _ARRAY_DIMENSIONS: v.dims };
      meta[`${name}/.zarray`] = zarray;
      meta[`${name}/.zattrs`] = zattrs;
      await Deno.mkdir(`${tmp}/${name}`);
      await Deno.writeFile(`${tmp}/${name}/.zarray`, enc.encode(JSON.stringify(zarray, null, 2)));
      await Deno.writeFile(`${tmp}/${name}/.zattrs`, enc.encode(JSON.stringify(zattrs, null, 2)));
      for (const idx of chunkIndices(v.shape, chunks)) {
        const key = v.shape.length === 0 ? "0" : idx.join(".");
        await Deno.writeFile(`${tmp}/${name}/${key}`, chunkBytes(v, chunks, idx));
      }
    }
    await Deno.writeFile(`${tmp}/.zgroup`, enc.encode(JSON.stringify(meta[".zgroup"])));
    await Deno.writeFile(`${tmp}/.zattrs`, enc.encode(JSON.stringify(attrs, null, 2)));
    await Deno.writeFile(
      `${tmp}/.zmetadata`,
      enc.encode(JSON.stringify({ metadata: meta, zarr_consolidated_format: 1 }, null, 2)),
    );
    await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}
