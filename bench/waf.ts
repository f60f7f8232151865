/**
 * The WAF proof of work (docs/upstreams/tiktok.md §2.10): µs per try of each SHA-256 way tried, all on
 * the same seed in the same run, then the worker-thread solver's worst case over a million tries.
 *
 *   npm run bench:waf [-- --tries 300000 --rounds 3]
 */
import { createHash, hash as oneShotHash, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { createSHA256 } from "hash-wasm";
import { searchProofOfWork } from "../src/sources/tiktok/web/pow-search.js";
import { createPowSolver } from "../src/sources/tiktok/web/pow-solver.js";

const args = new Map(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith("--") ? [[arg.slice(2), all[i + 1]]] : [])),
);
const TRIES = Number(args.get("tries") ?? 300_000);
const ROUNDS = Number(args.get("rounds") ?? 3);
const seed = randomBytes(16);
// A digest nobody reaches: every way does all its tries.
const unreachable = createHash("sha256").update("no digits give this").digest();
const encoder = new TextEncoder();

type Way = { name: string; run: (tries: number) => void | Promise<void> };

const wasm = await createSHA256();
const ways: Way[] = [
  {
    // What the service ran before: createHash per try on the event loop, yielding every 4,000 tries.
    name: "the old solver (sliced, on the event loop)",
    run: async (tries) => {
      for (let start = 0; start < tries; start += 4_000) {
        for (let i = start; i < Math.min(start + 4_000, tries); i++)
          createHash("sha256").update(seed).update(String(i)).digest().equals(unreachable);
        await yieldToEventLoop();
      }
    },
  },
  {
    name: "createHash per try, plain loop",
    run: (tries) => {
      for (let i = 0; i < tries; i++)
        createHash("sha256").update(seed).update(String(i)).digest().equals(unreachable);
    },
  },
  {
    name: "crypto.hash one-shot",
    run: (tries) => {
      for (let i = 0; i < tries; i++)
        oneShotHash("sha256", Buffer.concat([seed, Buffer.from(String(i))]), "buffer").equals(unreachable);
    },
  },
  {
    name: "@noble/hashes sha256",
    run: (tries) => {
      const message = new Uint8Array(seed.length + 7);
      message.set(seed);
      for (let i = 0; i < tries; i++) {
        const digits = encoder.encode(String(i));
        message.set(digits, seed.length);
        nobleSha256(message.subarray(0, seed.length + digits.length));
      }
    },
  },
  {
    name: "hash-wasm sha256 (init/update/digest)",
    run: (tries) => {
      for (let i = 0; i < tries; i++) {
        wasm.init();
        wasm.update(seed);
        wasm.update(String(i));
        wasm.digest("binary");
      }
    },
  },
  {
    name: "midstate search, one thread (ours)",
    run: (tries) => {
      searchProofOfWork(seed, unreachable, 0, tries);
    },
  },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

console.log(
  `SHA-256 tries: ${TRIES} per round, ${ROUNDS} rounds, median µs per try (${availableParallelism()} cores)`,
);
const perTry = new Map<string, number>();
for (const way of ways) {
  await way.run(Math.min(TRIES, 20_000)); // warm-up
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    await way.run(TRIES);
    samples.push(((performance.now() - started) * 1000) / TRIES);
  }
  perTry.set(way.name, median(samples));
}
const baseline = perTry.get(ways[0]?.name ?? "") ?? 1;
for (const [name, micros] of perTry)
  console.log(
    `  ${name.padEnd(44)} ${micros.toFixed(3)} µs/try   ${(baseline / micros).toFixed(2)}× the old solver`,
  );

const solver = createPowSolver();
await solver.solve(seed, createHash("sha256").update(seed).update("3").digest(), 10); // threads started
const cases: [string, number | undefined][] = [
  ["solution 999,999 (the end of the last range)", 999_999],
  ["solution 499,999 (the end of the first range)", 499_999],
  ["solution 900,000", 900_000],
  ["no solution (every try)", undefined],
];
console.log(`\nWorker-thread solver (${availableParallelism()} threads), median of ${ROUNDS}:`);
let worst = 0;
for (const [label, solution] of cases) {
  const digest =
    solution === undefined
      ? unreachable
      : createHash("sha256").update(seed).update(String(solution)).digest();
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const found = await solver.solve(seed, digest, 1_000_000);
    samples.push(performance.now() - started);
    if (found !== (solution ?? -1)) throw new Error(`${label}: found ${found}`);
  }
  worst = Math.max(worst, median(samples));
  console.log(`  ${label.padEnd(46)} ${median(samples).toFixed(0)} ms`);
}
await solver.close();
const oldWorst = (baseline * 1_000_000) / 1000;
console.log(
  `\nWorst case over a million tries: ${worst.toFixed(0)} ms with the threads, ${oldWorst.toFixed(0)} ms for the ` +
    `old solver (its µs per try above × 1e6): ${(oldWorst / worst).toFixed(1)}× faster; aim ≤ 300 ms and ≥ 10×.`,
);
