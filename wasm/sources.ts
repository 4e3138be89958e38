/**
 * Which C sources each committed `.wasm` module is built from, and the record of their SHA-256
 * hashes that `wasm/build.ts` writes next to the modules (`wasm/sources.json`). Tests load the
 * committed binaries, so an edit of a C source without `deno task build:wasm` would go unnoticed;
 * tests/wasm_sources_test.ts recomputes the hashes and fails when they disagree with the record.
 * @module
 */

/** The C sources (and local headers) of each module, relative to `wasm/`. */
export const WASM_MODULE_SOURCES: Readonly<Record<string, readonly string[]>> = {
  "kernels.wasm": ["fft.c", "qg.c"],
  "letkf.wasm": ["letkf.c"],
  "conv_simd.wasm": ["conv.c", "fft_conv.c", "pointwise.c", "simd.h"],
  "conv_relaxed.wasm": ["conv.c", "fft_conv.c", "pointwise.c", "simd.h"],
};

/** One module's entry in `wasm/sources.json`. */
export interface WasmModuleRecord {
  /** SHA-256 (hex) of each source file. */
  sources: Record<string, string>;
  /** SHA-256 (hex) of the module's bytes. */
  sha256: string;
}

/** The content of `wasm/sources.json`. */
export interface WasmSourceRecord {
  /** What the file is. */
  note: string;
  /** One entry per module. */
  modules: Record<string, WasmModuleRecord>;
}

/**
 * SHA-256 of bytes, as lower-case hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./sources.ts";
 * console.log((await sha256Hex(new Uint8Array(0))).slice(0, 8)); // "e3b0c442"
 * ```
 */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The record for the files now in `dir` (the `wasm/` folder): hashes of every module's sources
 * and of the module itself.
 *
 * @example
 * ```ts
 * import { currentRecord } from "./sources.ts";
 * const r = await currentRecord(new URL(".", import.meta.url));
 * console.log(Object.keys(r.modules).length); // 4
 * ```
 */
export async function currentRecord(dir: URL): Promise<WasmSourceRecord> {
  const modules: Record<string, WasmModuleRecord> = {};
  for (const [mod, files] of Object.entries(WASM_MODULE_SOURCES)) {
    const sources: Record<string, string> = {};
    for (const f of files) sources[f] = await sha256Hex(await Deno.readFile(new URL(f, dir)));
    modules[mod] = { sources, sha256: await sha256Hex(await Deno.readFile(new URL(mod, dir))) };
  }
  return {
    note: "written by wasm/build.ts (deno task build:wasm): the SHA-256 of the C sources each " +
      "committed .wasm module was built from, and of the module; tests/wasm_sources_test.ts " +
      "fails when a source changes without a rebuild",
    modules,
  };
}
