// docs/scale-out.md's recipes run end to end on the tiny preset with n = 3 shards, driven the way
// a Slurm array or a Kubernetes Indexed Job drives them: the same command line per task, only the
// index differs ($SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX → INDEX here), each task a separate
// process on shared storage; then the one-off finalize / merge step. Training uses the PyTorch
// bridge (python/soad_torch, the recipe's torchrun command with one process) where torch is
// installed, else deno task train.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { readResults } from "../src/harness/experiment.ts";
import { openDatasetStore } from "../src/data/store.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { tempDir } from "./experiment_helpers.ts";
import { PY, PYTHON_DIR, torchReason } from "./torch_helpers.ts";

const N = 3;
const torch = (await torchReason()) === null;
if (!torch) console.log("scale-out recipe test: no PyTorch; training with deno task train instead");

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
}
const task = (file: string, args: string[]): Promise<void> =>
  run(Deno.execPath(), [
    "run",
    "-A",
    new URL(`../tasks/${file}`, import.meta.url).pathname,
    ...args,
  ]);

Deno.test("scale-out recipes: generate, train, experiment with 3 shards by index, then merge", async () => {
  const root = tempDir("soad_scale_out_");
  const store = `${root}/qg.zarr`;
  // 1. generate: one array task per index, into one shared store; then --finalize once
  const gen = (i: number) =>
    task("generate.ts", [
      "--preset",
      "tiny",
      "--seeds",
      "3",
      "--out",
      store,
      "--shard",
      `${i}/${N}`,
      "--workers",
      "0",
      "--quiet",
    ]);
  for (let i = 0; i < N; i++) await gen(i);
  await gen(1); // a requeued array task is harmless: it skips its finished windows
  await task("generate.ts", ["--out", store, "--finalize", "--quiet"]);
  const st = openDatasetStore(store);
  ok(st.attrs.complete, "finalised");
  equal(st.config.seeds, 3);

  // 2. train the two priors the grid needs (tiny network, 2 steps)
  const small = ["--steps", "2", "--widths", "4,8", "--blocks", "1", "--kernel", "3"];
  for (const model of ["sda", "arctan3x"]) {
    const out = `${root}/run/${model}`;
    if (torch) {
      await run(PY, [
        "-m",
        "soad_torch.train",
        "--data",
        store,
        "--model",
        model,
        "--out",
        out,
        "--batch-size",
        "2",
        "--quiet",
        ...small,
      ], {
        PYTHONPATH: PYTHON_DIR,
        OMP_NUM_THREADS: "1",
      });
    } else {
      await task("train.ts", [
        "--data",
        store,
        "--model",
        model,
        "--out",
        out,
        "--batch",
        "2",
        "--workers",
        "0",
        ...small,
      ]);
    }
  }

  // a run's checkpoint is soad's (the Deno trainer resumes it: deno task train --resume)
  const st0 = decodeCheckpoint(Deno.readFileSync(`${root}/run/arctan3x/checkpoint.safetensors`));
  deepStrictEqual([st0.step, st0.config.unet.frames, st0.config.frames], [2, 9, 9]);

  // packaged like any run (the PyTorch bridge's runs have no loss.png: ship-prior draws it)
  await task("ship_prior.ts", [
    "--run",
    `${root}/run/arctan3x`,
    "--out",
    `${root}/models/arctan3x`,
  ]);
  const card = JSON.parse(Deno.readTextFileSync(`${root}/models/arctan3x/card.json`));
  deepStrictEqual([card.model, card.training.steps_done], ["arctan3x", 2]);
  ok(Deno.statSync(`${root}/models/arctan3x/loss.png`).size > 0);
  if (torch) ok(/soad_torch/.test(card.backend), card.backend);

  // 3. the evaluation grid: one array task per index, then --merge once
  const grid = [
    "--data",
    store,
    "--soad-arctan3x",
    `${root}/models/arctan3x/weights.safetensors`,
    "--sda",
    `${root}/run/sda/model.safetensors`,
    "--ops",
    "arctan3x",
    "--masks",
    "s4,p0.25",
    "--intervals",
    "4",
    "--seeds",
    "0,1",
    "--settings",
    "I",
    "--steps",
    "2",
    "--corrections",
    "1",
    "--threads",
    "1",
    "--quiet",
  ];
  for (let i = 0; i < N; i++) {
    await task("experiment.ts", [
      ...grid,
      "--shard",
      `${i}/${N}`,
      "--out",
      `${root}/exp-${i}`,
      "--no-figures",
    ]);
  }
  const dirs = Array.from({ length: N }, (_, i) => `${root}/exp-${i}`).join(",");
  await task("experiment.ts", ["--merge", dirs, "--out", `${root}/exp`, "--quiet"]);
  // the merged folder is the one an unsharded run writes
  await task("experiment.ts", [...grid, "--out", `${root}/one`]);
  const merged = (await readResults(`${root}/exp`))!, one = (await readResults(`${root}/one`))!;
  equal(merged.cells.length, 8);
  const strip = (r: typeof one) => ({ ...r, cells: r.cells.map((c) => ({ ...c, seconds: 0 })) });
  deepStrictEqual(strip(merged), strip(one));
  equal(
    Deno.readTextFileSync(`${root}/exp/summary.md`),
    Deno.readTextFileSync(`${root}/one/summary.md`),
  );
});
