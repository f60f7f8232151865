import type { FastifyReply, FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import { MAX_LINK_LENGTH } from "../../domain/links.js";
import { type ListRequest, listRequest } from "../../domain/requests.js";
import { LIST_KINDS, type ListKind } from "../../domain/tiktok-url.js";
import type { Services } from "../../service/types.js";
import { keyedAndLimited } from "../access.js";
import { askerOf } from "../asker.js";
import { clientGone } from "../client-gone.js";
import { AuthHeaders, ErrorResponse, Stats } from "../schemas.js";
import type { RequestHook, TypedApp } from "../types.js";
import { Flag, parseFlag } from "./download.js";

export interface ListRouteDeps {
  listPage: Services["listPage"];
  authenticate?: RequestHook;
  /** Each page counts as one request against the caller's download budget. */
  rateLimit: RequestHook;
}

const DEFAULT_LIMIT = 30;

const ListQuery = Type.Object({
  url: Type.String({
    maxLength: MAX_LINK_LENGTH * 2,
    description:
      "A profile (https://www.tiktok.com/@user), a collection (/@user/collection/<title>-<id>), a playlist (/@user/playlist/<title>-<id>), or a short link to one; also inside a pasted message.",
  }),
  cursor: Type.Optional(
    Type.String({ maxLength: 2048, description: "The cursor the previous page returned (opaque, signed)." }),
  ),
  limit: Type.Optional(
    Type.Union(
      [Type.Integer({ minimum: 1, maximum: 100 }), Type.String({ pattern: "^(100|[1-9][0-9]?)$" })],
      {
        description: `Items per page, 1-100 (default ${DEFAULT_LIMIT}).`,
      },
    ),
  ),
  type: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'A source that lists ("native", "tikwm"), or "random" (default).',
    }),
  ),
  nocache: Type.Optional(
    Type.Unsafe<string | boolean>({
      ...Flag,
      description: "1/true/yes: skip reading the cache (a fresh page; it is still cached for others).",
    }),
  ),
});

const Count = Type.Integer({ minimum: 0 });
const ListItemSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  type: Type.Union([Type.Literal("video"), Type.Literal("photo")]),
  caption: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String()),
  thumb: Type.Optional(Type.String()),
  duration: Type.Optional(Type.Number()),
  stats: Type.Optional(Stats),
  stream: Type.Optional(
    Type.Object({ thumb: Type.Optional(Type.String({ description: "The cover, through this server." })) }),
  ),
  author: Type.Optional(
    Type.Object(
      {
        username: Type.Optional(Type.String()),
        nickname: Type.Optional(Type.String()),
        id: Type.Optional(Type.String()),
      },
      { description: "Whose post it is." },
    ),
  ),
});

const ListResponse = Type.Object({
  result: Type.Object({
    kind: Type.Unsafe<ListKind>(Type.Union(LIST_KINDS.map((kind) => Type.Literal(kind)))),
    id: Type.String({ description: "A profile's secUid, a collection's or playlist's id." }),
    title: Type.String(),
    owner: Type.Object({
      username: Type.Optional(Type.String()),
      nickname: Type.Optional(Type.String()),
      id: Type.Optional(Type.String()),
      avatar: Type.Optional(Type.String()),
      stream: Type.Optional(
        Type.Object({
          avatar: Type.Optional(Type.String({ description: "The avatar, through this server." })),
        }),
      ),
    }),
    total: Type.Optional(Count),
    items: Type.Array(ListItemSchema),
    cursor: Type.Optional(Type.String({ description: "Pass it back as `cursor` for the next page." })),
    hasMore: Type.Boolean(),
    provider: Type.String(),
    cached: Type.Boolean(),
  }),
});

type RawList = Static<typeof ListQuery>;

/** GET and POST /api/list: one page of a creator's posts, a collection or a playlist. */
export function listRoutes(app: TypedApp, deps: ListRouteDeps) {
  const onRequest = keyedAndLimited(deps.authenticate, deps.rateLimit);
  const responses = { 200: ListResponse, "4xx": ErrorResponse, "5xx": ErrorResponse };

  const normalise = (raw: RawList, request: FastifyRequest, reply: FastifyReply): ListRequest => {
    return listRequest(
      raw.url,
      {
        cursor: raw.cursor || undefined,
        limit: raw.limit === undefined ? DEFAULT_LIMIT : Number(raw.limit),
        source: raw.type?.trim() || "random",
        nocache: parseFlag("nocache", raw.nocache, false),
        signal: clientGone(reply),
      },
      askerOf(request),
    );
  };

  app.get(
    "/api/list",
    {
      schema: {
        summary: "One page of a profile, a collection or a playlist, newest first",
        tags: ["download"],
        querystring: ListQuery,
        headers: AuthHeaders,
        response: responses,
      },
      onRequest,
    },
    async (request, reply) => ({ result: await deps.listPage(normalise(request.query, request, reply)) }),
  );

  app.post(
    "/api/list",
    {
      schema: {
        summary: "The same, with a JSON body",
        tags: ["download"],
        body: ListQuery,
        headers: AuthHeaders,
        response: responses,
      },
      onRequest,
      preValidation: async (request) => {
        request.body ??= {} as RawList;
      },
    },
    async (request, reply) => ({ result: await deps.listPage(normalise(request.body, request, reply)) }),
  );
}
