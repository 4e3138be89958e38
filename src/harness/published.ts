/**
 * The paper's published averaged RMSE (spec §6.2: notebook outputs of the official code, 256²,
 * first test window, 5 seeds, K = 256), for comparison tables. Rows: masks; columns: N = 1, 2, 4, 8.
 * @module
 */

/** A published table: `[table][operator][mask] = [N=1, N=2, N=4, N=8]`. */
export type PublishedTable = Record<string, Record<string, readonly number[]>>;

const row = (s: string): readonly number[] => Object.freeze(s.trim().split(/\s+/).map(Number));

function table(cols: string[], rows: Record<string, string[]>): PublishedTable {
  const out: PublishedTable = {};
  cols.forEach((op, k) => {
    out[op] = {};
    for (const [mask, vals] of Object.entries(rows)) out[op][mask] = row(vals[k]);
  });
  return out;
}

const OPS = ["arctan3x", "sin3x", "vor2vel"];

/**
 * Published numbers by table: `I/soad`, `I/sda`, `II/soad`, `no-fdc/soad`.
 *
 * @example
 * ```ts
 * import { PUBLISHED_RMSE } from "@soad/soad/internal";
 * console.log(PUBLISHED_RMSE["I/soad"].sin3x.p1[0]); // 0.064
 * ```
 */
export const PUBLISHED_RMSE: Readonly<Record<string, PublishedTable>> = Object.freeze({
  "I/soad": table(OPS, {
    "p0.01": [".208 .212 .217 .222", ".326 .327 .325 .332", ".168 .174 .179 .185"],
    "p0.0625": [".146 .156 .169 .180", ".182 .204 .230 .254", ".141 .152 .160 .166"],
    "p0.25": [".110 .120 .130 .141", ".107 .124 .146 .174", ".121 .131 .139 .147"],
    p1: [".084 .094 .102 .112", ".064 .078 .091 .110", ".103 .113 .122 .128"],
    s2: [".108 .118 .128 .138", ".103 .119 .139 .166", ".120 .131 .141 .148"],
    s4: [".141 .151 .164 .176", ".168 .193 .221 .245", ".139 .152 .163 .168"],
    s10: [".200 .207 .213 .219", ".338 .332 .327 .331", ".167 .175 .183 .186"],
  }),
  "I/sda": table(OPS, {
    "p0.01": ["2.41 2.34 2.32 2.29", "2.66 2.54 2.47 2.43", "2.98 1.66 1.28 1.21"],
    "p0.0625": ["2.51 2.34 2.28 2.11", "3.14 2.98 2.88 2.81", "14.9 7.35 6.86 6.52"],
    "p0.25": ["2.65 2.27 2.22 1.90", "3.69 3.35 3.22 3.17", "15.1 7.41 7.06 6.71"],
    p1: ["2.76 1.94 1.86 1.44", "4.33 4.01 3.80 3.65", "15.2 7.72 7.07 6.76"],
    s2: ["2.69 2.28 2.28 1.98", "3.65 3.41 3.27 3.24", "15.2 7.55 7.04 6.70"],
    s4: ["2.54 2.33 2.30 2.15", "3.19 3.01 2.93 2.90", "14.7 7.24 6.97 6.72"],
    s10: ["2.46 2.39 2.37 2.33", "2.71 2.61 2.53 2.49", "3.14 1.55 1.34 1.23"],
  }),
  "II/soad": table(OPS, {
    "p0.01": [".891 .947 1.004 1.045", "1.436 1.461 1.509 1.551", ".493 .555 .621 .685"],
    "p0.0625": [".407 .470 .532 .593", "1.168 1.240 1.320 1.416", ".253 .293 .344 .398"],
    "p0.25": [".228 .275 .327 .385", ".528 .723 .953 1.137", ".165 .190 .220 .253"],
    p1: [".138 .163 .189 .229", ".110 .301 .343 .655", ".118 .135 .157 .181"],
    s2: [".221 .269 .319 .377", ".442 .629 .865 1.083", ".163 .187 .217 .251"],
    s4: [".381 .447 .510 .567", "1.083 1.213 1.323 1.419", ".239 .282 .335 .390"],
    s10: [".742 .793 .845 .901", "1.437 1.502 1.517 1.551", ".451 .515 .585 .648"],
  }),
  "no-fdc/soad": table(OPS, {
    "p0.01": [".908 .955 .998 1.044", "1.472 1.489 1.519 1.525", ".535 .593 .651 .712"],
    "p0.0625": [".452 .518 .579 .632", "1.296 1.383 1.454 1.506", ".294 .341 .392 .437"],
    "p0.25": [".259 .314 .375 .432", ".824 .995 1.158 1.321", ".194 .224 .258 .290"],
    p1: [".155 .182 .215 .256", ".703 .456 .635 .903", ".135 .155 .176 .197"],
    s2: [".249 .304 .362 .420", ".740 .978 1.157 1.304", ".191 .222 .255 .288"],
    s4: [".427 .497 .560 .611", "1.300 1.415 1.495 1.548", ".283 .333 .385 .431"],
    s10: [".766 .822 .873 .919", "1.493 1.518 1.526 1.534", ".492 .556 .618 .673"],
  }),
});

/**
 * The published value for a cell, or undefined (no table, mask or N there).
 *
 * @example
 * ```ts
 * import { publishedRmse } from "@soad/soad/internal";
 * console.log(publishedRmse("I", "sda", "arctan3x", "p1", 8)); // 1.44
 * ```
 */
export function publishedRmse(
  setting: string,
  method: string,
  op: string,
  mask: string,
  interval: number,
  variant = "base",
): number | undefined {
  const key = variant === "no-fdc" ? `no-fdc/${method}` : `${setting}/${method}`;
  const k = [1, 2, 4, 8].indexOf(interval);
  return k < 0 ? undefined : PUBLISHED_RMSE[key]?.[op]?.[mask]?.[k];
}
