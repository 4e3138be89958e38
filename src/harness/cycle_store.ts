/**
 * The resumable state of a cycling run under `OUT/state/`: per method and day the pooled,
 * normalised members `[S, 2, H, W]` (float32), plus each method's own checkpoint (the LETKF
 * ensemble, SOAD windows). Every file is written atomically, so a killed run leaves whole files only.
 * @module
 */

import { writeFileAtomic } from "../io/atomic.ts";

/**
 * `OUT/state/METHOD/NAME`.
 *
 * @example
 * ```ts
 * import { statePath } from "./cycle_store.ts";
 * console.log(statePath("out", "letkf", "day_0003.f32")); // "out/state/letkf/day_0003.f32"
 * ```
 */
export function statePath(out: string, method: string, name: string): string {
  return `${out}/state/${method}/${name}`;
}

/**
 * The file of one day's members.
 *
 * @example
 * ```ts
 * import { dayFile } from "./cycle_store.ts";
 * console.log(dayFile("out", "sda", 12)); // "out/state/sda/day_0012.f32"
 * ```
 */
export function dayFile(out: string, method: string, day: number): string {
  return statePath(out, method, `day_${String(day).padStart(4, "0")}.f32`);
}

/**
 * Writes a typed array's bytes atomically (little-endian, as the platform).
 *
 * @example
 * ```ts ignore
 * await writeArray("out/state/x.f32", new Float32Array(4));
 * ```
 */
export async function writeArray(path: string, a: Float32Array | Float64Array): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * Reads a float32 file, or undefined when it does not exist.
 *
 * @example
 * ```ts ignore
 * const x = await readF32("out/state/letkf/day_0000.f32");
 * ```
 */
export async function readF32(path: string): Promise<Float32Array | undefined> {
  const b = await readBytes(path);
  return b ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) : undefined;
}

/**
 * Reads a float64 file, or undefined when it does not exist.
 *
 * @example
 * ```ts ignore
 * const x = await readF64("out/state/letkf/ensemble.f64");
 * ```
 */
export async function readF64(path: string): Promise<Float64Array | undefined> {
  const b = await readBytes(path);
  return b
    ? new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
    : undefined;
}

async function readBytes(path: string): Promise<Uint8Array | undefined> {
  try {
    const b = await Deno.readFile(path);
    return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Reads a JSON file, or undefined when it does not exist.
 *
 * @example
 * ```ts ignore
 * const c = await readJson<{ day: number }>("out/state/letkf/ensemble.json");
 * ```
 */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
