/**
 * Times numpy.fft.rfft2/irfft2 (via /usr/bin/python3, needs python3-numpy) against both engines
 * on the same sizes in the same run, and prints µs per real 2-D transform and the ratios.
 * Best of several repeats for every entry (the box is shared; minima are the stable numbers).
 * Run: `deno run -A bench/fft_peer.ts`.
 * @module
 */

import { createRealFFT2, simdSupported } from "../src/fft/create.ts";
import type { FFTBackend } from "../src/fft/types.ts";

const SIZES = [64, 128, 256, 512];
const PYTHON = Deno.env.get("PYTHON") ?? "/usr/bin/python3";

const PY = `
import sys, timeit, json
import numpy as np
res = {}
for n in [int(a) for a in sys.argv[1:]]:
    x = np.random.rand(2, n, n); s = np.fft.rfft2(x)
    num = max(3, int(2e6 // (n * n)))
    f = min(timeit.repeat(lambda: np.fft.rfft2(x), number=num, repeat=7)) / num / 2
    i = min(timeit.repeat(lambda: np.fft.irfft2(s), number=num, repeat=7)) / num / 2
    res[n] = [f * 1e6, i * 1e6]
print(json.dumps(res))
`;

function numpyTimes(): Record<string, [number, number]> | undefined {
  try {
    const out = new Deno.Command(PYTHON, { args: ["-c", PY, ...SIZES.map(String)] }).outputSync();
    if (!out.success) {
      console.error(new TextDecoder().decode(out.stderr));
      return undefined;
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch (e) {
    console.error(`could not run ${PYTHON}: ${e}`);
    return undefined;
  }
}

/** Best µs per transform (2 fields per call) of forward and inverse. */
function ours(backend: FFTBackend, n: number): [number, number] {
  const fft = createRealFFT2(n, n, { backend });
  const x = fft.alloc(2 * n * n);
  for (let i = 0; i < x.length; i++) x[i] = Math.random();
  const s = fft.alloc(2 * n * fft.nk * 2);
  const it = Math.max(3, Math.floor(2e6 / (n * n)));
  for (let i = 0; i < 3 * it; i++) {
    fft.rfft2(x, s, 2);
    fft.irfft2(s, x, 2);
  }
  let bf = Infinity, bi = Infinity;
  for (let r = 0; r < 7; r++) {
    let t0 = performance.now();
    for (let i = 0; i < it; i++) fft.rfft2(x, s, 2);
    bf = Math.min(bf, ((performance.now() - t0) * 1000) / it / 2);
    t0 = performance.now();
    for (let i = 0; i < it; i++) fft.irfft2(s, x, 2);
    bi = Math.min(bi, ((performance.now() - t0) * 1000) / it / 2);
  }
  return [bf, bi];
}

const np = numpyTimes();
const backends: FFTBackend[] = simdSupported() ? ["wasm", "ts"] : ["ts"];
console.log("µs per real 2-D transform (forward / inverse), best of 7; ratio = numpy / ours");
for (const n of SIZES) {
  const cols = [`${n}x${n}`.padEnd(8)];
  const ref = np?.[n];
  if (ref) cols.push(`numpy ${ref[0].toFixed(1)} / ${ref[1].toFixed(1)}`);
  for (const b of backends) {
    const [f, i] = ours(b, n);
    let line = `${b} ${f.toFixed(1)} / ${i.toFixed(1)}`;
    if (ref) line += ` (x${(ref[0] / f).toFixed(1)} / x${(ref[1] / i).toFixed(1)})`;
    cols.push(line);
  }
  console.log(cols.join("   "));
}
