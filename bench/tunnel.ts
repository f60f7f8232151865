/**
 * Tunnel throughput: the same 64 MiB file downloaded through GET /api/stream/<token>, through a bare
 * node:http + undici pipe proxy (the cheapest relay there is: the baseline) and straight from the fake CDN
 * (with the cookie the page set), alternating, in one run. Prints each throughput, the tunnel's against the
 * bare proxy's (median of the rounds' ratios), the CPU-seconds per GiB each relayed, and each one's peak RSS.
 * Then a photo post's ZIP against the same files downloaded one by one through the tunnel, the same way.
 *
 *   npm run bench:tunnel [-- --rounds 5 --per-round 4]
 *
 * The server runs in its own process so that its CPU time and memory are its own; the client and the
 * fake CDN share this one.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { request } from "undici";
import { FakeTikTok, SAMPLE_IDS, SCENARIO_IDS } from "../test/fakes/tiktok.js";

interface Usage {
  cpuSeconds: number;
  rssMiB: number;
  maxRssMiB: number;
}

function usage(): Usage {
  const cpu = process.cpuUsage();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

type Role =
  | { role: "service"; upstream: string }
  | { role: "plain"; url: string; headers: Record<string, string> };

/** The tunnel itself, or the baseline: a bare node:http server piping an undici request, nothing else. */
async function child() {
  const [message] = (await once(process, "message")) as [Role];
  let address: string;
  if (message.role === "service") {
    // Loaded in the service's process only: the bare proxy's memory is its own, without the service's modules.
    const { createApp } = await import("../src/http/app.js");
    const { loadConfig } = await import("../src/service/config.js");
    const { nativeSource } = await import("../src/sources/tiktok/web/index.js");
    const config = loadConfig({ UPSTREAM_TIKTOK: message.upstream, RATE_LIMIT: "0", STREAM_RATE_LIMIT: "0" });
    const app = await createApp(config, { logger: false, sources: [nativeSource] });
    address = await app.listen({ port: 0, host: "127.0.0.1" });
  } else {
    const plain = createServer(async (_request, response) => {
      const upstream = await request(message.url, { headers: message.headers });
      response.writeHead(upstream.statusCode, {
        "content-length": String(upstream.headers["content-length"] ?? ""),
      });
      await pipeline(upstream.body, response);
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    address = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  }
  process.on("message", (asked) => (asked === "exit" ? process.exit(0) : process.send?.(usage())));
  process.send?.({ address });
}

/** `--profile DIR`: each relay's CPU profile (node --cpu-prof) written into DIR when the bench ends. */
const profileDir = process.argv.includes("--profile")
  ? process.argv[process.argv.indexOf("--profile") + 1]
  : undefined;

async function startChild(role: Role): Promise<{ process: ChildProcess; address: string }> {
  const worker = fork(new URL(import.meta.url).pathname, ["--child"], {
    execArgv: [
      "--import",
      "tsx",
      ...(profileDir
        ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${role.role}.cpuprofile`]
        : []),
    ],
    stdio: "inherit",
  });
  worker.send(role);
  const [{ address }] = (await once(worker, "message")) as [{ address: string }];
  return { process: worker, address };
}

/** Downloads a URL and throws the bytes away; resolves with the byte count. */
function drain(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`${url}: HTTP ${response.statusCode}`));
      let bytes = 0;
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on("end", () => resolve(bytes));
      response.on("error", reject);
    }).on("error", reject);
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

async function serverUsage(server: ChildProcess): Promise<Usage> {
  server.send("usage");
  const [reply] = (await once(server, "message")) as [Usage];
  return reply;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "5" },
      "per-round": { type: "string", default: "4" },
      profile: { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  const perRound = Number(values["per-round"]);
  const fake = await new FakeTikTok({ waf: false }).start();
  const { process: server, address } = await startChild({ role: "service", upstream: fake.url });

  const lookup = async (id: string) => {
    const body = (await (
      await fetch(
        `${address}/api/download?url=${encodeURIComponent(`https://www.tiktok.com/@river.cooks/video/${id}`)}`,
      )
    ).json()) as {
      result: { video: { noWatermark: string }; stream: { video: string } };
    };
    return body.result;
  };
  // A small file first: the RSS after it is the baseline the large transfers are compared with.
  const small = await lookup(SAMPLE_IDS.video);
  await drain(`${address}${small.stream.video}`);
  const baseline = await serverUsage(server);

  const large = await lookup(SCENARIO_IDS.large);
  const tunnelUrl = `${address}${large.stream.video}`;
  // The direct download needs what the tunnel holds server-side: the page's cookie and a TikTok Referer.
  const page = await fetch(`${fake.url}/@river.cooks/video/${SCENARIO_IDS.large}`);
  const cookie = page.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  await page.arrayBuffer();
  const cdn = new URL(large.video.noWatermark);
  const directUrl = `${fake.url}${cdn.pathname}${cdn.search}`;
  const directHeaders = { cookie, referer: "https://www.tiktok.com/" };
  const plain = await startChild({ role: "plain", url: directUrl, headers: directHeaders });
  let plainCpu = 0;
  let plainBytes = 0;
  let plainSeconds = 0;
  const ratios: { speed: number; cpu: number }[] = [];
  const plainBaseline = await serverUsage(plain.process);

  let tunnelBytes = 0;
  let tunnelSeconds = 0;
  let directBytes = 0;
  let directSeconds = 0;
  let tunnelCpu = 0;
  console.log(`tunnel bench: ${rounds} rounds × ${perRound} downloads of 64 MiB each way, alternating`);
  for (let round = 1; round <= rounds; round++) {
    let started = performance.now();
    for (let i = 0; i < perRound; i++) directBytes += await drain(directUrl, directHeaders);
    const direct = (performance.now() - started) / 1000;
    directSeconds += direct;

    const before = await serverUsage(server);
    started = performance.now();
    for (let i = 0; i < perRound; i++) tunnelBytes += await drain(tunnelUrl);
    const tunnel = (performance.now() - started) / 1000;
    tunnelSeconds += tunnel;
    const afterRound = await serverUsage(server);
    tunnelCpu += afterRound.cpuSeconds - before.cpuSeconds;

    const plainBefore = await serverUsage(plain.process);
    started = performance.now();
    for (let i = 0; i < perRound; i++) plainBytes += await drain(plain.address);
    const bare = (performance.now() - started) / 1000;
    plainSeconds += bare;
    const bareCpu = (await serverUsage(plain.process)).cpuSeconds - plainBefore.cpuSeconds;
    plainCpu += bareCpu;
    const tunnelCpuRound = afterRound.cpuSeconds - before.cpuSeconds;
    ratios.push({ speed: bare / tunnel, cpu: tunnelCpuRound / bareCpu });
    const mb = (perRound * 64) / 1024;
    console.log(
      `round ${round}: direct ${((perRound * 64) / direct).toFixed(0)} MiB/s, bare proxy ${((perRound * 64) / bare).toFixed(0)} MiB/s, tunnel ${((perRound * 64) / tunnel).toFixed(0)} MiB/s; tunnel/bare ${(bare / tunnel).toFixed(2)}; CPU-s/GiB tunnel ${(tunnelCpuRound / mb).toFixed(2)}, bare ${(bareCpu / mb).toFixed(2)}`,
    );
  }
  const final = await serverUsage(server);
  const plainFinal = await serverUsage(plain.process);
  const gib = tunnelBytes / 2 ** 30;
  const rate = (bytes: number, seconds: number) => (bytes / 2 ** 20 / seconds).toFixed(0);
  console.log(
    `direct: ${rate(directBytes, directSeconds)} MiB/s; bare proxy: ${rate(plainBytes, plainSeconds)} MiB/s; tunnel: ${rate(tunnelBytes, tunnelSeconds)} MiB/s; tunnel/direct ${((directSeconds / tunnelSeconds) * (tunnelBytes / directBytes)).toFixed(2)}`,
  );
  console.log(
    `tunnel / bare proxy, median of ${rounds} rounds: throughput ${median(ratios.map((r) => r.speed)).toFixed(2)} (aim ≥ 0.95), CPU per GiB ${median(ratios.map((r) => r.cpu)).toFixed(2)} (aim ≤ 1.0)`,
  );
  const plainPerGib = plainCpu / (plainBytes / 2 ** 30);
  console.log(
    `server CPU: ${(tunnelCpu / gib).toFixed(2)} CPU-s per GiB relayed; the bare proxy: ${plainPerGib.toFixed(2)} CPU-s per GiB; ratio ${(tunnelCpu / gib / plainPerGib).toFixed(2)}`,
  );
  console.log(
    `peak RSS: tunnel ${final.maxRssMiB.toFixed(0)} MiB (${baseline.rssMiB.toFixed(0)} MiB after a 1 MiB file), bare proxy ${plainFinal.maxRssMiB.toFixed(0)} MiB (${plainBaseline.rssMiB.toFixed(0)} MiB at start); tunnel − bare ${(final.maxRssMiB - plainFinal.maxRssMiB).toFixed(0)} MiB (aim ≤ 32)`,
  );
  await zipRounds(address, server, rounds);
  server.send("exit");
  plain.process.send("exit");
  await Promise.all([once(server, "exit"), once(plain.process, "exit")]);
  await fake.close();
}

/**
 * A photo post's ZIP against the same files streamed one by one through the tunnel (images, then the
 * audio), alternating, in the same server: throughput and CPU per GiB, median of the rounds' ratios.
 */
async function zipRounds(address: string, server: ChildProcess, rounds: number) {
  const answer = (await (
    await fetch(
      `${address}/api/download?url=${encodeURIComponent(`https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`)}`,
    )
  ).json()) as { result: { stream: { zip: string; images: string[]; music?: string } } };
  const { zip, images, music } = answer.result.stream;
  const files = [...images, ...(music ? [music] : [])].map((path) => `${address}${path}`);
  const times = 20;
  const measure = async (download: () => Promise<number>) => {
    const before = await serverUsage(server);
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < times; i++) bytes += await download();
    const seconds = (performance.now() - started) / 1000;
    const cpu = (await serverUsage(server)).cpuSeconds - before.cpuSeconds;
    return { rate: bytes / seconds, cpuPerGib: cpu / (bytes / 2 ** 30) };
  };
  const ratios: { speed: number; cpu: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const whole = await measure(() => drain(`${address}${zip}`));
    const apart = await measure(async () => {
      let bytes = 0;
      for (const file of files) bytes += await drain(file);
      return bytes;
    });
    ratios.push({ speed: whole.rate / apart.rate, cpu: whole.cpuPerGib / apart.cpuPerGib });
    console.log(
      `zip round ${round}: ZIP ${(whole.rate / 2 ** 20).toFixed(0)} MiB/s, files one by one ${(apart.rate / 2 ** 20).toFixed(0)} MiB/s; CPU-s/GiB ZIP ${whole.cpuPerGib.toFixed(2)}, files ${apart.cpuPerGib.toFixed(2)}`,
    );
  }
  console.log(
    `photo ZIP (${files.length} files) / the same files one by one, median of ${rounds} rounds: throughput ${median(ratios.map((r) => r.speed)).toFixed(2)}, CPU per GiB ${median(ratios.map((r) => r.cpu)).toFixed(2)}`,
  );
}

if (process.argv.includes("--child")) await child();
else await main();
