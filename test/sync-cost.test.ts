import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { FakeTikTok } from "./fakes/tiktok.js";
import { runCli } from "./support/cli.js";

describe("a sync of a creator with nothing new", () => {
  it("costs one list request when the newest post is archived (--break-on-existing)", async () => {
    const fake = await new FakeTikTok({ waf: false }).start();
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-sync-"));
    try {
      const creator = makeProfile("sync.creator", makePosts(100, { salt: 15_000 }));
      const other = makeProfile("sync.other", makePosts(30, { salt: 15_500 }));
      fake.profiles.set(creator.username, creator);
      fake.profiles.set(other.username, other);
      const archive = join(dir, "archive.txt");
      await writeFile(archive, `tiktok ${creator.posts[0]?.id}\ntiktok ${other.posts[0]?.id}\n`);
      const env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1", SOURCES: "native" };
      const run = await runCli(
        ["https://www.tiktok.com/@sync.creator", "--archive", archive, "--break-on-existing", "-o", dir],
        env,
        dir,
      );
      assert.equal(run.code, 0, run.stderr);
      const pages = fake.listedPages.filter((page) => page.username === creator.username);
      assert.equal(pages.length, 1, `list requests: ${JSON.stringify(pages)}`);
      assert.ok(Number(pages[0]?.count) <= 15, "no more than one upstream page asked for");

      const { createClient } = await import("../src/library/index.js");
      const client = createClient({ upstreams: { tiktok: fake.url }, allowPrivateUpstreams: true });
      try {
        const before = fake.listedPages.length;
        const saved = new Set(creator.posts.slice(3).map((post) => post.id));
        const listed = [];
        for await (const item of client.list("https://www.tiktok.com/@sync.creator", { archive: saved }))
          listed.push(item.id);
        assert.deepEqual(
          listed,
          creator.posts.slice(0, 3).map((post) => post.id),
          "up to the first saved post",
        );
        assert.equal(
          fake.listedPages.length - before,
          1,
          "the library's listing with an archive: one request",
        );
        const all = [];
        for await (const item of client.list("https://www.tiktok.com/@sync.other")) all.push(item.id);
        assert.equal(all.length, 30, "without an archive, the whole listing");
      } finally {
        await client.close();
      }
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
