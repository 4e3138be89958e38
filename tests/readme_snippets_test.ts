// The README's TypeScript snippets, executed: every ```ts block of README.md (not ```ts ignore)
// runs as a script in a temporary folder with this repository's configuration (so "@soad/soad"
// resolves to mod.ts), with the few substitutions below that make the expensive ones cheap (each
// must still match, so a README change cannot silently skip it). A `console.log(…); // X`
// comment whose X is a plain value must appear as a line of the output.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", ROOT));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

/** [snippet marker, from, to]: cheap settings for the test run. */
const CHEAP: [string, string, string][] = [
  ["new QGModel({ nx: 64", "model.step(96 * 365);", "model.step(96);"],
  ["const spinUpDays", "const spinUpDays = 3 * 365;", "const spinUpDays = 2;"],
  ["const spinUpDays", "samples: 2 });", "samples: 2, steps: 2 });"],
  ['name: "cube"', "steps: 8 });", "steps: 2 });"],
];

Deno.test("README has the snippets this test expects", () => {
  assert.ok(blocks.length >= 3, `${blocks.length} ts blocks`);
  for (const [marker, from] of CHEAP) {
    const b = blocks.find((x) => x.includes(marker));
    assert.ok(b, `no README snippet with ${marker}`);
    assert.ok(b.includes(from), `the snippet with ${marker} no longer has ${from}`);
  }
});

for (const [i, block] of blocks.entries()) {
  Deno.test({
    name: `README snippet ${i + 1}: ${
      block.split("\n").find((l) => l.trim() && !l.startsWith("import"))?.slice(0, 60)
    }`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      let code = block;
      for (const [marker, from, to] of CHEAP) {
        if (code.includes(marker)) code = code.replace(from, to);
      }
      const dir = await Deno.makeTempDir({ prefix: "soad_readme_" });
      try {
        await Deno.writeTextFile(`${dir}/snippet.ts`, code);
        const o = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", new URL("deno.json", ROOT).pathname, `${dir}/snippet.ts`],
          cwd: dir,
          signal: AbortSignal.timeout(300_000),
        }).output();
        const out = new TextDecoder().decode(o.stdout), err = new TextDecoder().decode(o.stderr);
        assert.equal(o.code, 0, `snippet ${i + 1} failed:\n${err.slice(-3000)}`);
        const lines = out.split("\n").map((l) => l.trim());
        for (const m of code.matchAll(/console\.log\(.*\);? \/\/ ([\w .-]+)$/gm)) {
          assert.ok(lines.includes(m[1].trim()), `expected a line "${m[1]}" in:\n${out}`);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
