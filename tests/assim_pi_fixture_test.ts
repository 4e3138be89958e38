import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import type { WindowShape } from "../src/diffusion/denoiser.ts";
import { createUNet } from "../src/diffusion/unet.ts";
import type { UNetConfig } from "../src/diffusion/unet_config.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import { soadCoefficient, soadNoise } from "../src/assim/soad.ts";
import type { PlannedObservation } from "../src/assim/plan.ts";

const DIR = new URL("./fixtures/unet/", import.meta.url);
const SMALL: UNetConfig = {
  channels: 4,
  widths: [4, 8, 16],
  blocks: [2, 2, 2],
  kernel: 5,
  frames: 9,
};

function close(name: string, a: ArrayLike<number>, ref: ArrayLike<number>, tol = 1e-4): void {
  assert.equal(a.length, ref.length, name);
  let err = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(a[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  assert.ok(
    Number.isFinite(err) && err <= tol * Math.max(1, mag),
    `${name}: err ${err}, max ${mag}`,
  );
}

Deno.test("assim: SOAD Π matches the pi0/pi1 fixtures (coefficient, clip, ℒ, g, G, Π)", async () => {
  await selectBackend({ prefer: "wasm", quiet: true });
  const weights = readSafetensors(await Deno.readFile(new URL("small.weights.safetensors", DIR)));
  const io = readSafetensors(await Deno.readFile(new URL("small.io.safetensors", DIR)));
  const net = await createUNet(SMALL, { weights });
  try {
    const zAll = io.get("z")!;
    const [, L, C, H, W] = zAll.shape;
    const per = L * C * H * W;
    const z = zAll.data.slice(0, per);
    const shape: WindowShape = [1, L, C, H, W];
    const mask = io.get("pi.mask")!.data, y = io.get("pi.y")!.data;
    const idx: number[] = [];
    for (let i = 0; i < per; i++) if (mask[i] === 1) idx.push(i);
    assert.ok(idx.length > 0);
    const obs: PlannedObservation = {
      index: Int32Array.from(idx),
      y: Float32Array.from(idx, (i) => y[i]),
      sigma: 0.1,
    };
    const noise = soadNoise(net, [obs]);
    for (const k of ["pi0", "pi1"]) {
      const t = io.get(`${k}.t`)!.data[0];
      const r = await noise.evaluate(z, shape, t);
      const cRaw = io.get(`${k}.c_raw`)!.data[0], c = io.get(`${k}.c`)!.data[0];
      const Lref = io.get(`${k}.L`)!.data[0];
      assert.ok(Math.abs(soadCoefficient(t, 0.1) / cRaw - 1) < 1e-6, `${k} c_raw`);
      assert.ok(Math.abs(r.stats.cRaw[0] / cRaw - 1) < 1e-6, `${k} c_raw`);
      assert.ok(Math.abs(r.stats.c[0] / c - 1) < 1e-4, `${k} c ${r.stats.c[0]} vs ${c}`);
      assert.ok(
        Math.abs(r.stats.loss[0] / Lref - 1) < 1e-4,
        `${k} L ${r.stats.loss[0]} vs ${Lref}`,
      );
      close(`${k}.g`, r.g!, io.get(`${k}.g`)!.data);
      const G = r.g!.map((v) => v * r.stats.c[0]);
      close(`${k}.G`, G, io.get(`${k}.G`)!.data);
      close(`${k}.Pi`, r.pi, io.get(`${k}.Pi`)!.data);
    }
  } finally {
    net.dispose();
  }
});
