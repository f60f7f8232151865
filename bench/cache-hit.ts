/**
 * Cache-hit throughput of GET /api/download against a bare Fastify route that takes the same query and
 * returns the same JSON,
 * measured alternately in the same run (machines are noisy: only the ratio means something).
 *
 *   npm run bench:cache [-- --duration 5 --rounds 3 --connections 50]
 *
 * Each server runs in its own process; autocannon drives them from this one.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import Fastify from "fastify";
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { nativeSource } from "../src/sources/native/index.js";
import { FakeTikTok, SAMPLE_IDS } from "../test/fakes/tiktok.js";

const POST_URL = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const DOWNLOAD_PATH = `/api/download?url=${encodeURIComponent(POST_URL)}`;
/** Same request and answer sizes: the difference is only what the service does for a cache hit. */
const BARE_PATH = `/json?url=${encodeURIComponent(POST_URL)}`;

type Role = { role: "service"; upstream: string } | { role: "bare"; payload: unknown };

async function serve(role: Role): Promise<string> {
  if (role.role === "service") {
    const config = loadConfig({ UPSTREAM_TIKTOK: role.upstream, RATE_LIMIT: "0" });
    // Only the native source: the providers' real sites are not reachable from a bench.
    const app = await createApp(config, { logger: false, sources: [nativeSource] });
    return app.listen({ port: 0, host: "127.0.0.1" });
  }
  const bare = Fastify({ logger: false });
  bare.get("/json", async () => role.payload);
  return bare.listen({ port: 0, host: "127.0.0.1" });
}

async function child(): Promise<void> {
  const [message] = (await once(process, "message")) as [Role];
  process.send?.({ address: await serve(message) });
}

async function startChild(role: Role): Promise<{ process: ChildProcess; address: string }> {
  const worker = fork(new URL(import.meta.url).pathname, ["--child"], {
    execArgv: ["--import", "tsx"],
    stdio: "inherit",
  });
  worker.send(role);
  const [reply] = (await once(worker, "message")) as [{ address: string }];
  return { process: worker, address: reply.address };
}

async function measure(url: string, duration: number, connections: number): Promise<number> {
  const result = await autocannon({ url, duration, connections, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
    },
  });
  const duration = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);

  const fake = await new FakeTikTok().start();
  const service = await startChild({ role: "service", upstream: fake.url });
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
    `cache-hit bench: ${rounds} rounds × ${duration} s, ${connections} connections, payload ${JSON.stringify(hit).length} B`,
  );
  try {
    for (let round = 1; round <= rounds; round++) {
      const baseline = await measure(`${bare.address}${BARE_PATH}`, duration, connections);
      const cached = await measure(`${service.address}${DOWNLOAD_PATH}`, duration, connections);
      ratios.push(cached / baseline);
      console.log(
        `round ${round}: bare Fastify ${baseline.toFixed(0)} req/s, /api/download cache hit ${cached.toFixed(0)} req/s, ratio ${(cached / baseline).toFixed(2)}`,
      );
    }
  } finally {
    service.process.kill();
    bare.process.kill();
    await fake.close();
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 0;
  console.log(`median ratio (cache hit / bare route): ${median.toFixed(2)} (target ≥ 0.80)`);
}

if (process.argv.includes("--child")) await child();
else await main();
