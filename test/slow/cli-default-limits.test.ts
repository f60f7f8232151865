import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SAMPLE_PROFILES } from "../fakes/profiles.js";
import { type Stack, startStack } from "../helpers.js";
import { runCli } from "../support/cli.js";

/**
 * The CLI through `--server` against an instance with its default limits (60 downloads a minute, four
 * running files per client): the demo's 130-post profile takes three minutes of budget, and every post
 * of it is saved, the CLI waiting where the server says to.
 */
describe("the CLI within an instance's default limits", () => {
  it("lists and saves the whole 130-post profile", { timeout: 330_000 }, async () => {
    const stack: Stack = await startStack({
      fake: { waf: false },
      env: { RATE_LIMIT: "60", STREAM_SECRET: "slow-cli-secret-0123456789abcdef" },
    });
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-cli-default-limits-"));
    try {
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const server = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
      const out = join(dir, "grid");
      const { code, stderr } = await runCli(
        ["https://www.tiktok.com/@grid.maker", "--server", server, "-o", out],
        {},
        dir,
      );
      assert.equal(code, 0, stderr.slice(-2_000));
      assert.match(stderr, /waiting \d+ s: the server's limit/);
      const posts = SAMPLE_PROFILES.get("grid.maker")?.posts ?? [];
      assert.match(stderr, new RegExp(`${posts.length} of ${posts.length} posts done`));
      const saved = await readdir(out);
      for (const post of posts)
        assert.ok(
          saved.some((name) => name.includes(post.id)),
          `post ${post.id} was saved`,
        );
    } finally {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
