/**
 * A directory-backed Zarr store for `zarrita` whose every write is atomic (temporary file in the
 * same directory, then rename), so that a killed run never leaves a half-written chunk or
 * metadata file behind, and concurrent writers of identical bytes (shards) cannot conflict.
 * @module
 */

import { writeFileAtomicSync } from "../io/atomic.ts";

/**
 * Writes a JSON value atomically with sorted keys and 2-space indentation (stable bytes).
 *
 * @example
 * ```ts
 * import { writeJsonAtomicSync } from "./fs_store.ts";
 * const dir = Deno.makeTempDirSync();
 * writeJsonAtomicSync(`${dir}/x.json`, { b: 1, a: 2 });
 * console.log(Deno.readTextFileSync(`${dir}/x.json`).indexOf('"a"') < 10); // true
 * ```
 */
export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, new TextEncoder().encode(stableJson(value) + "\n"));
}

/**
 * JSON with object keys sorted recursively and 2-space indentation, so equal values give equal
 * bytes whatever the insertion order.
 *
 * @example
 * ```ts
 * import { stableJson } from "./fs_store.ts";
 * console.log(stableJson({ b: 1, a: [1, 2] }) === stableJson({ a: [1, 2], b: 1 })); // true
 * ```
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      out[k] = sortKeys((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

/**
 * A `zarrita` store (`get`/`set` on absolute keys such as `/q/0.0.0.0.0`) on a local or shared
 * filesystem directory, writing atomically.
 *
 * @example
 * ```ts
 * import { FsStore } from "@soad/soad";
 * const store = new FsStore(Deno.makeTempDirSync());
 * await store.set("/a/b", new Uint8Array([1, 2]));
 * console.log((await store.get("/a/b"))?.length, await store.get("/nope")); // 2 undefined
 * ```
 */
export class FsStore {
  /** Root directory of the store. */
  readonly root: string;

  /**
   * Opens (lazily) a store rooted at a directory.
   * @param root directory holding the store (created on the first write)
   */
  constructor(root: string) {
    this.root = root.replace(/\/+$/, "") || "/";
  }

  /** Filesystem path of a store key. */
  path(key: `/${string}`): string {
    return `${this.root}${key}`;
  }

  /** Reads a key; `undefined` when it does not exist. */
  get(key: `/${string}`): Promise<Uint8Array | undefined> {
    try {
      return Promise.resolve(Deno.readFileSync(this.path(key)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return Promise.resolve(undefined);
      return Promise.reject(e);
    }
  }

  /** Writes a key atomically. */
  set(key: `/${string}`, value: Uint8Array): Promise<void> {
    writeFileAtomicSync(this.path(key), value);
    return Promise.resolve();
  }
}
