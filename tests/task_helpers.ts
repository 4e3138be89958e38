// Running a task script as a subprocess, for the end-to-end task tests.

/** Output of {@link runTask}. */
export interface TaskOutput {
  code: number;
  out: string;
  err: string;
}

/** Runs `deno run -A <tasks/name> ...args` and collects its exit code, stdout and stderr. */
export async function runTask(name: string, ...args: string[]): Promise<TaskOutput> {
  const script = new URL(`../tasks/${name}`, import.meta.url).pathname;
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}
