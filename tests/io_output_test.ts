// Output folders and files are checked before any work (existing → refused unless forced,
// unwritable → refused), and the Zarr group writer makes stores xarray reads with coordinates.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { OutputExistsError, prepareOutputDir, prepareOutputFile } from "../src/io/output_dir.ts";
import { writeZarrGroup } from "../src/io/zarr_write.ts";

const tmp = (): Promise<string> => Deno.makeTempDir({ prefix: "soad_out_" });

Deno.test("prepareOutputDir: new and empty folders pass, non-empty ones need force", async () => {
  const root = await tmp();
  const dir = `${root}/a/b`;
  await prepareOutputDir(dir);
  assert.ok(Deno.statSync(dir).isDirectory);
  assert.deepEqual([...Deno.readDirSync(dir)], [], "the probe file is removed");
  await prepareOutputDir(dir); // empty: fine
  await Deno.writeTextFile(`${dir}/x.json`, "{}");
  await assert.rejects(() => prepareOutputDir(dir), (e: unknown) => {
    assert.ok(e instanceof OutputExistsError && e instanceof InvalidArgumentError);
    assert.match((e as Error).message, /already exists and is not empty \(x\.json\).*--force/);
    return true;
  });
  await assert.rejects(
    () => prepareOutputDir(dir, { hint: "or --resume to continue" }),
    /--force to replace its files \(or --resume to continue\)/,
  );
  await prepareOutputDir(dir, { force: true });
  await prepareOutputDir(dir, { allowExisting: (names) => names.includes("x.json") });
  assert.equal(await Deno.readTextFile(`${dir}/x.json`), "{}", "force replaces nothing by itself");
  await Deno.remove(root, { recursive: true });
});

Deno.test("prepareOutputDir/File refuse files-for-folders and unwritable places", async () => {
  const root = await tmp();
  await Deno.writeTextFile(`${root}/f`, "x");
  await assert.rejects(() => prepareOutputDir(`${root}/f`), /is a file; expected a folder/);
  await assert.rejects(() => prepareOutputDir(`${root}/f/sub`), /cannot (create|inspect) output/);
  await assert.rejects(() => prepareOutputFile(root), /is a folder; expected a file path/);
  await assert.rejects(() => prepareOutputFile(`${root}/f`), OutputExistsError);
  await prepareOutputFile(`${root}/f`, { force: true });
  await prepareOutputFile(`${root}/new/m.onnx`);
  if (Deno.uid() !== 0) {
    await Deno.mkdir(`${root}/ro`);
    await Deno.chmod(`${root}/ro`, 0o555);
    await assert.rejects(() => prepareOutputDir(`${root}/ro`), /is not writable/);
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("writeZarrGroup: metadata, padded edge chunks, C-order bytes, refusals", async () => {
  const root = await tmp();
  const dir = `${root}/g.zarr`;
  const data = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i);
  await writeZarrGroup(dir, {
    day: { dims: ["day"], shape: [2], data: new Float64Array([0, 1]), attrs: { units: "days" } },
    x: { dims: ["x"], shape: [5], data: new Float64Array([0, 1, 2, 3, 4]) },
    q: { dims: ["day", "y", "x"], shape: [2, 3, 5], data, chunks: [1, 2, 5] },
  }, { title: "t" });
  const za = JSON.parse(await Deno.readTextFile(`${dir}/q/.zarray`));
  assert.deepEqual([za.shape, za.chunks, za.dtype], [[2, 3, 5], [1, 2, 5], "<f4"]);
  const names = [...Deno.readDirSync(`${dir}/q`)].map((e) => e.name).sort();
  assert.deepEqual(names, [".zarray", ".zattrs", "0.0.0", "0.1.0", "1.0.0", "1.1.0"]);
  const edge = new Float32Array((await Deno.readFile(`${dir}/q/1.1.0`)).buffer);
  assert.deepEqual(Array.from(edge.slice(0, 5)), [25, 26, 27, 28, 29]); // day 1, y 2
  assert.ok(edge.slice(5).every(Number.isNaN), "padding beyond the edge is the fill value");
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/.zmetadata`)).metadata;
  assert.deepEqual(meta["q/.zattrs"]._ARRAY_DIMENSIONS, ["day", "y", "x"]);
  assert.equal(meta[".zattrs"].title, "t");
  assert.ok(![...Deno.readDirSync(root)].some((e) => e.name.includes(".tmp-")), "no temp left");
  await assert.rejects(() => writeZarrGroup(dir, {}), /already exists/);
  await assert.rejects(
    () =>
      writeZarrGroup(`${root}/b.zarr`, { a: { dims: ["x"], shape: [3], data: new Int32Array(2) } }),
    /2 values for shape \[3\]/,
  );
  await assert.rejects(
    () =>
      writeZarrGroup(`${root}/c.zarr`, {
        a: { dims: ["x"], shape: [3], data: new Int32Array(3) },
        b: { dims: ["x"], shape: [4], data: new Int32Array(4) },
      }),
    /dimension x has length 4, elsewhere 3/,
  );
  await Deno.remove(root, { recursive: true });
});

const hasXarray = (() => {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import xarray, zarr"] })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "writeZarrGroup: xarray opens the group with coordinates and the same values",
  ignore: !hasXarray,
  fn: async () => {
    const root = await tmp();
    const dir = `${root}/g.zarr`;
    const data = Float32Array.from({ length: 2 * 2 * 4 * 4 }, (_, i) => Math.sin(i));
    await writeZarrGroup(dir, {
      day: { dims: ["day"], shape: [2], data: new Float64Array([3, 4]) },
      x: { dims: ["x"], shape: [4], data: new Float64Array([0, 1e3, 2e3, 3e3]) },
      mean: { dims: ["day", "layer", "y", "x"], shape: [2, 2, 4, 4], data },
    });
    const py = "import xarray as xr, sys\nds = xr.open_zarr(sys.argv[1])\n" +
      "print(list(ds.coords), float(ds['mean'].isel(day=1, layer=0, y=2, x=3)), " +
      "float(ds.x[2]), list(ds['mean'].dims))";
    const out = new Deno.Command("/usr/bin/python3", { args: ["-c", py, dir] }).outputSync();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout).trim();
    const want = Math.fround(Math.sin(1 * 32 + 0 * 16 + 2 * 4 + 3));
    assert.ok(text.startsWith("['day', 'x'] "), text);
    assert.ok(Math.abs(Number(text.split(" ")[2]) - want) < 1e-6, text);
    assert.match(text, /2000\.0 \['day', 'layer', 'y', 'x'\]$/);
    await Deno.remove(root, { recursive: true });
  },
});
if (!hasXarray) {
  console.log("io_output_test: xarray/zarr not importable by /usr/bin/python3; skipped");
}
