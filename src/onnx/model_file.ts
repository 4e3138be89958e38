/**
 * Model files for the ORT engine: the U-Net configuration inferred from a weights file's tensor
 * shapes, and {@link loadOnnxModel}, which gives ONNX bytes and the configuration from either an
 * exported `.onnx` file (configuration from its metadata) or a safetensors checkpoint (exported
 * on the fly).
 * @module
 */

import { SoadError } from "../errors.ts";
import { type NamedTensor, readSafetensors } from "../io/safetensors.ts";
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
 * import type { OnnxModelFile } from "./model_file.ts";
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
}

/**
 * Reads `path`: an ONNX file written by `exportOnnx` / `deno task export-onnx` (recognised by
 * its content), or a U-Net safetensors checkpoint, exported with `options` (default
 * `circularPad: "wrap"`: opset 19, which ORT-web runs on wasm and WebGPU, ~15 % faster than
 * Slice + Concat on wasm). Throws a `SoadError` naming the path when it cannot be read or is
 * neither.
 *
 * @example
 * ```ts
 * import { loadOnnxModel } from "./model_file.ts";
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
    bytes = await Deno.readFile(path);
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
    const onnx = await exportOnnx({ config, weights }, { circularPad: "wrap", ...options });
    return { bytes: onnx, config, source: "safetensors" };
  }
  let unet: string | undefined;
  try {
    const m = decodeModel(bytes);
    unet = m.metadataProps.find((p) => p.key === "unet")?.value ?? undefined;
  } catch (e) {
    throw new SoadError(
      `${path} is neither a safetensors checkpoint nor an ONNX model: ${(e as Error).message}`,
    );
  }
  if (!unet) throw new SoadError(`${path} is an ONNX model without soad "unet" metadata`);
  return { bytes, config: resolveUNetConfig(JSON.parse(unet)), source: "onnx" };
}
