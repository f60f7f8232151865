/**
 * Cache-hit throughput of GET /api/download against a bare Fastify route that takes the same query and
 * returns the same JSON, measured alternately in the same run (machines are noisy: only the ratio means
 * something), with the in-memory store and with Redis (`REDIS_URL`, default the local one, under a
 * prefix of its own that is deleted afterwards). Two bare routes: one answers the JSON text (the issue's
 * baseline, what a route that keeps its answer as a string costs), the other the same answer already
 * encoded as bytes, as a cache hit now sends it (the strictest baseline: Fastify with no work at all).
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
const BARE_TEXT_PATH = `/json?url=${encodeURIComponent(POST_URL)}`;
const BARE_BYTES_PATH = `/bytes?url=${encodeURIComponent(POST_URL)}`;

type Role = { role: "bare"; payload: unknown };

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

async function serve(role: Role): Promise<string> {
  // The cheapest a Fastify route can answer the same body: serialized once, sent as text or as bytes.
  const bare = Fastify({ logger: false });
  const text = JSON.stringify(role.payload);
  const bytes = Buffer.from(text);
  const json = "application/json; charset=utf-8";
  bare.get("/json", async (_request, reply) => reply.type(json).send(text));
  bare.get("/bytes", async (_request, reply) => reply.type(json).send(bytes));
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

  const ratios = { text: [] as number[], bytes: [] as number[] };
  console.log(
    `\n${mode} store: ${options.rounds} rounds × ${options.duration} s, ${options.connections} connections, payload ${JSON.stringify(hit).length} B`,
  );
  const ours = `${service.address}${DOWNLOAD_PATH}`;
  const [text, bytes] = [`${bare.address}${BARE_TEXT_PATH}`, `${bare.address}${BARE_BYTES_PATH}`];
  try {
    // The servers warm up first (JIT, connection pools): the first seconds are not what is compared.
    for (const url of [text, bytes, ours]) await measure(url, 2, options.connections);
    // Cycles of ours, text, bytes, bytes, text, ours: a drift of the machine during a cycle weighs on
    // each alike.
    for (let round = 1; round <= options.rounds; round++) {
      const rate = (url: string) => measure(url, options.duration, options.connections);
      const [ours1, text1, bytes1, bytes2, text2, ours2] = [
        await rate(ours),
        await rate(text),
        await rate(bytes),
        await rate(bytes),
        await rate(text),
        await rate(ours),
      ];
      const [cached, textRate, bytesRate] = [(ours1 + ours2) / 2, (text1 + text2) / 2, (bytes1 + bytes2) / 2];
      ratios.text.push(cached / textRate);
      ratios.bytes.push(cached / bytesRate);
      console.log(
        `cycle ${round}: cache hit ${cached.toFixed(0)} req/s; bare route, text ${textRate.toFixed(0)} req/s (ratio ${(cached / textRate).toFixed(2)}), bytes ${bytesRate.toFixed(0)} req/s (ratio ${(cached / bytesRate).toFixed(2)})`,
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
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const medians = { text: median(ratios.text), bytes: median(ratios.bytes) };
  console.log(
    `${mode} store: median ratio cache hit / bare route: ${medians.text.toFixed(2)} (text), ${medians.bytes.toFixed(2)} (bytes)`,
  );
  return medians;
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
  const lines = [];
  for (const mode of modes) {
    const medians = await compare(mode, options);
    lines.push(`${mode} ${medians.text.toFixed(2)} (bytes: ${medians.bytes.toFixed(2)})`);
  }
  console.log(`\nmedian ratios against the bare route: ${lines.join(", ")} (aim: ≥ 0.95 in both modes)`);
}

if (process.argv.includes("--child")) await child();
else await main();
