import assert from "node:assert/strict";
import { runTask } from "./task_helpers.ts";
import { cycle } from "../src/harness/cycle.ts";
import { mergeCycleRuns } from "../src/harness/cycle_merge.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { OutputExistsError } from "../src/io/output_dir.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { resolveParams } from "../src/qg/params.ts";

const identity = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
const quiet = { writeSync: (b: Uint8Array) => b.length };
const METHODS = ["letkf", "free", "climatology"] as const;

/** One tiny cycle run of trajectory/seed `i`, as `deno task cycle --simulate 4 --seed i` does. */
function run(i: number, out: string, inflation = 1.05): Promise<unknown> {
  return cycle({
    truth: {
      simulate: 4,
      seed: i,
      qg: resolveParams({ nx: 32, dt: 7200 }),
      pool: 2,
      warmupDays: 40,
    },
    seed: i,
    operator: identity,
    ratio: 0.5,
    normalisation: { offset: [0, 0], std: [1e-5, 1.2e-6] },
    members: 6,
    inflation,
    warmupDays: 40,
    climatologySpacing: 5,
    workers: 0,
    progress: quiet,
    methods: [...METHODS],
    out,
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function reject(
  p: Promise<unknown>,
  re: RegExp,
  cls: abstract new (...a: never[]) => Error = InvalidArgumentError,
): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

Deno.test("cycle merge: runs sharded by index merge into per-method statistics; refusals", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dirs = [0, 1, 2].map((i) => `${dir}/cycle-${i}`);
    for (let i = 0; i < dirs.length; i++) await run(i, dirs[i]);
    const merged = await mergeCycleRuns(dirs, `${dir}/merged`);
    const runs = await Promise.all(
      dirs.map(async (d) => JSON.parse(await Deno.readTextFile(`${d}/summary.json`))),
    );
    // the truths differ by index, so the runs' scores differ (the statistics are not trivial)
    assert.notEqual(runs[0].methods.letkf.rmse_mean, runs[1].methods.letkf.rmse_mean);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/merged/summary.json`));
    assert.deepEqual(saved, JSON.parse(JSON.stringify(merged)));
    assert.equal(saved.format, "soad-cycle-merge/1");
    assert.equal(saved.days, 4);
    assert.deepEqual(saved.runs.map((r: { seed: number }) => r.seed), [0, 1, 2]);
    assert.equal(saved.settings.seed, undefined);
    assert.equal(saved.settings.inflation, 1.05);
    assert.deepEqual(Object.keys(saved.methods), [...METHODS]);
    for (const m of METHODS) {
      const r = saved.methods[m];
      assert.equal(r.runs, 3);
      for (const k of ["rmse_mean", "crps_mean", "spread_mean"]) {
        const xs = runs.map((s) => s.methods[m][k] as number);
        const mu = mean(xs);
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mu) ** 2, 0) / 2);
        assert.ok(Math.abs(r[k].mean - mu) <= 1e-12 * Math.abs(mu), `${m}.${k} mean`);
        assert.ok(Math.abs(r[k].std - sd) <= 1e-9 * Math.abs(sd) + 1e-15, `${m}.${k} std`);
        assert.equal(r[k].min, Math.min(...xs));
        assert.equal(r[k].max, Math.max(...xs));
      }
      for (let d = 0; d < 4; d++) {
        const mu = mean(runs.map((s) => s.methods[m].rmse[d]));
        assert.ok(Math.abs(r.rmse[d] - mu) <= 1e-12 * mu, `${m} day ${d}`);
      }
    }
    const md = await Deno.readTextFile(`${dir}/merged/summary.md`);
    assert.match(md, /3 runs merged/);
    assert.match(md, /\| letkf \| 3 \| 6 \| \d\.\d{3} ± \d\.\d{3} \|/);

    // an existing output needs --force
    await reject(mergeCycleRuns(dirs, `${dir}/merged`), /--force/, OutputExistsError);
    await mergeCycleRuns(dirs, `${dir}/merged`, { force: true });

    // other settings (inflation) are refused, naming the setting
    await run(3, `${dir}/other`, 1.2);
    await reject(
      mergeCycleRuns([...dirs, `${dir}/other`], `${dir}/m2`),
      /other settings .*inflation 1\.2 vs 1\.05/,
    );
    // the same truth and seed twice is refused
    await Deno.mkdir(`${dir}/copy`);
    for (const f of ["run.json", "summary.json"]) {
      await Deno.copyFile(`${dirs[1]}/${f}`, `${dir}/copy/${f}`);
    }
    await reject(mergeCycleRuns([...dirs, `${dir}/copy`], `${dir}/m2`), /same truth .* seed 1/);
    // unfinished runs are listed and refused; --allow-missing merges the finished ones
    await Deno.mkdir(`${dir}/unfinished`);
    await Deno.copyFile(`${dirs[0]}/run.json`, `${dir}/unfinished/run.json`);
    const withMissing = [...dirs, `${dir}/unfinished`, `${dir}/absent`];
    await reject(
      mergeCycleRuns(withMissing, `${dir}/m2`),
      /2 of 5 runs are missing[^]*unfinished: no summary\.json[^]*absent: no run\.json or summary\.json/,
    );
    assert.ok(!(await Deno.stat(`${dir}/m2`).catch(() => null)), "refusals write nothing");
    const partial = await mergeCycleRuns(withMissing, `${dir}/m2`, { allowMissing: true });
    assert.equal(partial.runs.length, 3);
    assert.deepEqual(partial.missing.map((m) => m.dir), [`${dir}/unfinished`, `${dir}/absent`]);
    assert.equal(partial.methods.letkf.rmse_mean.mean, merged.methods.letkf.rmse_mean.mean);
    assert.match(await Deno.readTextFile(`${dir}/m2/summary.md`), /unfinished: no summary\.json/);

    // the task: a refusal exits 1 with the message; a merge prints the table
    const cli = (...args: string[]) => runTask("cycle_merge.ts", ...args);
    const bad = await cli("--runs", withMissing.join(","), "--out", `${dir}/m3`);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /soad cycle-merge: 2 of 5 runs are missing/);
    const good = await cli("--runs", dirs.join(","), "--out", `${dir}/m3`);
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /merged 3 runs \(0 missing\)/);
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/m3/summary.json`)).methods,
      JSON.parse(JSON.stringify(merged.methods)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
