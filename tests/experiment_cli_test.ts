import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { readResults } from "../src/harness/experiment.ts";
import { InvalidArgumentError } from "../src/errors.ts";
import { experimentMain } from "../tasks/experiment.ts";
import { readText, tempDir, tinyCheckpoint, tinyStore } from "./experiment_helpers.ts";

async function fixture(): Promise<{ data: string; dir: string; sda: string; atan: string }> {
  const data = await tinyStore();
  const dir = tempDir("soad_exp_cli_");
  return {
    data,
    dir,
    sda: tinyCheckpoint(dir, "sda", 2),
    atan: tinyCheckpoint(dir, "arctan3x", 4),
  };
}

const grid = [
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
  "--steps",
  "2",
  "--corrections",
  "1",
  "--backend",
  "wasm",
  "--quiet",
];

Deno.test("experiment task: bad checkpoints and names are clear errors before sampling", async () => {
  const f = await fixture();
  const base = ["--data", f.data, ...grid, "--out", `${f.dir}/bad`];
  const bad = async (args: string[], re: RegExp): Promise<void> => {
    await rejects(experimentMain(args), (e: Error) => {
      ok(e instanceof InvalidArgumentError, `${e.name}: ${e.message}`);
      ok(re.test(e.message), e.message);
      return true;
    });
  };
  await bad([...base, "--sda", f.sda], /missing checkpoint: .* --soad-arctan3x/);
  await bad(
    [...base, "--sda", f.sda, "--soad-arctan3x", `${f.dir}/none.safetensors`],
    /checkpoint of soad-arctan3x .*none\.safetensors.*cannot read/,
  );
  await bad(
    [...base, "--sda", f.sda, "--soad-arctan3x", f.sda],
    /models C = 2 channels, but soad-arctan3x needs C = 4 .*trained for another operator set/,
  );
  // same channel count, metadata names another model
  const sin = tinyCheckpoint(f.dir, "sin3x", 4);
  await bad([...base, "--sda", f.sda, "--soad-arctan3x", sin], /trained for model "sin3x"/);
  await bad([...base, "--masks", "p0.3q"], /unknown mask "p0.3q"/);
  await bad(
    ["--data", `${f.dir}/nowhere.zarr`, ...grid, "--sda", f.sda, "--soad-arctan3x", f.atan],
    /not a soad dataset store/,
  );
  let missing = false;
  try {
    await Deno.stat(`${f.dir}/bad/results.json`);
  } catch {
    missing = true;
  }
  ok(missing, "no results written");
});

Deno.test("experiment task: U-Net run, --limit then --resume gives the one-run files", async () => {
  const f = await fixture();
  const args = (out: string): string[] => [
    "--data",
    f.data,
    ...grid,
    "--sda",
    f.sda,
    "--soad-arctan3x",
    f.atan,
    "--out",
    out,
    "--no-figures",
  ];
  const one = await experimentMain(args(`${f.dir}/one`));
  equal(one!.ran, 4);
  await experimentMain([...args(`${f.dir}/two`), "--limit", "1"]);
  const two = await experimentMain([...args(`${f.dir}/two`), "--resume"]);
  equal(two!.skipped, 1);
  const a = (await readResults(`${f.dir}/one`))!, b = (await readResults(`${f.dir}/two`))!;
  const strip = (r: typeof a) => r.cells.map((c) => ({ ...c, seconds: 0 }));
  deepStrictEqual(strip(b), strip(a));
  ok(a.cells.every((c) => c.rmseFrames.every(Number.isFinite)));
  equal((a.inputs.checkpoints as Record<string, string>).sda.length, 64);
  ok(readText(`${f.dir}/one`, ["results.csv"])["results.csv"].startsWith("key,setting,ops"));
});

Deno.test("experiment task: --resume identifies the data by fingerprint, not path; --force (issue 18, case 5)", async () => {
  const f = await fixture();
  const { generateDataset } = await import("../src/data/generate.ts");
  const { resolveDataConfig } = await import("../src/data/config.ts");
  const store = `${f.dir}/data.zarr`;
  const make = async (seedOffset: number) => {
    await Deno.remove(store, { recursive: true }).catch(() => {});
    const config = resolveDataConfig("tiny", {
      seedOffset,
      trainFraction: 0.5,
      validFraction: 0.3,
    });
    await generateDataset({ out: store, config, workers: 0, progress: false });
  };
  await make(0);
  const args = (data: string, ...more: string[]): string[] => [
    "--data",
    data,
    ...grid,
    "--methods",
    "sda",
    "--sda",
    f.sda,
    "--out",
    `${f.dir}/run`,
    "--no-figures",
    ...more,
  ];
  await experimentMain(args(store, "--limit", "1"));
  // temporaries of a run killed mid-write go on resume (found by the kill -9 harness)
  Deno.writeTextFileSync(`${f.dir}/run/.results.json.k3j9x2a1b.tmp`, "{");
  // the same data at another path resumes
  const moved = `${f.dir}/moved.zarr`;
  await new Deno.Command("cp", { args: ["-r", store, moved] }).output();
  const again = await experimentMain(args(moved, "--resume", "--limit", "0"));
  equal(again!.skipped, 1);
  ok(![...Deno.readDirSync(`${f.dir}/run`)].some((e) => e.name.endsWith(".tmp")));
  // regenerated with another configuration at the same path: refused, naming the data
  await make(3);
  await rejects(
    experimentMain(args(store, "--resume")),
    (e: Error) =>
      e instanceof InvalidArgumentError &&
      /inputs differ from this run's in data/.test(e.message) &&
      /fingerprint/.test(e.message),
  );
  // not resumed: an existing output is refused, --force replaces it
  await rejects(experimentMain(args(store)), /already exists and is not empty .*--force/);
  const forced = await experimentMain(args(store, "--force", "--limit", "1"));
  equal(forced!.ran, 1);
  equal(forced!.skipped, 0);
});

Deno.test("experiment task: K and t-max default to the priors' metadata; disagreeing priors need the flags", async () => {
  const f = await fixture();
  const { withPriorMetadata } = await import("../src/diffusion/prior_info.ts");
  const set = (path: string, tMax: number, steps: number) => {
    const b = withPriorMetadata(Deno.readFileSync(path), { sampler: { tMax, steps } }, path, {
      offset: [0, 0],
      std: [1, 1],
    });
    Deno.writeFileSync(path, b);
  };
  set(f.sda, 0.7, 2);
  set(f.atan, 0.7, 2);
  const noSteps = grid.filter((x, i) => x !== "--steps" && grid[i - 1] !== "--steps");
  const out = `${f.dir}/meta`;
  await experimentMain(
    ["--data", f.data, ...noSteps, "--sda", f.sda, "--soad-arctan3x", f.atan, "--out", out],
  );
  const r = await readResults(out);
  equal(r?.config.steps, 2);
  equal(r?.config.tMax, 0.7);
  set(f.atan, 0.85, 2);
  await rejects(
    experimentMain(
      [
        "--data",
        f.data,
        ...noSteps,
        "--sda",
        f.sda,
        "--soad-arctan3x",
        f.atan,
        "--out",
        `${f.dir}/m2`,
      ],
    ),
    /different t-max \(soad-arctan3x: 0\.85, sda: 0\.7\); pass --t-max/,
  );
  // τ: the priors' metadata (absent = 0.25) must agree, or --tau chooses
  set(f.atan, 0.7, 2);
  const tau = withPriorMetadata(Deno.readFileSync(f.atan), { sampler: { tau: 0.5 } }, f.atan);
  Deno.writeFileSync(f.atan, tau);
  const args = ["--data", f.data, ...noSteps, "--sda", f.sda, "--soad-arctan3x", f.atan];
  await rejects(
    experimentMain([...args, "--out", `${f.dir}/m3`]),
    /different tau \(soad-arctan3x: 0\.5, sda: 0\.25\); pass --tau/,
  );
  await experimentMain([...args, "--tau", "0.5", "--out", `${f.dir}/m4`]);
  equal((await readResults(`${f.dir}/m4`))?.config.tau, 0.5);
  const soadOnly = [...noSteps, "--methods", "soad"];
  await experimentMain([
    "--data",
    f.data,
    ...soadOnly,
    "--soad-arctan3x",
    f.atan,
    "--out",
    `${f.dir}/m5`,
  ]);
  equal((await readResults(`${f.dir}/m5`))?.config.tau, 0.5);
  // sparse settings: the SOAD priors' metadata into the run's configuration (its identity), less
  // what a flag sets for every cell; --sparse off drops them; SDA's come from its own metadata
  const sparse = { below: 0.125, steps: 3, clipScale: 2 };
  Deno.writeFileSync(
    f.atan,
    withPriorMetadata(Deno.readFileSync(f.atan), { sampler: { sparse } }, f.atan),
  );
  const soadArgs = ["--data", f.data, ...soadOnly, "--soad-arctan3x", f.atan];
  await experimentMain([...soadArgs, "--out", `${f.dir}/m6`]);
  deepStrictEqual((await readResults(`${f.dir}/m6`))?.config.sparse, sparse);
  await experimentMain([...soadArgs, "--steps", "2", "--out", `${f.dir}/m7`]);
  deepStrictEqual((await readResults(`${f.dir}/m7`))?.config.sparse, {
    below: 0.125,
    clipScale: 2,
  });
  await experimentMain([...soadArgs, "--sparse", "off", "--out", `${f.dir}/m8`]);
  equal("sparse" in (await readResults(`${f.dir}/m8`))!.config, false);
  await rejects(
    experimentMain([...soadArgs, "--sparse", "maybe", "--out", `${f.dir}/m9`]),
    /--sparse must be on or off/,
  );
  Deno.writeFileSync(
    f.sda,
    withPriorMetadata(Deno.readFileSync(f.sda), {
      sampler: { sparse: { below: 0.5, clipScale: 3 } },
    }, f.sda),
  );
  await experimentMain([...args, "--tau", "0.5", "--out", `${f.dir}/m10`]);
  const both = (await readResults(`${f.dir}/m10`))!.config;
  deepStrictEqual([both.sparse, both.sdaSparse], [sparse, { below: 0.5, clipScale: 3 }]);
});

Deno.test("experiment task: the shipped 64² demo priors on the 16² tiny store are refused naming both", async () => {
  const f = await fixture();
  const models = new URL("../models/", import.meta.url).pathname;
  await rejects(
    experimentMain([
      ...["--data", f.data, ...grid, "--out", `${f.dir}/shipped`],
      ...["--sda", `${models}sda-small/weights.safetensors`],
      ...["--soad-arctan3x", `${models}arctan3x-small/weights.safetensors`],
    ]),
    /--soad-arctan3x does not fit .*trained on 64x64, the data are 16x16; the data are of configuration "tiny", the prior was trained on "demo-large" with other physics \(data vs prior: .*nx 32 vs 128.*--allow-mismatch/,
  );
});
