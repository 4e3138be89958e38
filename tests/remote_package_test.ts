// The package from outside this repository: a static http://127.0.0.1 server of the repo (the
// code path of a remote import such as jsr:@soad/soad), a separate project folder whose
// deno.json maps @soad/soad and the npm dependencies, a script that imports mod.ts and loads a
// shipped prior with fetch, and the demo task run as a remote entry point (tiny settings).
import assert from "node:assert/strict";
import { ARCTAN3X_SAMPLER } from "./shipped_sampler.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test({
  name: "remote package: mod.ts and the demo entry point run from an http import",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const ac = new AbortController();
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
      async (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        if (path.split("/").includes("..")) return new Response("forbidden", { status: 403 });
        try {
          return new Response(await Deno.readFile(new URL(`.${path}`, ROOT)));
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    const base = `http://127.0.0.1:${server.addr.port}/`;
    const dir = await Deno.makeTempDir({ prefix: "soad_remote_" });
    try {
      // the user's project: the npm dependencies of soad's deno.json and @soad/soad
      const conf = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
      const imports: Record<string, string> = {
        "@soad/soad": `${base}mod.ts`,
        "@soad/soad/": base,
      };
      for (const [k, v] of Object.entries(conf.imports as Record<string, string>)) {
        if (v.startsWith("npm:")) imports[k] = v;
      }
      await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports }, null, 2));
      // the shipped prior's upper-layer std (its card, read locally): normalises to exactly 1
      const card = JSON.parse(
        await Deno.readTextFile(new URL("../models/arctan3x-small/card.json", import.meta.url)),
      );
      const STD0 = card.data.norm_std[0];
      await Deno.writeTextFile(
        `${dir}/main.ts`,
        `import { loadPrior, normalise, selectBackend } from "@soad/soad";
await selectBackend({ prefer: "cpu", quiet: true });
const prior = await loadPrior("arctan3x"); // fetched from the server, next to mod.ts
const x = normalise(new Float32Array(2 * 64 * 64).fill(${STD0}), prior);
console.log(JSON.stringify({ trainedFor: prior.trainedFor, sampler: prior.sampler, x0: x[0] }));
prior.dispose();
`,
      );
      const run = async (...args: string[]) => {
        const o = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", `${dir}/deno.json`, ...args],
          cwd: dir,
          signal: AbortSignal.timeout(240_000),
        }).output();
        const dec = new TextDecoder();
        return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
      };
      const api = await run(`${dir}/main.ts`);
      assert.equal(api.code, 0, api.err.slice(-2000));
      const v = JSON.parse(api.out.trim().split("\n").at(-1)!);
      assert.equal(v.trainedFor.model, "arctan3x");
      assert.deepEqual(v.sampler, ARCTAN3X_SAMPLER);
      assert.ok(Math.abs(v.x0 - 1) < 1e-6);
      // the demo as a remote entry point (deno run -A jsr:@soad/soad/demo once published)
      const demo = await run(
        `${base}tasks/demo.ts`,
        ...["--steps", "1", "--corrections", "0", "--no-sda", "--out", `${dir}/out`, "--save"],
      );
      assert.equal(demo.code, 0, demo.err.slice(-2000));
      assert.match(demo.out, /K = 1, M = 0, t from 0\.85 \(prior's default\) to 0/);
      assert.match(demo.out, /frame\s+observed\s+SOAD\s+climatology/);
      const res = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
      assert.equal(res.rmse.SOAD.length, 9);
      assert.ok((await Deno.stat(`${dir}/out/soad.zarr/.zmetadata`)).isFile);
    } finally {
      ac.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
