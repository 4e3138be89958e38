import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import {
  cellKey,
  enumerateGrid,
  modelOf,
  parseMask,
  parseVariant,
} from "../src/harness/experiment_grid.ts";
import { InvalidArgumentError } from "../src/errors.ts";

Deno.test("grid: the paper's grid has 3·7·4·5·3 cells in settings I, II (SDA once); III adds 7·4·5·2", () => {
  const cells = enumerateGrid();
  // SOAD in I and II, SDA in I only: its setting-II cells would repeat setting I's exactly
  assertEquals(cells.length, 3 * 7 * 4 * 5 * 3);
  assert(!cells.some((c) => c.method === "sda" && c.setting === "II"));
  assertEquals(new Set(cells.map(cellKey)).size, cells.length);
  const all = enumerateGrid({ settings: ["I", "II", "III"] });
  assertEquals(all.length, cells.length + 7 * 4 * 5 * 2);
  const iii = all.filter((c) => c.setting === "III");
  assert(iii.every((c) => c.ops.join("+") === "arctan3x+sin3x+vor2vel"));
  assertEquals(modelOf(iii[0]), "soad-full");
  assertEquals(modelOf({ setting: "I", ops: ["vor2vel"], method: "soad" }), "soad-vor2vel");
  assertEquals(modelOf({ setting: "III", ops: ["sin3x"], method: "sda" }), "sda");
});

Deno.test("grid: order is variant, setting, ops, method, mask, N, window, seed", () => {
  const cells = enumerateGrid({
    ops: ["sin3x"],
    masks: ["s4", "p0.01"],
    intervals: [2, 8],
    seeds: [0, 1],
    methods: ["sda"],
    settings: ["II"],
  });
  assertEquals(cells.map(cellKey).slice(0, 5), [
    "II/sin3x/s4/N2/seed0/sda/w0/base",
    "II/sin3x/s4/N2/seed1/sda/w0/base",
    "II/sin3x/s4/N8/seed0/sda/w0/base",
    "II/sin3x/s4/N8/seed1/sda/w0/base",
    "II/sin3x/p0.01/N2/seed0/sda/w0/base",
  ]);
});

Deno.test("grid: variants apply where meaningful (unknown-bg: setting I; no-fdc: SOAD)", () => {
  const cells = enumerateGrid({
    ops: ["arctan3x"],
    masks: ["p1"],
    intervals: [1],
    seeds: [0],
    settings: ["I", "II"],
    variants: [
      "base",
      "unknown-bg",
      "no-fdc",
      "jacobian-free",
      "noise-laplace",
      "noise-lognormal0.5",
    ],
  });
  const by = (v: string) =>
    cells.filter((c) => c.variant === v).map((c) => `${c.setting}${c.method}`);
  assertEquals(by("base"), ["Isoad", "Isda", "IIsoad"]);
  assertEquals(by("unknown-bg"), ["Isoad", "Isda"]);
  assertEquals(by("no-fdc"), ["Isoad", "IIsoad"]);
  assertEquals(by("jacobian-free"), ["Isoad", "IIsoad"]);
  assertEquals(parseVariant("jacobian-free").jacobianFree, true);
  assertEquals(by("noise-laplace").length, 3);
  // setting II alone still runs SDA there
  assertEquals(
    enumerateGrid({ ops: ["sin3x"], masks: ["p1"], intervals: [1], seeds: [0], settings: ["II"] })
      .map((c) => c.method),
    ["soad", "sda"],
  );
  assertEquals(parseVariant("noise-lognormal0.5").noise, { kind: "lognormal", shape: 0.5 });
});

Deno.test("grid: mask names parse; unknown names and bad values are clear errors", () => {
  assertEquals(parseMask("p=0.0625"), { name: "p0.0625", ratio: 0.0625 });
  assertEquals(parseMask("s10"), { name: "s10", stride: 10 });
  for (const bad of ["q0.5", "p0", "p1.5", "s0", "s2.5", "", "random"]) {
    assertThrows(() => parseMask(bad), (e: Error) => {
      assert(e instanceof InvalidArgumentError);
      assert(e.message.includes("unknown mask"), e.message);
      return true;
    });
  }
  assertThrows(() => enumerateGrid({ masks: ["p0.3x"] }), /unknown mask "p0.3x"/);
  assertThrows(() => enumerateGrid({ ops: ["cos" as "sin3x"] }), /unknown operator "cos"/);
  assertThrows(() => enumerateGrid({ settings: ["IV" as "I"] }), /unknown setting/);
  assertThrows(() => enumerateGrid({ methods: ["enkf" as "sda"] }), /unknown method/);
  assertThrows(() => enumerateGrid({ variants: ["fast"] }), /unknown variant/);
  assertThrows(() => enumerateGrid({ intervals: [0] }), /intervals must be integers/);
  assertThrows(() => enumerateGrid({ seeds: [1, 1] }), /duplicate/);
});
