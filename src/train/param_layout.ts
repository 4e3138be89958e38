/**
 * The flat parameter vector of a U-Net as the trainer keeps it: every parameter in tfjs layout
 * (the layout of `UNet.variables`), concatenated in state-dict order. Converts to and from
 * PyTorch-named, PyTorch-layout tensor maps for checkpoints.
 * @module
 */

import type { NamedTensor } from "../io/safetensors.ts";
import { type UNetConfig, unetParamShapes } from "../diffusion/unet_config.ts";
import { tfToTorch, torchToTf } from "../diffusion/unet_weights.ts";
import { InvalidArgumentError } from "../errors.ts";

/** One parameter's place in the flat vector. */
export interface ParamSlot {
  /** PyTorch state-dict name. */
  name: string;
  /** PyTorch shape. */
  torchShape: number[];
  /** tfjs shape (as in `UNet.variables`). */
  tfShape: number[];
  /** Offset in the flat vector. */
  offset: number;
  /** Number of values. */
  size: number;
}

/**
 * Layout of the flat parameter vector of a network configuration.
 *
 * @example
 * ```ts
 * import { ParamLayout } from "./param_layout.ts";
 * const l = new ParamLayout({ channels: 2, widths: [4], blocks: 1, kernel: 3, frames: 3 });
 * console.log(l.size, l.slots[0].name); // 11494 temb.fc1.weight
 * ```
 */
export class ParamLayout {
  /** Parameters in state-dict order. */
  readonly slots: readonly ParamSlot[];
  /** Total number of values. */
  readonly size: number;

  /** @param config the network configuration */
  constructor(config: UNetConfig) {
    const slots: ParamSlot[] = [];
    let offset = 0;
    for (const [name, torchShape] of unetParamShapes(config)) {
      const size = torchShape.reduce((a, b) => a * b, 1);
      // the tfjs shape of a parameter does not depend on its values: convert a tiny stand-in
      const tfShape = torchToTf(name, { shape: torchShape, data: new Float32Array(size) }).shape;
      slots.push({ name, torchShape: [...torchShape], tfShape, offset, size });
      offset += size;
    }
    this.slots = slots;
    this.size = offset;
  }

  /**
   * Packs PyTorch-layout tensors named `prefix + name` into a flat tfjs-layout vector. Throws an
   * `InvalidArgumentError` naming missing or misshaped tensors; other names are ignored.
   */
  fromTorch(tensors: Map<string, NamedTensor>, prefix = ""): Float32Array {
    const out = new Float32Array(this.size);
    const bad: string[] = [];
    for (const s of this.slots) {
      const t = tensors.get(prefix + s.name);
      if (!t) {
        bad.push(`missing ${prefix}${s.name}`);
        continue;
      }
      if (t.shape.length !== s.torchShape.length || t.shape.some((d, i) => d !== s.torchShape[i])) {
        bad.push(`${prefix}${s.name} has shape [${t.shape}], expected [${s.torchShape}]`);
        continue;
      }
      out.set(torchToTf(s.name, t).data, s.offset);
    }
    if (bad.length) {
      const shown = bad.slice(0, 6).join("; ") + (bad.length > 6 ? `; … ${bad.length} in all` : "");
      throw new InvalidArgumentError(`parameters do not match the network: ${shown}`);
    }
    return out;
  }

  /** Unpacks a flat tfjs-layout vector into PyTorch-layout tensors named `prefix + name`. */
  toTorch(flat: Float32Array, prefix = ""): Map<string, NamedTensor> {
    if (flat.length !== this.size) {
      throw new InvalidArgumentError(
        `flat vector has ${flat.length} values, expected ${this.size}`,
      );
    }
    const out = new Map<string, NamedTensor>();
    for (const s of this.slots) {
      const part = flat.subarray(s.offset, s.offset + s.size);
      out.set(prefix + s.name, tfToTorch(s.name, part, s.torchShape));
    }
    return out;
  }
}
