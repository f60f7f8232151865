/**
 * A 1,000-post profile listed through the fake TikTok (WAF on, a stale device id, gaps of more than a
 * week): pages of 100, the upstream requests each kind of page cost, and the time, cold then cached.
 *
 *   npm run bench:list [-- --posts 1000 --limit 100]
 */
import { createApp } from "../src/http/app.js";
import { loadConfig } from "../src/service/config.js";
import { makePosts, makeProfile } from "../test/fakes/profiles.js";
import { FakeTikTok } from "../test/fakes/tiktok.js";

const args = new Map(
  process.argv.slice(2).flatMap((arg, i, all) => (arg.startsWith("--") ? [[arg.slice(2), all[i + 1]]] : [])),
);
const POSTS = Number(args.get("posts") ?? 1_000);
const LIMIT = Number(args.get("limit") ?? 100);

const fake = await new FakeTikTok({ waf: true }).start();
// A post a day, with a 10-day gap every 150 posts.
const posts = Array.from({ length: Math.ceil(POSTS / 150) }, (_, block) =>
  makePosts(Math.min(150, POSTS - block * 150), {
    newest: Math.floor(Date.now() / 1000) - 3600 - block * 160 * 86_400,
    salt: block * 1000,
  }),
).flat();
const profile = makeProfile("bench.creator", posts, { staleDevices: 1 });
fake.profiles.set(profile.username, profile);
const app = await createApp(
  loadConfig({
    UPSTREAM_TIKTOK: fake.url,
    ALLOW_PRIVATE_UPSTREAMS: "1",
    RATE_LIMIT: "0",
    LOG_LEVEL: "silent",
  }),
  { logger: false },
);

async function listAll() {
  const started = performance.now();
  const before = fake.requests.length;
  let cursor: string | undefined;
  const ids: string[] = [];
  let pages = 0;
  do {
    const response = await app.inject({
      url: "/api/list",
      query: {
        url: `https://www.tiktok.com/@${profile.username}`,
        limit: String(LIMIT),
        ...(cursor ? { cursor } : {}),
      },
    });
    if (response.statusCode !== 200) throw new Error(response.body);
    const { result } = response.json() as { result: { items: { id: string }[]; cursor?: string } };
    ids.push(...result.items.map((item) => item.id));
    cursor = result.cursor;
    pages++;
  } while (cursor);
  const requests = fake.requests.slice(before);
  return {
    ms: performance.now() - started,
    pages,
    ids,
    lists: requests.filter((request) => request.path.startsWith("/api/creator/item_list/")).length,
    pagesAndOther: requests.filter((request) => !request.path.startsWith("/api/creator/item_list/")).length,
  };
}

const cold = await listAll();
const complete = cold.ids.length === POSTS && new Set(cold.ids).size === POSTS;
// The fewest item_list requests the listing can cost: each page's posts 15 at a time (TikTok's most), one
// more per gap that TikTok's week-long look-back cannot see across, one for the stale device id.
const gaps = Math.ceil(POSTS / 150) - 1;
const least = Math.floor(POSTS / LIMIT) * Math.ceil(LIMIT / 15) + Math.ceil((POSTS % LIMIT) / 15) + gaps + 1;
console.log(
  `${POSTS}-post profile, pages of ${LIMIT}: ${cold.pages} pages in ${cold.ms.toFixed(0)} ms; ` +
    `${cold.lists} item_list requests (${(cold.lists / cold.pages).toFixed(1)} a page: gaps and the stale device id) ` +
    `+ ${cold.pagesAndOther} other requests (the profile page, the WAF's retry); ${fake.wafChallenges} WAF challenge(s); ` +
    `complete and in order: ${complete && cold.ids.every((id, i) => id === posts[i]?.id)}`,
);
console.log(
  `item_list requests against the least the profile can cost (${least}): ${(cold.lists / least).toFixed(2)}×`,
);
const warm = await listAll();
console.log(
  `again from the cache: ${warm.pages} pages in ${warm.ms.toFixed(0)} ms, ${warm.lists + warm.pagesAndOther} upstream requests`,
);
await syncWithNothingNew();
await app.close();
await fake.close();

/**
 * A sync of a 100-post creator whose newest post is archived, through the CLI (`--archive
 * --break-on-existing`) against the same fake: the list requests it costs (the aim is 1).
 */
async function syncWithNothingNew() {
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { runCli } = await import("../test/support/cli.js");
  const creator = makeProfile("bench.synced", makePosts(100, { salt: 77_000 }));
  fake.profiles.set(creator.username, creator);
  const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-bench-sync-"));
  try {
    await writeFile(join(dir, "archive.txt"), `tiktok ${creator.posts[0]?.id}\n`);
    const before = fake.listedPages.length;
    const run = await runCli(
      [
        `https://www.tiktok.com/@${creator.username}`,
        "--archive",
        join(dir, "archive.txt"),
        "--break-on-existing",
        "-o",
        dir,
      ],
      { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1", SOURCES: "native" },
      dir,
    );
    const lists = fake.listedPages.slice(before).filter((page) => page.username === creator.username).length;
    console.log(
      `a sync of a 100-post creator whose newest post is archived (CLI --break-on-existing, exit ${run.code}): ${lists} item_list request(s)`,
    );
    const { createClient } = await import("../src/library/index.js");
    const client = createClient({ upstreams: { tiktok: fake.url }, allowPrivateUpstreams: true });
    try {
      const start = fake.listedPages.length;
      const archive = new Set(creator.posts.map((post) => post.id));
      let listed = 0;
      for await (const _ of client.list(`https://www.tiktok.com/@${creator.username}`, { archive })) listed++;
      const asked = fake.listedPages.slice(start).length;
      console.log(
        `the same through the library (list() with an archive): ${listed} new post(s), ${asked} item_list request(s)`,
      );
    } finally {
      await client.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
