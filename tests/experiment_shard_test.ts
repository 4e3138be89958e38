import { deepStrictEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { readResults } from "../src/harness/experiment.ts";
import { cellKey, enumerateGrid } from "../src/harness/experiment_grid.ts";
import { cellCost, parseShard, shardCells } from "../src/harness/experiment_shard.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { experimentMain } from "../tasks/experiment.ts";
import { tempDir, tinyCheckpoint, tinyStore } from "./experiment_helpers.ts";

Deno.test("shard spec: i/n with 0 ≤ i < n, anything else is a clear error", () => {
  deepStrictEqual(parseShard("0/1"), { index: 0, count: 1 });
  deepStrictEqual(parseShard(" 4 / 5 "), { index: 4, count: 5 });
  for (const bad of ["3/3", "1/0", "-1/3", "1", "a/b", "1.5/3", ""]) {
    throws(() => parseShard(bad), (e: Error) => {
      ok(e instanceof InvalidArgumentError && /--shard must be i\/n/.test(e.message), e.message);
      return true;
    });
  }
});

Deno.test("shardCells: a partition of the grid in grid order, balanced by cost, deterministic", () => {
  const grid = enumerateGrid({
    ops: ["arctan3x", "vor2vel"],
    masks: ["p1", "s4", "s10"],
    intervals: [1, 2, 8],
    seeds: [0, 1, 2],
    settings: ["I", "II"],
    variants: ["base", "jacobian-free"],
  });
  const keys = grid.map(cellKey);
  for (const n of [1, 2, 3, 7, 64, grid.length + 5]) {
    const shares = Array.from({ length: n }, (_, i) => shardCells(grid, { index: i, count: n }));
    const all = shares.flat().map(cellKey);
    equal(all.length, grid.length, `n = ${n}: every cell once`);
    deepStrictEqual([...all].sort(), [...keys].sort());
    for (const s of shares) {
      const pos = s.map((c) => keys.indexOf(cellKey(c)));
      deepStrictEqual(pos, [...pos].sort((a, b) => a - b), "grid order within a shard");
    }
    const loads = shares.map((s) => s.reduce((t, c) => t + cellCost(c), 0));
    const maxCost = Math.max(...grid.map(cellCost));
    ok(Math.max(...loads) - Math.min(...loads) <= maxCost, `n = ${n}: loads ${loads}`);
    // the same call gives the same share (every array task computes it independently)
    deepStrictEqual(shardCells(grid, { index: n - 1, count: n }), shares[n - 1]);
  }
  // costs differ: the Jacobian-free ablation runs no VJP
  const jf = grid.find((c) => c.variant === "jacobian-free")!;
  ok(cellCost(jf) < cellCost(grid[0]));
  throws(() => shardCells(grid, { index: 3, count: 3 }), InvalidArgumentError);
});

const GRID = [
  "--ops",
  "arctan3x",
  "--masks",
  "s4",
  "--intervals",
  "4",
  "--seeds",
  "0,1",
  "--settings",
  "I",
  "--variants",
  "base,jacobian-free",
  "--steps",
  "2",
  "--corrections",
  "1",
  "--backend",
  "wasm",
  "--threads",
  "1",
  "--quiet",
];

/** `results.csv` without its last column (`seconds`, the wall clock). */
const csvNoSeconds = (text: string): string =>
  text.split("\n").map((l) => l.replace(/,[^,]*$/, "")).join("\n");

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const e of Deno.readDirSync(`${dir}/${sub}`)) {
      const p = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory) walk(p);
      else out.push(p);
    }
  };
  walk("");
  return out.sort();
}

Deno.test("experiment --shard i/3 then --merge: the files of one unsharded run", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_shard_");
  const sda = tinyCheckpoint(dir, "sda", 2);
  const atan = tinyCheckpoint(dir, "arctan3x", 4);
  const run = (out: string, ...more: string[]) =>
    experimentMain([
      "--data",
      data,
      ...GRID,
      "--sda",
      sda,
      "--soad-arctan3x",
      atan,
      "--out",
      out,
      ...more,
    ]);
  const one = await run(`${dir}/one`);
  equal(one!.ran, 6);
  const shards = [0, 1, 2].map((i) => `${dir}/shard-${i}`);
  let ran = 0;
  for (const [i, out] of shards.entries()) ran += (await run(out, "--shard", `${i}/3`))!.ran;
  equal(ran, 6, "the shards run every cell once");

  // missing cells are reported (a shard not given), and --allow-missing merges what there is
  await rejects(
    experimentMain(["--merge", shards.slice(0, 2).join(","), "--out", `${dir}/part`, "--quiet"]),
    (e: Error) => {
      ok(e instanceof InvalidArgumentError, e.message);
      ok(/2 of 6 cells are missing: I\/arctan3x\/s4/.test(e.message), e.message);
      ok(/shards not given: 2/.test(e.message), e.message);
      return true;
    },
  );
  const part = await experimentMain([
    "--merge",
    shards.slice(0, 2).join(","),
    "--out",
    `${dir}/part`,
    "--allow-missing",
    "--no-figures",
    "--quiet",
  ]);
  equal(part!.remaining, 2);
  equal(part!.results.cells.length, 4);

  const merged = await experimentMain([
    "--merge",
    shards.join(","),
    "--out",
    `${dir}/merged`,
    "--quiet",
  ]);
  equal(merged!.remaining, 0);
  const a = (await readResults(`${dir}/one`))!, b = (await readResults(`${dir}/merged`))!;
  const strip = (r: typeof a) => ({ ...r, cells: r.cells.map((c) => ({ ...c, seconds: 0 })) });
  deepStrictEqual(strip(b), strip(a));
  deepStrictEqual(files(`${dir}/merged`), files(`${dir}/one`));
  ok(files(`${dir}/one`).some((f) => f.startsWith("heatmaps/")), "figures were drawn");
  for (const f of files(`${dir}/one`)) {
    if (f === "results.json") continue;
    const x = Deno.readFileSync(`${dir}/one/${f}`), y = Deno.readFileSync(`${dir}/merged/${f}`);
    if (f === "results.csv") {
      const td = new TextDecoder();
      equal(csvNoSeconds(td.decode(y)), csvNoSeconds(td.decode(x)));
    } else {
      ok(x.length === y.length && x.every((v, i) => v === y[i]), `${f} differs`);
    }
  }
  // a merged folder is not merged over
  await rejects(
    experimentMain(["--merge", shards.join(","), "--out", `${dir}/merged`, "--quiet"]),
    /already exists and is not empty.*--force/,
  );
});

Deno.test("experiment --merge refuses shards of different grids, inputs or the same index", async () => {
  const data = await tinyStore();
  const dir = tempDir("soad_shard_bad_");
  const sda = tinyCheckpoint(dir, "sda", 2);
  const atan = tinyCheckpoint(dir, "arctan3x", 4);
  Deno.mkdirSync(`${dir}/other`);
  const other = tinyCheckpoint(`${dir}/other`, "sda", 2, 7);
  const grid = GRID.map((v) => (v === "base,jacobian-free" ? "base" : v));
  const run = (out: string, shard: string, s = sda, g = grid) =>
    experimentMain([
      "--data",
      data,
      ...g,
      "--sda",
      s,
      "--soad-arctan3x",
      atan,
      "--out",
      out,
      "--shard",
      shard,
      "--no-figures",
    ]);
  await run(`${dir}/a0`, "0/2");
  await run(`${dir}/a1`, "1/2");
  await run(`${dir}/b1`, "1/2", other); // another SDA prior
  await run(`${dir}/c1`, "1/2", sda, grid.map((v) => (v === "0,1" ? "0,1,2" : v))); // another grid
  await run(`${dir}/d0`, "0/2", sda); // the same shard again, elsewhere
  const merge = (dirs: string[], re: RegExp) =>
    rejects(
      experimentMain(["--merge", dirs.map((d) => `${dir}/${d}`).join(","), "--out", `${dir}/m`]),
      (e: Error) => {
        ok(e instanceof InvalidArgumentError, e.message);
        ok(re.test(e.message), e.message);
        return true;
      },
    );
  await merge(["a0", "b1"], /shards must use the same data and checkpoints/);
  await merge(["a0", "c1"], /not shards of one grid/);
  await merge(["a0", "d0"], /shard 0\/2 is given twice/);
  await merge(["a0", "a0"], /given twice/);
  await merge(["a0", "nowhere"], /is not a shard folder/);
  await rejects(
    experimentMain(["--merge", `${dir}/a0,${dir}/a1`, "--shard", "0/2", "--out", `${dir}/m`]),
    /takes no --shard or --resume/,
  );
  // a shard folder resumed as another shard, or an unsharded run's folder, is refused
  await rejects(run(`${dir}/a0`, "1/2"), /holds shard 0\/2, not 1\/2/);
  await experimentMain([
    "--data",
    data,
    ...grid,
    "--sda",
    sda,
    "--soad-arctan3x",
    atan,
    "--out",
    `${dir}/u`,
    "--limit",
    "1",
    "--no-figures",
  ]);
  await rejects(run(`${dir}/u`, "0/2"), /results of an unsharded run/);
  // and the good pair merges
  const ok2 = await experimentMain([
    "--merge",
    `${dir}/a0,${dir}/a1`,
    "--out",
    `${dir}/m`,
    "--no-figures",
    "--quiet",
  ]);
  equal(ok2!.results.cells.length, 4);
});
