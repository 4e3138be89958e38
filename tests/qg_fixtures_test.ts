// The QG solver against pyqg's own outputs (tests/fixtures/qg, copied from the reference material; README there):
// q after 1, 10, 100 steps, the IC's ψ, u, v, ∂q/∂t, diagnostics and the KE spectrum.
import assert from "node:assert/strict";
import { QGModel } from "../src/qg/model.ts";
import { parseNpy } from "../src/io/npy.ts";
import { spectralFilter, spectralGrid } from "../src/qg/spectral.ts";

const FIX = new URL("./fixtures/qg/", import.meta.url);
interface FixtureCase {
  nx: number;
  ny: number;
  dt: number;
  files: { q: string; q_steps: number[]; step0: string };
  diagnostics: Record<string, Record<string, number | number[]>>;
  ke_isotropic_spectrum: Record<string, { kr: number[]; ke_layer1: number[]; ke_layer2: number[] }>;
}
const manifest: { cases: Record<string, FixtureCase>; filtr64: { n_below_1: number } } = JSON.parse(
  await Deno.readTextFile(new URL("manifest.json", FIX)),
);

async function npy(name: string): Promise<{ shape: number[]; data: Float64Array }> {
  const r = parseNpy(await Deno.readFile(new URL(name, FIX)));
  return { shape: r.shape, data: r.data as Float64Array };
}

/** max|a − b| / max|b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

const TOL: Record<number, number> = { 1: 1e-12, 10: 1e-12, 100: 1e-10 };

for (const backend of ["wasm", "ts"] as const) {
  for (const [name, c] of Object.entries(manifest.cases)) {
    Deno.test(`qg fixture ${name} (${backend} FFT): q after 1, 10, 100 steps`, async () => {
      const { shape, data } = await npy(c.files.q);
      const n = c.nx, len = 2 * n * n;
      assert.deepEqual(shape, [4, 2, n, n]);
      const m = new QGModel({ nx: c.nx, ny: c.ny, dt: c.dt }, { fft: backend });
      m.setQ(data.subarray(0, len));
      let done = 0;
      for (const [idx, steps] of (c.files.q_steps as number[]).entries()) {
        if (steps === 0) continue;
        m.step(steps - done);
        done = steps;
        const err = relErr(m.q, data.subarray(idx * len, (idx + 1) * len));
        assert.ok(err <= TOL[steps], `${name} step ${steps}: rel err ${err} > ${TOL[steps]}`);
      }
    });
  }
}

for (const [name, c] of Object.entries(manifest.cases)) {
  Deno.test(`qg fixture ${name}: ψ, u, v and ∂q/∂t of the initial condition`, async () => {
    const q = await npy(c.files.q);
    const s0 = await npy(c.files.step0);
    const n = c.nx, len = 2 * n * n;
    const m = new QGModel({ nx: c.nx, ny: c.ny, dt: c.dt });
    m.setQ(q.data.subarray(0, len));
    const got = [m.psi, m.u, m.v, m.tendency()];
    ["psi", "u", "v", "dqdt"].forEach((what, i) => {
      const err = relErr(got[i], s0.data.subarray(i * len, (i + 1) * len));
      assert.ok(err <= 1e-12, `${name} ${what}: rel err ${err}`);
    });
  });

  Deno.test(`qg fixture ${name}: diagnostics and isotropic KE spectrum`, async () => {
    const q = await npy(c.files.q);
    const n = c.nx, len = 2 * n * n;
    const m = new QGModel({ nx: c.nx, ny: c.ny, dt: c.dt });
    m.setQ(q.data.subarray(0, len));
    let done = 0;
    for (const steps of c.files.q_steps as number[]) {
      m.step(steps - done);
      done = steps;
      const want = c.diagnostics[String(steps)];
      const got = m.diagnostics() as unknown as Record<string, number | number[]>;
      for (const [key, ref] of Object.entries(want) as [string, number | number[]][]) {
        const a = [got[key]].flat() as number[], b = [ref].flat();
        for (let i = 0; i < b.length; i++) {
          // tiny values (e.g. G at rest ~1e-27) are compared against the field's scale
          const scale = key === "ape_generation" ? Math.max(Math.abs(b[i]), 1e-16) : Math.abs(b[i]);
          const tol = scale === 0 ? 1e-30 : 1e-9 * scale;
          assert.ok(
            Math.abs(a[i] - b[i]) <= tol,
            `${name} step ${steps} ${key}[${i}]: ${a[i]} vs ${b[i]}`,
          );
        }
      }
      const spec = c.ke_isotropic_spectrum[String(steps)];
      if (spec) {
        const { kr, spectrum } = m.keSpectrum();
        assert.ok(relErr(kr, spec.kr) < 1e-12, "spectrum wavenumbers");
        assert.ok(relErr(spectrum[0], spec.ke_layer1) < 1e-9, `${name} KE spectrum layer 1`);
        assert.ok(relErr(spectrum[1], spec.ke_layer2) < 1e-9, `${name} KE spectrum layer 2`);
      }
    }
  });
}

Deno.test("qg spectral filter equals pyqg's filtr at nx = 64", async () => {
  const ref = await npy("filtr64.npy");
  const g = spectralGrid(64, 64, 1e6, 1e6);
  const f = spectralFilter(g, 1e6 / 64, 1e6 / 64, 23.6);
  assert.deepEqual(ref.shape, [64, 33]);
  let maxErr = 0;
  for (let i = 0; i < f.length; i++) maxErr = Math.max(maxErr, Math.abs(f[i] - ref.data[i]));
  assert.ok(maxErr < 1e-15, `filter max abs err ${maxErr}`);
  assert.equal(f.filter((v) => v < 1).length, manifest.filtr64.n_below_1);
});
