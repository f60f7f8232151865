import type { BaseLogger } from "pino";
import { deadline } from "../domain/deadline.js";
import { ApiError, badRequest, postErrors, SourceFailure } from "../domain/errors.js";
import type { ListAnswer, ListPage, ListPosition } from "../domain/lists.js";
import { TIKTOK } from "../domain/platforms.js";
import type { ListRequest } from "../domain/requests.js";
import {
  type ListKind,
  type ListLink,
  listIdentity,
  listKindOf,
  parseTikTokListLink,
} from "../domain/tiktok-url.js";
import type { Egress } from "../net/egress.js";
import type { Source } from "../sources/types.js";
import type { CacheEntry, Store } from "../stores/types.js";
import { isFault, type SourceHealth } from "./health.js";
import { type CursorBody, checkList, createListCursors, type ListCursors } from "./list-cursors.js";
import { checkOwner, seenTag, withoutRepeats } from "./list-proof.js";
import { type Attempted, asFailure, finalError } from "./rotation.js";
import { SharedFlight } from "./shared-flight.js";
import { resolveShortLink } from "./short-links.js";
import { SingleFlight } from "./single-flight.js";
import { storeCall } from "./store-call.js";

export interface ListingDeps {
  sources: readonly Source[];
  health: SourceHealth;
  store: Store;
  egress: Egress;
  now: () => number;
  log: BaseLogger;
  /** How long a page of a listing is cached. */
  cacheTtlMs: number;
  /** Signs cursors: a cursor this server did not give is refused before any upstream request. */
  secret: string;
  /** Upper bound for one source's page. */
  attemptTimeoutMs: number;
}

/**
 * link → list → cache → one shared flight → the sources that list this kind, in health order → cache.
 * A page with a cursor goes back to the source that gave the cursor (its position means nothing to
 * another). A profile is asked of TikTok first, then of tikwm.
 */
export function createListing(deps: ListingDeps) {
  const inFlight = new SingleFlight<ListPage>();
  const sharedFlight = new SharedFlight(deps.store, deps.now, deps.log);
  const safely = storeCall(deps.log);
  const cursors = createListCursors(deps.secret);

  /** One page for everyone asking at once: in this process, and across instances through the store's claims. */
  const shared = (keys: PageKeys, work: () => Promise<ListPage>) =>
    sharedFlight.run(`claim:${keys.flight}`, {
      work,
      waitMs: deps.attemptTimeoutMs * 2,
      async answer(since) {
        const entry = await deps.store.getPost(keys.cache, { shared: true });
        return entry?.kind === "list" && entry.storedAt >= since
          ? { ...entry.page, cached: true }
          : undefined;
      },
    });

  /** The page, asked upstream and cached; the work stops when every client waiting for it has left. */
  const fresh = (keys: PageKeys, link: ListLink, request: ListRequest, cursor?: CursorBody) =>
    inFlight.run(
      keys.flight,
      (signal) =>
        shared(keys, async () => {
          const now = deps.now();
          const page = {
            ...(await fetchPage(deps, cursors, { link, request, cursor, signal })),
            fetchedAt: now,
            freshUntil: now + deps.cacheTtlMs,
          };
          const { cached: _cached, ...kept } = page;
          const entry: CacheEntry = {
            kind: "list",
            page: kept,
            storedAt: now,
            expiresAt: now + deps.cacheTtlMs,
          };
          // What only the operator's login showed is never cached where another client could read it.
          if (deps.cacheTtlMs > 0 && !page.viaLogin)
            await safely(() => deps.store.setPost(keys.cache, entry, deps.cacheTtlMs), undefined);
          return page;
        }),
      request.signal,
    );

  return {
    /** One page of a profile, collection or playlist; `nocache` skips reading the cache, not sharing the flight. */
    async page(request: ListRequest): Promise<ListPage> {
      const cursor = request.cursor ? cursors.open(request.cursor) : undefined;
      // A page the operator's login served goes on only for a client allowed to read it, before any request.
      if (cursor?.v === 1 && !request.readsViaLogin) throw loginOnly(listKindOf(cursor.l));
      const link = await linkOf(deps, request.url, request.signal);
      if (cursor) checkList(cursor, listIdentity(link));
      const keys = pageKeys(link, request, cursor);
      if (!request.nocache) {
        const hit = await safely(() => deps.store.getPost(keys.cache), undefined);
        if (hit?.kind === "list") return { ...hit.page, cached: true };
      }
      return forThisClient(await fresh(keys, link, request, cursor), request, link);
    },
  };
}

/**
 * The keys of one page: the cache holds only pages TikTok served to anyone (what the operator's login
 * served is never cached), so every client may read it; a flight runs for one kind of asker, since the
 * same page is asked with the login for a client allowed to read what it shows, and without it for others.
 */
interface PageKeys {
  cache: string;
  flight: string;
}

function pageKeys(link: ListLink, request: ListRequest, cursor?: CursorBody): PageKeys {
  const cache = [
    "list",
    cursor?.s ?? request.source,
    listIdentity(link),
    cursor ? JSON.stringify([cursor.p, cursor.h]) : "",
    request.limit,
    request.allowedSources?.join(",") ?? "*",
    "anonymous",
  ].join("|");
  return { cache, flight: `${cache}|asked-by:${request.readsViaLogin ? "login-reader" : "anyone"}` };
}

export type Listing = ReturnType<typeof createListing>;

/**
 * The first source that answers the page (the cursor's own, or each able one in health order), without
 * the posts the page before gave; its next position signed into a cursor.
 */
async function fetchPage(
  deps: ListingDeps,
  cursors: ListCursors,
  {
    link,
    request,
    cursor,
    signal,
  }: { link: ListLink; request: ListRequest; cursor?: CursorBody; signal: AbortSignal },
): Promise<ListPage> {
  const tried: Attempted[] = [];
  for (const source of await candidates(deps, link, request, cursor?.s)) {
    let answer: ListAnswer;
    try {
      answer = await ask(deps, source, link, request, { position: cursor?.p, signal });
    } catch (error) {
      if (error instanceof SourceFailure) {
        tried.push({ source: source.name, reason: error.reason, message: error.message });
        continue;
      }
      throw error;
    }
    const { answer: fresh } = withoutRepeats(answer, cursor?.h);
    const { next, ...rest } = fresh;
    return {
      ...rest,
      cursor: next
        ? cursors.sign({
            s: source.name,
            l: listIdentity(link),
            p: next,
            h: fresh.items.map((item) => seenTag(item.id)),
            ...(fresh.viaLogin ? { v: 1 as const } : {}),
          })
        : undefined,
      hasMore: next !== undefined,
      provider: source.name,
      cached: false,
    };
  }
  throw finalError(tried, link.list);
}

/**
 * A page TikTok served only because of the operator's login goes only to a client allowed to read it
 * (flights are shared: another client may have asked for the same page at the same moment).
 */
function forThisClient(page: ListPage, request: ListRequest, link: ListLink): ListPage {
  if (!page.viaLogin || request.readsViaLogin) return page;
  throw loginOnly(link.list);
}

/** What a client not allowed to read the operator's login is told of a page only that login is shown. */
function loginOnly(list: ListKind): ApiError {
  if (list === "profile" || list === "collection" || list === "playlist")
    return postErrors.private(`This ${list === "profile" ? "account" : list} is private.`);
  return postErrors.loginRequired(
    `TikTok shows this ${list === "following" ? "feed" : `${list} tab`} only to a login; this server answers it only to API keys marked privateTabs.`,
  );
}

/** The list a link names, a short link followed. */
async function linkOf(deps: ListingDeps, url: string, signal?: AbortSignal): Promise<ListLink> {
  const link = parseTikTokListLink(url);
  if (link.kind === "list") return link;
  const target = await resolveShortLink(deps.egress.pick(TIKTOK.upstream).browser, link, signal);
  if (target.kind === "post")
    throw badRequest("UNSUPPORTED_LINK", "This short link leads to a post: download it with /api/download.");
  return target;
}

/** The sources that may read this kind of list for this request, best first. */
async function candidates(
  deps: ListingDeps,
  link: ListLink,
  request: ListRequest,
  fixed?: string,
): Promise<Source[]> {
  const able = deps.sources.filter(
    (source) =>
      source.list &&
      !source.maintenance &&
      source.lists?.includes(link.list) &&
      (!request.allowedSources || request.allowedSources.includes(source.name)),
  );
  if (able.length === 0 && !request.allowedSources)
    throw badRequest(
      "UNSUPPORTED_LINK",
      `No source on this instance lists ${link.list === "following" ? "the following feed" : `${link.list} tabs`} yet.`,
    );
  const named = fixed ?? (request.source === "random" ? undefined : request.source);
  if (named) {
    const source = able.find((candidate) => candidate.name === named);
    if (!source)
      throw badRequest("INVALID_TYPE", `The "${named}" source cannot list a ${link.list} on this instance.`);
    return [source];
  }
  return deps.health.rank(able, listBook);
}

/**
 * A source's listings keep a health book of their own: TikTok refusing to list accounts says nothing of
 * its post pages, so it must not open the circuit that downloads read.
 */
export const listBook = (source: string) => `${source}:lists`;

/** One source's page, its outcome recorded in its listings' book (a client's forced choice only in the totals). */
async function ask(
  deps: ListingDeps,
  source: Source,
  link: ListLink,
  request: ListRequest,
  { position, signal }: { position?: ListPosition; signal: AbortSignal },
) {
  const started = deps.now();
  const limit = deadline(deps.attemptTimeoutMs);
  try {
    const answer = await (source.list as NonNullable<Source["list"]>)({
      link,
      position,
      limit: request.limit,
      signal: AbortSignal.any([limit.signal, signal]),
      readsViaLogin: request.readsViaLogin === true,
    });
    checkOwner(link, answer, source.name);
    deps.health.record(listBook(source.name), {
      ok: true,
      ms: deps.now() - started,
      post: listIdentity(link),
    });
    return answer;
  } catch (error) {
    if (error instanceof ApiError) {
      deps.health.record(listBook(source.name), {
        ok: true,
        ms: deps.now() - started,
        post: listIdentity(link),
      });
      throw error;
    }
    const failure = asFailure(error);
    if (failure.reason === "bug") deps.log.error({ err: error, source: source.name }, "bug in a lister");
    deps.health.record(
      listBook(source.name),
      {
        ok: !isFault(failure.reason),
        ms: deps.now() - started,
        reason: failure.reason,
        message: failure.message,
        post: listIdentity(link),
      },
      { forced: request.source === source.name },
    );
    throw failure;
  } finally {
    limit.release();
  }
}
