// Atomic writes: the target appears whole, no temp file is left behind, parent directories are
// created, and a failed write leaves the previous file intact.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { writeFileAtomic, writeJsonAtomic, writeTextAtomic } from "../src/io/atomic.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "soad_atomic_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("atomic write creates parents, writes the bytes and leaves no temp file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a/b/data.bin`;
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual(Array.from(await Deno.readFile(path)), [1, 2, 3]);
    await writeFileAtomic(path, new Uint8Array([9]));
    assert.deepEqual(Array.from(await Deno.readFile(path)), [9]);
    assert.deepEqual(await names(`${dir}/a/b`), ["data.bin"]);
  });
});

Deno.test("atomic text and pretty JSON, also through a file: URL", async () => {
  await withDir(async (dir) => {
    await writeTextAtomic(`${dir}/t.txt`, "héllo\n");
    assert.equal(await Deno.readTextFile(`${dir}/t.txt`), "héllo\n");
    const url = new URL(`file://${dir}/m%20s/metrics.json`);
    await writeJsonAtomic(url, { rmse: 0.5, steps: [1, 2] });
    const text = await Deno.readTextFile(`${dir}/m s/metrics.json`);
    assert.equal(text, '{\n  "rmse": 0.5,\n  "steps": [\n    1,\n    2\n  ]\n}\n');
    assert.deepEqual(await names(`${dir}/m s`), ["metrics.json"]);
  });
});

Deno.test("a write that fails midway leaves the old file intact and no temp file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    await writeTextAtomic(path, "old contents");
    let pulls = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller): void {
        if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("partial new "));
        else controller.error(new Error("disk on fire"));
      },
    });
    await assert.rejects(writeFileAtomic(path, failing), /disk on fire/);
    assert.equal(await Deno.readTextFile(path), "old contents");
    assert.deepEqual(await names(dir), ["state.json"]);
  });
});

Deno.test("a failed rename (target is a directory) cleans up the temp file", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/target/inner`, { recursive: true });
    await assert.rejects(writeFileAtomic(`${dir}/target`, new Uint8Array([1])));
    assert.deepEqual(await names(dir), ["target"]);
    assert.deepEqual(await names(`${dir}/target`), ["inner"]);
  });
});

Deno.test("unserialisable JSON is rejected before touching the disk", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/x.json`;
    await writeTextAtomic(path, "{}");
    await assert.rejects(writeJsonAtomic(path, { n: 1n }), InvalidArgumentError);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    await assert.rejects(writeJsonAtomic(path, cyc), InvalidArgumentError);
    await assert.rejects(writeJsonAtomic(path, undefined), InvalidArgumentError);
    assert.equal(await Deno.readTextFile(path), "{}");
    await assert.rejects(writeFileAtomic(`${dir}/`, new Uint8Array(1)), InvalidArgumentError);
    await assert.rejects(
      writeFileAtomic(new URL("https://example.com/x"), new Uint8Array(1)),
      InvalidArgumentError,
    );
    assert.deepEqual(await names(dir), ["x.json"]);
  });
});
