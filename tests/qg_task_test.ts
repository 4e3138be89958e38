// `deno task qg` end to end: a short run writes its pictures, diagnostics and state; bad flags
// exit non-zero with a message that says what is expected.
import assert from "node:assert/strict";
import { parseNpy } from "../src/io/npy.ts";
import { icNoise } from "../src/qg/initial.ts";
import { QGModel } from "../src/qg/model.ts";

const TASK = new URL("../tasks/qg.ts", import.meta.url).pathname;

async function qg(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("qg task: a short run writes q.png, energy.png, spectrum.png, diagnostics.json, q.npy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await qg("--nx", "32", "--dt", "3600", "--days", "4", "--out", dir, "--seed", "3");
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["q.png", "energy.png", "spectrum.png", "diagnostics.json", "q.npy"]) {
      const st = await Deno.stat(`${dir}/${f}`);
      assert.ok(st.size > 0, f);
    }
    const d = JSON.parse(await Deno.readTextFile(`${dir}/diagnostics.json`));
    assert.equal(d.steps, 96);
    assert.equal(d.params.nx, 32);
    assert.equal(d.params.dt, 3600);
    assert.equal(d.series.length, 5); // day 0 and 4 daily samples
    assert.equal(d.series[4].day, 4);
    const q = parseNpy(await Deno.readFile(`${dir}/q.npy`));
    assert.deepEqual(q.shape, [2, 32, 32]);
    // the written state and every daily diagnostic are those of the same run made here
    const m = new QGModel({ nx: 32, dt: 3600 });
    m.setQ(icNoise(32, 32, 3));
    for (let day = 0; day <= 4; day++) {
      if (day > 0) m.step(24);
      const want = m.diagnostics();
      for (const k of ["ke", "ape", "energy", "cfl"] as const) {
        const got = d.series[day][k];
        assert.ok(Math.abs(got / want[k] - 1) < 1e-12, `day ${day} ${k}: ${got} vs ${want[k]}`);
      }
    }
    const mq = m.q;
    assert.ok(
      (q.data as Float64Array).every((v, i) => v === mq[i]),
      "q.npy is not the final state",
    );
    const png = await Deno.readFile(`${dir}/q.png`);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("qg task: bad flags exit 1 with a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["--nx", "100"], /nx must be a power of two in 16\.\.1024, got 100/],
    [["--days=-3"], /--days must be > 0/],
    [["--dt", "abc"], /--dt expects a number, got "abc"/],
    [["--fft", "gpu"], /--fft expects auto, wasm or ts/],
    [["--ic", "/nonexistent/q.npy"], /--ic expects noise, modes or an existing \.npy file/],
    [["--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await qg(...args, "--out", "/tmp/soad-qg-never-written");
    assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}`);
    assert.match(r.stderr, pattern);
  }
});

Deno.test("qg task: runs of the wrong length and existing outputs are refused before any work (cases 6, 7, 8)", async () => {
  const cases: [string[], RegExp][] = [
    [["--days", "2", "--every", "1000"], /--every \(1000 days\) must be <= --days \(2\)/],
    [["--dt", "1e7", "--days", "1"], /rounds to 0; give more --days or a smaller --dt/],
    [["--days", "1e9"], /over the limit of 1e\+9 steps per run/],
    [
      ["--days", "1e6", "--every", "0.01", "--dt", "900"],
      /over the limit of 1000000; give a larger --every/,
    ],
    [["--seed", "4294967296"], /--seed must be an integer in 0\.\.2147483647/],
  ];
  for (const [args, pattern] of cases) {
    const r = await qg(...args, "--out", "/tmp/soad-qg-never-written");
    assert.equal(r.code, 1, `${args.join(" ")}: exit ${r.code}`);
    assert.match(r.stderr, pattern);
  }
  // an existing, non-empty --out: refused before simulating, its file kept; --force replaces
  const dir = await Deno.makeTempDir();
  Deno.writeTextFileSync(`${dir}/q.png`, "mine");
  const args = ["--nx", "32", "--dt", "3600", "--days", "1", "--out", dir];
  const r = await qg(...args);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists and is not empty .*--force/);
  assert.doesNotMatch(r.stderr, /steps \(1 days\)/, "refused before the simulation starts");
  assert.equal(Deno.readTextFileSync(`${dir}/q.png`), "mine");
  const forced = await qg(...args, "--force");
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(Deno.readTextFileSync(`${dir}/diagnostics.json`)).steps, 24);
  // an --out under a file cannot be written: refused before the simulation too
  const file = `${dir}/q.npy`;
  const bad = await qg("--nx", "32", "--dt", "3600", "--days", "1", "--out", `${file}/sub`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot (create|inspect) output/);
  assert.doesNotMatch(bad.stderr, /steps \(1 days\)/);
});
