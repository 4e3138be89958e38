/**
 * `loadPrior`: a diffusion prior by shipped name (`"arctan3x"`), local path or URL, read with
 * `fetch` (so it works from a remote import too), with what its metadata says — the network
 * configuration, normalisation, what it was trained for and its sampler defaults — and
 * {@link normalise} / {@link denormalise} between physical q and the prior's units.
 * @module
 */

import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../errors.ts";
import { createUNet, type UNet } from "./unet.ts";
import { type Normalisation, type PriorInfo, readPriorInfo } from "./prior_info.ts";
import type { Denoiser } from "./denoiser.ts";
import type { ResolvedUNetConfig } from "./unet_config.ts";

/** The priors shipped in `models/` (folder `<name>-small`). */
export const SHIPPED_PRIORS: readonly string[] = ["arctan3x", "sin3x", "vor2vel", "sda", "full"];

/** The network of a {@link Prior}: a noise predictor with its configuration. */
export interface PriorNetwork extends Denoiser {
  /** The U-Net configuration. */
  readonly config: ResolvedUNetConfig;
  /** Frees the network's tensors. */
  dispose(): void;
}

/** A loaded prior: the network and what its weights file says about it. */
export interface Prior extends Omit<PriorInfo, "weights"> {
  /** The noise predictor ε̂(z, t) (a U-Net); pass the prior itself to `assimilate`. */
  denoiser: PriorNetwork;
  /** Where it came from (name, path or URL). */
  source: string;
  /** The safetensors bytes (for Workers). */
  bytes: Uint8Array;
  /** Frees the network. */
  dispose(): void;
}

/**
 * The URL of a shipped prior's weights, relative to this module (a `file:` URL in a checkout,
 * an `https:` URL in a remote import).
 *
 * @example
 * ```ts
 * import { shippedPriorUrl } from "@soad/soad";
 * console.log(shippedPriorUrl("sda").pathname.endsWith("models/sda-small/weights.safetensors")); // true
 * ```
 */
export function shippedPriorUrl(name: string): URL {
  const base = name.replace(/-small$/, "");
  if (!SHIPPED_PRIORS.includes(base)) {
    throw new InvalidArgumentError(
      `"${name}" is not a shipped prior; shipped: ${SHIPPED_PRIORS.join(", ")}`,
    );
  }
  return new URL(`../../models/${base}-small/weights.safetensors`, import.meta.url);
}

/**
 * Resolves a prior source to a URL: a shipped name (`"arctan3x"` or `"arctan3x-small"`), a URL
 * (`https:`, `file:`), or a local path (relative to the working directory).
 *
 * @example
 * ```ts
 * import { priorUrl } from "@soad/soad";
 * console.log(priorUrl("https://example.org/p.safetensors").protocol); // https:
 * ```
 */
export function priorUrl(source: string | URL): URL {
  if (source instanceof URL) return source;
  if (typeof source !== "string" || source === "") {
    throw new InvalidArgumentError("a prior source must be a name, a path or a URL");
  }
  if (SHIPPED_PRIORS.includes(source.replace(/-small$/, ""))) return shippedPriorUrl(source);
  if (/^[a-z][a-z0-9+.-]+:/i.test(source)) return new URL(source);
  return pathToFileURL(source) as URL;
}

/**
 * Fetches the bytes of a prior (name, path or URL, see {@link priorUrl}); throws an
 * `InvalidArgumentError` naming the source and the shipped names when it cannot be read.
 *
 * @example
 * ```ts
 * import { fetchPriorBytes } from "@soad/soad";
 * const { bytes } = await fetchPriorBytes("sda");
 * console.log(bytes.length > 0); // true
 * ```
 */
export async function fetchPriorBytes(
  source: string | URL,
): Promise<{ bytes: Uint8Array; url: URL }> {
  const url = priorUrl(source);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new InvalidArgumentError(
      `cannot read prior ${source} (${url.href}): ${(e as Error).message}; a prior is a shipped ` +
        `name (${SHIPPED_PRIORS.join(", ")}), a path or a URL of a weights .safetensors file`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new InvalidArgumentError(
      `cannot read prior ${source} (${url.href}): HTTP ${res.status} ${res.statusText}`,
    );
  }
  return { bytes: new Uint8Array(await res.arrayBuffer()), url };
}

/**
 * Loads a prior: fetches its weights, reads their metadata ({@link readPriorInfo}) and builds
 * the network on the current backend (call `selectBackend()` first to choose one). The result is
 * what `assimilate({ prior, … })` takes its defaults from.
 *
 * @example
 * ```ts
 * import { loadPrior } from "@soad/soad";
 * const prior = await loadPrior("arctan3x");
 * console.log(prior.trainedFor.operators[0].name, prior.sampler.tMax); // arctan3x 0.85
 * prior.dispose();
 * ```
 */
export async function loadPrior(source: string | URL): Promise<Prior> {
  const { bytes, url } = await fetchPriorBytes(source);
  const what = `prior ${source instanceof URL ? source.href : source}`;
  const { weights, ...info } = readPriorInfo(bytes, what);
  let denoiser: UNet;
  try {
    denoiser = await createUNet(info.config, { weights });
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
  }
  return {
    ...info,
    denoiser,
    source: source instanceof URL ? source.href : source === url.href ? source : `${source}`,
    bytes,
    dispose: () => denoiser.dispose(),
  };
}

function pixelsOf(len: number, norm: Normalisation | NormalisationSource, grid?: number[]): number {
  const g = grid ?? ("trainedFor" in norm ? norm.trainedFor.grid : undefined);
  if (!g) {
    throw new InvalidArgumentError(
      "normalise/denormalise need the grid [ny, nx]: pass it, or a prior that records it",
    );
  }
  const R = g[0] * g[1];
  if (!(R > 0) || len % (2 * R) !== 0 || len === 0) {
    throw new InvalidArgumentError(
      `a field of ${len} values is not [..., 2, ${g[0]}, ${g[1]}] (two layers of the grid)`,
    );
  }
  return R;
}

/** Anything that carries a normalisation (a {@link Prior} or its info). */
export interface NormalisationSource {
  /** The normalisation. */
  normalisation: Normalisation;
  /** What it was trained for (its grid). */
  trainedFor: { grid?: [number, number] };
}

function normOf(n: Normalisation | NormalisationSource): Normalisation {
  return "normalisation" in n ? n.normalisation : n;
}

/**
 * Physical q (any `[..., 2, ny, nx]` layout, layer 0 = upper) to the prior's units:
 * x = (q − offset[layer]) / std[layer]. The grid comes from the prior, or `grid`.
 *
 * @example
 * ```ts
 * import { normalise } from "@soad/soad";
 * const x = normalise([2, 4], { offset: [0, 1], std: [2, 3] }, [1, 1]);
 * console.log(x); // Float32Array [1, 1]
 * ```
 */
export function normalise(
  q: ArrayLike<number>,
  prior: Normalisation | NormalisationSource,
  grid?: [number, number],
): Float32Array {
  const R = pixelsOf(q.length, prior, grid);
  const { offset, std } = normOf(prior);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / R) % 2;
    out[i] = (q[i] - offset[c]) / std[c];
  }
  return out;
}

/**
 * The prior's units back to physical q: q = x · std[layer] + offset[layer] (float64).
 *
 * @example
 * ```ts
 * import { denormalise } from "@soad/soad";
 * console.log(denormalise([1, 1], { offset: [0, 1], std: [2, 3] }, [1, 1])); // Float64Array [2, 4]
 * ```
 */
export function denormalise(
  x: ArrayLike<number>,
  prior: Normalisation | NormalisationSource,
  grid?: [number, number],
): Float64Array {
  const R = pixelsOf(x.length, prior, grid);
  const { offset, std } = normOf(prior);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / R) % 2;
    out[i] = x[i] * std[c] + offset[c];
  }
  return out;
}
