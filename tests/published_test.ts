// The published RMSE tables equal spec §6.2 (parsed from tests/fixtures/spec/SOAD.md) and reach summary.md.
import assert from "node:assert/strict";
import { PUBLISHED_RMSE, publishedRmse } from "../src/harness/published.ts";
import { summaryMarkdown } from "../src/harness/experiment_report.ts";
import type { CellResult } from "../src/harness/experiment_cell.ts";

const SPEC = new URL("./fixtures/spec/SOAD.md", import.meta.url);

Deno.test("published RMSE: every value equals the spec's §6.2 tables", async () => {
  const text = await Deno.readTextFile(SPEC);
  const heads: [string, string][] = [
    ["Setting I (with background), SOAD:", "I/soad"],
    ["Setting I, SDA baseline", "I/sda"],
    ["Setting II (no background), SOAD", "II/soad"],
    ["No-FDC ablation", "no-fdc/soad"],
  ];
  let checked = 0;
  for (const [head, key] of heads) {
    const start = text.indexOf(head);
    assert.ok(start >= 0, head);
    const lines = text.slice(start).split("\n").filter((l) => /^\| [ps]=/.test(l));
    for (const line of lines.slice(0, 7)) {
      const cols = line.split("|").map((c) => c.trim()).filter((c) => c !== "");
      const mask = cols[0].replace("=", "");
      ["arctan3x", "sin3x", "vor2vel"].forEach((op, k) => {
        const vals = cols[k + 1].split(/\s+/).map(Number);
        assert.deepEqual([...PUBLISHED_RMSE[key][op][mask]], vals, `${key} ${op} ${mask}`);
        checked += 4;
      });
    }
  }
  assert.equal(checked, 4 * 7 * 3 * 4);
  assert.equal(publishedRmse("I", "soad", "sin3x", "p0.01", 8), 0.332);
  assert.equal(publishedRmse("I", "soad", "sin3x", "p0.01", 3), undefined);
  assert.equal(publishedRmse("III", "soad", "sin3x", "p1", 1), undefined);
  assert.equal(publishedRmse("I", "soad", "arctan3x", "p1", 1, "no-fdc"), 0.155);
});

Deno.test("summary.md shows the paper's value beside ours", () => {
  const cell = {
    setting: "I",
    ops: ["sin3x"],
    mask: "p1",
    interval: 1,
    seed: 0,
    method: "soad",
    window: 0,
    variant: "base",
    rmse: 0.5,
  } as unknown as CellResult;
  const md = summaryMarkdown([cell]);
  assert.match(md, /\| p1 \| 0\.500 \(1\) · paper 0\.064 \|/);
  assert.doesNotMatch(md, /climatology|amplitude/); // no baselines in these cells
  const more = { ...cell, climatology: 0.97, pointwise: 0.8, amplitude: 0.61, correlation: 0.55 };
  const md2 = summaryMarkdown([more]);
  assert.match(md2, /climatology 0\.970–0\.970/);
  assert.match(md2, /\| p1 \| 0\.800 \|/);
  assert.match(md2, /\| p1 \| 0\.61 \/ 0\.55 \|/);
});
