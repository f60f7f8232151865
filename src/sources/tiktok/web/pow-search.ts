/**
 * TikTok's WAF proof of work (docs/upstreams/tiktok.md §2.10): the number `i` whose decimal digits,
 * appended to the seed, hash to the digest under SHA-256. Every try hashes the same prefix with a few
 * different bytes at its end, so this search does only the work that changes: the prefix's full blocks
 * are compressed once (the midstate), the last block is a template where only the digits are written,
 * and the words before the digits are copied, not recomputed. Plain SHA-256 (FIPS 180-4), checked
 * against node:crypto in the tests.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/**
 * One SHA-256 compression of the 16 words in `w[0..15]` (expanded in place), from round `from` on:
 * `working` holds the working variables after round `from - 1` (rounds that read only words that never
 * change are done once, not per try), `chain` the chaining value the block started from; the result
 * goes to `out`.
 */
function compress(
  chain: Int32Array,
  working: Int32Array,
  from: number,
  w: Int32Array,
  out: Int32Array,
): void {
  let a = working[0] as number;
  let b = working[1] as number;
  let c = working[2] as number;
  let d = working[3] as number;
  let e = working[4] as number;
  let f = working[5] as number;
  let g = working[6] as number;
  let h = working[7] as number;
  for (let t = from; t < 64; t++) {
    let word: number;
    if (t < 16) word = w[t] as number;
    else {
      // The message schedule, computed as the rounds reach it.
      const x = w[t - 15] as number;
      const y = w[t - 2] as number;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      word = ((w[t - 16] as number) + s0 + (w[t - 7] as number) + s1) | 0;
      w[t] = word;
    }
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[t] as number) + word) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = ((chain[0] as number) + a) | 0;
  out[1] = ((chain[1] as number) + b) | 0;
  out[2] = ((chain[2] as number) + c) | 0;
  out[3] = ((chain[3] as number) + d) | 0;
  out[4] = ((chain[4] as number) + e) | 0;
  out[5] = ((chain[5] as number) + f) | 0;
  out[6] = ((chain[6] as number) + g) | 0;
  out[7] = ((chain[7] as number) + h) | 0;
}

/** The working variables after rounds `0..rounds-1` of a block that starts from `chain`. */
function firstRounds(chain: Int32Array, w: Int32Array, rounds: number): Int32Array {
  const v = Array.from(chain);
  for (let t = 0; t < rounds; t++) {
    const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = v;
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[t] as number) + (w[t] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    v.splice(0, 8, (t1 + t2) | 0, a, b, c, (d + t1) | 0, e, f, g);
  }
  return new Int32Array(v);
}

const wordAt = (bytes: Uint8Array, offset: number) =>
  ((bytes[offset] as number) << 24) |
  ((bytes[offset + 1] as number) << 16) |
  ((bytes[offset + 2] as number) << 8) |
  (bytes[offset + 3] as number) |
  0;

/**
 * Searches `[start, end)` for the number whose digits complete the seed to the digest. `shouldStop` is
 * asked every `checkEvery` tries (another thread found it, or the request was cancelled). Returns the
 * number, or -1.
 */
export function searchProofOfWork(
  seed: Uint8Array,
  digest: Uint8Array,
  start: number,
  end: number,
  shouldStop: () => boolean = () => false,
  checkEvery = 8192,
): number {
  if (digest.length !== 32) throw new RangeError("the digest must be 32 bytes");
  if (start < 0 || end > 1e15) throw new RangeError("the range is out of bounds");
  const target = new Int32Array(8);
  for (let i = 0; i < 8; i++) target[i] = wordAt(digest, i * 4);
  const w = new Int32Array(64);
  const fullBlocks = Math.floor(seed.length / 64);
  const midstate = midstateOf(seed, fullBlocks, w);
  const tail = seed.subarray(fullBlocks * 64);
  const between = new Int32Array(8);
  const result = new Int32Array(8);
  const bytes = new Uint8Array(128);
  const words = new Int32Array(32);
  let template: { count: number; blocks: number; firstWord: number; lastWord: number; early: Int32Array } = {
    count: -1,
    blocks: 1,
    firstWord: 0,
    lastWord: 0,
    early: midstate,
  };
  // The digits of the current number, least significant first, counted up one by one.
  const digits = new Uint8Array(16);
  let count = 0;
  for (let rest = start; count === 0 || rest > 0; rest = Math.floor(rest / 10)) digits[count++] = rest % 10;

  for (let n = start; n < end; n++) {
    if (n !== start) {
      if ((n - start) % checkEvery === 0 && shouldStop()) return -1;
      let i = 0;
      while (i < count && digits[i] === 9) digits[i++] = 0;
      if (i === count) digits[count++] = 1;
      else digits[i] = (digits[i] as number) + 1;
    }
    if (count !== template.count)
      template = layOut({ tail, seedLength: seed.length, bytes, words }, midstate, count);
    for (let i = 0; i < count; i++) bytes[tail.length + i] = 48 + (digits[count - 1 - i] as number);
    for (let i = template.firstWord; i <= template.lastWord; i++) words[i] = wordAt(bytes, i * 4);
    for (let i = 0; i < 16; i++) w[i] = words[i] as number;
    if (template.blocks === 1) compress(midstate, template.early, template.firstWord, w, result);
    else {
      compress(midstate, midstate, 0, w, between);
      for (let i = 0; i < 16; i++) w[i] = words[16 + i] as number;
      compress(between, between, 0, w, result);
    }
    if (result[0] !== target[0]) continue;
    let equal = true;
    for (let i = 1; i < 8; i++) if (result[i] !== target[i]) equal = false;
    if (equal) return n;
  }
  return -1;
}

/** The hash state after the seed's full blocks, computed once per search. */
function midstateOf(seed: Uint8Array, fullBlocks: number, w: Int32Array): Int32Array {
  const midstate = new Int32Array(INITIAL);
  for (let block = 0; block < fullBlocks; block++) {
    for (let i = 0; i < 16; i++) w[i] = wordAt(seed, block * 64 + i * 4);
    compress(midstate, midstate, 0, w, midstate);
  }
  return midstate;
}

/** The last block(s) for numbers of `digitCount` digits: tail, digits, the 0x80 marker, the bit length. */
function layOut(
  buffers: { tail: Uint8Array; seedLength: number; bytes: Uint8Array; words: Int32Array },
  chain: Int32Array,
  digitCount: number,
) {
  const { tail, seedLength, bytes, words } = buffers;
  const length = tail.length + digitCount;
  const blocks = length + 9 <= 64 ? 1 : 2;
  bytes.fill(0);
  bytes.set(tail, 0);
  bytes[length] = 0x80;
  const bits = (seedLength + digitCount) * 8;
  const last = blocks * 64;
  bytes[last - 4] = (bits >>> 24) & 0xff;
  bytes[last - 3] = (bits >>> 16) & 0xff;
  bytes[last - 2] = (bits >>> 8) & 0xff;
  bytes[last - 1] = bits & 0xff;
  for (let i = 0; i < blocks * 16; i++) words[i] = wordAt(bytes, i * 4);
  const firstWord = tail.length >> 2;
  // Rounds before the first digit word read only fixed words: done once here (one-block case).
  const early = blocks === 1 ? firstRounds(chain, words, firstWord) : chain;
  return {
    count: digitCount,
    blocks,
    firstWord: blocks === 1 ? firstWord : 0,
    lastWord: (length - 1) >> 2,
    early,
  };
}
