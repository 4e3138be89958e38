// The committed .wasm modules are what the C sources build to: wasm/sources.json (written by
// `deno task build:wasm`) records the sources' hashes; an edit of wasm/*.c or *.h without a
// rebuild fails here. Also: the base64 embeddings the library loads are the committed modules.
import assert from "node:assert/strict";
import { CONV_RELAXED_WASM_BASE64, CONV_SIMD_WASM_BASE64 } from "../wasm/conv_wasm.ts";
import { KERNELS_WASM_BASE64 } from "../wasm/kernels_wasm.ts";
import { LETKF_WASM_BASE64 } from "../wasm/letkf_wasm.ts";
import { currentRecord, WASM_MODULE_SOURCES, type WasmSourceRecord } from "../wasm/sources.ts";

const WASM = new URL("../wasm/", import.meta.url);

Deno.test("wasm: the C sources and modules match the hashes recorded by build:wasm", async () => {
  const recorded: WasmSourceRecord = JSON.parse(
    await Deno.readTextFile(new URL("sources.json", WASM)),
  );
  const now = await currentRecord(WASM);
  assert.deepEqual(Object.keys(recorded.modules).sort(), Object.keys(now.modules).sort());
  for (const [mod, rec] of Object.entries(now.modules)) {
    const old = recorded.modules[mod];
    for (const [file, hash] of Object.entries(rec.sources)) {
      assert.equal(
        old.sources[file],
        hash,
        `wasm/${file} differs from the source wasm/${mod} was built from: rebuild with ` +
          "`deno task build:wasm` (clang + lld) and commit the modules and wasm/sources.json",
      );
    }
    assert.deepEqual(Object.keys(old.sources).sort(), Object.keys(rec.sources).sort(), mod);
    assert.equal(old.sha256, rec.sha256, `wasm/${mod} is not the module recorded by build:wasm`);
  }
});

Deno.test("wasm: every C source is part of a module", async () => {
  const listed = new Set(Object.values(WASM_MODULE_SOURCES).flat());
  for await (const e of Deno.readDir(WASM)) {
    if (/\.(c|h)$/.test(e.name)) {
      assert.ok(listed.has(e.name), `wasm/${e.name} is in no module of wasm/sources.ts`);
    }
  }
});

Deno.test("wasm: the base64 embeddings are the committed modules", async () => {
  const b64 = (bytes: Uint8Array) => {
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(bin);
  };
  for (
    const [file, embedded] of [
      ["kernels.wasm", KERNELS_WASM_BASE64],
      ["letkf.wasm", LETKF_WASM_BASE64],
      ["conv_simd.wasm", CONV_SIMD_WASM_BASE64],
      ["conv_relaxed.wasm", CONV_RELAXED_WASM_BASE64],
    ]
  ) {
    const bytes = await Deno.readFile(new URL(file, WASM));
    assert.ok(embedded === b64(bytes), `wasm/${file} differs from its .ts embedding`);
  }
});
