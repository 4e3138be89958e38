// Progress output: log lines at each 10 % when not a terminal, a throttled redrawn line on a
// terminal, and no crash when the stream fails.
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../src/errors.ts";
import { formatDuration, Progress, type ProgressStream } from "../src/io/progress.ts";

/** A stream that records what is written; `tty` decides what `isTerminal` answers. */
function recorder(tty: boolean): ProgressStream & { text(): string } {
  const chunks: string[] = [];
  const dec = new TextDecoder();
  return {
    writeSync(p: Uint8Array): number {
      chunks.push(dec.decode(p));
      return p.length;
    },
    isTerminal: () => tty,
    text: () => chunks.join(""),
  };
}

/** A fake clock advanced by hand, in milliseconds. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

Deno.test("non-TTY progress logs one line per 10 % with rate, ETA and info", () => {
  const out = recorder(false), c = clock();
  const p = new Progress({ total: 100, label: "spin-up", stream: out, now: c.now });
  for (let i = 0; i < 100; i++) {
    c.advance(50); // 20 it/s
    p.tick(1, `KE=${i}`);
  }
  p.done();
  p.done();
  const lines = out.text().trimEnd().split("\n");
  assert.equal(lines.length, 10);
  assert.equal(lines[0], "spin-up [##..................] 10/100 10% 20.0 it/s ETA 0:05 KE=9");
  assert.equal(lines[4], "spin-up [##########..........] 50/100 50% 20.0 it/s ETA 0:03 KE=49");
  assert.equal(lines[9], "spin-up [####################] 100/100 100% 20.0 it/s in 0:05 KE=99");
  assert.ok(!out.text().includes("\r") && !out.text().includes("\x1b"));
});

Deno.test("non-TTY progress prints the end line on done() when stopped early", () => {
  const out = recorder(false), c = clock();
  const p = new Progress({ total: 10, label: "train", stream: out, now: c.now });
  c.advance(4000);
  p.tick(3);
  p.tick(1, "loss 0.1");
  p.done();
  p.tick(5); // ignored after done
  const lines = out.text().trimEnd().split("\n");
  assert.deepEqual(lines, [
    "train [######..............] 3/10 30% 1.33 s/it ETA 0:09",
    "train [########............] 4/10 40% 1.00 it/s ETA 0:06 loss 0.1",
    "train [########............] 4/10 40% 1.00 it/s in 0:04 loss 0.1",
  ]);
});

Deno.test("TTY progress redraws one line at most every 100 ms", () => {
  const out = recorder(true), c = clock();
  const p = new Progress({ total: 1000, label: "q", stream: out, now: c.now });
  for (let i = 0; i < 1000; i++) {
    c.advance(1);
    p.tick();
  }
  p.done();
  const text = out.text();
  const draws = text.split("\r").length - 1;
  assert.ok(draws >= 10 && draws <= 12, `draws = ${draws}`);
  assert.ok(text.endsWith("\x1b[K\n"));
  assert.equal(text.split("\n").length, 2);
  assert.ok(text.includes("\rq [####################] 1000/1000 100% 1000 it/s in 0:01"));
});

Deno.test("progress survives a failing stream and validates total", () => {
  const broken: ProgressStream = {
    writeSync(): number {
      throw new Error("broken pipe");
    },
    isTerminal(): boolean {
      throw new Error("no tty");
    },
  };
  const p = new Progress({ total: 3, stream: broken });
  p.tick(3);
  p.done();
  assert.equal(p.count, 3);
  const zero = recorder(false);
  const z = new Progress({ total: 0, label: "none", stream: zero, tty: false });
  z.done();
  assert.match(zero.text(), /^none \[#+\] 0\/0 100% /);
  assert.throws(() => new Progress({ total: -1 }), InvalidArgumentError);
  assert.throws(() => new Progress({ total: 2.5 }), InvalidArgumentError);
  // the default stream is Deno.stderr (asked whether it is a terminal; nothing written yet)
  assert.equal(new Progress({ total: 1 }).count, 0);
});

Deno.test("formatDuration", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(7.4), "0:07");
  assert.equal(formatDuration(61), "1:01");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(NaN), "--:--");
});
