import { LRUCache } from "lru-cache";
import type { BaseLogger } from "pino";
import { mapLimited } from "../domain/concurrency.js";
import { ApiError, badRequest, CACHEABLE_POST_ERRORS } from "../domain/errors.js";
import type { Extraction } from "../domain/media.js";
import type { DownloadRequest, Settled } from "../domain/requests.js";
import { canonicalPostUrl, type PostLink, parseTikTokLink } from "../domain/tiktok-url.js";
import type { Egress } from "../net/egress.js";
import type { CacheEntry, Store } from "../stores/types.js";
import { type AttemptEvent, extractWithRotation, type RotationDeps } from "./rotation.js";
import { resolveShortLink } from "./short-links.js";
import { SingleFlight } from "./single-flight.js";
import { storeCall } from "./store-call.js";

export type { DownloadRequest, Settled };

/** Whether an answer from `source` may be handed to this request (the source it named, the ones it may use). */
const suits = (request: Pick<DownloadRequest, "source" | "allowedSources">, source: string) =>
  (request.source === "random" || request.source === source) &&
  (!request.allowedSources || request.allowedSources.includes(source));

/** What the pipeline hands back: the extraction, which source made it, and whether it came from the cache. */
export interface Answer {
  extraction: Extraction;
  source: string;
  cached: boolean;
}

/** What the rotation needs, plus the cache, the way out for short links, the log and the cache lifetimes. */
export interface PipelineDeps extends Omit<RotationDeps, "onAttempt"> {
  store: Store;
  /** Short links are resolved through TikTok's way out, with the browser-like client, as its pages are. */
  egress: Egress;
  log: BaseLogger;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  /** Told of every source attempt and cache lookup (metrics). */
  observe?: { attempt(event: AttemptEvent): void; cacheLookup(hit: boolean): void };
}

/** Media addresses are dropped from the cache this long before TikTok says they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
const SHORT_LINK_TTL_MS = 24 * 3600_000;
/** A post whose media keep answering 403 is extracted again at most this often. */
const REEXTRACT_INTERVAL_MS = 60_000;
/** How long a claim on an extraction lives unless its holder renews it (every third of that). */
const CLAIM_TTL_MS = 6_000;
/** How often an instance waiting for another's extraction looks at the shared cache. */
const SHARED_WAIT_POLL_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Requests that one extraction answers: the same post, source, options and allowed sources. */
const flightKey = (id: string, request: DownloadRequest) =>
  [
    id,
    request.source,
    request.rotateOnError,
    JSON.stringify(request.params),
    request.allowedSources?.join(",") ?? "*",
  ].join("|");

/** The cache key of an answer kept only for its own source. */
const ownKey = (id: string, source: string) => `${id}@${source}`;

type Fresh = { extraction: Extraction; source: string } | { error: ApiError };

/** TikTok's verdict on a post as the cache keeps it, and back. */
const verdictEntry = (error: ApiError, storedAt: number, ttlMs: number): CacheEntry => ({
  kind: "error",
  status: error.status,
  code: error.code,
  message: error.message,
  storedAt,
  expiresAt: storedAt + ttlMs,
});
const verdictOf = (entry: CacheEntry & { kind: "error" }) =>
  new ApiError(entry.status, entry.code, entry.message);

/** link → post id → cache → one shared extraction → rotation over the sources → cache. */
export function createPipeline(deps: PipelineDeps) {
  const inFlight = new SingleFlight<Fresh>();
  const safely = storeCall(deps.log);
  /** The sources here whose answers name their post. */
  const provers = deps.sources.filter((source) => source.provesPostId).map((source) => source.name);

  /** When each post was last extracted again for a stale tunnel link, and which source answered. */
  const reextractedAt = new LRUCache<string, { at: number; source?: string }>({ max: 10_000 });

  /** The same pasted link is parsed once (hot posts are asked for again and again). */
  const parsedLinks = new LRUCache<string, PostLink>({ max: 1_000 });

  async function postOf(url: string) {
    const parsed = parsedLinks.get(url);
    if (parsed) return parsed;
    const link = parseTikTokLink(url, deps.now());
    if (link.kind === "post") {
      parsedLinks.set(url, link);
      return link;
    }
    const known = await safely(() => deps.store.getShortLink(link.code), undefined);
    if (known) return { id: known, username: undefined };
    const target = await resolveShortLink(deps.egress.pick("tiktok").browser, link);
    if (target.kind === "list")
      throw badRequest(
        "UNSUPPORTED_LINK",
        `This short link leads to a ${target.list}: list its posts with /api/list.`,
      );
    await safely(() => deps.store.setShortLink(link.code, target.id, SHORT_LINK_TTL_MS), undefined);
    return target;
  }

  async function fromCache(id: string, request: DownloadRequest): Promise<Answer | undefined> {
    const entry = await safely(() => deps.store.getPost(id), undefined);
    if (entry?.kind === "error") throw verdictOf(entry);
    // A client that names a source gets that source's answer, never another one's from the cache.
    if (entry?.kind === "result" && suits(request, entry.source))
      return { extraction: entry.extraction, source: entry.source, cached: true };
    if (request.source === "random") return undefined;
    const own = await ownEntry(id, request.source);
    return own && suits(request, own.source) ? { ...own, cached: true } : undefined;
  }

  /** An unproven answer kept for the requests and links that name its source (see `remember`). */
  async function ownEntry(id: string, source: string) {
    const entry = await safely(() => deps.store.getPost(ownKey(id, source)), undefined);
    return entry?.kind === "result" ? { extraction: entry.extraction, source: entry.source } : undefined;
  }

  async function extractAndStore(request: DownloadRequest, post: { id: string; username?: string }) {
    const url = canonicalPostUrl(post.id, post.username);
    try {
      const { extraction, source } = await extractWithRotation(
        {
          ...deps,
          onAttempt: (event) => {
            const { error, ...fields } = event;
            if (event.reason === "bug")
              deps.log.error({ postId: post.id, ...fields, err: error }, "bug in a source");
            else deps.log.debug({ postId: post.id, ...fields }, "source attempt");
            deps.observe?.attempt(event);
          },
        },
        {
          id: post.id,
          username: post.username,
          url,
          source: request.source === "random" ? undefined : request.source,
          rotateOnError: request.rotateOnError,
          params: request.params,
          allowedSources: request.allowedSources,
          clientChose: !request.refresh,
        },
      );
      await remember(post.id, extraction, source);
      return { extraction, source };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.verdict && CACHEABLE_POST_ERRORS.has(error.code) && deps.negativeCacheTtlMs > 0) {
        const entry = verdictEntry(error, deps.now(), deps.negativeCacheTtlMs);
        await safely(() => deps.store.setPost(post.id, entry, deps.negativeCacheTtlMs), undefined);
      }
      return { error };
    }
  }

  /**
   * With a shared store, one instance extracts a post while the others wait for its answer to appear
   * in the cache; if the holder gives up without one, they extract it themselves.
   */
  async function extractOnce(key: string, request: DownloadRequest, post: { id: string; username?: string }) {
    const { claim, isClaimed, release, renew, getPost } = deps.store;
    if (!claim || !isClaimed || !release) return extractAndStore(request, post);
    const budgetMs = deps.attemptTimeoutMs * deps.maxAttempts;
    if (await safely(() => claim(key, CLAIM_TTL_MS), true)) {
      // A short claim kept alive while we work: one left by a crashed instance dies within seconds.
      const keepAlive = renew
        ? setInterval(() => void safely(() => renew(key, CLAIM_TTL_MS), undefined), CLAIM_TTL_MS / 3)
        : undefined;
      try {
        return await extractAndStore(request, post);
      } finally {
        clearInterval(keepAlive);
        await safely(() => release(key), undefined);
      }
    }
    const waitingSince = deps.now();
    while (deps.now() - waitingSince < budgetMs) {
      await sleep(SHARED_WAIT_POLL_MS);
      const entry = await safely(() => getPost(post.id, { shared: true }), undefined);
      // Only an answer stored while we waited counts (a nocache request must not get an old one).
      if (entry && entry.storedAt >= waitingSince - SHARED_WAIT_POLL_MS) {
        if (entry.kind === "error") return { error: verdictOf(entry) };
        if (entry.kind === "result" && suits(request, entry.source))
          return { extraction: entry.extraction, source: entry.source };
      }
      if (!(await safely(() => isClaimed(key), false))) break;
    }
    return extractAndStore(request, post);
  }

  /**
   * Caches an answer. A proven one (its upstream named this post) becomes everyone's entry. An unproven
   * one is kept apart, for the requests and tunnel links that name its source, whenever a source that
   * proves its answers runs here; without one, it may be everyone's entry but never replaces a proven one.
   */
  async function remember(id: string, extraction: Extraction, source: string) {
    const now = deps.now();
    const untilExpiry = extraction.expiresAt ? extraction.expiresAt - now - EXPIRY_MARGIN_MS : Infinity;
    const ttl = Math.min(deps.cacheTtlMs, untilExpiry);
    if (ttl <= 0) return;
    const link = canonicalPostUrl(id, extraction.media.author?.username);
    const entry: CacheEntry = {
      kind: "result",
      extraction,
      source,
      link,
      storedAt: now,
      expiresAt: now + ttl,
    };
    if (!extraction.verified && (provers.some((name) => name !== source) || (await holdsProven(id)))) {
      const own: CacheEntry = { ...entry, unlisted: true };
      await safely(() => deps.store.setPost(ownKey(id, source), own, ttl), undefined);
      return;
    }
    await safely(() => deps.store.setPost(id, entry, ttl), undefined);
  }

  async function holdsProven(id: string) {
    const entry = await safely(() => deps.store.getPost(id), undefined);
    return entry?.kind === "result" && entry.extraction.verified === true;
  }

  async function downloadPost(request: DownloadRequest, post: { id: string; username?: string }) {
    if (!request.nocache) {
      const cached = await fromCache(post.id, request);
      deps.observe?.cacheLookup(cached !== undefined);
      if (cached) return cached;
    }
    const key = flightKey(post.id, request);
    const fresh = await inFlight.run(key, () => extractOnce(key, request, post));
    if ("error" in fresh) throw fresh.error;
    return { ...fresh, cached: false };
  }

  return {
    async download(request: DownloadRequest): Promise<Answer> {
      return downloadPost(request, await postOf(request.url));
    },
    /**
     * Several requests, `limit` at a time, each settled in order. Requests for the same post with the
     * same options share one answer, `nocache` or not: a batch that lists a post forty times asks once.
     */
    async downloadMany(requests: readonly DownloadRequest[], limit: number): Promise<Settled<Answer>[]> {
      const answers = new Map<string, Promise<Answer>>();
      return mapLimited(requests, limit, async (request) => {
        try {
          const post = await postOf(request.url);
          const key = flightKey(post.id, request);
          let answer = answers.get(key);
          if (!answer) {
            answer = downloadPost(request, post);
            answers.set(key, answer);
          }
          return { ok: true as const, value: await answer };
        } catch (error) {
          return { ok: false as const, error };
        }
      });
    },
    cached,
    reextract,
    get inFlight() {
      return inFlight.size;
    },
  };

  /**
   * The cached extraction of a post made by `source` (a tunnel link names the source whose file it is,
   * and is never served another's), if the cache holds one: a tunnel link outlives its entry.
   */
  async function cached(
    id: string,
    source: string,
  ): Promise<{ extraction: Extraction; source: string } | undefined> {
    const entry = await safely(() => deps.store.getPost(id), undefined);
    if (entry?.kind === "result" && entry.source === source)
      return { extraction: entry.extraction, source: entry.source };
    return ownEntry(id, source);
  }

  /**
   * A fresh extraction of a post, bypassing the cache but refreshing it: for a tunnel whose media
   * address has expired upstream. The same source is asked first.
   */
  async function reextract(id: string, source: string): Promise<{ extraction: Extraction; source: string }> {
    const known = deps.sources.some((candidate) => candidate.name === source) ? source : "random";
    const request: DownloadRequest = {
      url: canonicalPostUrl(id),
      source: known,
      nocache: true,
      rotateOnError: true,
      params: {},
      refresh: true,
    };
    // One re-extraction per post at a time, whatever link asked, and at most one a minute: stale links
    // must not multiply requests to TikTok.
    const fresh = await inFlight.run(`${id}|reextract`, async () => {
      const last = reextractedAt.get(id);
      if (last !== undefined && deps.now() - last.at < REEXTRACT_INTERVAL_MS) {
        // Extracted moments ago: that answer (in the cache) is the freshest there will be for a minute,
        // whichever source gave it (the link's own may have been the one that failed).
        return (
          (await cached(id, last.source ?? source)) ?? {
            error: new ApiError(
              502,
              "UPSTREAM_FAILED",
              "The media host refuses this file; try again in a minute.",
            ),
          }
        );
      }
      const entry: { at: number; source?: string } = { at: deps.now() };
      reextractedAt.set(id, entry);
      const answer = await extractAndStore(request, { id });
      if ("source" in answer) entry.source = answer.source;
      return answer;
    });
    if ("error" in fresh) throw fresh.error;
    return fresh;
  }
}

export type Pipeline = ReturnType<typeof createPipeline>;
