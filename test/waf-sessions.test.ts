import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createPowSolver } from "../src/sources/tiktok/web/pow-solver.js";
import { createMemoryStore } from "../src/stores/memory.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { delay, download, startStack } from "./helpers.js";

/** Distinct post ids the fake serves as the video sample (each a plausible id of 2025). */
const postIds = (count: number) =>
  Array.from({ length: count }, (_, i) =>
    ((7_500_000_000_000_000_000n + BigInt(i) * 4_294_967_296n) | 1n).toString(),
  );

describe("TikTok sessions kept per way out", () => {
  it("200 distinct posts meet at most one challenge per pooled session", async () => {
    const stack = await startStack({
      fake: { waf: true },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", TIKTOK_SESSIONS: "4", RATE_LIMIT: "0" },
    });
    try {
      const ids = postIds(200);
      for (const id of ids) stack.fake.scenarios.set(id, { kind: "sample", sample: "video" });
      let next = 0;
      const statuses: number[] = [];
      // Eight clients at once, as a busy instance sees them.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < ids.length) {
            const id = ids[next++] as string;
            statuses.push(
              (await download(stack.app, { url: `https://www.tiktok.com/@x/video/${id}` })).status,
            );
          }
        }),
      );
      assert.equal(statuses.filter((status) => status === 200).length, 200);
      assert.ok(stack.fake.wafChallenges >= 1, "the first page met the WAF");
      assert.ok(stack.fake.wafChallenges <= 4, `${stack.fake.wafChallenges} challenges for 4 sessions`);
    } finally {
      await stack.close();
    }
  });

  it("a session challenged again is solved once and goes on; challenge cookies never reach the media", async () => {
    const stack = await startStack({
      fake: { waf: true, wafSessionMs: 300 },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", TIKTOK_SESSIONS: "1" },
    });
    try {
      const video = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
      assert.equal((await download(stack.app, { url: video, nocache: "1" })).status, 200);
      assert.equal((await download(stack.app, { url: video, nocache: "1" })).status, 200);
      assert.equal(stack.fake.wafChallenges, 1, "the kept session went through");
      await delay(350);
      const later = await download(stack.app, { url: video, nocache: "1" });
      assert.equal(later.status, 200);
      assert.equal(stack.fake.wafChallenges, 2, "TikTok challenged the old session again: solved once");
      const file = await stack.app.inject({ url: later.body.result.stream.video });
      assert.equal(file.statusCode, 200);
      const media = stack.fake.requests.filter((request) => request.path.startsWith("/video/tos/"));
      assert.doesNotMatch(String(media.at(-1)?.headers.cookie), /_wafchallengeid|waforiginalreid/);
    } finally {
      await stack.close();
    }
  });

  it("the operator's login goes with page requests only: not to media hosts, a kept session or the cache", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-sessions-"));
    const path = join(dir, "cookies.txt");
    await writeFile(path, ".tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\toperator-login-secret\n");
    const store = createMemoryStore({ maxEntries: 100, now: Date.now });
    const stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", TIKTOK_COOKIES: path },
      deps: { store },
    });
    try {
      const photo = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
      const { body } = await download(stack.app, { url: photo });
      const page = stack.fake.requests.filter((request) => request.path.includes(SAMPLE_IDS.photo)).at(-1);
      assert.match(String(page?.headers.cookie), /sessionid=operator-login-secret/);
      for (const link of [body.result.stream.images[0], body.result.stream.music]) {
        const file = await stack.app.inject({ url: link });
        assert.equal(file.statusCode, 200);
      }
      const media = stack.fake.requests.filter(
        (request) => request.path.includes("~tplv-") || request.path.startsWith("/video/tos/"),
      );
      assert.ok(media.length >= 2);
      for (const request of media)
        assert.doesNotMatch(String(request.headers.cookie), /operator-login-secret/);
      const image = media.find((request) => request.path.includes("~tplv-"));
      assert.equal(image?.headers.cookie, undefined, "a tiktokcdn-us.com image gets no .tiktok.com cookie");
      const audio = media.find((request) => request.path.startsWith("/video/tos/"));
      assert.match(String(audio?.headers.cookie), /tt_chain_token=/, "tiktok.com media keep the session");
      const cached = await store.getPost(`tiktok:${SAMPLE_IDS.photo}`);
      assert.ok(cached);
      assert.doesNotMatch(JSON.stringify(cached), /operator-login-secret/);
    } finally {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the proof of work off the event loop (the timing test is in test/slow/)", () => {
  it("is cancelled with its request, and the threads are free again at once", async () => {
    const solver = createPowSolver();
    try {
      const seed = randomBytes(16);
      await solver.solve(seed, createHash("sha256").update(seed).update("1").digest(), 10); // threads up
      const never = createHash("sha256").update("no digits make this").digest();
      const abort = new AbortController();
      const search = solver.solve(seed, never, 1_000_000, abort.signal);
      await delay(30);
      const aborted = performance.now();
      abort.abort();
      await assert.rejects(search, { name: "AbortError" });
      assert.ok(performance.now() - aborted < 100, "the request is not kept waiting for the threads");
      // The cancelled search stopped: the next one is answered, not queued behind a million tries.
      const next = createHash("sha256").update(seed).update("42").digest();
      assert.equal(await solver.solve(seed, next, 1_000_000), 42);
    } finally {
      await solver.close();
    }
  });
});
