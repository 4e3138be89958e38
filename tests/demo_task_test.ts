// `deno task demo` end to end with the shipped priors and truth window (short sampler runs).
import assert from "node:assert/strict";
import { runTask } from "./task_helpers.ts";

const run = (...args: string[]) => runTask("demo.ts", ...args);

Deno.test("demo task: SOAD, SDA and climatology table, PNG and results.json", async () => {
  const out = await Deno.makeTempDir({ prefix: "soad_demo_" });
  // K = 16 (not the default 64) keeps it short; frame 0 is already pinned by the background there
  const r = await run("--steps", "16", "--corrections", "1", "--out", out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /frame\s+observed\s+SOAD\s+SDA\s+climatology\s+pointwise/);
  for (let f = 0; f < 9; f++) {
    assert.match(r.out, new RegExp(`\\n${f}\\s+(yes|-)\\s+[\\d.]+\\s+[\\d.]+\\s+[\\d.]+`));
  }
  const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
  for (const m of ["SOAD", "SDA", "climatology", "pointwise"]) {
    assert.equal(res.rmse[m].length, 9);
    assert.ok(res.rmse[m].every((v: number) => Number.isFinite(v) && v > 0), m);
  }
  // climatology is the training mean: RMSE ≈ 1 in normalised units
  assert.ok(res.rmse.climatology.every((v: number) => v > 0.8 && v < 1.2));
  // the pointwise baseline: observed frames beat climatology, unobserved frames 1, 3, … (not the
  // background's frame 0) are climatology
  for (let f = 0; f < 9; f++) {
    const [p, c] = [res.rmse.pointwise[f], res.rmse.climatology[f]];
    assert.ok(f % 2 === 0 ? p < c - 0.1 : Math.abs(p - c) < 1e-9, `frame ${f}: ${p} vs ${c}`);
  }
  // both learned priors beat climatology on every frame (K = 16: SOAD 0.18–0.61, SDA ≈ 0.75,
  // climatology 0.97)
  for (let f = 0; f < 9; f++) {
    const c = res.rmse.climatology[f];
    assert.ok(res.rmse.SOAD[f] < c - 0.2, `frame ${f}: SOAD ${res.rmse.SOAD[f]} vs ${c}`);
    assert.ok(res.rmse.SDA[f] < c - 0.1, `frame ${f}: SDA ${res.rmse.SDA[f]} vs ${c}`);
  }
  // setting I: the background (σb = 0.1) pins frame 0 through SOAD's FDC: its error is of the
  // order of σb (0.18 at K = 16, 0.20 at K = 64; the background alone, "pointwise", 0.094) and
  // the smallest of the window
  const s0 = res.rmse.SOAD[0];
  assert.ok(s0 < 2.5 * 0.1, `SOAD frame 0 RMSE ${s0}, expected near σb = 0.1`);
  assert.ok(
    res.rmse.SOAD.every((v: number) => v >= s0),
    `frame 0 is not the best: ${res.rmse.SOAD}`,
  );
  assert.ok((await Deno.stat(`${out}/demo.png`)).size > 10_000);
});

Deno.test("demo task: bad flags exit 1 with a message", async () => {
  for (
    const [args, msg] of [
      [["--op", "cos"], /--op must be arctan3x, sin3x or vor2vel/],
      [["--ratio", "2"], /--ratio expects a number in/],
      [["--ratio", "0.5", "--stride", "2"], /--ratio or --stride, not both/],
      [["--setting", "IV"], /--setting must be I or II/],
      [["--steps", "x"], /--steps expects an integer/],
    ] as [string[], RegExp][]
  ) {
    const r = await run(...args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.err, msg);
  }
});
