import assert from "node:assert/strict";
import { writeNpy } from "../src/io/npy.ts";
import { resolveParams } from "../src/qg/params.ts";
import { runTask } from "./task_helpers.ts";

const root = new URL("..", import.meta.url).pathname;

const cli = (...args: string[]) => runTask("cycle.ts", ...args);

Deno.test("cycle task: bad inputs get a clear error, exit 1 and leave earlier outputs alone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const qg = resolveParams({ nx: 32, dt: 7200 });
    await writeNpy(`${dir}/T.npy`, new Float32Array(10 * 2 * 16 * 16), [10, 2, 16, 16]);
    await Deno.writeTextFile(`${dir}/T.json`, JSON.stringify({ qg_params: qg, pool: 2 }));
    await Deno.writeTextFile(
      `${dir}/bad_grid.json`,
      JSON.stringify({ qg_params: { ...qg, nx: 64, ny: 64 }, pool: 2 }),
    );
    await Deno.writeTextFile(`${dir}/bad_pool.json`, JSON.stringify({ qg_params: qg, pool: 3 }));
    const T = ["--truth", `${dir}/T.npy`];
    const cases: [string[], RegExp][] = [
      [
        [...T, "--methods", "letkf", "--members", "1", "--out", `${dir}/o`],
        /--members expects an integer in \[2/,
      ],
      [[...T, "--methods", "letkf,kalman", "--out", `${dir}/o`], /unknown method "kalman"/],
      [
        [...T, "--methods", "letkf", "--letkf-threads", "3", "--out", `${dir}/o`],
        /--letkf-threads expects an integer in \[1, 2\]/,
      ],
      [[...T, "--interval", "0", "--methods", "letkf", "--out", `${dir}/o`], /--interval expects/],
      [
        [...T, "--ratio", "0.5", "--stride", "2", "--out", `${dir}/o`],
        /--ratio or --stride, not both/,
      ],
      [[...T, "--simulate", "5", "--out", `${dir}/o`], /exactly one of --truth/],
      [[...T, "--methods", "letkf"], /--out DIR is required/],
      [
        [...T, "--rtps", "2", "--methods", "letkf", "--out", `${dir}/o`],
        /--rtps expects a number in \[0, 1\]/,
      ],
      [
        [...T, "--truth-meta", `${dir}/bad_grid.json`, "--methods", "letkf", "--out", `${dir}/o`],
        /truth grid 16x16 does not match its sidecar: 64x64 pooled by 2 is 32x32/,
      ],
      [
        [...T, "--truth-meta", `${dir}/bad_pool.json`, "--methods", "letkf", "--out", `${dir}/o`],
        /pool factor 3 .* must be a positive integer dividing the simulation grid 32x32/,
      ],
      [
        [...T, "--methods", "soad", "--out", `${dir}/o`],
        /trained on a 64x64 grid .* the truth is 16x16/,
      ],
      [
        [...T, "--op", "sin3x", "--prior", "sin3x", "--methods", "soad", "--out", `${dir}/o`],
        /prior sin3x was trained on a 64x64 grid \(its metadata\), the truth is 16x16/,
      ],
      [[
        ...T,
        "--op",
        "vor2vel",
        "--prior",
        `${root}models/arctan3x-small`,
        "--methods",
        "soad",
        "--out",
        `${dir}/o`,
      ], /trained for soad model "arctan3x", expected soad model "vor2vel"/],
      [[
        ...T,
        "--days",
        "11",
        "--methods",
        "letkf",
        "--warmup-days",
        "1",
        "--members",
        "4",
        "--out",
        `${dir}/o`,
      ], /--days must be an integer in 1\.\.10/],
      [["--truth", `${dir}/missing.npy`, "--out", `${dir}/o`], /cannot read truth/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}\n${r.err}`);
      assert.match(r.err, re, args.join(" "));
      assert.match(r.err, /^soad cycle: /);
    }
    // an existing output is refused and left as it was
    await Deno.mkdir(`${dir}/old`);
    await Deno.writeTextFile(`${dir}/old/summary.json`, "{}");
    const r = await cli(...T, "--methods", "climatology", "--out", `${dir}/old`);
    assert.equal(r.code, 1);
    assert.match(r.err, /already exists .* --force .*--resume/);
    assert.equal(await Deno.readTextFile(`${dir}/old/summary.json`), "{}");
    // --resume of a run made with other flags is refused
    const ok = await cli(
      ...T,
      "--methods",
      "climatology",
      "--members",
      "4",
      "--warmup-days",
      "1",
      "--out",
      `${dir}/run`,
    );
    assert.equal(ok.code, 0, ok.err);
    const other = await cli(
      ...T,
      "--methods",
      "climatology",
      "--members",
      "6",
      "--warmup-days",
      "1",
      "--out",
      `${dir}/run`,
      "--resume",
    );
    assert.equal(other.code, 1);
    assert.match(other.err, /other settings \(members differ\)/);
    // the LETKF on its default threads (2 on a 2-core machine): runs, and the process exits
    const lk = await cli(
      ...T,
      ...["--methods", "letkf", "--members", "4", "--warmup-days", "1", "--out", `${dir}/lk`],
    );
    assert.equal(lk.code, 0, lk.err);
    const help = await cli("--help");
    assert.equal(help.code, 0);
    assert.match(help.out, /--tune-letkf/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
