/**
 * Memory of the service (issue "memory that scales"): idle RSS next to a bare Node HTTP server, then the
 * heap and RSS each cached post costs, over N cold extractions through the fake TikTok. The service runs
 * built (dist/), in its own process with --expose-gc, and collects garbage before each reading (the
 * per-post readings after a last-resort collection: what the cache keeps, not the heap V8 grew under
 * load and gives back when the process waits).
 *
 *   npm run build && npm run bench:memory [-- --posts 20000]
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { FakeTikTok } from "../test/fakes/tiktok.js";
import { freePort } from "./free-port.js";

const args = new Map(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith("--") ? [[arg.slice(2), all[i + 1]]] : [])),
);
const POSTS = Number(args.get("posts") ?? 20_000);
const CONCURRENCY = 16;
/** Where the per-post slope is read from (the figure: between 5,000 and 25,000 posts). */
const SLOPE_FROM = 5_000;
const SERVICE = fileURLToPath(new URL("./memory-service.mjs", import.meta.url));
const MiB = 1024 * 1024;

interface Reading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

function start(mode: string, env: Record<string, string>) {
  const child = fork(SERVICE, [mode], {
    execArgv: ["--expose-gc"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const ready = new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve(message.port));
    child.once("exit", (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
  return { child, ready };
}

function measure(child: ChildProcess, reduced = false): Promise<Reading> {
  return new Promise((resolve) => {
    child.once("message", (message: Reading) => resolve(message));
    child.send(reduced ? "measure-reduced" : "measure");
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

const bare = start("bare", {});
await bare.ready;
await settle();
const bareIdle = await measure(bare.child);
bare.child.send("exit");

const fake = await new FakeTikTok({ waf: false }).start();
const ids = Array.from({ length: POSTS }, (_, i) =>
  (7_500_000_000_000_000_000n + BigInt(i) * 4_294_967_296n).toString(),
);
for (const id of ids) fake.scenarios.set(id, { kind: "sample", sample: "video" });
const service = start("service", {
  // As the image and the systemd unit run it (Dockerfile): glibc's malloc with a fixed mmap threshold.
  GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072",
  PORT: String(await freePort()),
  HOST: "127.0.0.1",
  UPSTREAM_TIKTOK: fake.url,
  ALLOW_PRIVATE_UPSTREAMS: "1",
  RATE_LIMIT: "0",
  SOURCES: "native",
  LOG_LEVEL: "silent",
  CACHE_MAX_ENTRIES: String(POSTS + 100),
  MAX_EVENT_LOOP_DELAY_MS: "0",
  STREAM_SECRET: "memory-bench-secret-0123456789",
});
const port = await service.ready;
await settle();
const idle = await measure(service.child);
console.log(
  `idle RSS: service ${mib(idle.rss)}, bare node:http ${mib(bareIdle.rss)} (heap ${mib(idle.heapUsed)})`,
);

// One extraction first (lazy modules loaded, pools warm), then the baseline for the per-entry figures.
const ask = async (id: string) => {
  const response = await request(
    `http://127.0.0.1:${port}/api/download?url=https://www.tiktok.com/@x/video/${id}`,
  );
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`post ${id}: HTTP ${response.statusCode} ${text}`);
};
await ask(ids[0] as string);
const before = await measure(service.child, true);
console.log(`after the first extraction: RSS ${mib(before.rss)}, heap ${mib(before.heapUsed)}`);
let next = 1;
const started = Date.now();
/** Extracts the posts up to `until` (exclusive), CONCURRENCY at a time. */
const extractUpTo = (until: number) =>
  Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < until) await ask(ids[next++] as string);
    }),
  );
// The slope is read from SLOPE_FROM posts on: the first thousands also pay for the young generation and
// the optimizing compilers growing under load, which a further post does not.
const slopeFrom = Math.min(SLOPE_FROM, Math.floor(ids.length / 5));
await extractUpTo(slopeFrom);
const middle = await measure(service.child, true);
await extractUpTo(ids.length);
const seconds = (Date.now() - started) / 1000;
const after = await measure(service.child, true);
const perEntry = (field: keyof Reading, from: Reading, entries: number) =>
  (after[field] - from[field]) / entries / 1024;
console.log(
  `${ids.length - 1} cold extractions in ${seconds.toFixed(1)} s; then RSS ${mib(after.rss)}, heap ${mib(after.heapUsed)} used of ${mib(after.heapTotal)}`,
);
for (const [label, from, entries] of [
  [`from the first post on`, before, ids.length - 1],
  [`from post ${slopeFrom} to ${ids.length}`, middle, ids.length - slopeFrom],
] as const)
  console.log(
    `per cached post, ${label}: heap ${perEntry("heapUsed", from, entries).toFixed(2)} KiB (committed ${perEntry("heapTotal", from, entries).toFixed(2)}), external (buffers) ${perEntry("external", from, entries).toFixed(2)} KiB, RSS ${perEntry("rss", from, entries).toFixed(2)} KiB`,
  );
// No aim on idle RSS any more (it came from changing V8's flags while the process ran): what is kept is
// honest measurement, and no growth from the figures docs/performance.md gives without a reason there.
console.log(
  `watched: idle RSS ${mib(idle.rss)} (docs/performance.md: 117.9 MiB on Node 24), RSS per further post ${perEntry("rss", middle, ids.length - slopeFrom).toFixed(2)} KiB (3.31)`,
);
if (args.has("snapshot")) {
  const file = await new Promise<string>((resolve) => {
    service.child.once("message", (message: { file: string }) => resolve(message.file));
    service.child.send("snapshot");
  });
  console.log(`heap snapshot of the service: ${file}`);
}
service.child.send("exit");
await fake.close();
