/**
 * Model files for the ORT engine: the U-Net configuration inferred from a weights file's tensor
 * shapes, and {@link loadOnnxModel}, which gives ONNX bytes and the configuration from either an
 * exported `.onnx` file (configuration from its metadata) or a safetensors checkpoint (exported
 * on the fly).
 * @module
 */

import { SoadError } from "../errors.ts";
import { type NamedTensor, readSafetensors, readSafetensorsMetadata } from "../io/safetensors.ts";
import { checkPriorMetadata, type PriorMetadata } from "../diffusion/prior_info.ts";
import { priorUrl } from "../diffusion/prior.ts";
import {
  resolveUNetConfig,
  type UNetConfig,
  unetConfigFromWeights,
} from "../diffusion/unet_config.ts";
import { exportOnnx, type ExportOnnxOptions } from "./export.ts";
import { decodeModel } from "./graph.ts";

export { unetConfigFromWeights };

/**
 * Result of {@link loadOnnxModel}.
 *
 * @example
 * ```ts
 * import type { OnnxModelFile } from "@soad/soad";
 * const f: OnnxModelFile = {
 *   bytes: new Uint8Array(0),
 *   config: { channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 },
 *   source: "onnx",
 * };
 * console.log(f.source); // "onnx"
 * ```
 */
export interface OnnxModelFile {
  /** ONNX model bytes for `createOrtDenoiser`. */
  bytes: Uint8Array;
  /** The network configuration. */
  config: UNetConfig;
  /** Where the bytes came from. */
  source: "onnx" | "safetensors";
  /** The prior's metadata (sampler defaults, what it was trained for), when the file has it. */
  prior?: PriorMetadata;
}

/**
 * Reads `path` (a path, a URL or a shipped prior's name): an ONNX file written by `exportOnnx` /
 * `deno task export-onnx` (recognised by its content), or a U-Net safetensors checkpoint, exported with `options` (default
 * `circularPad: "wrap"`: opset 19, which ORT-web runs on wasm and WebGPU, ~15 % faster than
 * Slice + Concat on wasm). Throws a `SoadError` naming the path when it cannot be read or is
 * neither.
 *
 * @example
 * ```ts
 * import { loadOnnxModel } from "@soad/soad";
 * try {
 *   await loadOnnxModel("/nonexistent/model.onnx");
 * } catch (e) {
 *   console.log((e as Error).name); // "SoadError"
 * }
 * ```
 */
export async function loadOnnxModel(
  path: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxModelFile> {
  let bytes: Uint8Array;
  try {
    // a path, a URL or a shipped prior's name (fetch works for file: and http:)
    const res = await fetch(priorUrl(path));
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new SoadError(`cannot read ${path}: ${(e as Error).message}`);
  }
  // safetensors starts with a little-endian u64 header length followed by '{'
  if (bytes.length > 8 && bytes[8] === 0x7b) {
    let weights: Map<string, NamedTensor>;
    try {
      weights = readSafetensors(bytes);
    } catch (e) {
      throw new SoadError(`${path}: ${(e as Error).message}`);
    }
    const config = unetConfigFromWeights(weights);
    const m = readSafetensorsMetadata(bytes).soad_prior;
    const prior = m === undefined ? undefined : checkPriorMetadata(JSON.parse(m), path);
    const onnx = await exportOnnx({ config, weights }, { circularPad: "wrap", ...options });
    return { bytes: onnx, config, source: "safetensors", ...(prior ? { prior } : {}) };
  }
  let unet: string | undefined, priorJson: string | undefined;
  try {
    const m = decodeModel(bytes);
    unet = m.metadataProps.find((p) => p.key === "unet")?.value ?? undefined;
    priorJson = m.metadataProps.find((p) => p.key === "soad_prior")?.value ?? undefined;
  } catch (e) {
    throw new SoadError(
      `${path} is neither a safetensors checkpoint nor an ONNX model: ${(e as Error).message}`,
    );
  }
  if (!unet) throw new SoadError(`${path} is an ONNX model without soad "unet" metadata`);
  const prior = priorJson ? checkPriorMetadata(JSON.parse(priorJson), path) : undefined;
  return {
    bytes,
    config: resolveUNetConfig(JSON.parse(unet)),
    source: "onnx",
    ...(prior ? { prior } : {}),
  };
}
