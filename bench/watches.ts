/**
 * Watches at scale: N watches over M creators on one instance (its own process, so that its CPU and
 * memory are its own), checked every `--every` seconds against the fake TikTok, delivering to a local
 * receiver. Prints the memory a watch costs, the CPU a check costs, deliveries a second, and the time
 * from a post appearing at the fake to its event arriving (median and p99).
 *
 *   npm run bench:watches [-- --watches 10000 --creators 2000 --every 60 --posting 500]
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makePosts, makeProfile, postIdAt } from "../test/fakes/profiles.js";
import { FakeTikTok } from "../test/fakes/tiktok.js";

interface Usage {
  cpuSeconds: number;
  rssMiB: number;
  heapMiB: number;
}

async function child() {
  const [env] = (await once(process, "message")) as [Record<string, string>];
  const { createApp } = await import("../src/http/app.js");
  const { loadConfig } = await import("../src/service/config.js");
  const { nativeSource } = await import("../src/sources/tiktok/web/index.js");
  const app = await createApp(loadConfig(env), { logger: false, sources: [nativeSource] });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  process.on("message", (asked) => {
    if (asked === "exit") process.exit(0);
    globalThis.gc?.();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    process.send?.({
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssMiB: memory.rss / 2 ** 20,
      heapMiB: memory.heapUsed / 2 ** 20,
    } satisfies Usage);
  });
  process.send?.({ address });
}

async function usageOf(service: ChildProcess): Promise<Usage> {
  service.send("usage");
  const [usage] = (await once(service, "message")) as [Usage];
  return usage;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** A receiver that answers 200 at once and notes when each post's event arrived. */
async function startReceiver(arrived: Map<string, number>) {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const event = JSON.parse(body) as { type: string; data?: { post?: { id?: string } } };
      const what = event.type === "watch.test" ? "test" : event.data?.post?.id;
      if (what && !arrived.has(`${request.url} ${what}`)) arrived.set(`${request.url} ${what}`, Date.now());
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Makes the watches, `parallel` at a time; resolves with how long it took. */
async function makeWatches(
  address: string,
  receiverUrl: string,
  count: number,
  creators: number,
  every: number,
) {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const response = await fetch(`${address}/api/watches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          url: `https://www.tiktok.com/@bench.creator${index % creators}`,
          target: { type: "webhook", url: `${receiverUrl}/w${index}` },
          every,
        }),
      });
      if (response.status !== 201)
        throw new Error(`watch ${index}: HTTP ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return (performance.now() - started) / 1000;
}

async function main() {
  const { values } = parseArgs({
    options: {
      watches: { type: "string", default: "10000" },
      creators: { type: "string", default: "2000" },
      every: { type: "string", default: "60" },
      posting: { type: "string", default: "500" },
    },
  });
  const [watches, creators, every, posting] = [
    values.watches,
    values.creators,
    values.every,
    values.posting,
  ].map(Number) as [number, number, number, number];
  const fake = await new FakeTikTok({ waf: false }).start();
  const profiles = Array.from({ length: creators }, (_, i) =>
    makeProfile(`bench.creator${i}`, makePosts(5, { salt: 20_000 + i * 10 })),
  );
  for (const profile of profiles) fake.profiles.set(profile.username, profile);
  const arrived = new Map<string, number>();
  const receiver = await startReceiver(arrived);
  const dataDir = await mkdtemp(join(tmpdir(), "tiktok-dl-bench-watches-"));
  const service = fork(new URL(import.meta.url).pathname, ["--child"], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: "inherit",
  });
  service.send({
    UPSTREAM_TIKTOK: fake.url,
    ALLOW_PRIVATE_UPSTREAMS: "1",
    ALLOW_PRIVATE_TARGETS: "1",
    RATE_LIMIT: "0",
    DATA_DIR: dataDir,
    WATCH_MIN_INTERVAL: String(every),
    WATCHES_MAX: String(watches),
    LOG_LEVEL: "silent",
  });
  const [{ address }] = (await once(service, "message")) as [{ address: string }];
  try {
    const idle = await usageOf(service);
    const seconds = await makeWatches(address, receiver.url, watches, creators, every);
    const made = await usageOf(service);
    console.log(
      `${watches} watches over ${creators} creators made in ${seconds.toFixed(1)} s (${(watches / seconds).toFixed(0)}/s)`,
    );
    console.log(
      `memory: RSS ${idle.rssMiB.toFixed(0)} → ${made.rssMiB.toFixed(0)} MiB, heap ${idle.heapMiB.toFixed(0)} → ${made.heapMiB.toFixed(0)} MiB: ${(((made.rssMiB - idle.rssMiB) * 1024) / watches).toFixed(2)} KiB of RSS a watch (the watches are in the database file, not in memory)`,
    );
    // One full interval of checks with nothing new: what checking costs.
    const before = await usageOf(service);
    const checksBefore = await checksDone(address);
    await new Promise((resolve) => setTimeout(resolve, (every * 1.1 + 2) * 1000));
    const after = await usageOf(service);
    const checks = (await checksDone(address)) - checksBefore;
    console.log(
      `one interval: ${checks} checks, ${(after.cpuSeconds - before.cpuSeconds).toFixed(2)} CPU-s: ${(((after.cpuSeconds - before.cpuSeconds) / Math.max(1, checks)) * 1000).toFixed(2)} ms of CPU a check; RSS ${after.rssMiB.toFixed(0)} MiB`,
    );
    // New posts on `posting` creators: each tells every watch of that creator.
    const appeared = new Map<string, number>();
    const now = Math.floor(Date.now() / 1000);
    for (const [i, profile] of profiles.slice(0, posting).entries()) {
      const id = postIdAt(now, 90_000 + i);
      profile.posts.unshift({ id, createTime: now, photo: false });
      appeared.set(id, Date.now());
    }
    const expected = Math.round((watches / creators) * Math.min(posting, creators));
    const deadline = Date.now() + (every * 1.1 + 60) * 1000;
    while (arrived.size < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const delays = [...arrived.entries()].map(
      ([key, at]) => at - (appeared.get(key.split(" ")[1] as string) ?? at),
    );
    console.log(
      `${arrived.size} of ${expected} post events delivered; post at the fake → event at the receiver: median ${(percentile(delays, 50) / 1000).toFixed(1)} s, p99 ${(percentile(delays, 99) / 1000).toFixed(1)} s (a check comes every ${every} s, with up to a tenth of jitter)`,
    );
    await deliveryRate(address, arrived, watches);
  } finally {
    service.send("exit");
    await once(service, "exit");
    receiver.server.close();
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A test event queued for every watch at once, then delivered: deliveries a second from a full queue. */
async function deliveryRate(address: string, arrived: Map<string, number>, watches: number) {
  const list = ((await (await fetch(`${address}/api/watches`)).json()) as { result: { id: string }[] })
    .result;
  const queuedAt = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const watch = list[next++] as { id: string };
      await fetch(`${address}/api/watches/${watch.id}/test`, { method: "POST" });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const tests = () => [...arrived.keys()].filter((key) => key.endsWith(" test")).length;
  const deadline = Date.now() + 600_000;
  while (tests() < watches && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const times = [...arrived.entries()].filter(([key]) => key.endsWith(" test")).map(([, at]) => at);
  const seconds = (Math.max(...times) - queuedAt) / 1000;
  console.log(
    `${tests()} test events queued at once (all to one receiver host, 4 at a time) delivered in ${seconds.toFixed(1)} s: ${(tests() / seconds).toFixed(0)} deliveries/s`,
  );
}

/** The service's count of checks so far, from /metrics. */
async function checksDone(address: string): Promise<number> {
  const text = await (await fetch(`${address}/metrics`)).text();
  return [...text.matchAll(/^tiktokdl_watch_checks_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

if (process.argv.includes("--child")) await child();
else await main();
