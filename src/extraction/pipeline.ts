import { LRUCache } from "lru-cache";
import type { BaseLogger } from "pino";
import { mapLimited } from "../domain/concurrency.js";
import { ApiError } from "../domain/errors.js";
import { type Platform, type PostLink, type PostRef, platformNamed, postKey } from "../domain/platforms.js";
import type { DownloadRequest, Settled } from "../domain/requests.js";
import type { Egress } from "../net/egress.js";
import type { Store } from "../stores/types.js";
import { createPostCache, type Sourced } from "./post-cache.js";
import { createPostLinks } from "./post-links.js";
import { type AttemptEvent, extractWithRotation, type RotationDeps } from "./rotation.js";
import { SharedFlight } from "./shared-flight.js";
import { SingleFlight } from "./single-flight.js";

/** What the pipeline hands back: the extraction, which source made it, and whether it came from the cache. */
export interface Answer extends Sourced {
  cached: boolean;
  /** The post's platform (`Platform.name`). */
  platform: string;
}

/** What the rotation needs, plus the cache, the way out for short links, the log and the cache lifetimes. */
export interface PipelineDeps extends Omit<RotationDeps, "onAttempt"> {
  /** The platforms whose links are taken, each with its own sources among `sources`. */
  platforms: readonly Platform[];
  store: Store;
  /** Short links are resolved through TikTok's way out, with the browser-like client, as its pages are. */
  egress: Egress;
  log: BaseLogger;
  cacheTtlMs: number;
  negativeCacheTtlMs: number;
  /** Told of every source attempt and cache lookup (metrics). */
  observe?: { attempt(event: AttemptEvent): void; cacheLookup(hit: boolean): void };
}

/** A post whose media keep answering 403 is extracted again at most this often. */
const REEXTRACT_INTERVAL_MS = 60_000;

/** Requests that one extraction answers: the same post, source, options and allowed sources. */
const flightKey = (post: PostRef, request: DownloadRequest) =>
  [
    postKey(post),
    request.source,
    request.rotateOnError,
    JSON.stringify(request.params),
    request.allowedSources?.join(",") ?? "*",
    request.readsViaLogin ? "login" : "",
  ].join("|");

type Fresh = Sourced | { error: ApiError };
type Post = Omit<PostLink, "kind">;

/**
 * link → post id → cache → one shared extraction (in this process, then across instances) → rotation over
 * the sources → cache. Each step is its own module; this one only puts them in order.
 */
export function createPipeline(deps: PipelineDeps) {
  const inFlight = new SingleFlight<Fresh>();
  const sharedFlight = new SharedFlight(deps.store, deps.now, deps.log);
  const postOf = createPostLinks(deps);
  const cache = createPostCache({
    ...deps,
    linkOf: (post, username) => postUrlOf(deps.platforms, post, username),
    provers: deps.sources.filter((source) => source.provesPostId).map((source) => source.name),
  });
  const extract = extractor(deps);

  /** Extracts and caches the answer, or TikTok's verdict; a failure is handed back, not thrown (it is shared). */
  async function extractAndStore(request: DownloadRequest, post: Post): Promise<Fresh> {
    try {
      const answer = await extract(request, post);
      await cache.remember(post, answer);
      return answer;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      await cache.rememberVerdict(post, error);
      return { error };
    }
  }

  /** One extraction per post and options at a time, here and on every instance sharing the store. */
  function extractOnce(request: DownloadRequest, post: Post) {
    const key = flightKey(post, request);
    return inFlight.run(key, () =>
      sharedFlight.run<Fresh>(key, {
        work: () => extractAndStore(request, post),
        answer: (since) => cache.sharedAnswer(post, request, since),
        waitMs: deps.attemptTimeoutMs * deps.maxAttempts,
      }),
    );
  }

  async function downloadPost(request: DownloadRequest, post: Post): Promise<Answer> {
    if (!request.nocache) {
      const cached = await cache.lookup(post, request);
      deps.observe?.cacheLookup(cached !== undefined);
      if (cached) return { ...cached, platform: post.platform };
    }
    const fresh = await extractOnce(request, post);
    if ("error" in fresh) throw fresh.error;
    return { extraction: fresh.extraction, source: fresh.source, cached: false, platform: post.platform };
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
          const key = flightKey(post, request);
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
    /** The post's cached extraction by this source (a tunnel link is never served another's). */
    cached: (post: PostRef, source: string, viaLogin?: boolean) => cache.bySource(post, source, viaLogin),
    reextract: reextractor(deps, inFlight, cache, extractAndStore),
    get inFlight() {
      return inFlight.size;
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** The rotation over the sources for one post, each attempt logged and observed. */
function extractor(deps: PipelineDeps) {
  return (request: DownloadRequest, post: Post) =>
    extractWithRotation(
      {
        ...deps,
        onAttempt: (event) => {
          const { error, ...fields } = event;
          if (event.reason === "bug")
            deps.log.error({ post: postKey(post), ...fields, err: error }, "bug in a source");
          else deps.log.debug({ post: postKey(post), ...fields }, "source attempt");
          deps.observe?.attempt(event);
        },
      },
      {
        platform: post.platform,
        id: post.id,
        username: post.username,
        url: postUrlOf(deps.platforms, post, post.username),
        source: request.source === "random" ? undefined : request.source,
        rotateOnError: request.rotateOnError,
        params: request.params,
        allowedSources: request.allowedSources,
        clientChose: !request.refresh,
        readsViaLogin: request.readsViaLogin === true,
      },
    );
}

/**
 * A fresh extraction of a post, bypassing the cache but refreshing it: for a tunnel whose media address
 * has expired upstream. The same source is asked first. One re-extraction per post at a time, whatever
 * link asked, and at most one a minute: stale links must not multiply requests to TikTok.
 */
function reextractor(
  deps: PipelineDeps,
  inFlight: SingleFlight<Fresh>,
  cache: ReturnType<typeof createPostCache>,
  extractAndStore: (request: DownloadRequest, post: Post) => Promise<Fresh>,
) {
  /** When each post was last extracted again for a stale tunnel link, and which source answered. */
  const reextractedAt = new LRUCache<string, { at: number; source?: string }>({ max: 10_000 });

  return async function reextract(post: PostRef, source: string, viaLogin = false): Promise<Sourced> {
    const known = deps.sources.some((candidate) => candidate.name === source) ? source : "random";
    const request: DownloadRequest = {
      url: postUrlOf(deps.platforms, post),
      source: known,
      nocache: true,
      rotateOnError: true,
      params: {},
      refresh: true,
      ...(viaLogin ? { readsViaLogin: true } : {}),
    };
    const key = `${postKey(post)}|reextract|${viaLogin ? "login" : "anonymous"}`;
    const fresh = await inFlight.run(key, async () => {
      const last = reextractedAt.get(key);
      if (last !== undefined && deps.now() - last.at < REEXTRACT_INTERVAL_MS) {
        // Extracted moments ago: that answer (in the cache) is the freshest there will be for a minute,
        // whichever source gave it (the link's own may have been the one that failed).
        return (
          (await cache.bySource(post, last.source ?? source, viaLogin)) ?? {
            error: new ApiError(
              502,
              "UPSTREAM_FAILED",
              "The media host refuses this file; try again in a minute.",
            ),
          }
        );
      }
      const entry: { at: number; source?: string } = { at: deps.now() };
      reextractedAt.set(key, entry);
      const answer = await extractAndStore(request, post);
      if ("source" in answer) entry.source = answer.source;
      return answer;
    });
    if ("error" in fresh) throw fresh.error;
    return fresh;
  };
}

/** A post's own address on its platform. */
function postUrlOf(platforms: readonly Platform[], post: PostRef, username?: string): string {
  const platform = platformNamed(platforms, post.platform);
  if (!platform) throw new Error(`no platform named "${post.platform}" runs here`);
  return platform.postUrl(post.id, username);
}
