/**
 * Tunnel throughput: the same 64 MiB file downloaded through GET /api/stream/<token> and straight from
 * the fake CDN (with the cookie the page set), alternating, in one run. Prints both throughputs, their
 * ratio, the server's CPU-seconds per GB relayed (next to a bare node:http + undici pipe proxy's, measured
 * the same way in the same run) and its peak RSS.
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
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { nativeSource } from "../src/sources/native/index.js";
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
  process.on("message", () => process.send?.(usage()));
  process.send?.({ address });
}

async function startChild(role: Role): Promise<{ process: ChildProcess; address: string }> {
  const worker = fork(new URL(import.meta.url).pathname, ["--child"], {
    execArgv: ["--import", "tsx"],
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

async function serverUsage(server: ChildProcess): Promise<Usage> {
  server.send("usage");
  const [reply] = (await once(server, "message")) as [Usage];
  return reply;
}

async function main() {
  const { values } = parseArgs({
    options: { rounds: { type: "string", default: "5" }, "per-round": { type: "string", default: "4" } },
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
    for (let i = 0; i < perRound; i++) plainBytes += await drain(plain.address);
    plainCpu += (await serverUsage(plain.process)).cpuSeconds - plainBefore.cpuSeconds;
    const mb = (perRound * 64) / 1024;
    console.log(
      `round ${round}: direct ${((perRound * 64) / direct).toFixed(0)} MiB/s, tunnel ${((perRound * 64) / tunnel).toFixed(0)} MiB/s, ratio ${(direct / tunnel).toFixed(2)}, server ${((afterRound.cpuSeconds - before.cpuSeconds) / mb).toFixed(2)} CPU-s/GiB`,
    );
  }
  const final = await serverUsage(server);
  const gib = tunnelBytes / 2 ** 30;
  console.log(
    `direct: ${(directBytes / 2 ** 20 / directSeconds).toFixed(0)} MiB/s; tunnel: ${(tunnelBytes / 2 ** 20 / tunnelSeconds).toFixed(0)} MiB/s; ratio tunnel/direct ${((directSeconds / tunnelSeconds) * (tunnelBytes / directBytes)).toFixed(2)}`,
  );
  const plainPerGib = plainCpu / (plainBytes / 2 ** 30);
  console.log(
    `server CPU: ${(tunnelCpu / gib).toFixed(2)} CPU-s per GiB relayed; a bare node:http + undici pipe proxy in the same run: ${plainPerGib.toFixed(2)} CPU-s per GiB; ratio ${(tunnelCpu / gib / plainPerGib).toFixed(2)}`,
  );
  console.log(
    `server RSS: ${baseline.rssMiB.toFixed(0)} MiB after a 1 MiB file, peak ${final.maxRssMiB.toFixed(0)} MiB after ${gib.toFixed(2)} GiB relayed in 64 MiB files`,
  );
  server.kill();
  plain.process.kill();
  await fake.close();
}

if (process.argv.includes("--child")) await child();
else await main();
