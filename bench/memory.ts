/**
 * Memory of the service (issue "memory that scales"): idle RSS next to a bare Node HTTP server, then the
 * heap and RSS each cached post costs, over N cold extractions through the fake TikTok. The service runs
 * built (dist/), in its own process with --expose-gc, and collects garbage before each reading.
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
const SERVICE = fileURLToPath(new URL("./memory-service.mjs", import.meta.url));
const MiB = 1024 * 1024;

interface Reading {
  rss: number;
  heapUsed: number;
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

function measure(child: ChildProcess): Promise<Reading> {
  return new Promise((resolve) => {
    child.once("message", (message: Reading) => resolve(message));
    child.send("measure");
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
const before = await measure(service.child);
console.log(`after the first extraction: RSS ${mib(before.rss)}, heap ${mib(before.heapUsed)}`);
let next = 1;
const started = Date.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < ids.length) await ask(ids[next++] as string);
  }),
);
const seconds = (Date.now() - started) / 1000;
const after = await measure(service.child);
const entries = ids.length - 1;
const perEntry = (field: keyof Reading) => (after[field] - before[field]) / entries / 1024;
console.log(
  `${entries} cold extractions in ${seconds.toFixed(1)} s; then RSS ${mib(after.rss)}, heap ${mib(after.heapUsed)}`,
);
console.log(
  `per cached post: heap ${perEntry("heapUsed").toFixed(2)} KiB, RSS ${perEntry("rss").toFixed(2)} KiB, ` +
    `external ${perEntry("external").toFixed(2)} KiB`,
);
console.log(
  `aims: idle RSS ≤ 90 MiB on Node 24 (${mib(idle.rss)}), ≤ 4 KiB per entry (heap ${perEntry("heapUsed").toFixed(2)} KiB)`,
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
