/**
 * Builds the SIMD kernels:
 * - `wasm/fft.c` (real 2-D FFT) and `wasm/qg.c` (pointwise QG step kernels) → `wasm/kernels.wasm`;
 * - `wasm/letkf.c` (the LETKF's local analyses) → `wasm/letkf.wasm`;
 * - `wasm/conv.c` (the U-Net's direct convolution and filter gradient, shared memory for the conv
 *   engine's helper thread) → `wasm/conv_relaxed.wasm` (relaxed-SIMD FMA) and
 *   `wasm/conv_simd.wasm` (SIMD128 only, for engines without relaxed SIMD);
 * and `wasm/kernels_wasm.ts` / `wasm/letkf_wasm.ts` / `wasm/conv_wasm.ts` (the same bytes base64-embedded, so the library
 * loads with no file or network permission, also from JSR). Run with `deno task build:wasm`. Needs
 * clang (with the wasm32 target) and wasm-ld (`apt-get install clang lld`); set `CLANG` to use
 * another clang binary. The build is deterministic: rebuilding gives the committed bytes. It ends by
 * writing `wasm/sources.json` (wasm/sources.ts): the hashes of each module's sources and bytes,
 * which a default test checks; `--record-only` writes that record without compiling.
 * @module
 */

import { CONV_JOBS } from "../src/backend/conv_jobs.ts";
import { currentRecord, WASM_MODULE_SOURCES } from "./sources.ts";

const dir = new URL(".", import.meta.url);
const path = (f: string) => new URL(f, dir).pathname;
const clang = Deno.env.get("CLANG") ?? "clang";

const COMMON = [
  "--target=wasm32",
  "-msimd128",
  "-O3",
  "-nostdlib",
  "-fno-builtin",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-Wl,--no-entry",
  "-Wl,--import-memory",
  "-Wl,--strip-all",
];

/** The QG/FFT module: the JS side is src/fft/wasm.ts and src/qg/kernels_wasm.ts. */
const KERNELS_EXPORTS = [
  "fft_plan_bytes",
  "fft_plan",
  "fft_rfft2",
  "fft_irfft2",
  "qg_invert",
  "qg_velocity_spectra",
  "qg_fluxes",
  "qg_advection_tendency",
  "qg_friction",
  "qg_ab_step",
  "__heap_base",
];
const KERNELS_FLAGS = [
  ...COMMON,
  "-Wl,-z,stack-size=16384",
  ...KERNELS_EXPORTS.map((e) => `-Wl,--export=${e}`),
];

/**
 * The LETKF module (src/assim/letkf_wasm.ts): shared memory, so that a helper Worker analyses half
 * of the columns on the same data; like the conv module it must use no stack (checked below).
 */
const LETKF_FLAGS = [
  ...COMMON,
  "-matomics",
  "-mbulk-memory",
  "-Wl,--shared-memory",
  "-Wl,--max-memory=4294967296",
  ...["letkf_columns", "letkf_scratch_doubles", "__heap_base"].map((e) => `-Wl,--export=${e}`),
];

/**
 * The conv module (src/diffusion/wasm_conv.ts): shared memory, so that a helper Worker runs the
 * same code on the same data. It must use no stack (threads would share it): checked below.
 */
const CONV_EXPORTS = [
  ...CONV_JOBS.filter((j) => j !== "exit"),
  "kdft_rows",
  "conv_pack_bytes",
  "__heap_base",
];
/**
 * The conv module's sources (direct convolutions; circular convolutions by the FFT; fused
 * element-wise kernels).
 */
const CONV_SOURCES = WASM_MODULE_SOURCES["conv_simd.wasm"].filter((f) => f.endsWith(".c"));
const CONV_FLAGS = [
  ...COMMON,
  "-matomics",
  "-mbulk-memory",
  "-Wl,--shared-memory",
  "-Wl,--max-memory=2147483648",
  ...CONV_EXPORTS.map((e) => `-Wl,--export=${e}`),
];

/**
 * clang 14 emits the relaxed-SIMD fused multiply-add as the proposal's prototype opcode
 * (0xfd 0xaf 0x01); engines implement the final `f32x4.relaxed_madd` (0xfd 0x85 0x02, a·b + c).
 * Same length, so the bytes are swapped in place after checking that the byte pattern occurs
 * exactly as often as the instruction does in clang's assembly of the same source.
 */
const FMA_PROTO = [0xfd, 0xaf, 0x01];
const FMA_FINAL = [0xfd, 0x85, 0x02];

function fail(message: string): never {
  console.error(`build:wasm: ${message}`);
  Deno.exit(1);
}

async function run(cmd: string, args: string[]): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      fail(
        `'${cmd}' was not found. Install clang and lld (e.g. 'apt-get install clang lld') ` +
          "or set CLANG to a clang with the wasm32 target.",
      );
    }
    throw e;
  }
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

async function clangOk(args: string[]): Promise<Deno.CommandOutput> {
  const out = await run(clang, args);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    const hint = /wasm-ld|lld|unknown target|No available targets/i.test(err)
      ? "\nclang needs the wasm32 target and wasm-ld: 'apt-get install clang lld'."
      : "";
    fail(`clang failed:\n${err}${hint}`);
  }
  return out;
}

/** Compiles `sources` with `flags` to a validated module (bytes). */
async function compile(sources: string[], flags: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const tmp = await Deno.makeTempFile({ suffix: ".wasm" });
  try {
    await clangOk([...flags, "-o", tmp, ...sources.map(path)]);
    return await Deno.readFile(tmp);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

function indexOfAll(bytes: Uint8Array, pat: number[]): number[] {
  const at: number[] = [];
  outer: for (let i = 0; i + pat.length <= bytes.length; i++) {
    for (let j = 0; j < pat.length; j++) if (bytes[i + j] !== pat[j]) continue outer;
    at.push(i);
  }
  return at;
}

/** clang's assembly of the conv module's sources with `flags` (the link flags dropped). */
function convAssembly(flags: string[]): Promise<string> {
  return assembly(CONV_SOURCES, flags);
}

/** clang's assembly of `sources` with `flags` (the link flags dropped). */
async function assembly(sources: readonly string[], flags: string[]): Promise<string> {
  const cc = flags.filter((f) => !f.startsWith("-Wl,"));
  let asm = "";
  for (const src of sources) {
    const out = await clangOk([...cc, "-S", "-o", "-", path(src)]);
    asm += new TextDecoder().decode(out.stdout);
  }
  return asm;
}

/** Compiles the conv module; fails if it uses the stack (its threads share one memory). */
async function compileConv(flags: string[]): Promise<Uint8Array<ArrayBuffer>> {
  if ((await convAssembly(flags)).includes("__stack_pointer")) {
    fail("the conv module uses the stack; its threads share one memory and no stack may be used");
  }
  return await compile(CONV_SOURCES, flags);
}

/** The conv module with relaxed-SIMD FMA (see {@link FMA_PROTO}). */
async function compileConvRelaxed(): Promise<Uint8Array<ArrayBuffer>> {
  const flags = [...CONV_FLAGS, "-mrelaxed-simd", "-DRELAXED"];
  const bytes = await compileConv(flags);
  const n = ((await convAssembly(flags)).match(/\tf32x4\.fma\b/g) ?? []).length;
  const at = indexOfAll(bytes, FMA_PROTO);
  if (n === 0 || at.length !== n) {
    fail(`relaxed FMA patch: ${n} f32x4.fma in the assembly but ${at.length} byte matches`);
  }
  for (const i of at) bytes.set(FMA_FINAL, i);
  return bytes;
}

async function writeModule(
  file: string,
  bytes: Uint8Array<ArrayBuffer>,
  validate = true,
): Promise<void> {
  if (validate && !WebAssembly.validate(bytes)) fail(`${file}: not a valid WebAssembly module`);
  await writeAtomic(path(file), bytes);
}

function tsConst(doc: string, name: string, bytes: Uint8Array): string[] {
  return [`/** ${doc} */`, `export const ${name}: string =`, `  "${toBase64(bytes)}";`, ""];
}

async function main(): Promise<void> {
  const version = await run(clang, ["--version"]);
  if (!version.success) fail(`'${clang} --version' failed; install clang and lld.`);

  const kernels = await compile([...WASM_MODULE_SOURCES["kernels.wasm"]], KERNELS_FLAGS);
  await writeModule("kernels.wasm", kernels);
  await writeAtomic(
    path("kernels_wasm.ts"),
    [
      "// generated by wasm/build.ts, do not edit (sources: wasm/fft.c, wasm/qg.c; run `deno task build:wasm`)",
      "/**",
      " * The SIMD kernels (`wasm/fft.c`, `wasm/qg.c`), base64-encoded.",
      " * @module",
      " */",
      "",
      ...tsConst(
        "The bytes of `wasm/kernels.wasm`, base64-encoded.",
        "KERNELS_WASM_BASE64",
        kernels,
      ),
    ].join("\n"),
  );

  const letkfSources = [...WASM_MODULE_SOURCES["letkf.wasm"]];
  if ((await assembly(letkfSources, LETKF_FLAGS)).includes("__stack_pointer")) {
    fail("the LETKF module uses the stack; its threads share one memory and no stack may be used");
  }
  const letkf = await compile(letkfSources, LETKF_FLAGS);
  await writeModule("letkf.wasm", letkf);
  await writeAtomic(
    path("letkf_wasm.ts"),
    [
      "// generated by wasm/build.ts, do not edit (source: wasm/letkf.c; run `deno task build:wasm`)",
      "/**",
      " * The LETKF's local-analysis kernel (`wasm/letkf.c`), base64-encoded.",
      " * @module",
      " */",
      "",
      ...tsConst("The bytes of `wasm/letkf.wasm`, base64-encoded.", "LETKF_WASM_BASE64", letkf),
    ].join("\n"),
  );

  const convSimd = await compileConv(CONV_FLAGS);
  const convRelaxed = await compileConvRelaxed();
  await writeModule("conv_simd.wasm", convSimd);
  // an engine without relaxed SIMD rejects this one; the loader then uses conv_simd.wasm
  await writeModule("conv_relaxed.wasm", convRelaxed, false);
  await writeAtomic(
    path("conv_wasm.ts"),
    [
      "// generated by wasm/build.ts, do not edit (sources: wasm/conv.c, wasm/fft_conv.c, wasm/pointwise.c; run `deno task build:wasm`)",
      "/**",
      " * The conv module's kernels (`wasm/conv.c`, `wasm/fft_conv.c`, `wasm/pointwise.c`), base64-encoded: with relaxed-SIMD FMA, and",
      " * plain SIMD128 for engines without relaxed SIMD.",
      " * @module",
      " */",
      "",
      ...tsConst(
        "`wasm/conv_relaxed.wasm` (f32x4.relaxed_madd), base64-encoded.",
        "CONV_RELAXED_WASM_BASE64",
        convRelaxed,
      ),
      ...tsConst(
        "`wasm/conv_simd.wasm` (SIMD128 only), base64-encoded.",
        "CONV_SIMD_WASM_BASE64",
        convSimd,
      ),
    ].join("\n"),
  );
  console.log(
    `build:wasm: wrote kernels.wasm (${kernels.length} bytes), letkf.wasm (${letkf.length}), ` +
      `conv_relaxed.wasm ` +
      `(${convRelaxed.length}), conv_simd.wasm (${convSimd.length}) and their .ts embeddings`,
  );
}

/** Writes `wasm/sources.json` for the sources and modules now in `wasm/`. */
async function writeRecord(): Promise<void> {
  const record = await currentRecord(dir);
  await writeAtomic(path("sources.json"), JSON.stringify(record, null, 2) + "\n");
  console.log("build:wasm: wrote sources.json (source and module hashes)");
}

if (import.meta.main) {
  if (Deno.args.includes("--record-only")) {
    // only when the committed modules are known to be built from the current sources (e.g. the
    // record was added after the build); a real rebuild writes the record itself
    await writeRecord();
  } else {
    await main();
    await writeRecord();
  }
}
