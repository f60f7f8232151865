/**
 * Polls of a cached feed against GET /api/list of the same cached page, measured alternately in the same
 * run (machines are noisy: only the ratios mean something): a reader's first poll (200 with the feed),
 * its conditional poll of an unchanged feed (304, no body), and the list page.
 *
 *   npm run bench:feed [-- --duration 3 --rounds 3 --connections 20]
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { FakeTikTok } from "../test/fakes/tiktok.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "20" },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);

const fake = await new FakeTikTok({ waf: false }).start();
const app = await createApp(
  loadConfig({
    UPSTREAM_TIKTOK: fake.url,
    RATE_LIMIT: "1000000",
    STREAM_SECRET: "bench-feed-secret-0123456789",
  }),
  { logger: false, sources: [nativeSource] },
);
const base = await app.listen({ port: 0, host: "127.0.0.1" });
const profile = encodeURIComponent("https://www.tiktok.com/@grid.maker");
const list = `${base}/api/list?url=${profile}`;
const feed = `${base}/api/feed?url=${profile}`;
// Both read the same cached page: warm it once, and learn the feed's ETag.
await (await fetch(list)).text();
const first = await fetch(feed);
const etag = first.headers.get("etag") ?? "";
await first.text();

async function rate(url: string, headers: Record<string, string> = {}, expect = 200) {
  const result = await autocannon({ url, duration, connections, headers });
  const stats = result.statusCodeStats as Record<string, { count?: number }> | undefined;
  const wrong =
    expect === 200 ? result.non2xx : result.requests.total - (stats?.[String(expect)]?.count ?? 0);
  if (wrong > 0 || result.errors > 0) throw new Error(`${url}: ${wrong} unexpected answers`);
  return result.requests.average;
}

const upstreamBefore = fake.requests.length;
console.log(
  `grid.maker, first page cached; ${Number(values.rounds)} rounds × ${duration} s, ${connections} connections`,
);
for (let round = 1; round <= Number(values.rounds); round++) {
  const listRate = await rate(list);
  const feedRate = await rate(feed);
  const notModified = await rate(feed, { "if-none-match": etag }, 304);
  console.log(
    `round ${round}: /api/list ${listRate.toFixed(0)} req/s; feed ${feedRate.toFixed(0)} req/s (${(feedRate / listRate).toFixed(2)}×); ` +
      `conditional poll (304) ${notModified.toFixed(0)} req/s (${(notModified / listRate).toFixed(2)}×)`,
  );
}
console.log(`upstream requests during the polls: ${fake.requests.length - upstreamBefore}`);
await app.close();
await fake.close();
