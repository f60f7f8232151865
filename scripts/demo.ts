/**
 * Try every feature offline: the service on 127.0.0.1 against the bundled fake TikTok and fake Douyin
 * (the ones the tests use), with links to try printed. Nothing leaves this machine: TikTok's and Douyin's
 * own sources are the only ones that run (the providers' real sites are never asked), and their files are
 * real media (a short MP4 with sound, JPEGs, an MP3).
 *
 *   npm run demo            (PORT=3000 by default; PORT=0 takes a free one)
 */
import { randomBytes } from "node:crypto";
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { DOUYIN_POSTS, FakeDouyin } from "../test/fakes/douyin.js";
import { SAMPLE_COLLECTIONS } from "../test/fakes/profiles.js";
import { FakeTikTok, SAMPLE_IDS, SCENARIO_IDS } from "../test/fakes/tiktok.js";

const fake = await new FakeTikTok({ waf: true, realMedia: true }).start();
const douyin = await new FakeDouyin({ realMedia: true }).start();
const app = await createApp(
  loadConfig({
    ...process.env,
    UPSTREAM_TIKTOK: fake.url,
    UPSTREAM_DOUYIN: douyin.url,
    // Only TikTok's and Douyin's own sources, against the fakes: no request can reach a real site.
    SOURCES: "native,douyin",
    ALLOW_PRIVATE_UPSTREAMS: "1",
    STREAM_SECRET: process.env.STREAM_SECRET ?? randomBytes(32).toString("hex"),
    HOST: "127.0.0.1",
    PORT: process.env.PORT ?? "3000",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  }),
);
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3000) });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 3000}`;
const [collection, playlist] = [...SAMPLE_COLLECTIONS.values()];
const tiktok = "https://www.tiktok.com";

const tries: [string, string][] = [
  ["a video", `${tiktok}/@river.cooks/video/${SAMPLE_IDS.video}`],
  ["a photo post", `${tiktok}/@trail.notes/photo/${SAMPLE_IDS.photo}`],
  ["a short link to the video", "https://vm.tiktok.com/ZMriver01/"],
  ["a share message", "look at this https://vm.tiktok.com/ZMriver01/ lol"],
  ["a profile (130 posts)", `${tiktok}/@grid.maker`],
  ["a short link to that profile", "https://vm.tiktok.com/ZMprofile/"],
  ["a collection", `${tiktok}/@grid.maker/collection/Best-bits-${collection?.id}`],
  ["a playlist", `${tiktok}/@grid.maker/playlist/Lake-series-${playlist?.id}`],
  ["a private account", `${tiktok}/@locked.down`],
  ["a deleted post (404)", `${tiktok}/@river.cooks/video/${SAMPLE_IDS.deleted}`],
  ["a private post (403)", `${tiktok}/@river.cooks/video/${SAMPLE_IDS.private}`],
  ["an age-restricted post (403)", `${tiktok}/@river.cooks/video/${SAMPLE_IDS.ageRestricted}`],
  ["a region-blocked post", `${tiktok}/@river.cooks/video/${SAMPLE_IDS.regionBlocked}`],
  ["a captcha (every source fails: 502)", `${tiktok}/@river.cooks/video/${SCENARIO_IDS.captcha}`],
  ["a Douyin video", `https://www.douyin.com/video/${DOUYIN_POSTS.video.id}`],
  ["a Douyin photo post", `https://www.douyin.com/note/${DOUYIN_POSTS.photo.id}`],
  ["Douyin share text", "7.87 Pjm:/ 复制打开抖音 https://v.douyin.com/iRNBho6u/"],
  ["not TikTok or Douyin (400)", "https://example.com/@x/video/1"],
];

const api = (link: string) =>
  /@[\w.]+(\/(collection|playlist)\/[^/]+)?$|ZMprofile/.test(link) ? "list" : "download";
console.log(`tiktok-dl demo: the service at ${base}/ against an offline fake TikTok (nothing leaves this machine).
Open ${base}/ and paste any of these, or ask the API:
`);
for (const [what, link] of tries)
  console.log(
    `  ${what.padEnd(38)} ${link}\n  ${"".padEnd(38)} curl '${base}/api/${api(link)}?url=${encodeURIComponent(link)}'`,
  );
console.log(`
The command line against it:  npx tiktok-dl --server ${base} https://vm.tiktok.com/ZMprofile/ --limit 3 -o demo-downloads
The command line in-process, on the same fake TikTok (and no other source):
  UPSTREAM_TIKTOK=${fake.url} ALLOW_PRIVATE_UPSTREAMS=1 SOURCES=native npx tiktok-dl https://vm.tiktok.com/ZMriver01/ -o demo-downloads
The library on it:
  createClient({ upstreams: { tiktok: "${fake.url}" }, allowPrivateUpstreams: true, sources: ["native"] })
Stop with Ctrl+C.`);

const stop = async () => {
  await app.close();
  await fake.close();
  await douyin.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
