// `deno task eps-profile` end to end on the shipped SDA prior and the demo window: every printed
// number equals epsProfile run here on the window normalised by hand (offset and std of the
// checkpoint, else the window's norm_std), so the task's wiring (normalisation, layout, seed,
// times) is checked, and epsProfile itself is held to closed forms in eps_profile_test.ts.
import assert from "node:assert/strict";
import { loadExperimentCheckpoint } from "../src/harness/experiment_inputs.ts";
import { selectBackend } from "../src/backend/select.ts";
import { epsProfile } from "../src/diffusion/eps_profile.ts";
import { readNpy } from "../src/io/npy.ts";
import { runTask } from "./task_helpers.ts";

const CK = new URL("../models/sda-small/weights.safetensors", import.meta.url).pathname;

Deno.test({
  name: "eps-profile task: printed ε-MSE, x̂0 RMSE and bias equal epsProfile on the demo window",
  sanitizeResources: false,
  fn: async () => {
    const times = [0.1, 0.5, 0.9];
    const r = await runTask(
      "eps_profile.ts",
      "--checkpoint",
      CK,
      "--times",
      times.join(","),
      "--seed",
      "3",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /model sda, C = 2, 64x64/);
    const lines = r.out.split("\n").filter((l) => /^\d\.\d{3} /.test(l));
    assert.equal(lines.length, times.length, r.out);

    await selectBackend({ prefer: "wasm", quiet: true });
    const ck = await loadExperimentCheckpoint(CK, "sda", 9);
    const win = await readNpy(new URL("../models/demo/window.npy", import.meta.url));
    const info = JSON.parse(
      await Deno.readTextFile(new URL("../models/demo/window.json", import.meta.url)),
    );
    const std = ck.normalisation?.std ?? info.norm_std;
    const offset = ck.normalisation?.offset ?? [0, 0];
    const n = win.shape[2], R = n * n;
    const x = Float32Array.from(
      win.data as Float32Array,
      (v, i) => (v - offset[Math.floor(i / R) % 2]) / std[Math.floor(i / R) % 2],
    );
    // the SDA layout is the state itself (2 channels)
    const rows = await epsProfile(ck.net, x, [1, 9, 2, n, n], times, 3);
    ck.net.dispose();
    rows.forEach((row, k) => {
      const cells = lines[k].trim().split(/\s+/).map(Number);
      // t, mse[0], mse[1], x0 RMSE, bias[0], bias[1]
      assert.equal(cells.length, 6, lines[k]);
      assert.equal(cells[0], times[k]);
      assert.ok(Math.abs(cells[1] - row.mse[0]) <= 6e-5, `${lines[k]} vs ${row.mse}`);
      assert.ok(Math.abs(cells[2] - row.mse[1]) <= 6e-5, `${lines[k]} vs ${row.mse}`);
      assert.ok(Math.abs(cells[3] / row.x0Rmse - 1) <= 6e-3, `${lines[k]} vs ${row.x0Rmse}`);
      assert.ok(Math.abs(cells[4] - row.bias[0]) <= 6e-4, `${lines[k]} vs ${row.bias}`);
      assert.ok(Math.abs(cells[5] - row.bias[1]) <= 6e-4, `${lines[k]} vs ${row.bias}`);
      // a trained prior denoises: ε-MSE well below 1 (the MSE of ε̂ = 0)
      assert.ok(row.mse[0] < 0.5 && row.mse[1] < 0.5, `t ${times[k]}: ${row.mse}`);
    });
  },
});

Deno.test("eps-profile task: missing checkpoint and bad times exit 1 with a message", async () => {
  const a = await runTask("eps_profile.ts");
  assert.equal(a.code, 1);
  assert.match(a.err, /--checkpoint is required/);
  const b = await runTask("eps_profile.ts", "--checkpoint", CK, "--times", "0.5,2");
  assert.equal(b.code, 1);
  assert.match(b.err, /times must be in \[0, 1\]/);
});
