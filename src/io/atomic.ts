/**
 * Atomic file writes: the bytes go to a temporary file in the target's directory, which is then
 * renamed over the target, so a reader never sees a half-written file and a failed write leaves
 * the previous file untouched. Parent directories are created; the temp file is removed on
 * failure.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Turns a path or `file:` URL into a path string. */
function toPath(path: string | URL): string {
  if (typeof path === "string") return path;
  if (path.protocol !== "file:") {
    throw new InvalidArgumentError(`expected a file: URL or a path, got ${path.href}`);
  }
  let p = decodeURIComponent(path.pathname);
  if (Deno.build.os === "windows" && /^\/[A-Za-z]:/.test(p)) p = p.slice(1);
  return p;
}

/** Splits a path into its directory ("" for the current one) and its base name. */
function splitPath(path: string): [string, string] {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? ["", path] : [path.slice(0, i + 1), path.slice(i + 1)];
}

/**
 * Writes `data` to `path` atomically: to `.<name>.<random>.tmp` beside it, then renamed over it.
 * Creates missing parent directories. On any failure (including an erroring stream) the temp
 * file is removed, an existing file at `path` is left as it was, and the error is rethrown.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@soad/soad/internal";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/out/data.bin`, new Uint8Array([1, 2, 3]));
 * console.log((await Deno.readFile(`${dir}/out/data.bin`)).length); // 3
 * ```
 */
export async function writeFileAtomic(
  path: string | URL,
  data: Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  const target = toPath(path);
  const [dir, base] = splitPath(target);
  if (base === "" || base === "." || base === "..") {
    throw new InvalidArgumentError(`writeFileAtomic: '${target}' does not name a file`);
  }
  if (dir !== "") await Deno.mkdir(dir, { recursive: true });
  const tmp = tempName(dir, base);
  try {
    await Deno.writeFile(tmp, data, { createNew: true });
    await Deno.rename(tmp, target);
  } catch (e) {
    try {
      await Deno.remove(tmp);
    } catch {
      // the temp file was never created or is already gone
    }
    throw e;
  }
}

/**
 * The synchronous form of {@link writeFileAtomic} (for writers that must not yield, such as a
 * Zarr store's `set`).
 *
 * @example
 * ```ts
 * import { writeFileAtomicSync } from "./atomic.ts";
 * const dir = Deno.makeTempDirSync();
 * writeFileAtomicSync(`${dir}/a/b.txt`, new TextEncoder().encode("hi"));
 * console.log(Deno.readTextFileSync(`${dir}/a/b.txt`)); // hi
 * ```
 */
export function writeFileAtomicSync(path: string | URL, data: Uint8Array): void {
  const target = toPath(path);
  const [dir, base] = splitPath(target);
  if (base === "" || base === "." || base === "..") {
    throw new InvalidArgumentError(`writeFileAtomicSync: '${target}' does not name a file`);
  }
  if (dir !== "") Deno.mkdirSync(dir, { recursive: true });
  const tmp = tempName(dir, base);
  try {
    Deno.writeFileSync(tmp, data, { createNew: true });
    Deno.renameSync(tmp, target);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // the temp file was never created or is already gone
    }
    throw e;
  }
}

/** A unique hidden temp-file name next to the target (same directory, so rename is atomic). */
function tempName(dir: string, base: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(2));
  return `${dir}.${base}.${rand[0].toString(36)}${rand[1].toString(36)}.tmp`;
}

/**
 * Writes UTF-8 text to `path` atomically (see {@link writeFileAtomic}).
 *
 * @example
 * ```ts
 * import { writeTextAtomic } from "@soad/soad/internal";
 * const dir = await Deno.makeTempDir();
 * await writeTextAtomic(`${dir}/log.txt`, "hello\n");
 * ```
 */
export async function writeTextAtomic(path: string | URL, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Writes `value` as pretty-printed JSON (2-space indent, trailing newline) to `path` atomically
 * (see {@link writeFileAtomic}). Throws an {@link InvalidArgumentError} before touching the disk
 * when the value cannot be serialised (BigInt, cycles) or serialises to nothing (a function,
 * `undefined`).
 *
 * @example
 * ```ts
 * import { writeJsonAtomic } from "@soad/soad/internal";
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/metrics.json`, { rmse: 0.12, steps: [1, 2] });
 * ```
 */
export async function writeJsonAtomic(path: string | URL, value: unknown): Promise<void> {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch (e) {
    throw new InvalidArgumentError(
      `writeJsonAtomic: value cannot be serialised as JSON (${(e as Error).message})`,
    );
  }
  if (text === undefined) {
    throw new InvalidArgumentError("writeJsonAtomic: value serialises to nothing (undefined)");
  }
  await writeTextAtomic(path, text + "\n");
}

/**
 * Removes the temporary files that writers killed mid-write leave behind (`.<name>.<random>.tmp`,
 * see {@link writeFileAtomic}) in `dir`, and in its sub-folders when `recursive`.
 *
 * @example
 * ```ts
 * import { removeStrayTemporaries } from "@soad/soad/internal";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeFileSync(`${dir}/.loss.png.k3j9x2.tmp`, new Uint8Array(1));
 * removeStrayTemporaries(dir);
 * console.log([...Deno.readDirSync(dir)].length); // 0
 * ```
 */
export function removeStrayTemporaries(dir: string, recursive = false): void {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (recursive) removeStrayTemporaries(p, true);
    } else if (/^\..+\.[0-9a-z]+\.tmp$/.test(e.name)) Deno.removeSync(p);
  }
}
