/**
 * Cache-hit throughput of GET /api/download against a bare Fastify route that takes the same query and
 * returns the same JSON, measured alternately in the same run (machines are noisy: only the ratio means
 * something), with the in-memory store and with Redis (`REDIS_URL`, default the local one, under a
 * prefix of its own that is deleted afterwards).
 *
 *   npm run bench:cache [-- --mode memory|redis|both --duration 5 --rounds 5 --connections 50]
 *
 * Each server runs in its own process, pinned to CPU 1 where `taskset` exists; autocannon drives them
 * from this process, pinned to CPU 0. Ours is the service's process entry, as users run it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { FakeTikTok, SAMPLE_IDS } from "../test/fakes/tiktok.js";
import { freePort } from "./free-port.js";

const POST_URL = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const DOWNLOAD_PATH = `/api/download?url=${encodeURIComponent(POST_URL)}`;
/** Same request and answer sizes: the difference is only what the service does for a cache hit. */
const BARE_PATH = `/json?url=${encodeURIComponent(POST_URL)}`;

type Role = { role: "bare"; payload: unknown };

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

async function serve(role: Role): Promise<string> {
  // The cheapest a Fastify route can answer the same bytes: the body serialized once, sent as a string.
  const bare = Fastify({ logger: false });
  const body = JSON.stringify(role.payload);
  bare.get("/json", async (_request, reply) => reply.type("application/json; charset=utf-8").send(body));
  return bare.listen({ port: 0, host: "127.0.0.1" });
}

async function child(): Promise<void> {
  const [message] = (await once(process, "message")) as [Role];
  process.send?.({ address: await serve(message) });
}

async function startChild(role: Role): Promise<{ process: ChildProcess; address: string }> {
  const node = [process.execPath, "--import", "tsx", new URL(import.meta.url).pathname, "--child"];
  const [command, ...args] = hasTaskset ? ["taskset", "-c", "1", ...node] : node;
  const worker = spawn(command as string, args, { stdio: ["inherit", "inherit", "inherit", "ipc"] });
  worker.send(role);
  const [reply] = (await once(worker, "message")) as [{ address: string }];
  return { process: worker, address: reply.address };
}

/**
 * The service as a user runs it: its process entry (`src/server.ts`, as `npm start` runs the built one),
 * its own settings from the environment, logging off. Rate limiting is on (a limit this run never
 * reaches, so every request pays its count); only the native source is on (the providers' real sites
 * are not reachable from a bench).
 */
async function startService(
  env: Record<string, string>,
): Promise<{ process: ChildProcess; address: string }> {
  const port = await freePort();
  const node = [
    process.execPath,
    "--import",
    "tsx",
    fileURLToPath(new URL("../src/server.ts", import.meta.url)),
  ];
  const [command, ...args] = hasTaskset ? ["taskset", "-c", "1", ...node] : node;
  const service = spawn(command as string, args, {
    stdio: "inherit",
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      SOURCES: "native",
      RATE_LIMIT: process.env.BENCH_RATE_LIMIT ?? "1000000",
      STREAM_SECRET: "cache-bench-secret-0123456789abcdef",
      ...env,
    },
  });
  const address = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${address}/api/health`);
      return { process: service, address };
    } catch (error) {
      if (tries > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function measure(url: string, duration: number, connections: number): Promise<number> {
  const result = await autocannon({ url, duration, connections, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

/** One mode's rounds: the bare route and the cache hit, alternately; the median ratio. */
async function compare(
  mode: "memory" | "redis",
  options: { duration: number; rounds: number; connections: number },
) {
  const prefix = `tiktok-dl-bench:${randomBytes(4).toString("hex")}:`;
  const fake = await new FakeTikTok().start();
  const service = await startService({
    UPSTREAM_TIKTOK: fake.url,
    ...(mode === "redis" ? { REDIS_URL, REDIS_PREFIX: prefix } : {}),
  });
  const warm = await fetch(`${service.address}${DOWNLOAD_PATH}`);
  const body = (await warm.json()) as { result: { cached: boolean } };
  if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
  const hit = (await (await fetch(`${service.address}${DOWNLOAD_PATH}`)).json()) as {
    result: { cached: boolean };
  };
  if (!hit.result.cached) throw new Error("the second request was not a cache hit");
  const bare = await startChild({ role: "bare", payload: body });

  const ratios: number[] = [];
  console.log(
    `\n${mode} store: ${options.rounds} rounds × ${options.duration} s, ${options.connections} connections, payload ${JSON.stringify(hit).length} B`,
  );
  try {
    // Both servers warm up first (JIT, connection pools): the first seconds are not what is compared.
    await measure(`${bare.address}${BARE_PATH}`, 2, options.connections);
    await measure(`${service.address}${DOWNLOAD_PATH}`, 2, options.connections);
    // Cycles of ours, bare, bare, ours: a drift of the machine during a cycle weighs on both alike.
    for (let round = 1; round <= options.rounds; round++) {
      const hit = (url: string) => measure(url, options.duration, options.connections);
      const ours1 = await hit(`${service.address}${DOWNLOAD_PATH}`);
      const bare1 = await hit(`${bare.address}${BARE_PATH}`);
      const bare2 = await hit(`${bare.address}${BARE_PATH}`);
      const ours2 = await hit(`${service.address}${DOWNLOAD_PATH}`);
      const [cached, baseline] = [(ours1 + ours2) / 2, (bare1 + bare2) / 2];
      ratios.push(cached / baseline);
      console.log(
        `cycle ${round}: bare Fastify ${baseline.toFixed(0)} req/s, /api/download cache hit ${cached.toFixed(0)} req/s, ratio ${(cached / baseline).toFixed(2)}`,
      );
    }
  } finally {
    service.process.kill();
    bare.process.kill();
    await fake.close();
    if (mode === "redis") {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 0;
  console.log(`${mode} store: median ratio (cache hit / bare route) ${median.toFixed(2)}`);
  return median;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: "string", default: "both" },
      duration: { type: "string", default: "5" },
      rounds: { type: "string", default: "5" },
      connections: { type: "string", default: "50" },
    },
  });
  const options = {
    duration: Number(values.duration),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
  };
  if (hasTaskset) spawnSync("taskset", ["-p", "-c", "0", String(process.pid)]);
  console.log(
    hasTaskset
      ? "servers pinned to CPU 1, load generator to CPU 0"
      : "taskset not found: processes not pinned",
  );
  const modes = values.mode === "both" ? (["memory", "redis"] as const) : [values.mode as "memory" | "redis"];
  const medians = [];
  for (const mode of modes) medians.push(`${mode} ${(await compare(mode, options)).toFixed(2)}`);
  console.log(`\nmedian ratios: ${medians.join(", ")} (aim: ≥ 0.95 in both modes)`);
}

if (process.argv.includes("--child")) await child();
else await main();
