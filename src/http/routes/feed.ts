import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import { type Static, Type } from "typebox";
import { ApiError } from "../../domain/errors.js";
import { MAX_LINK_LENGTH } from "../../domain/links.js";
import type { ListItem } from "../../domain/lists.js";
import { listRequest } from "../../domain/requests.js";
import type { Services } from "../../service/types.js";
import { keyedAndLimited, userAgentOf } from "../access.js";
import { askerOf } from "../asker.js";
import { clientGone } from "../client-gone.js";
import { FEED_TYPES, type FeedFormat, renderFeed } from "../feed-render.js";
import { AuthHeaders, ErrorResponse } from "../schemas.js";
import type { RequestHook, TypedApp } from "../types.js";

export interface FeedRouteDeps {
  listPage: Services["listPage"];
  feedLinks: Services["feedLinks"];
  authenticate?: RequestHook;
  /** Each feed and each file link counts as one request against the caller's download budget. */
  rateLimit: RequestHook;
  /** This instance's origin for a request's links (PUBLIC_URL, or a Host the operator allowed). */
  originOf: (request: FastifyRequest) => string;
  /** Bytes of rendered feeds kept in memory. */
  renderedMaxBytes: number;
}

const FEED_DEFAULT = 20;
const FEED_MAX = 50;
/** The page `/api/list` answers by default: a feed of up to that many reads the same cached page. */
const LIST_DEFAULT = 30;

const FeedFields = {
  url: Type.String({
    maxLength: MAX_LINK_LENGTH * 2,
    description: "A profile, a collection or a playlist (a short link to one works too).",
  }),
  format: Type.Optional(
    Type.Union([Type.Literal("atom"), Type.Literal("rss"), Type.Literal("json")], {
      description: "atom (default, Atom 1.0), rss (RSS 2.0) or json (JSON Feed 1.1).",
    }),
  ),
  limit: Type.Optional(
    Type.Union(
      [Type.Integer({ minimum: 1, maximum: FEED_MAX }), Type.String({ pattern: "^([1-9]|[1-4][0-9]|50)$" })],
      {
        description: `The newest this many posts, 1-${FEED_MAX} (default ${FEED_DEFAULT}).`,
      },
    ),
  ),
  type: Type.Optional(
    Type.Union([Type.Literal("video"), Type.Literal("photo")], { description: "Only this kind of post." }),
  ),
};
const FeedLinkBody = Type.Object(FeedFields);
const FeedQuery = Type.Object({
  ...FeedFields,
  key: Type.Optional(Type.String({ pattern: "^[0-9a-f]{16}$", description: "A keyed feed link's key id." })),
  sig: Type.Optional(Type.String({ pattern: "^[\\w-]{22}$", description: "A keyed feed link's signature." })),
});
type FeedParameters = Static<typeof FeedLinkBody>;

/** The parameters a keyed link signs, in one fixed form: a changed one breaks the signature. */
const canonical = (fields: FeedParameters) =>
  [fields.url, fields.format ?? "atom", String(fields.limit ?? FEED_DEFAULT), fields.type ?? ""].join("\n");

function feedQuery(fields: FeedParameters, keyed?: { key: string; sig: string }) {
  const query = new URLSearchParams({ url: fields.url });
  if (fields.format && fields.format !== "atom") query.set("format", fields.format);
  if (fields.limit !== undefined && Number(fields.limit) !== FEED_DEFAULT)
    query.set("limit", String(fields.limit));
  if (fields.type) query.set("type", fields.type);
  if (keyed) {
    query.set("key", keyed.key);
    query.set("sig", keyed.sig);
  }
  return query;
}

/**
 * GET /api/feed: the newest posts of a profile, collection or playlist as a feed, from the same cached
 * first page /api/list answers; ETag and Last-Modified so that a reader's poll of an unchanged feed costs
 * no upstream request and no body. POST /api/feed-link: a feed URL signed for a key, for readers that
 * cannot send one. The feeds' enclosures point at GET /api/file (routes/file.ts).
 */
export function feedRoutes(app: TypedApp, deps: FeedRouteDeps) {
  const keyed = keyedFeedAuth(deps);
  // A feed is rendered once per version of its page and per what else it is written from (format, limit,
  // type, origin): polls of a cached feed cost what the page costs. Bounded in bytes, whatever is asked.
  const rendered = new LRUCache<string, Rendered>({
    maxSize: deps.renderedMaxBytes,
    sizeCalculation: (entry) => entry.body.length * 2 + 256,
  });
  const responses = { "4xx": ErrorResponse, "5xx": ErrorResponse };

  app.get(
    "/api/feed",
    {
      schema: {
        summary: "A profile, collection or playlist as an Atom, RSS or JSON feed",
        tags: ["follow"],
        querystring: FeedQuery,
        headers: AuthHeaders,
        response: responses,
      },
      onRequest: [keyed, deps.rateLimit],
    },
    (request, reply) => answerFeed(deps, rendered, request, reply),
  );

  app.post(
    "/api/feed-link",
    {
      schema: {
        summary: "A feed URL signed for this API key (for readers that cannot send one)",
        tags: ["follow"],
        body: FeedLinkBody,
        headers: AuthHeaders,
        response: { 200: Type.Object({ result: Type.Object({ url: Type.String() }) }), ...responses },
      },
      onRequest: keyedAndLimited(deps.authenticate, deps.rateLimit),
    },
    async (request) => {
      const fields = request.body;
      const key = request.apiKey;
      if (!key || !deps.feedLinks)
        throw new ApiError(
          401,
          "AUTH_REQUIRED",
          "A keyed feed link needs an API key: Authorization: Api-Key <key>.",
        );
      const sig = await deps.feedLinks.sign(key.id, canonical(fields));
      const origin = deps.originOf(request);
      return { result: { url: `${origin}/api/feed?${feedQuery(fields, { key: key.id, sig })}` } };
    },
  );
}

/** A keyed link's signature stands for the key; otherwise the usual key check. */
function keyedFeedAuth(deps: FeedRouteDeps): RequestHook {
  return async (request, reply) => {
    const query = request.query as Static<typeof FeedQuery>;
    if (query.key !== undefined || query.sig !== undefined) {
      if (!deps.feedLinks || !query.key || !query.sig)
        throw new ApiError(401, "INVALID_API_KEY", "This feed link is not valid.");
      request.apiKey = await deps.feedLinks.check(
        query.key,
        canonical(query),
        query.sig,
        request.ip,
        userAgentOf(request),
      );
      return;
    }
    await deps.authenticate?.(request, reply);
  };
}

/** A feed as written once for a version of its page: the body and its entity tag. */
interface Rendered {
  body: string;
  etag: string;
}

async function answerFeed(
  deps: FeedRouteDeps,
  rendered: LRUCache<string, Rendered>,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const query = request.query as Static<typeof FeedQuery>;
  const limit = Number(query.limit ?? FEED_DEFAULT);
  const format: FeedFormat = query.format ?? "atom";
  const base = deps.originOf(request);
  const page = await deps.listPage(
    listRequest(
      query.url,
      { limit: Math.max(LIST_DEFAULT, limit), signal: clientGone(reply) },
      askerOf(request),
    ),
  );
  const now = Date.now();
  const fetchedAt = page.fetchedAt ?? now;
  // Its own address from what it is written from, never the request's own query (junk parameters).
  const fields = { url: query.url, format, limit, type: query.type };
  const signed = query.key && query.sig ? { key: query.key, sig: query.sig } : undefined;
  const selfUrl = `${base}/api/feed?${feedQuery(fields, signed)}`;
  const version = JSON.stringify([page.kind, page.id, page.provider, fetchedAt, selfUrl]);
  let feed = rendered.get(version);
  if (feed === undefined) {
    const items = page.items
      .filter((item: ListItem) => !query.type || item.type === query.type)
      .slice(0, limit);
    const body = await renderFeed(page, items, { format, selfUrl, base });
    feed = { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
    rendered.set(version, feed);
  }
  const lastModified = new Date(Math.floor(fetchedAt / 1000) * 1000);
  const maxAge = Math.max(0, Math.floor(((page.freshUntil ?? now) - now) / 1000));
  reply.header("etag", feed.etag).header("last-modified", lastModified.toUTCString());
  // A page only the operator's login is shown is never kept by a shared cache.
  reply.header("cache-control", `${page.viaLogin ? "private, " : ""}max-age=${maxAge}`);
  if (notModified(request, feed.etag, lastModified)) return reply.code(304).send();
  return reply.type(FEED_TYPES[format]).send(feed.body);
}

/** `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2). */
function notModified(request: FastifyRequest, etag: string, lastModified: Date): boolean {
  const match = request.headers["if-none-match"];
  if (typeof match === "string")
    return match === "*" || match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
  const since = Date.parse(String(request.headers["if-modified-since"] ?? ""));
  return Number.isFinite(since) && lastModified.getTime() <= since;
}
