// The paper-width U-Net (widths 16/32/64, 3 blocks, kernel 5, C = 4, L = 9) on one 256² window
// on the wasm backend: the forward + VJP and the parameter gradients run (they aborted out of
// tfjs-wasm's 4 GiB heap before the blocks were checkpointed), are finite, and agree with central
// finite differences of Σ w ⊙ ε̂ along one random direction of the input and of the parameters.
// Several minutes on 2 cores (each pass is tens of seconds), hence here.
import { ok } from "node:assert/strict";
import { selectBackend } from "../../src/backend/select.ts";
import { planUNetMemory } from "../../src/diffusion/memory_plan.ts";
import { createUNet } from "../../src/diffusion/unet.ts";
import { paperUNetConfig } from "../../src/diffusion/unet_config.ts";
import { Rng } from "../../src/rng.ts";

const N = 256;
const shape: [number, number, number, number, number] = [1, 9, 4, N, N];

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function seconds(t0: number): string {
  return ((performance.now() - t0) / 1000).toFixed(1);
}

Deno.test({
  name:
    "U-Net 256², paper widths, wasm: forward + VJP and parameter gradients match finite differences",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await selectBackend({ prefer: "wasm", quiet: true });
    const config = paperUNetConfig(4);
    ok(planUNetMemory(config, shape, "vjp").checkpoint, "256² passes are checkpointed");
    const net = await createUNet(config, { seed: 7 });
    try {
      const rng = new Rng(256);
      const n = shape.reduce((a, b) => a * b, 1);
      const z = Float32Array.from({ length: n }, () => rng.normal());
      const w = Float32Array.from({ length: n }, () => rng.normal());
      const v = Float32Array.from({ length: n }, () => rng.normal());
      const t = new Float32Array([0.5]);
      const f = async (zz: Float32Array): Promise<number> =>
        dot(await net.denoise(zz, shape, t), w);

      let t0 = performance.now();
      const { eps, grad } = await net.denoiseVjp(z, shape, t, w);
      console.log(`forward + VJP at 256²: ${seconds(t0)} s`);
      ok(eps.every(Number.isFinite) && grad.every(Number.isFinite), "finite ε̂ and VJP");
      t0 = performance.now();
      const f0 = await f(z);
      console.log(`forward at 256²: ${seconds(t0)} s`);
      // the VJP's forward is the forward
      ok(Math.abs(f0 - dot(eps, w)) <= 1e-4 * Math.abs(f0) + 1e-3, `${f0} vs ${dot(eps, w)}`);

      // input direction: ⟨J^T w, v⟩ against (f(z + hv) − f(z − hv)) / 2h
      const h = 1e-2;
      const zp = z.map((x, i) => x + h * v[i]), zm = z.map((x, i) => x - h * v[i]);
      const fd = (await f(zp) - await f(zm)) / (2 * h);
      const an = dot(grad, v);
      console.log(`input direction: VJP ${an.toFixed(4)}, finite difference ${fd.toFixed(4)}`);
      ok(Math.abs(fd - an) <= 1e-2 * Math.abs(an), `VJP ${an} vs finite difference ${fd}`);

      // parameter direction: ⟨∂θ Σ w ⊙ ε̂, u⟩ against central differences in θ
      t0 = performance.now();
      const { grads } = await net.denoiseParamVjp(z, shape, t, w);
      console.log(`forward + parameter gradients at 256²: ${seconds(t0)} s`);
      const theta = await net.getWeights();
      let anP = 0;
      const dirs = new Map<string, Float32Array>();
      for (const [name, g] of grads) {
        ok(g.data.every(Number.isFinite), `finite gradient of ${name}`);
        const u = Float32Array.from(g.data, () => rng.normal());
        dirs.set(name, u);
        anP += dot(g.data, u);
      }
      const hp = 1e-4; // 1e-3 is outside the linear range at 256² (≈ 8 % off); 1e-4 is within 1e-4 at 64²
      const shifted = (s: number) =>
        new Map(
          [...theta].map(([name, p]) => [
            name,
            { ...p, data: p.data.map((x, i) => x + s * hp * dirs.get(name)![i]) },
          ]),
        );
      net.setWeights(shifted(1));
      const fp = await f(z);
      net.setWeights(shifted(-1));
      const fm = await f(z);
      const fdP = (fp - fm) / (2 * hp);
      console.log(
        `parameter direction: gradient ${anP.toFixed(4)}, finite difference ${fdP.toFixed(4)}`,
      );
      ok(
        Math.abs(fdP - anP) <= 1e-2 * Math.abs(anP),
        `gradient ${anP} vs finite difference ${fdP}`,
      );
    } finally {
      net.dispose();
    }
  },
});
