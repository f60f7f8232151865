import type { BaseLogger } from "pino";
import { ApiError, CACHEABLE_POST_ERRORS } from "../domain/errors.js";
import type { Extraction } from "../domain/media.js";
import { type PostRef, postKey } from "../domain/platforms.js";
import type { DownloadRequest } from "../domain/requests.js";
import type { CacheEntry, Store } from "../stores/types.js";
import { storeCall } from "./store-call.js";

/** Media addresses are dropped from the cache this long before TikTok says they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** An extraction and the source that made it. */
export interface Sourced {
  extraction: Extraction;
  source: string;
}

/** Whether an answer from `source` may be handed to this request (the source it named, the ones it may use). */
export const suits = (request: Pick<DownloadRequest, "source" | "allowedSources">, source: string) =>
  (request.source === "random" || request.source === source) &&
  (!request.allowedSources || request.allowedSources.includes(source));

/** The cache key of an answer kept only for its own source. */
const ownKey = (post: PostRef, source: string) => `${postKey(post)}@${source}`;
/** The cache key of an answer the operator's login was used for: read only for a tunnel link it gave. */
const loginKey = (post: PostRef, source: string) => `${postKey(post)}@${source}|operator-login`;

export interface PostCacheDeps {
  store: Store;
  now: () => number;
  log: BaseLogger;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  /** The sources here whose answers name their post. */
  provers: readonly string[];
  /** The post's own address, which the stored-links index shows. */
  linkOf(post: PostRef, username?: string): string;
}

/**
 * What the cache keeps of posts and who may read it: everyone's entry (a proven answer, or TikTok's
 * verdict on the post), and unproven answers kept apart for the requests and links that name their source.
 */
export function createPostCache(deps: PostCacheDeps) {
  const safely = storeCall(deps.log);

  /** The answer kept under a key, if it is one. */
  async function resultAt(key: string): Promise<Sourced | undefined> {
    const entry = await safely(() => deps.store.getPost(key), undefined);
    return entry?.kind === "result" ? { extraction: entry.extraction, source: entry.source } : undefined;
  }
  /** An unproven answer kept for the requests and tunnel links that name its source (see `remember`). */
  const ownEntry = (post: PostRef, source: string) => resultAt(ownKey(post, source));

  const holdsProven = async (post: PostRef) => (await resultAt(postKey(post)))?.extraction.verified === true;

  return {
    /** The answer this request may have from the cache; TikTok's cached verdict is thrown. */
    async lookup(post: PostRef, request: DownloadRequest): Promise<(Sourced & { cached: true }) | undefined> {
      const entry = await safely(() => deps.store.getPost(postKey(post)), undefined);
      if (entry?.kind === "error") throw verdictOf(entry);
      // A client that names a source gets that source's answer, never another one's from the cache.
      if (entry?.kind === "result" && suits(request, entry.source))
        return { extraction: entry.extraction, source: entry.source, cached: true };
      if (request.source === "random") return undefined;
      const own = await ownEntry(post, request.source);
      return own && suits(request, own.source) ? { ...own, cached: true } : undefined;
    },

    /** What another instance stored for this request since `since` (read from the shared store). */
    async sharedAnswer(post: PostRef, request: DownloadRequest, since: number) {
      const entry = await deps.store.getPost(postKey(post), { shared: true });
      if (!entry || entry.storedAt < since) return undefined;
      if (entry.kind === "error") return { error: verdictOf(entry) };
      if (entry.kind === "result" && suits(request, entry.source))
        return { extraction: entry.extraction, source: entry.source };
      return undefined;
    },

    /**
     * The post's cached extraction by `source` (never another's): a tunnel link outlives its entry. A link
     * given to a client allowed to read the operator's login (`viaLogin`) reads what that login was used for.
     */
    async bySource(post: PostRef, source: string, viaLogin = false): Promise<Sourced | undefined> {
      const viaLoginEntry = viaLogin ? await resultAt(loginKey(post, source)) : undefined;
      if (viaLoginEntry) return viaLoginEntry;
      const everyones = await resultAt(postKey(post));
      return everyones?.source === source ? everyones : ownEntry(post, source);
    },

    /**
     * Caches an answer until shortly before its media expire. A proven one (its upstream named this post)
     * becomes everyone's entry. An unproven one is kept apart whenever a source that proves its answers
     * runs here; without one, it may be everyone's entry but never replaces a proven one.
     */
    async remember(post: PostRef, { extraction, source }: Sourced) {
      const link = deps.linkOf(post, extraction.media.author?.username);
      const { entry, ttl } = resultEntry(link, { extraction, source }, deps.now(), deps.cacheTtlMs);
      if (ttl <= 0) return;
      // What only the operator's login showed is never where another client can read it: only the tunnel
      // links given to a client allowed to read it (they carry that fact under their signature) find it.
      const apart = extraction.viaLogin
        ? loginKey(post, source)
        : !extraction.verified && (deps.provers.some((name) => name !== source) || (await holdsProven(post)))
          ? ownKey(post, source)
          : undefined;
      await safely(
        () => deps.store.setPost(apart ?? postKey(post), apart ? { ...entry, unlisted: true } : entry, ttl),
        undefined,
      );
    },

    /** TikTok's verdict on a post (gone, private, age-restricted), kept briefly so a flood of bad links does not hammer it. */
    async rememberVerdict(post: PostRef, error: ApiError) {
      if (!error.verdict || !CACHEABLE_POST_ERRORS.has(error.code) || deps.negativeCacheTtlMs <= 0) return;
      const entry = verdictEntry(error, deps.now(), deps.negativeCacheTtlMs);
      await safely(() => deps.store.setPost(postKey(post), entry, deps.negativeCacheTtlMs), undefined);
    },
  };
}

export type PostCache = ReturnType<typeof createPostCache>;

/** An answer as the cache keeps it, until shortly before its media expire (`ttl` ≤ 0: not worth keeping). */
function resultEntry(link: string, { extraction, source }: Sourced, now: number, cacheTtlMs: number) {
  const untilExpiry = extraction.expiresAt ? extraction.expiresAt - now - EXPIRY_MARGIN_MS : Infinity;
  const ttl = Math.min(cacheTtlMs, untilExpiry);
  const entry: CacheEntry = { kind: "result", extraction, source, link, storedAt: now, expiresAt: now + ttl };
  return { entry, ttl };
}

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
