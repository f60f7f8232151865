import type { FastifyBaseLogger } from "fastify";
import type { HttpClient } from "../net/http-client.js";
import type { Source } from "../sources/types.js";
import type { CacheEntry, Store } from "../stores/types.js";
import { ApiError, CACHEABLE_POST_ERRORS } from "./errors.js";
import type { SourceHealth } from "./health.js";
import { type Extraction, toApiResult } from "./media.js";
import { extractWithRotation } from "./rotation.js";
import { resolveShortLink } from "./short-links.js";
import { SingleFlight } from "./single-flight.js";
import { canonicalPostUrl, parseTikTokLink } from "./tiktok-url.js";

export interface DownloadRequest {
  url: string;
  /** A source name or "random". */
  type: string;
  nocache: boolean;
  rotateOnError: boolean;
  params: Record<string, unknown>;
}

export type ApiResult = ReturnType<typeof toApiResult>;

export interface PipelineDeps {
  sources: readonly Source[];
  store: Store;
  http: HttpClient;
  health: SourceHealth;
  now: () => number;
  random: () => number;
  log: FastifyBaseLogger;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  maxAttempts: number;
  attemptTimeoutMs: number;
}

/** Media addresses are dropped from the cache this long before TikTok says they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
const SHORT_LINK_TTL_MS = 24 * 3600_000;

type Fresh = { extraction: Extraction; provider: string } | { error: ApiError };

/** link → post id → cache → one shared extraction → rotation over the sources → cache. */
export function createPipeline(deps: PipelineDeps) {
  const inFlight = new SingleFlight<Fresh>();

  async function postOf(url: string) {
    const link = parseTikTokLink(url, deps.now());
    if (link.kind === "post") return link;
    const known = await safely(() => deps.store.getShortLink(link.code), undefined);
    if (known) return { id: known, username: undefined };
    const post = await resolveShortLink(deps.http, link);
    await safely(() => deps.store.setShortLink(link.code, post.id, SHORT_LINK_TTL_MS), undefined);
    return post;
  }

  async function fromCache(id: string, type: string): Promise<ApiResult | undefined> {
    const entry = await safely(() => deps.store.getPost(id), undefined);
    if (!entry) return undefined;
    if (entry.kind === "error") throw new ApiError(entry.status, entry.code, entry.message);
    // A client that names a source gets that source's answer, never another one's from the cache.
    if (type !== "random" && entry.provider !== type) return undefined;
    return hitResult(entry);
  }

  /** Entries of the in-memory store are the same object on every hit: their answer is built once. */
  const hitResults = new WeakMap<CacheEntry, ApiResult>();
  function hitResult(entry: CacheEntry & { kind: "result" }): ApiResult {
    let result = hitResults.get(entry);
    if (!result) {
      result = toApiResult(entry.extraction.media, { provider: entry.provider, cached: true });
      hitResults.set(entry, result);
    }
    return result;
  }

  async function extractAndStore(request: DownloadRequest, post: { id: string; username?: string }) {
    const url = canonicalPostUrl(post.id, post.username);
    try {
      const { extraction, source } = await extractWithRotation(
        { ...deps, onAttempt: (event) => deps.log.debug({ postId: post.id, ...event }, "source attempt") },
        {
          id: post.id,
          username: post.username,
          url,
          requested: request.type === "random" ? undefined : request.type,
          rotateOnError: request.rotateOnError,
          params: request.params,
        },
      );
      await remember(post.id, extraction, source);
      return { extraction, provider: source };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (CACHEABLE_POST_ERRORS.has(error.code) && deps.negativeCacheTtlMs > 0) {
        const entry: CacheEntry = {
          kind: "error",
          status: error.status,
          code: error.code,
          message: error.message,
          storedAt: deps.now(),
        };
        await safely(() => deps.store.setPost(post.id, entry, deps.negativeCacheTtlMs), undefined);
      }
      return { error };
    }
  }

  async function remember(id: string, extraction: Extraction, provider: string) {
    const now = deps.now();
    const untilExpiry = extraction.expiresAt ? extraction.expiresAt - now - EXPIRY_MARGIN_MS : Infinity;
    const ttl = Math.min(deps.cacheTtlMs, untilExpiry);
    if (ttl <= 0) return;
    const link = canonicalPostUrl(id, extraction.media.author?.username);
    const entry: CacheEntry = { kind: "result", extraction, provider, link, storedAt: now };
    await safely(() => deps.store.setPost(id, entry, ttl), undefined);
  }

  /** The store is a cache: when it fails (Redis down) the request goes on without it. */
  async function safely<T>(work: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await work();
    } catch (error) {
      deps.log.warn({ err: error }, "cache store unavailable");
      return fallback;
    }
  }

  return {
    async download(request: DownloadRequest): Promise<ApiResult> {
      const post = await postOf(request.url);
      if (!request.nocache) {
        const cached = await fromCache(post.id, request.type);
        if (cached) return cached;
      }
      const key = [post.id, request.type, request.rotateOnError, JSON.stringify(request.params)].join("|");
      const fresh = await inFlight.run(key, () => extractAndStore(request, post)).promise;
      if ("error" in fresh) throw fresh.error;
      return toApiResult(fresh.extraction.media, { provider: fresh.provider, cached: false });
    },
    /** The cached extraction of a post, with its session (the tunnel reads it). */
    async cachedExtraction(id: string) {
      const entry = await safely(() => deps.store.getPost(id), undefined);
      return entry?.kind === "result" ? entry : undefined;
    },
    get inFlight() {
      return inFlight.size;
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
