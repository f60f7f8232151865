import { pipeline, type Readable, Transform } from "node:stream";
import { ApiError, SourceFailure } from "../domain/errors.js";
import type { Extraction, Media } from "../domain/media.js";
import { type PostRef, TIKTOK } from "../domain/platforms.js";
import { isTikTokHost } from "../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT } from "../net/browser.js";
import type { Egress } from "../net/egress.js";
import type { StreamResponse } from "../net/http-client.js";
import { filenameOf, MEDIA_KINDS, mediaUrlOf } from "./links.js";
import type { StreamTicket } from "./token.js";

/** Where the relay finds a post's extraction (the pipeline is one). */
export interface PostLookup {
  /**
   * The post's cached extraction by this source (never another's), if the cache still holds it;
   * `viaLogin`: the one the operator's login was used for.
   */
  cached(post: PostRef, source: string, viaLogin?: boolean): Promise<Found | undefined>;
  /** A fresh extraction of the post: it left the cache, or its media address expired upstream. */
  reextract(post: PostRef, source: string, viaLogin?: boolean): Promise<Found>;
}

/** A post's extraction, and the source that made it (a re-extraction may fall back to another). */
type Found = { extraction: Extraction; source: string };

export interface RelayDeps {
  posts: PostLookup;
  /** The ways out: a session's media go out the way the session was made, other media through their source's pool. */
  egress: Egress;
  /** The upstream (proxy pool) a source's media belong to. */
  upstreamOf(source: string): string;
  /**
   * Whether a source's media may come from this host: a platform's own source (TikTok's web client,
   * Douyin's) only from the platform's own hosts; a third-party site from wherever it serves its files.
   */
  mediaHostAllowed(source: string, host: string): boolean;
  /** The largest file relayed: refused up front when declared, cut when it runs over. */
  maxBytes: number;
}

export interface RelayRequest {
  method: "GET" | "HEAD";
  /** The client's Range header, passed on when it is a plain byte range. */
  range?: string;
  /** Aborts the upstream request (the client went away). */
  signal: AbortSignal;
  /**
   * Called before the post is extracted again for this request (a stale or evicted link): an extraction
   * is a download, so the caller charges it to the client's download budget and may refuse it by throwing.
   */
  beforeExtraction?: () => Promise<void>;
}

/** A media answer ready to pass on: its status, type, passed headers, file name, and the body (unread). */
export interface Relayed {
  status: 200 | 206;
  type: string;
  headers: Record<string, string>;
  filename: string;
  body: Readable;
}

const PASSED_HEADERS = ["content-length", "content-range", "accept-ranges", "last-modified", "etag"];
const BYTE_RANGE = /^bytes=[\d\s,-]{1,100}$/;

/** Where one file of an extraction is, and the headers the source that made it said it needs. */
function targetOf({ extraction, source }: Found, ticket: StreamTicket) {
  const url = mediaUrlOf(extraction.media, ticket.kind, ticket.index);
  if (!url) throw new ApiError(502, "UPSTREAM_FAILED", "The post no longer has this file.");
  const { session } = extraction;
  return { url, headers: session?.headers ?? {}, cookie: session?.cookie, extraction, source };
}

/**
 * Opens the file a ticket names, from the post's cached extraction (or a fresh one), with the headers
 * its source said the file needs; re-extracts the post once when the address has expired upstream
 * (403/410); checks the answer is media of an acceptable size. It knows nothing of HTTP routes: the
 * tunnel route owns tokens, slots and limits.
 */
export function createRelay(deps: RelayDeps) {
  function fetchMedia(target: ReturnType<typeof targetOf>, request: RelayRequest) {
    if (!deps.mediaHostAllowed(target.source, new URL(target.url).hostname))
      throw new SourceFailure("refused_target", "the media address is not on the platform's own hosts");
    const range = request.range !== undefined && BYTE_RANGE.test(request.range) ? request.range : undefined;
    const route =
      deps.egress.byId(target.extraction.session?.route) ?? deps.egress.pick(deps.upstreamOf(target.source));
    return route.http.stream({
      url: target.url,
      method: request.method,
      headers: { "user-agent": DESKTOP_USER_AGENT, ...target.headers, ...(range ? { range } : {}) },
      cookie: target.cookie,
      signal: request.signal,
      maxRedirects: 3,
    });
  }

  async function extractAgain(
    ticket: Pick<StreamTicket, "post" | "source" | "viaLogin">,
    request: RelayRequest,
  ) {
    await request.beforeExtraction?.();
    return deps.posts.reextract(ticket.post, ticket.source, ticket.viaLogin);
  }

  /** The post's extraction: the cached one, or a fresh one when the link outlived its cache entry. */
  async function current(ticket: Pick<StreamTicket, "post" | "source" | "viaLogin">, request: RelayRequest) {
    return (
      (await deps.posts.cached(ticket.post, ticket.source, ticket.viaLogin)) ??
      (await extractAgain(ticket, request))
    );
  }

  async function openUpstream(ticket: StreamTicket, request: RelayRequest) {
    const found = await current(ticket, request);
    const used = targetOf(found, ticket);
    const first = await fetchMedia(used, request);
    if (first.status !== 403 && first.status !== 410)
      return { upstream: first, media: found.extraction.media };
    discard(first);
    // Another request may have refreshed the post meanwhile: its answer is used before asking TikTok.
    const cached = await deps.posts.cached(ticket.post, ticket.source, ticket.viaLogin);
    const newer = cached && targetOf(cached, ticket);
    const fresh =
      cached && newer && (newer.url !== used.url || newer.cookie?.value !== used.cookie?.value)
        ? cached
        : await extractAgain(ticket, request);
    const upstream = await fetchMedia(targetOf(fresh, ticket), request);
    return { upstream, media: fresh.extraction.media };
  }

  return {
    /** The post a link names, from the cache or extracted again (a ZIP lists its files from it). */
    async postMedia(
      ticket: Pick<StreamTicket, "post" | "source" | "viaLogin">,
      request: RelayRequest,
    ): Promise<Media> {
      return (await current(ticket, request)).extraction.media;
    },
    async open(ticket: StreamTicket, request: RelayRequest): Promise<Relayed> {
      let opened: Awaited<ReturnType<typeof openUpstream>>;
      try {
        opened = await openUpstream(ticket, request);
      } catch (error) {
        if (error instanceof SourceFailure)
          throw new ApiError(
            502,
            "UPSTREAM_FAILED",
            `The media host could not be reached (${error.reason}).`,
          );
        throw error;
      }
      return checkedFile(opened.upstream, opened.media, ticket, request, deps.maxBytes);
    },
    /** A listing's picture by its signed address: TikTok's image hosts only, images only, small. */
    openPicture: (url: string, request: RelayRequest) => openPicture(deps, url, request),
  };
}

/** A listing's picture by its signed address: TikTok's image hosts only, images only, small. */
async function openPicture(deps: RelayDeps, url: string, request: RelayRequest): Promise<Relayed> {
  const target = URL.canParse(url) ? new URL(url) : undefined;
  if (target?.protocol !== "https:" || !isTikTokHost(target.hostname))
    throw new ApiError(403, "STREAM_INVALID", "This stream link is not valid.");
  let upstream: StreamResponse;
  try {
    upstream = await deps.egress.pick(TIKTOK.upstream).http.stream({
      url: target,
      method: request.method,
      headers: { "user-agent": DESKTOP_USER_AGENT, accept: "image/*" },
      signal: request.signal,
      maxRedirects: 3,
    });
  } catch (error) {
    if (error instanceof SourceFailure)
      throw new ApiError(502, "UPSTREAM_FAILED", `The image host could not be reached (${error.reason}).`);
    throw error;
  }
  return checkedPicture(upstream, request, Math.min(deps.maxBytes, PICTURE_MAX_BYTES));
}

/** What the relay's own stage of a stream buffers, at most, on each side. */
const RELAY_BUFFER_BYTES = 64 * 1024;

/** A cover or an avatar is a few hundred kilobytes; anything past this is not one. */
const PICTURE_MAX_BYTES = 10 * 1024 * 1024;

function checkedPicture(upstream: StreamResponse, request: RelayRequest, maxBytes: number): Relayed {
  const type = upstream.header("content-type") ?? "";
  const declared = Number(upstream.header("content-length"));
  if (
    upstream.status >= 400 ||
    !/^image\//i.test(type) ||
    (Number.isFinite(declared) && declared > maxBytes)
  ) {
    discard(upstream);
    throw new ApiError(502, "UPSTREAM_FAILED", "The image host answered something that is not a picture.");
  }
  upstream.body.on("error", ignore);
  if (request.method === "HEAD") upstream.body.destroy();
  const length = upstream.header("content-length");
  return {
    status: 200,
    type,
    headers: length === undefined ? {} : { "content-length": length },
    filename: `tiktok_picture.${/png/i.test(type) ? "png" : /webp/i.test(type) ? "webp" : "jpg"}`,
    body: request.method === "HEAD" ? upstream.body : capped(upstream.body, maxBytes),
  };
}

/**
 * The media host's answer, checked before anything reaches the client: a declared size over the cap, an
 * error status or something that is not media is refused (502); the passed headers and the file's name.
 */
function checkedFile(
  upstream: StreamResponse,
  media: Media,
  ticket: StreamTicket,
  request: RelayRequest,
  maxBytes: number,
): Relayed {
  const declared = Number(upstream.header("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(upstream);
    throw new ApiError(
      502,
      "UPSTREAM_FAILED",
      `The file is larger than this server relays (${maxBytes} bytes).`,
    );
  }
  // No Content-Type is not "probably media": the answer is refused like any other non-media one.
  const type = upstream.header("content-type") ?? "";
  if (upstream.status >= 400 || !MEDIA_KINDS[ticket.kind].accepts.test(type)) {
    discard(upstream);
    throw new ApiError(
      502,
      "UPSTREAM_FAILED",
      upstream.status >= 400
        ? `The media host answered HTTP ${upstream.status}.`
        : "The media host answered something that is not a media file.",
    );
  }
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = upstream.header(name);
    if (value !== undefined) headers[name] = value;
  }
  // Aborting after the client left makes the body error; that end is expected, not a crash.
  upstream.body.on("error", ignore);
  if (request.method === "HEAD") upstream.body.destroy();
  return {
    status: upstream.status === 206 ? 206 : 200,
    type,
    headers,
    filename: filenameOf(ticket.post.platform, media, ticket.kind, ticket.index, type),
    body: request.method === "HEAD" ? upstream.body : capped(upstream.body, maxBytes, declared),
  };
}

export type Relay = ReturnType<typeof createRelay>;

const ignore = () => {};

/**
 * The body, counted as it is read (not before: the reader may start later); one that runs past the cap
 * is cut (the client sees a truncated transfer). Ending either side ends the other. A body whose length
 * the media host declared (within the cap, checked before) is passed on as it is: the HTTP client ends it
 * at that length, so no byte past it can come, and a stage that counts every chunk would only cost time
 * (3.5% of the relay's CPU in a profile under bench:tunnel on Node 24: docs/performance.md).
 */
function capped(body: Readable, maxBytes: number, declared = Number.NaN): Readable {
  if (Number.isSafeInteger(declared) && declared >= 0 && declared <= maxBytes) return body;
  let relayed = 0;
  const counter = new Transform({
    // Set here, not left to the runtime (Node 22 raised the default from 16 to 64 KiB): what one relayed
    // stream may hold between the media host and the client stays the same on every runtime.
    highWaterMark: RELAY_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding, done) {
      relayed += chunk.length;
      done(relayed > maxBytes ? new Error("over the size cap") : null, chunk);
    },
  });
  return pipeline(body, counter, ignore);
}

/** Drops an upstream body we will not relay; undici reports the drop as an error, which is expected. */
function discard(upstream: StreamResponse) {
  upstream.body.on("error", ignore);
  upstream.body.destroy();
}
