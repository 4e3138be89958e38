import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import type { CellResult } from "../src/assim/experiment_cell.ts";
import { RESULTS_FORMAT } from "../src/assim/experiment.ts";
import { comparisonFigure } from "../src/assim/experiment_figure.ts";
import type { Method, Setting } from "../src/assim/experiment_grid.ts";
import { rmseTables } from "../src/assim/experiment_report.ts";
import { MISSING_COLOR } from "../src/io/heatmap.ts";
import type { Image } from "../src/io/image.ts";
import { resultsFigure } from "../tasks/results_figure.ts";

const cell = (
  setting: Setting,
  method: Method,
  mask: string,
  interval: number,
  rmse: number,
  seed = 0,
): CellResult => ({
  key: `${setting}/arctan3x/${mask}/N${interval}/seed${seed}/${method}/w0/base`,
  setting,
  ops: ["arctan3x"],
  mask,
  interval,
  seed,
  method,
  window: 0,
  variant: "base",
  model: method,
  start: 0,
  rmse,
  rmseFrames: [rmse],
  completed: 1,
  seconds: 1,
});

const grid = (setting: Setting, method: Method, base: number): CellResult[] =>
  ["s4", "p0.25", "p1", "s2"].flatMap((m, i) =>
    [4, 1].map((n) => cell(setting, method, m, n, base + 0.1 * i + 0.01 * n))
  );

const missingPixels = (img: Image): number => {
  let k = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (
      img.data[i] === MISSING_COLOR[0] && img.data[i + 1] === MISSING_COLOR[1] &&
      img.data[i + 2] === MISSING_COLOR[2]
    ) k++;
  }
  return k;
};

Deno.test("report: tables list masks densest first (random ratios high to low, then strides)", () => {
  const t = rmseTables([...grid("I", "soad", 0.3), cell("I", "soad", "p1", 1, 0.5, 1)]);
  equal(t.length, 1);
  deepStrictEqual(t[0].masks, ["p1", "p0.25", "s2", "s4"]);
  deepStrictEqual(t[0].intervals, [1, 4]);
  // the mean over seeds: (0.3 + 0.2 + 0.01 and 0.5) / 2
  ok(Math.abs(t[0].values[0][0] - (0.51 + 0.5) / 2) < 1e-12);
  equal(t[0].counts[0][0], 2);
});

Deno.test("figure: ours and the paper's panels per operator; SDA's setting I stands in for II", () => {
  const cells = [...grid("I", "soad", 0.3), ...grid("I", "sda", 0.4), ...grid("II", "soad", 0.5)];
  const one = comparisonFigure(cells, { setting: "I", paper: false });
  const withPaper = comparisonFigure(cells, { setting: "I" });
  // 4 panel columns vs 2 (the paper's panels print wider numbers such as 0.0840)
  ok(withPaper.width >= 2 * one.width && withPaper.width < 2.5 * one.width, `${withPaper.width}`);
  equal(withPaper.height, one.height);
  // one row per operator, whichever methods' tables it has
  equal(
    comparisonFigure(grid("I", "soad", 0.3), { setting: "I", paper: false }).height,
    one.height,
  );
  const sin = grid("I", "soad", 0.6).map((c) => ({ ...c, ops: ["sin3x" as const] }));
  const two0 = comparisonFigure([...sin, ...cells], { setting: "I", paper: false });
  ok(two0.height > 1.8 * one.height && two0.height < 2.2 * one.height, `${two0.height}`);
  equal(missingPixels(one), 0, "every cell of ours is drawn");
  // setting II: SDA ran in setting I only (enumerateGrid skips II), its panel still complete
  const two = comparisonFigure(cells, { setting: "II", paper: false });
  equal(missingPixels(two), 0);
  // without any SDA cell the SDA panel is grey
  const soadOnly = comparisonFigure(grid("II", "soad", 0.5), { setting: "II", paper: false });
  ok(missingPixels(soadOnly) > 0);
  // the paper has no stride-2 / N = 4 gaps here: its panels have every cell of these masks
  ok(missingPixels(withPaper) === 0);
  throws(() => comparisonFigure(cells, { setting: "III" }), /no cells of setting III/);
  throws(() => comparisonFigure(cells, { setting: "I", range: [1, 1] }), /range/);
});

Deno.test("results-figure task: comparable runs only; writes the PNG", async () => {
  const dir = await Deno.makeTempDir({ prefix: "soad_fig_" });
  try {
    const write = async (name: string, steps: number, cs: CellResult[]) => {
      await Deno.mkdir(`${dir}/${name}`);
      const config = { frames: 9, steps, corrections: 5, tMax: 0.85, samples: 1 };
      await Deno.writeTextFile(
        `${dir}/${name}/results.json`,
        JSON.stringify({ format: RESULTS_FORMAT, config, inputs: {}, stepT: [], cells: cs }),
      );
    };
    await write("a", 32, grid("I", "soad", 0.3));
    await write("b", 32, grid("I", "sda", 0.4));
    await write("c", 64, grid("I", "sda", 0.4));
    const out = `${dir}/fig.png`;
    const n = await resultsFigure([
      "--results",
      `${dir}/a,${dir}/b`,
      "--setting",
      "I",
      "--out",
      out,
    ]);
    equal(n, 16);
    const png = await Deno.readFile(out);
    deepStrictEqual([...png.subarray(1, 4)], [80, 78, 71]);
    // an existing figure is not replaced without --force (issue 18)
    const again = ["--results", `${dir}/a,${dir}/b`, "--setting", "I", "--out", out];
    await resultsFigure(again).then(
      () => ok(false, "an existing --out must be refused"),
      (e) => ok(/already exists; .*--force/.test(e.message), e.message),
    );
    equal(await resultsFigure([...again, "--force"]), 16);
    await resultsFigure(["--results", `${dir}/a,${dir}/c`, "--setting", "I", "--out", out]).then(
      () => ok(false, "mixed K must fail"),
      (e) => ok(/not comparable/.test(e.message), e.message),
    );
    await resultsFigure(["--results", `${dir}/a`, "--setting", "IV", "--out", out]).then(
      () => ok(false, "bad setting must fail"),
      (e) => ok(/I, II or III/.test(e.message), e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
