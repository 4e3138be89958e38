/**
 * Output folders and files that are checked before any work starts: an existing, non-empty output
 * is refused unless the caller says `force` (nothing is silently replaced), and the place is proved
 * writable with a probe file, so a long computation never fails at its very end on a bad `--out`.
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/**
 * An output folder or file already exists and would be overwritten.
 *
 * @example
 * ```ts
 * import { OutputExistsError } from "@soad/soad";
 * const e = new OutputExistsError("out/ exists", "out/");
 * console.log(e instanceof Error, e.path); // true out/
 * ```
 */
export class OutputExistsError extends InvalidArgumentError {
  /** The output path that already exists. */
  readonly path: string;
  /**
   * Creates the error.
   * @param message what exists and how to proceed
   * @param path the existing output
   */
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** Options of {@link prepareOutputDir}. */
export interface PrepareOutputDirOptions {
  /** Accept an existing, non-empty folder (the caller will replace files in it). Default false. */
  force?: boolean;
  /**
   * Accept an existing, non-empty folder when this returns true for its entries (e.g. a resumable
   * run of the caller's own kind, checked by the caller afterwards). Default: never.
   */
  allowExisting?: (entries: string[]) => boolean;
  /** Words appended to the refusal, e.g. "or --resume to continue the run that wrote it". */
  hint?: string;
}

function entriesOf(path: string): string[] | null {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new InvalidArgumentError(`cannot inspect output ${path}: ${(e as Error).message}`);
  }
  if (!st.isDirectory) {
    throw new InvalidArgumentError(
      `output folder ${path} exists and is a file; expected a folder (or a path that does not exist)`,
    );
  }
  return [...Deno.readDirSync(path)].map((e) => e.name).sort();
}

async function probeWritable(dir: string): Promise<void> {
  const probe = `${dir}/.soad-write-probe-${crypto.randomUUID()}`;
  try {
    await Deno.writeFile(probe, new Uint8Array([0]), { createNew: true });
    await Deno.remove(probe);
  } catch (e) {
    throw new InvalidArgumentError(
      `output ${dir} is not writable (${(e as Error).message}); choose a writable --out`,
    );
  }
}

/**
 * Prepares an output folder before any work: refuses an existing non-empty folder unless
 * `force` (or `allowExisting` accepts its entries), creates it, and proves it writable with a
 * probe file. Throws {@link OutputExistsError} or {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { prepareOutputDir } from "@soad/soad";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * await prepareOutputDir(dir); // created, writable
 * await Deno.writeTextFile(`${dir}/a.txt`, "x");
 * await prepareOutputDir(dir).catch((e) => console.log(e.name)); // OutputExistsError
 * await prepareOutputDir(dir, { force: true }); // accepted
 * ```
 */
export async function prepareOutputDir(
  dir: string,
  opts: PrepareOutputDirOptions = {},
): Promise<void> {
  if (typeof dir !== "string" || dir === "") {
    throw new InvalidArgumentError(`output folder must be a non-empty path, got ${String(dir)}`);
  }
  const entries = entriesOf(dir);
  if (entries !== null && entries.length > 0 && !opts.force && !opts.allowExisting?.(entries)) {
    const shown = entries.slice(0, 5).join(", ") + (entries.length > 5 ? ", …" : "");
    throw new OutputExistsError(
      `output folder ${dir} already exists and is not empty (${shown}); choose another --out, ` +
        `or pass --force to replace its files${opts.hint ? ` (${opts.hint})` : ""}`,
      dir,
    );
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot create output folder ${dir} (${(e as Error).message}); choose a writable --out`,
    );
  }
  await probeWritable(dir);
}

/**
 * Prepares a single output file before any work: refuses an existing file unless `force`,
 * creates the parent folder and proves it writable. Throws {@link OutputExistsError} or
 * {@link InvalidArgumentError}.
 *
 * @example
 * ```ts
 * import { prepareOutputFile } from "@soad/soad";
 * const dir = await Deno.makeTempDir();
 * await prepareOutputFile(`${dir}/m.onnx`); // ok: absent, folder writable
 * await Deno.writeTextFile(`${dir}/m.onnx`, "x");
 * await prepareOutputFile(`${dir}/m.onnx`).catch((e) => console.log(e.name)); // OutputExistsError
 * ```
 */
export async function prepareOutputFile(
  path: string,
  opts: { force?: boolean } = {},
): Promise<void> {
  if (typeof path !== "string" || path === "" || path.endsWith("/")) {
    throw new InvalidArgumentError(`output file must be a file path, got ${String(path)}`);
  }
  let exists = false;
  try {
    const st = Deno.statSync(path);
    if (st.isDirectory) {
      throw new InvalidArgumentError(`output file ${path} is a folder; expected a file path`);
    }
    exists = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (exists && !opts.force) {
    throw new OutputExistsError(
      `output file ${path} already exists; choose another path or pass --force to replace it`,
      path,
    );
  }
  const i = path.lastIndexOf("/");
  const dir = i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot create the folder of ${path} (${(e as Error).message}); choose a writable path`,
    );
  }
  await probeWritable(dir);
}
