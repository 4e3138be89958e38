// The PyTorch bridge's data-parallel training (python/soad_torch/train.py): 2 gloo processes give
// the weights of 1 process with the same global batch, and a stopped run resumes to the weights
// of an uninterrupted one. The processes are started the way torchrun starts them (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), because Debian's torchrun (torch 1.13) fails on
// Python ≥ 3.11 before starting any worker. Skipped with a printed reason without torch.
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { readSafetensors } from "../src/io/safetensors.ts";
import { selectBackend } from "../src/backend/select.ts";
import { StoreSource } from "../src/train/store_source.ts";
import { train } from "../src/train/trainer.ts";
import { tempDir, tinyStore } from "./experiment_helpers.ts";
import { PY, python, PYTHON_DIR, relErr, torchReason } from "./torch_helpers.ts";

const reason = await torchReason();
if (reason) console.log(`skipping PyTorch data-parallel tests: ${reason}`);

const trainArgs = (data: string, out: string, steps = 3): string[] => [
  "-m",
  "soad_torch.train",
  "--data",
  data,
  "--out",
  out,
  "--model",
  "vor2vel",
  "--steps",
  String(steps),
  "--batch-size",
  "4",
  "--frames",
  "3",
  "--widths",
  "4,8",
  "--blocks",
  "1",
  "--kernel",
  "3",
  "--valid-every",
  "2",
  "--valid-samples",
  "2",
  "--device",
  "cpu",
  "--quiet",
];

function weights(path: string): Map<string, Float32Array> {
  const m = readSafetensors(Deno.readFileSync(path));
  return new Map([...m].map(([k, v]) => [k, v.data]));
}

function losses(dir: string): number[] {
  return Deno.readTextFileSync(`${dir}/log.csv`).trim().split("\n").slice(1).map((l) =>
    Number(l.split(",")[3])
  );
}

Deno.test({
  name: "torch bridge: 2 gloo processes train to the weights of 1 with the same global batch",
  ignore: reason !== null,
  fn: async () => {
    const data = await tinyStore();
    const dir = tempDir("soad_torch_ddp_");
    await python(trainArgs(data, `${dir}/one`));
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const procs = [0, 1].map((rank) =>
      new Deno.Command(PY, {
        args: trainArgs(data, `${dir}/two`),
        env: {
          PYTHONPATH: PYTHON_DIR,
          OMP_NUM_THREADS: "1",
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          WORLD_SIZE: "2",
          MASTER_ADDR: "127.0.0.1",
          MASTER_PORT: port,
        },
        stdout: "piped",
        stderr: "piped",
      }).output()
    );
    const rs = await Promise.all(procs);
    for (const r of rs) equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const info = JSON.parse(Deno.readTextFileSync(`${dir}/two/train.json`));
    equal(info.workers, 2);
    const a = weights(`${dir}/one/model.safetensors`), b = weights(`${dir}/two/model.safetensors`);
    deepStrictEqual([...b.keys()], [...a.keys()]);
    for (const [k, v] of a) {
      // float32 rounding of the gradient all-reduce only (three AdamW steps move weights ~1e-4)
      const e = relErr(b.get(k)!, v);
      ok(e < 1e-5, `${k} differs by ${e} (relative to its largest entry)`);
    }
    const la = losses(`${dir}/one`), lb = losses(`${dir}/two`);
    equal(lb.length, 3);
    ok(relErr(lb, la) < 1e-5, `losses ${lb} vs ${la}`);
  },
});

Deno.test({
  name: "torch bridge: a run stopped with --until resumes to the weights of an uninterrupted one",
  ignore: reason !== null,
  fn: async () => {
    const data = await tinyStore();
    const dir = tempDir("soad_torch_resume_");
    await python(trainArgs(data, `${dir}/one`));
    await python([...trainArgs(data, `${dir}/two`), "--until", "2"]);
    ok(!exists(`${dir}/two/model.safetensors`), "no final weights before the end");
    // a resume that changes the optimisation is refused, naming what differs
    const bad = await new Deno.Command(PY, {
      args: [...trainArgs(data, `${dir}/two`), "--resume", "--lr", "0.5"],
      env: { PYTHONPATH: PYTHON_DIR },
      stderr: "piped",
    }).output();
    equal(bad.code, 1);
    ok(/cannot resume: .*lr=0\.00015/.test(new TextDecoder().decode(bad.stderr)));
    await python([...trainArgs(data, `${dir}/two`), "--resume"]);
    const a = weights(`${dir}/one/model.safetensors`), b = weights(`${dir}/two/model.safetensors`);
    for (const [k, v] of a) deepStrictEqual(b.get(k), v, `${k} differs after resume`);
    deepStrictEqual(losses(`${dir}/two`), losses(`${dir}/one`));
    // a new run refuses a folder that holds one
    const r = await new Deno.Command(PY, {
      args: trainArgs(data, `${dir}/two`),
      env: { PYTHONPATH: PYTHON_DIR },
      stderr: "piped",
    }).output();
    equal(r.code, 1);
    ok(/exists: pass --resume/.test(new TextDecoder().decode(r.stderr)));
  },
});

Deno.test({
  name: "torch bridge refuses to resume a Deno run whose schedule it does not do (EMA, warm-up)",
  ignore: reason !== null,
  fn: async () => {
    await selectBackend({ prefer: "wasm", quiet: true });
    const data = await tinyStore();
    const dir = tempDir("soad_torch_refuse_");
    const unet = { channels: 6, widths: [4, 8], blocks: 1, kernel: 3, frames: 3 };
    const base = { model: "vor2vel" as const, unet, frames: 3, batchSize: 4, steps: 3 };
    for (
      const [name, extra, msg] of [
        ["ema", { ema: 0.9 }, /averages its weights \(EMA decay 0\.9\)/],
        ["warmup", { warmup: 2 }, /warms its learning rate up over 2 steps/],
      ] as const
    ) {
      const out = `${dir}/${name}`;
      await train({
        out,
        source: StoreSource.open(data),
        config: { ...base, ...extra, validEvery: 0 },
        until: 1,
        workers: 0,
        progress: false,
      });
      const r = await new Deno.Command(PY, {
        args: [...trainArgs(data, out), "--resume"],
        env: { PYTHONPATH: PYTHON_DIR },
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(r.stderr);
      equal(r.code, 1, err);
      ok(msg.test(err), err);
      ok(/resume it with deno task train --resume/.test(err), err);
    }
  },
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
