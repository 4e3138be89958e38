// Structure of the exported ONNX model, and onnx.checker.check_model (Debian python3-onnx) when
// it is installed.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { initUNetWeights, paperUNetConfig, type UNetConfig } from "../src/diffusion/unet_config.ts";
import { unetParamCount } from "../src/diffusion/unet_config.ts";
import { exportOnnx } from "../src/onnx/export.ts";
import { exportOnnxVjp } from "../src/onnx/export_vjp.ts";
import { decodeModel, type GraphProto, type ValueInfoProto } from "../src/onnx/graph.ts";

const SMALL: UNetConfig = { channels: 4, widths: [4, 8, 16], blocks: 2, kernel: 5, frames: 9 };

function dims(v: ValueInfoProto): (number | string)[] {
  return v.type!.tensorType!.shape!.dim!.map((
    d: { dimParam?: string | null; dimValue?: unknown },
  ) => d.dimParam || Number(d.dimValue));
}

Deno.test("onnx export: names, layouts, dynamic dims, opset, PyTorch-named weights", async () => {
  const weights = initUNetWeights(SMALL, 1);
  for (const [pad, opset] of [["slice", 17], ["wrap", 19]] as const) {
    const bytes = await exportOnnx({ config: SMALL, weights }, { circularPad: pad });
    const m = decodeModel(bytes);
    assert.equal(Number(m.opsetImport[0].version), opset);
    assert.equal(m.opsetImport[0].domain, "");
    assert.equal(Number(m.irVersion), opset >= 19 ? 9 : 8);
    const g = m.graph as GraphProto;
    assert.deepEqual(g.input.map((i) => i.name), ["z", "t"]);
    assert.deepEqual(g.output.map((o) => o.name), ["eps"]);
    assert.deepEqual(dims(g.input[0]), ["B", "L", 4, "H", "W"]);
    assert.deepEqual(dims(g.input[1]), ["B"]);
    assert.deepEqual(dims(g.output[0]), ["B", "L", 4, "H", "W"]);
    const named = g.initializer.filter((t) => weights.has(t.name!));
    assert.equal(named.length, weights.size);
    const floats = named.reduce((n, t) => n + t.rawData!.length / 4, 0);
    assert.equal(floats, unetParamCount(SMALL));
    const w = named.find((t) => t.name === "down.1.tb.conv1.weight")!;
    assert.deepEqual(w.dims!.map(Number), [32, 8, 3, 1]);
    const ops = new Set(g.node.map((n) => n.opType));
    assert.equal(ops.has("Pad"), pad === "wrap");
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.format, "soad-unet-onnx/1");
    assert.deepEqual(JSON.parse(meta.unet!).widths, [4, 8, 16]);
  }
});

Deno.test("onnx export: mismatched weights and options are refused", async () => {
  const weights = initUNetWeights(SMALL, 1);
  weights.delete("up.0.conv.bias");
  await assert.rejects(
    exportOnnx({ config: SMALL, weights }),
    (e: Error) => e instanceof InvalidArgumentError && /missing up\.0\.conv\.bias/.test(e.message),
  );
  await assert.rejects(
    exportOnnx({ config: SMALL, weights: initUNetWeights(SMALL, 1) }, {
      circularPad: "wrap",
      opset: 17,
    }),
    /needs opset ≥ 19/,
  );
});

async function pythonOnnx(): Promise<number | null> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import onnx.defs; print(onnx.defs.onnx_opset_version())"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? Number(new TextDecoder().decode(out.stdout).trim()) : null;
  } catch {
    return null;
  }
}

const maxOpset = await pythonOnnx();
if (maxOpset === null) {
  console.log(
    "onnx_export_test: check_model ignored, python3-onnx is not installed " +
      "(apt-get install -y python3-onnx)",
  );
}

Deno.test({
  name: "onnx export: onnx.checker.check_model (full check) accepts the model",
  ignore: maxOpset === null,
}, async () => {
  if (maxOpset === null) throw new Error("unreachable: ignored without python onnx");
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, UNetConfig, "slice" | "wrap"][] = [
      ["small_slice", SMALL, "slice"],
      ["paper_slice", paperUNetConfig(2), "slice"],
      ["small_wrap", SMALL, "wrap"],
      ["small_vjp_slice", SMALL, "slice"],
    ];
    const files: string[] = [];
    for (const [name, config, circularPad] of cases) {
      if (circularPad === "wrap" && maxOpset < 19) {
        console.log(`SKIPPED ${name}: python onnx knows opsets ≤ ${maxOpset}, "wrap" needs 19`);
        continue;
      }
      const source = { config, weights: initUNetWeights(config, 0) };
      const bytes = name.includes("vjp")
        ? await exportOnnxVjp(source, { circularPad })
        : await exportOnnx(source, { circularPad });
      await Deno.writeFile(`${dir}/${name}.onnx`, bytes);
      files.push(`${dir}/${name}.onnx`);
    }
    const script = "import onnx, sys\nfor p in sys.argv[1:]:\n" +
      "    onnx.checker.check_model(onnx.load(p), full_check=True)\n    print('ok', p)\n";
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", script, ...files],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `check_model failed:\n${text}`);
    assert.equal(text.match(/^ok /gm)?.length, files.length, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
