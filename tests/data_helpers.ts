// Helpers shared by the data tests (not a test file itself).

/** Every file under `dir`, by relative path, with its bytes. */
export function readTree(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (rel: string): void => {
    for (const e of Deno.readDirSync(`${dir}/${rel}`)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(p);
      else out.set(p, Deno.readFileSync(`${dir}/${p}`));
    }
  };
  walk("");
  return out;
}

/** Lists the differences between two trees (empty when byte-identical). */
export function treeDiff(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) diffs.push(`only in first: ${k}`);
    else if (v.length !== w.length || v.some((x, i) => x !== w[i])) diffs.push(`differs: ${k}`);
  }
  for (const k of b.keys()) if (!a.has(k)) diffs.push(`only in second: ${k}`);
  return diffs;
}

/** A fresh temporary directory for a store (the store path itself does not exist yet). */
export function tempStore(name = "d.zarr"): string {
  return `${Deno.makeTempDirSync({ prefix: "soad_data_" })}/${name}`;
}
