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
import { readFileSync } from "node:fs";
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

/** CPU seconds a process has used (user and system), from /proc; undefined where there is none. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

interface Segment {
  rate: number;
  requests: number;
  /** The server's CPU seconds over the segment. */
  cpu: number | undefined;
}

async function measure(url: string, duration: number, connections: number, pid?: number): Promise<Segment> {
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({ url, duration, connections, pipelining: 1 });
  const cpuAfter = cpuSeconds(pid);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return { rate: result.requests.average, requests: result.requests.total, cpu };
}

/** Two segments of one server in a cycle: the mean rate, and its CPU microseconds a request. */
const summary = (first: Segment, second: Segment) => ({
  rate: (first.rate + second.rate) / 2,
  cpuPerRequest:
    first.cpu === undefined || second.cpu === undefined
      ? undefined
      : ((first.cpu + second.cpu) / (first.requests + second.requests)) * 1e6,
});

/**
 * One cycle: ours, text, bytes, bytes, text, ours, so that a drift of the machine weighs on each alike.
 * Throughput is capped by the load generator too (on one core, it is as busy as the server), so the
 * server's CPU time a request is also compared: what a hit costs the server against the bare route.
 */
async function cycle(
  servers: { ours: string; text: string; bytes: string; oursPid?: number; barePid?: number },
  options: { duration: number; connections: number },
) {
  const run = (url: string, pid?: number) => measure(url, options.duration, options.connections, pid);
  const ours1 = await run(servers.ours, servers.oursPid);
  const text1 = await run(servers.text, servers.barePid);
  const bytes1 = await run(servers.bytes, servers.barePid);
  const bytes2 = await run(servers.bytes, servers.barePid);
  const text2 = await run(servers.text, servers.barePid);
  const ours2 = await run(servers.ours, servers.oursPid);
  return { ours: summary(ours1, ours2), text: summary(text1, text2), bytes: summary(bytes1, bytes2) };
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

  const ratios = {
    text: [] as number[],
    bytes: [] as number[],
    textCpu: [] as number[],
    bytesCpu: [] as number[],
  };
  console.log(
    `\n${mode} store: ${options.rounds} rounds × ${options.duration} s, ${options.connections} connections, payload ${JSON.stringify(hit).length} B`,
  );
  const servers = {
    ours: `${service.address}${DOWNLOAD_PATH}`,
    text: `${bare.address}${BARE_TEXT_PATH}`,
    bytes: `${bare.address}${BARE_BYTES_PATH}`,
    oursPid: service.process.pid,
    barePid: bare.process.pid,
  };
  const micros = (value: number | undefined) => (value === undefined ? "?" : value.toFixed(1));
  try {
    // The servers warm up first (JIT, connection pools): the first seconds are not what is compared.
    for (const url of [servers.text, servers.bytes, servers.ours]) await measure(url, 2, options.connections);
    for (let round = 1; round <= options.rounds; round++) {
      const { ours, text, bytes } = await cycle(servers, options);
      ratios.text.push(ours.rate / text.rate);
      ratios.bytes.push(ours.rate / bytes.rate);
      if (ours.cpuPerRequest && text.cpuPerRequest && bytes.cpuPerRequest) {
        ratios.textCpu.push(text.cpuPerRequest / ours.cpuPerRequest);
        ratios.bytesCpu.push(bytes.cpuPerRequest / ours.cpuPerRequest);
      }
      console.log(
        `cycle ${round}: cache hit ${ours.rate.toFixed(0)} req/s (${micros(ours.cpuPerRequest)} µs CPU each); bare text ${text.rate.toFixed(0)} req/s (${micros(text.cpuPerRequest)} µs), bytes ${bytes.rate.toFixed(0)} req/s (${micros(bytes.cpuPerRequest)} µs)`,
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
  const medians = {
    text: median(ratios.text),
    bytes: median(ratios.bytes),
    textCpu: median(ratios.textCpu),
    bytesCpu: median(ratios.bytesCpu),
  };
  console.log(
    `${mode} store: median ratio cache hit / bare route, throughput: ${medians.text.toFixed(2)} (text), ${medians.bytes.toFixed(2)} (bytes); CPU a request (bare's / ours): ${medians.textCpu.toFixed(2)} (text), ${medians.bytesCpu.toFixed(2)} (bytes)`,
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
    lines.push(
      `${mode} ${medians.text.toFixed(2)} (bytes ${medians.bytes.toFixed(2)}; CPU a request ${medians.textCpu.toFixed(2)}, bytes ${medians.bytesCpu.toFixed(2)})`,
    );
  }
  console.log(`\nmedian ratios against the bare route: ${lines.join(", ")} (aim: ≥ 0.95 in both modes)`);
}

if (process.argv.includes("--child")) await child();
else await main();
