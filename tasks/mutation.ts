/**
 * `deno task mutation`: plants each bug of the catalogue (tests/mutation/catalogue.ts) one at a
 * time in a temporary copy of the repository and runs the test files listed for it; a mutation is
 * *killed* when a test fails (or the run exceeds `--timeout`), *survived* when every test passes.
 * Prints a line per mutation, the score and the survivors; `--log FILE` writes them as JSON.
 *
 * ```sh
 * deno task mutation                  # the whole catalogue (CPU-heavy: run it with nice)
 * deno task mutation --list           # ids, files and what each bug is
 * deno task mutation --only fdc-background-no-mu,plan-channels-reversed
 * deno task mutation --check-sites    # fast: every snippet still occurs exactly once
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { EQUIVALENT, type Mutation, MUTATIONS } from "../tests/mutation/catalogue.ts";

const HELP = `deno task mutation [flags]

Plants each catalogued bug in a temporary copy of the repository and runs its tests.

  --list            list the catalogue and exit
  --check-sites     only check that every snippet occurs exactly once (fast; exit 1 if not)
  --only IDS        comma-separated ids (repeatable)
  --timeout S       seconds per mutation before it counts as killed (default 600)
  --no-baseline     skip the unmutated run of the listed tests
  --suite           run the whole default suite (tests/, not tests/slow) for every mutation
                    instead of its listed tests (slow; a conservative "caught by anything")
  --importers       run every default test file that imports the mutated file (directly or via
                    a tests/ helper) and every *_task_test.ts, instead of the listed tests
  --ref REV         mutate a copy of git revision REV (e.g. an older commit's tests) instead of
                    the working tree
  --log FILE        write the per-mutation results as JSON
  --keep            keep the temporary copy
  --help            this text`;

/** Where a snippet occurs in its file. */
export interface SiteCheck {
  /** Mutation id. */
  id: string;
  /** Number of occurrences (1 is right). */
  count: number;
}

function occurrences(text: string, snippet: string): number {
  let n = 0;
  for (let i = text.indexOf(snippet); i >= 0; i = text.indexOf(snippet, i + 1)) n++;
  return n;
}

/**
 * Counts each mutation's snippet in its file under `root`; a missing file counts 0.
 *
 * @example
 * ```ts
 * import { checkSites } from "./mutation.ts";
 * import { MUTATIONS } from "../tests/mutation/catalogue.ts";
 * const bad = (await checkSites(".", MUTATIONS)).filter((s) => s.count !== 1);
 * console.log(bad.length); // 0
 * ```
 */
export async function checkSites(root: string, list: Mutation[]): Promise<SiteCheck[]> {
  const out: SiteCheck[] = [];
  for (const m of list) {
    let text = "";
    try {
      text = await Deno.readTextFile(`${root}/${m.file}`);
    } catch {
      // missing file: 0 occurrences
    }
    out.push({ id: m.id, count: text ? occurrences(text, m.original) : 0 });
  }
  return out;
}

/** Result of one mutation run. */
interface Outcome {
  id: string;
  status: "killed" | "survived" | "timeout" | "no-tests";
  seconds: number;
  tests: string[];
  failed?: string;
}

async function gitFiles(root: string): Promise<string[]> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`git ls-files failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).split("\0").filter((f) => f.length > 0);
}

async function archiveRepo(root: string, rev: string, dest: string): Promise<void> {
  const tar = `${dest}.tar`;
  const out = await new Deno.Command("git", {
    args: ["archive", "--format=tar", "-o", tar, rev],
    cwd: root,
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`git archive ${rev} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const x = await new Deno.Command("tar", { args: ["-xf", tar, "-C", dest] }).output();
  await Deno.remove(tar);
  if (!x.success) throw new Error(`tar -xf ${tar} failed`);
}

async function copyRepo(root: string, dest: string, rev?: string): Promise<void> {
  const files = rev ? [] : await gitFiles(root);
  if (rev) await archiveRepo(root, rev, dest);
  const dirs = new Set<string>();
  for (const f of files) {
    const d = f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : "";
    if (d && !dirs.has(d)) {
      await Deno.mkdir(`${dest}/${d}`, { recursive: true });
      dirs.add(d);
    }
    try {
      await Deno.copyFile(`${root}/${f}`, `${dest}/${f}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted but still in the index
    }
  }
  try {
    await Deno.stat(`${root}/node_modules`);
    await Deno.symlink(`${root}/node_modules`, `${dest}/node_modules`);
  } catch {
    // no node_modules: deno fills it from its cache on first use
  }
}

/** The first failing test name in deno test's output. */
function firstFailure(text: string): string | undefined {
  // deno's report lists failures as "name => file:line:col" after "ERRORS"
  const m = text.match(/^(.+?) => \S+:\d+:\d+$/m);
  if (m) return m[1].trim();
  const e = text.match(/^error: .+$/m);
  return e ? e[0] : undefined;
}

/** The default suite, as `deno task test` runs it. */
const SUITE = ["--parallel", "--ignore=tests/slow", "tests/"];

async function runTests(
  cwd: string,
  tests: string[],
  timeout: number,
): Promise<{ ok: boolean; timedOut: boolean; output: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", "--fail-fast", ...tests],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const child = cmd.spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeout * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { ok: out.success && !timedOut, timedOut, output };
}

async function existing(root: string, tests: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tests) {
    try {
      await Deno.stat(`${root}/${t}`);
      out.push(t);
    } catch {
      // a listed test file that this checkout does not have
    }
  }
  return out;
}

/**
 * The default test files under `root` that import `file` directly or through a tests/ helper,
 * and every task test (tasks run in subprocesses, so their imports are not visible).
 */
async function importers(root: string, file: string): Promise<string[]> {
  const target = `../${file}`;
  const texts = new Map<string, string>();
  for await (const e of Deno.readDir(`${root}/tests`)) {
    if (e.isFile && e.name.endsWith(".ts")) {
      texts.set(e.name, await Deno.readTextFile(`${root}/tests/${e.name}`));
    }
  }
  const helpers = [...texts].filter(([n, t]) => !n.endsWith("_test.ts") && t.includes(target))
    .map(([n]) => `./${n.replace(/\.ts$/, "")}`);
  const out: string[] = [];
  for (const [n, t] of texts) {
    if (!n.endsWith("_test.ts")) continue;
    if (n.endsWith("_task_test.ts") || t.includes(target) || helpers.some((h) => t.includes(h))) {
      out.push(`tests/${n}`);
    }
  }
  return out.sort();
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      list: { type: "boolean", default: false },
      "check-sites": { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      timeout: { type: "string", default: "600" },
      "no-baseline": { type: "boolean", default: false },
      suite: { type: "boolean", default: false },
      importers: { type: "boolean", default: false },
      ref: { type: "string" },
      log: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const ids = new Set(MUTATIONS.map((m) => m.id));
  if (ids.size !== MUTATIONS.length) throw new Error("duplicate mutation ids in the catalogue");
  let list = MUTATIONS;
  if (values.only) {
    const want = values.only.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
    const unknown = want.filter((w) => !ids.has(w));
    if (unknown.length) {
      console.error(`mutation: unknown id(s) ${unknown.join(", ")}; see --list`);
      return 1;
    }
    list = MUTATIONS.filter((m) => want.includes(m.id));
  }
  const timeout = Number(values.timeout);
  if (!(timeout > 0)) {
    console.error(`mutation: --timeout expects seconds > 0, got ${values.timeout}`);
    return 1;
  }
  if (values.list) {
    for (const m of list) console.log(`${m.id.padEnd(34)} ${m.file.padEnd(28)} ${m.what}`);
    console.log(`${list.length} mutations; left out as equivalent:`);
    for (const e of EQUIVALENT) console.log(`  ${e.what}: ${e.why}`);
    return 0;
  }
  const sites = await checkSites(root, list);
  const badSites = sites.filter((s) => s.count !== 1);
  if (values["check-sites"]) {
    for (const s of badSites) {
      const m = list.find((x) => x.id === s.id)!;
      console.log(`${s.id}: snippet occurs ${s.count} times in ${m.file} (expected once)`);
    }
    console.log(`${list.length - badSites.length}/${list.length} sites occur exactly once`);
    return badSites.length ? 1 : 0;
  }
  if (badSites.length) {
    console.error(
      `mutation: ${badSites.map((s) => `${s.id} (${s.count}×)`).join(", ")}: snippets must ` +
        "occur exactly once; fix the catalogue (--check-sites)",
    );
    return 1;
  }

  const tmp = await Deno.makeTempDir({ prefix: "soad_mutation_" });
  try {
    await copyRepo(root, tmp, values.ref);
    console.log(`copy of ${root}${values.ref ? ` at ${values.ref}` : ""} in ${tmp}`);
    if (values.ref) {
      const moved = (await checkSites(tmp, list)).filter((s) => s.count !== 1);
      if (moved.length) {
        console.error(
          `mutation: at ${values.ref}, ${moved.map((s) => s.id).join(", ")} do not apply`,
        );
        return 1;
      }
    }
    const testsOf = async (m: Mutation): Promise<string[]> =>
      values.suite
        ? SUITE
        : values.importers
        ? await importers(tmp, m.file)
        : await existing(tmp, m.tests);
    if (!values["no-baseline"]) {
      const all = values.suite ? SUITE : [
        ...new Set(
          (await Promise.all(list.map((m) => testsOf(m)))).flat(),
        ),
      ];
      const t0 = performance.now();
      const base = await runTests(tmp, all, timeout * 4);
      if (!base.ok) {
        console.error(base.output.slice(-4000));
        console.error("mutation: the listed tests fail WITHOUT a mutation; fix them first");
        return 1;
      }
      console.log(
        `baseline: ${
          values.suite ? "the default suite passes" : `${all.length} test files pass`
        } unmutated (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    const results: Outcome[] = [];
    for (const m of list) {
      const path = `${tmp}/${m.file}`;
      const text = await Deno.readTextFile(path);
      const tests = await testsOf(m);
      const t0 = performance.now();
      let outcome: Outcome;
      if (tests.length === 0) {
        outcome = { id: m.id, status: "no-tests", seconds: 0, tests };
      } else {
        await Deno.writeTextFile(path, text.replace(m.original, () => m.replacement));
        try {
          const r = await runTests(tmp, tests, timeout);
          outcome = {
            id: m.id,
            status: r.timedOut ? "timeout" : r.ok ? "survived" : "killed",
            seconds: (performance.now() - t0) / 1000,
            tests,
            failed: r.ok ? undefined : firstFailure(r.output),
          };
        } finally {
          await Deno.writeTextFile(path, text);
        }
      }
      results.push(outcome);
      console.log(
        `${outcome.status.toUpperCase().padEnd(8)} ${m.id.padEnd(34)} ${
          outcome.seconds.toFixed(0).padStart(4)
        } s  ${outcome.failed ?? ""}`,
      );
    }
    const killed = results.filter((r) => r.status === "killed" || r.status === "timeout");
    const survivors = results.filter((r) => r.status === "survived" || r.status === "no-tests");
    console.log(
      `\nscore: ${killed.length}/${results.length} killed (${
        (100 * killed.length / Math.max(1, results.length)).toFixed(1)
      } %)`,
    );
    if (survivors.length) {
      console.log("survivors:");
      for (const s of survivors) {
        const m = list.find((x) => x.id === s.id)!;
        console.log(`  ${s.id} (${m.file}): ${m.what} [${s.status}; ran ${s.tests.join(" ")}]`);
      }
    }
    if (values.log) {
      await Deno.writeTextFile(
        values.log,
        JSON.stringify({ killed: killed.length, total: results.length, results }, null, 1),
      );
    }
    return survivors.length ? 2 : 0;
  } finally {
    if (values.keep) console.log(`kept ${tmp}`);
    else await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
