// The mutation catalogue of `deno task mutation` stays usable: ≥ 40 mutations over every pipeline
// folder, unique ids, each snippet exactly once in its file (other changes may move code: then this
// fails and names the site), a real change, and listed test files that exist.
import assert from "node:assert/strict";
import { checkSites } from "../tasks/mutation.ts";
import { MUTATIONS } from "./mutation/catalogue.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("mutation catalogue: sites occur exactly once, tests exist, every folder covered", async () => {
  assert.ok(MUTATIONS.length >= 40, `${MUTATIONS.length} mutations`);
  assert.equal(new Set(MUTATIONS.map((m) => m.id)).size, MUTATIONS.length, "duplicate ids");
  for (const dir of ["qg", "data", "obs", "diffusion", "assim", "train", "io"]) {
    assert.ok(MUTATIONS.some((m) => m.file.startsWith(`src/${dir}/`)), `no mutation in src/${dir}`);
  }
  const bad = (await checkSites(ROOT, MUTATIONS)).filter((s) => s.count !== 1);
  assert.deepEqual(
    bad.map((s) => `${s.id}: ${s.count}×`),
    [],
    "snippets must occur exactly once (deno task mutation --check-sites)",
  );
  for (const m of MUTATIONS) {
    assert.notEqual(m.original, m.replacement, m.id);
    assert.ok(m.tests.length > 0, `${m.id}: no tests`);
    for (const t of m.tests) {
      assert.ok((await Deno.stat(`${ROOT}/${t}`)).isFile, `${m.id}: ${t} is missing`);
    }
  }
});
