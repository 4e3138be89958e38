/**
 * CRC-32 (IEEE 802.3, the zlib/PNG/gzip polynomial), slicing-by-4: the per-chunk checksum of
 * dataset stores. Matches Python's `zlib.crc32`.
 * @module
 */

const TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  const out = [t0];
  for (let s = 1; s < 4; s++) {
    const prev = out[s - 1], t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    out.push(t);
  }
  return out;
})();

/**
 * CRC-32 of bytes (as an unsigned 32-bit integer), optionally continuing a previous value.
 *
 * @example
 * ```ts
 * import { crc32 } from "@soad/soad/internal";
 * console.log(crc32(new TextEncoder().encode("123456789")).toString(16)); // cbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3] = TABLES;
  let c = ~previous >>> 0;
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >>> 8) & 0xff] ^ t1[(c >>> 16) & 0xff] ^ t0[c >>> 24];
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
