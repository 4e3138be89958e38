/**
 * `deno task export-onnx --checkpoint model.safetensors --out model.onnx [--pad slice|wrap]`
 *
 * Exports a U-Net checkpoint (safetensors, PyTorch names; the configuration is inferred from the
 * tensor shapes) as an ONNX model of the denoiser: inputs `z` [B, L, C, H, W] and `t` [B]
 * (float32), output `eps` [B, L, C, H, W]; see docs/onnx.md. Written atomically.
 * @module
 */

import { parseArgs } from "node:util";
import { InvalidArgumentError, SoadError } from "../src/errors.ts";
import { writeFileAtomic } from "../src/io/atomic.ts";
import { prepareOutputFile } from "../src/io/output_dir.ts";
import { readSafetensors, readSafetensorsMetadata } from "../src/io/safetensors.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { unetConfigFromWeights } from "../src/onnx/model_file.ts";

const HELP = `deno task export-onnx --checkpoint model.safetensors --out model.onnx [flags]

Exports the denoiser eps(z, t) of a U-Net checkpoint as ONNX (opset 17; inputs z [B, L, C, H, W]
and t [B], output eps [B, L, C, H, W], float32; B, L, H, W dynamic).

  --checkpoint F   U-Net weights, safetensors with PyTorch names (required)
  --out F          the ONNX file to write (required; an existing file is refused unless --force)
  --force          replace an existing --out
  --pad MODE       circular padding as "slice" (Slice+Concat, opset 17, default) or
                   "wrap" (Pad mode wrap, opset 19)
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      checkpoint: { type: "string" },
      out: { type: "string" },
      pad: { type: "string", default: "slice" },
      force: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return;
  }
  if (!a.checkpoint || !a.out) {
    throw new InvalidArgumentError("--checkpoint and --out are required (see --help)");
  }
  if (a.pad !== "slice" && a.pad !== "wrap") {
    throw new InvalidArgumentError(`--pad must be slice or wrap, got ${a.pad}`);
  }
  await prepareOutputFile(a.out, { force: a.force });
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(a.checkpoint);
  } catch (e) {
    throw new SoadError(`cannot read ${a.checkpoint}: ${(e as Error).message}`);
  }
  const weights = readSafetensors(bytes);
  const config = unetConfigFromWeights(weights);
  const onnx = await exportOnnx({ config, weights }, {
    circularPad: a.pad,
    metadata: {
      checkpoint: a.checkpoint.split("/").pop() ?? a.checkpoint,
      // the prior's metadata (sampler defaults, what it was trained for) travels with the graph
      ...(readSafetensorsMetadata(bytes).soad_prior !== undefined
        ? { soad_prior: readSafetensorsMetadata(bytes).soad_prior }
        : {}),
    },
  });
  await writeFileAtomic(a.out, onnx);
  console.log(
    `wrote ${a.out} (${(onnx.length / 1e6).toFixed(2)} MB; C = ${config.channels}, widths ` +
      `[${config.widths}], blocks [${config.blocks}], kernel ${config.kernel}, pad ${a.pad})`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`export-onnx: ${e instanceof Error ? e.message : e}`);
    Deno.exit(e instanceof InvalidArgumentError ? 2 : 1);
  }
}
