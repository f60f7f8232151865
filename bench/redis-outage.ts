/**
 * What a Redis outage does to an instance under steady load: four clients send requests back to back
 * (cache hits, and one in four a fresh extraction that claims, writes and releases in Redis) while a
 * redis-server of the bench's own is killed for ten seconds and started again, then paused (SIGSTOP,
 * like a black-holed network) for ten seconds and resumed. For each phase: requests answered, errors,
 * the slowest request, and how long the instance took to use Redis again.
 *
 *   npm run bench:outage [-- --seconds 10 --clients 4]
 */
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { FakeTikTok, SAMPLE_IDS } from "../test/fakes/tiktok.js";
import { OwnRedis } from "../test/support/redis-server.js";

const PREFIX = "tiktok-dl-outage-bench:";
const POSTS = [
  `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`,
  `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`,
];

interface Tally {
  answered: number;
  errors: number;
  storeErrors: number;
  slowestMs: number;
}

async function main() {
  const { values } = parseArgs({
    options: { seconds: { type: "string", default: "10" }, clients: { type: "string", default: "4" } },
  });
  const outageMs = Number(values.seconds) * 1000;
  const clients = Number(values.clients);

  const own = await OwnRedis.start();
  const fake = await new FakeTikTok({ waf: false }).start();
  const config = loadConfig({
    UPSTREAM_TIKTOK: fake.url,
    REDIS_URL: own.url,
    REDIS_PREFIX: PREFIX,
    RATE_LIMIT: "0",
  });
  const app = await createApp(config, { logger: false, sources: [nativeSource] });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // The bench's own look into Redis: patient (offline queue on), so it sees Redis as soon as it is back.
  const probe = new Redis(own.url, { retryStrategy: () => 100, commandTimeout: 1_000 });
  probe.on("error", () => {});

  let tally: Tally = { answered: 0, errors: 0, storeErrors: 0, slowestMs: 0 };
  let running = true;
  const client = async (index: number) => {
    for (let n = index; running; n++) {
      const post = POSTS[n % POSTS.length] as string;
      const fresh = n % 4 === 0 ? "&nocache=1" : "";
      const started = performance.now();
      const response = await fetch(`${base}/api/download?url=${encodeURIComponent(post)}${fresh}`);
      const body = await response.text();
      const ms = performance.now() - started;
      tally.answered++;
      tally.slowestMs = Math.max(tally.slowestMs, ms);
      if (response.status !== 200) {
        tally.errors++;
        if (/store|redis/i.test(body)) tally.storeErrors++;
      }
    }
  };
  const phase = async (name: string, ms: number, action?: () => Promise<void> | void) => {
    await action?.();
    tally = { answered: 0, errors: 0, storeErrors: 0, slowestMs: 0 };
    await new Promise((resolve) => setTimeout(resolve, ms));
    const { answered, errors, storeErrors, slowestMs } = tally;
    console.log(
      `${name.padEnd(26)} ${String(answered).padStart(6)} answered in ${(ms / 1000).toFixed(0)} s, ${errors} errors (${storeErrors} from the store), slowest ${slowestMs.toFixed(0)} ms`,
    );
  };
  /** From now until the instance says Redis is up and a fresh answer has landed in it. */
  const recovery = async (name: string) => {
    const started = performance.now();
    await probe.del(`${PREFIX}post:${SAMPLE_IDS.video}`).catch(() => {});
    for (;;) {
      const health = (await (await fetch(`${base}/api/health`)).json()) as { status: string };
      const stored = await probe.exists(`${PREFIX}post:${SAMPLE_IDS.video}`).catch(() => 0);
      if (health.status === "ok" && stored === 1) break;
      if (performance.now() - started > 30_000)
        throw new Error(
          `${name}: Redis not used again within 30 s (health ${health.status}, stored ${stored})`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`${name.padEnd(26)} Redis used again after ${(performance.now() - started).toFixed(0)} ms`);
  };

  console.log(`outage bench: ${clients} clients, outages of ${outageMs / 1000} s`);
  const load = Array.from({ length: clients }, (_, index) => client(index));
  try {
    await phase("Redis up", 5_000);
    await phase("Redis killed", outageMs, () => own.kill());
    await own.start();
    await recovery("Redis started again");
    await phase("after the restart", 5_000);
    await phase("Redis paused (SIGSTOP)", outageMs, () => own.pause());
    own.resume();
    await recovery("Redis resumed (SIGCONT)");
    await phase("after the pause", 5_000);
  } finally {
    running = false;
    await Promise.allSettled(load);
    probe.disconnect();
    await app.close();
    await fake.close();
    await own.stop();
  }
}

await main();
