import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { postErrors, SourceFailure } from "../src/domain/errors.js";
import type { Extraction } from "../src/domain/media.js";
import { PLATFORMS } from "../src/domain/platforms.js";
import type { DownloadRequest } from "../src/domain/requests.js";
import { SourceHealth } from "../src/extraction/health.js";
import { createPipeline } from "../src/extraction/pipeline.js";
import type { Egress } from "../src/net/egress.js";
import type { ExtractInput, Source } from "../src/sources/types.js";
import type { CacheEntry, Store } from "../src/stores/types.js";

/** The pipeline alone: a store and sources made here, no app, no network. */

const POST = "7300000000000000001";
const TIKTOK_POST = { platform: "tiktok", id: POST };
const LINK = `https://www.tiktok.com/@someone/video/${POST}`;

type Clock = { now: number };
const NOW = Date.parse("2026-11-30T00:00:00Z");

/**
 * A store in a Map whose entries live as long as they were given (on the test's clock), with the claims
 * a shared store has when `claims` is set.
 */
function fakeStore(clock: Clock, claims = false) {
  const posts = new Map<string, CacheEntry>();
  const until = new Map<string, number>();
  const held = new Set<string>();
  const store: Store & { posts: Map<string, CacheEntry> } = {
    posts,
    getPost: async (id) => ((until.get(id) ?? 0) > clock.now ? posts.get(id) : undefined),
    setPost: async (id, entry, ttlMs) => {
      posts.set(id, entry);
      until.set(id, clock.now + ttlMs);
    },
    getShortLink: async () => undefined,
    setShortLink: async () => {},
    storedLinks: async () => [],
    ping: async () => true,
    close: async () => {},
    ...(claims
      ? {
          claim: async (key: string) => {
            if (held.has(key)) return false;
            held.add(key);
            return true;
          },
          renew: async () => {},
          isClaimed: async (key: string) => held.has(key),
          release: async (key: string) => {
            held.delete(key);
          },
        }
      : {}),
  };
  return store;
}

const media = (id: string, host: string) => ({
  id,
  type: "video" as const,
  video: { noWatermark: `https://${host}/video/${id}.mp4` },
});

/** A source that answers for the post asked (or as `answer` says), counting its calls. */
function fakeSource(
  name: string,
  options: {
    proves?: boolean;
    answer?: (input: ExtractInput) => Promise<Extraction>;
    delayMs?: number;
  } = {},
) {
  const source: Source & { calls: number } = {
    name,
    origin: `https://${name}.example`,
    platform: "tiktok",
    upstream: name,
    params: [],
    provesPostId: options.proves,
    calls: 0,
    async extract(input) {
      source.calls++;
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.answer) return options.answer(input);
      return { media: media(input.id, `${name}.example`), verified: options.proves };
    },
  };
  return source;
}

function pipelineOf(
  sources: Source[],
  options: { clock?: Clock; store?: Store; health?: SourceHealth } = {},
) {
  const clock = options.clock ?? { now: NOW };
  const now = () => clock.now;
  return createPipeline({
    platforms: PLATFORMS,
    sources,
    store: options.store ?? fakeStore(clock),
    egress: {} as Egress,
    health: options.health ?? new SourceHealth(now),
    now,
    random: () => 0.5,
    log: pino({ level: "silent" }),
    cacheTtlMs: 3_600_000,
    negativeCacheTtlMs: 60_000,
    maxAttempts: 3,
    attemptTimeoutMs: 2_000,
  });
}

const ask = (source = "random", url = LINK): DownloadRequest => ({
  url,
  source,
  nocache: false,
  rotateOnError: true,
  params: {},
});

describe("the extraction pipeline, with a fake store and fake sources", () => {
  it("answers the second request from the cache, whatever link form names the post", async () => {
    const native = fakeSource("native", { proves: true });
    const pipeline = pipelineOf([native]);
    const first = await pipeline.download(ask());
    const second = await pipeline.download(ask("random", `https://m.tiktok.com/v/${POST}.html?u=1`));
    assert.equal(first.cached, false);
    assert.equal(second.cached, true);
    assert.equal(native.calls, 1);
  });

  it("never hands a client that names a source another source's cached answer", async () => {
    const native = fakeSource("native", { proves: true });
    const tikwm = fakeSource("tikwm", { proves: true });
    const pipeline = pipelineOf([native, tikwm]);
    const first = await pipeline.download(ask("native"));
    const named = await pipeline.download(ask("tikwm"));
    assert.equal(first.source, "native");
    assert.equal(named.source, "tikwm");
    assert.equal(named.cached, false);
    assert.equal(tikwm.calls, 1);
  });

  it("keeps an answer that does not name its post apart, for requests that name its source", async () => {
    const native = fakeSource("native", {
      proves: true,
      answer: async () => Promise.reject(new SourceFailure("blocked", "403")),
    });
    const snaptik = fakeSource("snaptik");
    const store = fakeStore({ now: NOW });
    const pipeline = pipelineOf([native, snaptik], { store });
    const answer = await pipeline.download(ask("snaptik"));
    assert.equal(answer.source, "snaptik");
    assert.equal(store.posts.has(`tiktok:${POST}`), false, "not everyone's entry");
    assert.equal(store.posts.get(`tiktok:${POST}@snaptik`)?.kind, "result");
    assert.equal((await pipeline.download(ask("snaptik"))).cached, true);
    assert.deepEqual(await pipeline.cached(TIKTOK_POST, "native"), undefined);
  });

  it("remembers TikTok's verdict briefly, and asks again once it has expired", async () => {
    const clock = { now: NOW };
    const native = fakeSource("native", {
      proves: true,
      answer: async () => Promise.reject(postErrors.notFound()),
    });
    const pipeline = pipelineOf([native], { clock });
    await assert.rejects(pipeline.download(ask()), { code: "NOT_FOUND" });
    clock.now += 59_000;
    await assert.rejects(pipeline.download(ask()), { code: "NOT_FOUND" });
    assert.equal(native.calls, 1, "within the verdict's minute, the answer came from the cache");
    clock.now += 2_000;
    await assert.rejects(pipeline.download(ask()), { code: "NOT_FOUND" });
    assert.equal(native.calls, 2, "past it, TikTok was asked again");
  });

  it("rotates past a failing source and counts the failure by post in the health book", async () => {
    const failing = fakeSource("tikwm", {
      answer: async () => Promise.reject(new SourceFailure("network", "refused")),
    });
    const native = fakeSource("native", { proves: true });
    const health = new SourceHealth(() => NOW);
    const pipeline = pipelineOf([failing, native], { health });
    const answer = await pipeline.download(ask("tikwm"));
    assert.equal(answer.source, "native");
    assert.equal(failing.calls, 1);
    // The client chose tikwm: its failure is in the totals, not in the window its circuit reads.
    assert.equal(health.snapshot("tikwm").failures, 1);
    assert.equal(health.snapshot("tikwm").consecutiveFailures, 0);
    assert.equal(health.snapshot("native").successes, 1);
  });

  it("shares one extraction among requests at once, in this process", async () => {
    const native = fakeSource("native", { proves: true, delayMs: 30 });
    const pipeline = pipelineOf([native]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => pipeline.download(ask())));
    assert.equal(native.calls, 1);
    assert.ok(answers.every((answer) => answer.extraction.media.id === POST));
  });

  it("shares one extraction across two instances through the store's claims (SharedFlight)", async () => {
    const clock = { now: NOW };
    const store = fakeStore(clock, true);
    const first = fakeSource("native", { proves: true, delayMs: 150 });
    const second = fakeSource("native", { proves: true });
    const [a, b] = await Promise.all([
      pipelineOf([first], { clock, store }).download(ask()),
      new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
        pipelineOf([second], { clock, store }).download(ask()),
      ),
    ]);
    assert.equal(first.calls, 1);
    assert.equal(second.calls, 0, "the second instance waited for the first one's answer");
    assert.equal(a.extraction.media.id, POST);
    assert.equal(b.extraction.media.id, POST);
  });

  it("extracts a post again for a stale link at most once a minute, then serves that answer", async () => {
    const clock = { now: NOW };
    const native = fakeSource("native", { proves: true });
    const pipeline = pipelineOf([native], { clock });
    await pipeline.reextract(TIKTOK_POST, "native");
    await pipeline.reextract(TIKTOK_POST, "native");
    assert.equal(native.calls, 1);
    clock.now += 61_000;
    await pipeline.reextract(TIKTOK_POST, "native");
    assert.equal(native.calls, 2);
  });
});

describe("the health module's order of sources", () => {
  const named = (...names: string[]) => names.map((name) => ({ name }));

  it("puts the client's choice first, and leaves a source with an open circuit out", async () => {
    const health = new SourceHealth(() => 0, { failureThreshold: 2 });
    for (const post of ["1", "2"]) health.record("b", { ok: false, ms: 10, reason: "network", post });
    const order = await health.order(named("a", "b", "c"), "c", () => 0.5);
    assert.equal(order[0]?.name, "c");
    assert.deepEqual(order.map((source) => source.name).sort(), ["a", "c"]);
  });

  it("asks the source that failed longest ago when every circuit is open", async () => {
    let now = 0;
    const health = new SourceHealth(() => now, { failureThreshold: 1, coolDownMs: 60_000 });
    health.record("a", { ok: false, ms: 10, reason: "network", post: "1" });
    now = 10;
    health.record("b", { ok: false, ms: 10, reason: "network", post: "1" });
    assert.deepEqual(
      (await health.order(named("a", "b"), undefined, () => 0.5)).map((source) => source.name),
      ["a"],
    );
  });

  it("ranks a listing's sources without chance: preferred first, then the healthier", async () => {
    const health = new SourceHealth(() => 0);
    health.record("slow", { ok: true, ms: 5_000 });
    health.record("fast", { ok: true, ms: 50 });
    const ranked = await health.rank([{ name: "slow" }, { name: "fast" }, { name: "own", preferred: true }]);
    assert.deepEqual(
      ranked.map((source) => source.name),
      ["own", "fast", "slow"],
    );
  });
});
