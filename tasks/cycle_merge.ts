/**
 * `deno task cycle-merge --runs out/cycle-0,out/cycle-1,out/cycle-2 --out out/cycle-merged` —
 * combines many cycling runs (one per trajectory or seed, e.g. one Slurm array task or Kubernetes
 * Indexed Job pod each) into one summary.json / summary.md of per-method statistics over the runs
 * (docs/scale-out.md, docs/cycle.md).
 * @module
 */

import { parseArgs } from "node:util";
import { InvalidArgumentError } from "../src/errors.ts";
import { mergeCycleRuns } from "../src/harness/cycle_merge.ts";

const HELP = `deno task cycle-merge --runs D0,D1,... --out DIR [flags]

Merges finished 'deno task cycle' output folders (same settings, different truths or --seed) into
DIR/summary.json and DIR/summary.md: per method, the mean and standard deviation over the runs of
their RMSE, CRPS and spread, and the per-day RMSE averaged over the runs.
  --runs D0,D1,...  the runs' output folders (comma-separated)
  --out DIR         where to write the merged summary
  --allow-missing   merge the finished runs even when some have no summary.json (listed)
  --force           write into an existing, non-empty --out
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      runs: { type: "string" },
      out: { type: "string" },
      "allow-missing": { type: "boolean", default: false },
      force: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (a.help) return console.log(HELP);
  if (!a.runs) throw new InvalidArgumentError("--runs D0,D1,... is required (see --help)");
  if (!a.out) throw new InvalidArgumentError("--out DIR is required (see --help)");
  const runs = a.runs.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const s = await mergeCycleRuns(runs, a.out, {
    force: a.force,
    allowMissing: a["allow-missing"],
  });
  console.log(`merged ${s.runs.length} runs (${s.missing.length} missing) into ${a.out}`);
  for (const [m, r] of Object.entries(s.methods)) {
    console.log(
      `  ${m.padEnd(12)} runs ${r.runs}  RMSE ${r.rmse_mean.mean.toFixed(3)} ± ` +
        `${r.rmse_mean.std.toFixed(3)}  CRPS ${r.crps_mean.mean.toFixed(3)}`,
    );
  }
}

try {
  await main();
} catch (e) {
  console.error(`soad cycle-merge: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
