// Per-entry comparison of sampled chains with an exact Gaussian posterior, in the metrics of
// tests/fixtures/spec/SAMPLER_ANALYTIC.md: mean error = rms over entries of
// (empirical mean − exact mean)/exact sd; var ratio = mean over entries of empirical/exact var.

/** One entry of a sample and its exact posterior moments. */
export interface ExactEntry {
  /** Flat index within one chain's sample. */
  index: number;
  /** Exact posterior mean. */
  mean: number;
  /** Exact posterior variance. */
  variance: number;
}

/** Summary over a group of entries. */
export interface GroupStats {
  /** rms of the normalised mean errors. */
  meanErr: number;
  /** Mean of the variance ratios. */
  varRatio: number;
  /** Smallest and largest variance ratio. */
  varMin: number;
  varMax: number;
}

/** Summarises `chains` samples of `per` entries each over `entries`. */
export function groupStats(
  samples: Float32Array,
  chains: number,
  per: number,
  entries: ExactEntry[],
): GroupStats {
  let err = 0, sum = 0, lo = Infinity, hi = -Infinity;
  for (const e of entries) {
    let m = 0;
    for (let c = 0; c < chains; c++) m += samples[c * per + e.index];
    m /= chains;
    let v = 0;
    for (let c = 0; c < chains; c++) v += (samples[c * per + e.index] - m) ** 2;
    v /= chains - 1;
    err += (m - e.mean) ** 2 / e.variance;
    const r = v / e.variance;
    sum += r;
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
  }
  return {
    meanErr: Math.sqrt(err / entries.length),
    varRatio: sum / entries.length,
    varMin: lo,
    varMax: hi,
  };
}

/** One-line description for assertion messages. */
export function describe(name: string, s: GroupStats): string {
  const f = (v: number) => v.toFixed(3);
  return `${name}: mean err ${f(s.meanErr)} sd, var ratio ${f(s.varRatio)} [${f(s.varMin)}, ${
    f(s.varMax)
  }]`;
}

/**
 * Exact posterior of independent N(0, 1) entries, each observed directly (y, σ) zero or more
 * times: precision 1 + Σ 1/σ², mean = Σ (y/σ²) / precision.
 */
export function exactIndependent(
  index: number,
  looks: { y: number; sigma: number }[],
): ExactEntry {
  let prec = 1, num = 0;
  for (const l of looks) {
    prec += 1 / (l.sigma * l.sigma);
    num += l.y / (l.sigma * l.sigma);
  }
  return { index, mean: num / prec, variance: 1 / prec };
}
