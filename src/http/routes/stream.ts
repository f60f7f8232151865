import { Type } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { MEDIA_KINDS, mediaUrlOf } from "../../delivery/links.js";
import type { StreamTicket, StreamTokens } from "../../delivery/token.js";
import { ApiError, SourceFailure } from "../../domain/errors.js";
import type { Pipeline } from "../../extraction/pipeline.js";
import { DESKTOP_USER_AGENT } from "../../net/browser.js";
import type { HttpClient, StreamResponse } from "../../net/http-client.js";
import type { RequestHook } from "./download.js";

export interface TunnelDeps {
  tokens: StreamTokens;
  http: HttpClient;
  pipeline: Pipeline;
  maxConcurrent: number;
  /** The largest file relayed: refused up front when declared, cut when it runs over. */
  maxBytes: number;
  rateLimit?: RequestHook;
}

const STALLED_CLIENT_MS = 60_000;
const MEDIA_TYPE = /^(video|audio|image)\/|^application\/octet-stream/i;
const PASSED_HEADERS = ["content-length", "content-range", "accept-ranges", "last-modified", "etag"];

/**
 * GET/HEAD /api/stream/<token>: the file itself, relayed from the media host without buffering it,
 * with the cookies the extraction got. Only what a valid, unexpired token names is fetched.
 */
export function tunnelRoutes(app: FastifyInstance, deps: TunnelDeps) {
  let active = 0;

  async function fetchMedia(
    ticket: Pick<StreamTicket, "url" | "headers">,
    request: FastifyRequest,
    signal: AbortSignal,
  ) {
    const range = request.headers.range;
    return deps.http.stream({
      url: ticket.url,
      method: request.method === "HEAD" ? "HEAD" : "GET",
      headers: {
        "user-agent": DESKTOP_USER_AGENT,
        ...ticket.headers,
        ...(typeof range === "string" && /^bytes=[\d\s,-]{1,100}$/.test(range) ? { range } : {}),
      },
      signal,
      maxRedirects: 3,
    });
  }

  /** An address that expired upstream (403/410) is fetched again from a fresh extraction, once. */
  async function openUpstream(
    ticket: StreamTicket,
    request: FastifyRequest,
    signal: AbortSignal,
  ): Promise<StreamResponse> {
    const first = await fetchMedia(ticket, request, signal);
    if (first.status !== 403 && first.status !== 410) return first;
    discard(first);
    const fresh = await deps.pipeline.reextract(ticket.postId, ticket.provider);
    const url = mediaUrlOf(fresh.extraction.media, ticket.kind, ticket.index);
    if (!url) throw new ApiError(502, "UPSTREAM_FAILED", "The post no longer has this file.");
    return fetchMedia({ url, headers: fresh.extraction.session?.headers ?? {} }, request, signal);
  }

  app.route<{ Params: { token: string } }>({
    method: ["GET", "HEAD"],
    url: "/api/stream/:token",
    schema: {
      summary: "The file a stream link names (Range and HEAD work)",
      tags: ["stream"],
      params: Type.Object({
        token: Type.String({ maxLength: 8192, description: "From result.stream of /api/download." }),
      }),
    },
    onRequest: deps.rateLimit ? [deps.rateLimit] : [],
    async handler(request, reply) {
      const ticket = deps.tokens.open(request.params.token);
      if (active >= deps.maxConcurrent) {
        reply.header("retry-after", "5");
        throw new ApiError(503, "STREAM_BUSY", "Too many downloads are running; try again in a few seconds.");
      }
      active++;
      guardStalls(request.raw.socket);
      const abort = new AbortController();
      reply.raw.once("close", () => {
        active--;
        // The client went away before the end: stop reading from the media host.
        if (!reply.raw.writableFinished) abort.abort();
      });
      let upstream: StreamResponse;
      try {
        upstream = await openUpstream(ticket, request, abort.signal);
      } catch (error) {
        if (error instanceof SourceFailure)
          throw new ApiError(
            502,
            "UPSTREAM_FAILED",
            `The media host could not be reached (${error.reason}).`,
          );
        throw error;
      }
      const declared = Number(upstream.header("content-length"));
      if (Number.isFinite(declared) && declared > deps.maxBytes) {
        discard(upstream);
        throw new ApiError(
          502,
          "UPSTREAM_FAILED",
          `The file is larger than this server relays (${deps.maxBytes} bytes).`,
        );
      }
      const type = upstream.header("content-type") ?? MEDIA_KINDS[ticket.kind].type;
      if (upstream.status >= 400 || !MEDIA_TYPE.test(type)) {
        discard(upstream);
        throw new ApiError(
          502,
          "UPSTREAM_FAILED",
          upstream.status >= 400
            ? `The media host answered HTTP ${upstream.status}.`
            : "The media host answered something that is not a media file.",
        );
      }
      reply.code(upstream.status === 206 ? 206 : 200);
      reply.header("content-type", type);
      for (const name of PASSED_HEADERS) {
        const value = upstream.header(name);
        if (value !== undefined) reply.header(name, value);
      }
      reply.header("content-disposition", contentDisposition(ticket.filename));
      reply.header("cache-control", "private, no-store");
      reply.header("x-content-type-options", "nosniff");
      if (request.method === "HEAD") {
        discard(upstream);
        return reply.send();
      }
      // Aborting after the client left makes the body error; that end is expected, not a crash.
      upstream.body.on("error", ignore);
      capBytes(upstream, deps.maxBytes);
      return reply.send(upstream.body);
    },
  });

  return { activeTunnels: () => active };
}

const ignore = () => {};

/**
 * A client that stops reading must not hold a tunnel slot for ever: its socket is destroyed after a
 * minute without progress. Set once per socket (keep-alive sockets serve many requests).
 */
const guarded = new WeakSet<object>();
function guardStalls(socket: FastifyRequest["raw"]["socket"] | undefined) {
  if (!socket || typeof socket.setTimeout !== "function" || guarded.has(socket)) return;
  guarded.add(socket);
  socket.setTimeout(STALLED_CLIENT_MS, () => socket.destroy());
}

/** Counts what passes; a body that runs past the cap is cut (the client sees a truncated transfer). */
function capBytes(upstream: StreamResponse, maxBytes: number) {
  let relayed = 0;
  upstream.body.on("data", (chunk: Buffer) => {
    relayed += chunk.length;
    if (relayed > maxBytes) upstream.body.destroy(new Error("over the size cap"));
  });
}

/** Drops an upstream body we will not relay; undici reports the drop as an error, which is expected. */
function discard(upstream: StreamResponse) {
  upstream.body.on("error", ignore);
  upstream.body.destroy();
}

function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
