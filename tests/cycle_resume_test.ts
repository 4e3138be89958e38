import assert from "node:assert/strict";
import { assimilate } from "../src/assim/assimilate.ts";
import { augmentedIdentityDenoiser } from "../src/assim/gaussian.ts";
import { stateChannels } from "../src/assim/metrics.ts";
import { SoadError } from "../src/errors.ts";
import { cycle, type CycleOptions } from "../src/harness/cycle.ts";
import { simulateTruth } from "../src/harness/truth.ts";
import type { WindowAssimilator } from "../src/harness/window_cycle.ts";
import { writeNpy } from "../src/io/npy.ts";
import { elementwiseOperator } from "../src/obs/operator.ts";
import { resolveParams } from "../src/qg/params.ts";
import { Rng } from "../src/rng.ts";

const quiet = { writeSync: (b: Uint8Array) => b.length };

/** Every file under `dir` (relative path → bytes), state checkpoints and timings left out. */
async function tree(dir: string, sub = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${dir}/${sub}`)) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await tree(dir, rel)) out.set(k, v); }
    else if (!/seconds\.json$|ensemble_\d\.f64$|ensemble\.json$/.test(rel)) {
      out.set(rel, await Deno.readFile(`${dir}/${rel}`));
    }
  }
  return out;
}

/** summary.json without the wall-clock seconds. */
async function summaryWithoutTimes(dir: string): Promise<unknown> {
  const s = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
  for (const m of Object.values(s.methods) as { seconds?: number }[]) delete m.seconds;
  return s;
}

async function assertSameRun(a: string, b: string): Promise<void> {
  const ta = await tree(a), tb = await tree(b);
  const differ = (x: Uint8Array, y: Uint8Array) =>
    x.length !== y.length || x.some((v, i) => v !== y[i]);
  const files = [...ta.keys()].filter((k) => k !== "summary.json" && k !== "summary.md");
  assert.deepEqual([...tb.keys()].sort(), [...ta.keys()].sort());
  assert.ok(files.some((f) => f.startsWith("analyses.zarr/")) && files.includes("rmse.png"));
  for (const f of files) assert.ok(!differ(ta.get(f)!, tb.get(f)!), `${f} differs after resume`);
  assert.deepEqual(await summaryWithoutTimes(b), await summaryWithoutTimes(a));
}

Deno.test("cycle resume: a SOAD chain stopped by a failing window resumes to the same bytes", async () => {
  const identity = elementwiseOperator({ name: "identity", f: (v) => v, df: () => 1 });
  const n = 8, T = 17, frame = 2 * n * n, rng = new Rng(9);
  const q = Float32Array.from({ length: T * frame }, () => rng.normal());
  const truth = {
    q,
    frames: T,
    height: n,
    width: n,
    qg: resolveParams({ nx: 16, dt: 7200 }),
    pool: 2,
    source: "N(0, I)",
  };
  let calls = 0, failAt = -1;
  const soad: WindowAssimilator = async (req, onStep) => {
    if (calls++ === failAt) throw new SoadError("simulated crash");
    const a = await assimilate({
      denoiser: augmentedIdentityDenoiser(),
      observations: req.observations,
      background: req.background,
      sigmaB: req.sigmaB,
      method: "soad",
      frames: req.frames,
      steps: 8,
      samples: req.samples,
      seed: req.seed,
      onStep,
    });
    return stateChannels(a.samples, a.shape);
  };
  const dir = await Deno.makeTempDir();
  try {
    const opts: CycleOptions = {
      truth,
      methods: ["soad"],
      operator: identity,
      ratio: 0.3,
      samples: 3,
      steps: 8,
      normalisation: { offset: [0, 0], std: [1, 1] },
      assimilators: { soad },
      out: `${dir}/a`,
      progress: quiet,
    };
    await cycle(opts);
    calls = 0;
    failAt = 1; // the second window fails: the first is kept
    const broken = await cycle({ ...opts, out: `${dir}/b` });
    assert.match(broken.summary.methods.soad.error ?? "", /simulated crash/);
    failAt = -1;
    calls = 0;
    // what a kill in the middle of an atomic write leaves behind: resume removes it
    await Deno.writeFile(`${dir}/b/state/soad/.window_001.f32.k1ll3d.tmp`, new Uint8Array(7));
    await cycle({ ...opts, out: `${dir}/b`, resume: true });
    assert.equal(calls, 1, "only the missing window is computed again");
    await assertSameRun(`${dir}/a`, `${dir}/b`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cycle resume: deno task cycle killed during the LETKF resumes to the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const qg = resolveParams({ nx: 32, dt: 7200 });
    const t = simulateTruth(24, 1, { qg, pool: 2, warmupDays: 60 });
    await writeNpy(`${dir}/T.npy`, t.q, [t.frames, 2, t.height, t.width]);
    await Deno.writeTextFile(`${dir}/T.json`, JSON.stringify({ qg_params: qg, pool: 2 }));
    const args = (out: string, ...more: string[]) => [
      "run",
      "-A",
      "tasks/cycle.ts",
      "--truth",
      `${dir}/T.npy`,
      "--methods",
      "letkf,free,climatology",
      "--op",
      "arctan3x",
      "--stride",
      "2",
      "--members",
      "8",
      "--warmup-days",
      "60",
      "--workers",
      "0",
      "--out",
      out,
      ...more,
    ];
    const root = new URL("..", import.meta.url).pathname;
    const run = async (a: string[]) => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: a,
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(o.success, new TextDecoder().decode(o.stderr));
    };
    await run(args(`${dir}/a`));
    // the same run, killed (SIGKILL) as soon as its LETKF has written day 3
    const child = new Deno.Command(Deno.execPath(), {
      args: args(`${dir}/b`),
      cwd: root,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const marker = `${dir}/b/state/letkf/day_0003.f32`;
    for (let i = 0; i < 6000; i++) {
      if (await Deno.stat(marker).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGKILL");
    await child.status;
    assert.equal(
      await Deno.stat(`${dir}/b/summary.json`).then(() => true, () => false),
      false,
      "killed before the end",
    );
    // without --resume the folder is refused; with it the run completes
    const refused = await new Deno.Command(Deno.execPath(), {
      args: args(`${dir}/b`),
      cwd: root,
      stderr: "piped",
    }).output();
    assert.equal(refused.success, false);
    assert.match(new TextDecoder().decode(refused.stderr), /--resume/);
    await run(args(`${dir}/b`, "--resume"));
    await assertSameRun(`${dir}/a`, `${dir}/b`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
