import type { FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import { ApiError } from "../../domain/errors.js";
import { MAX_LINK_LENGTH } from "../../domain/links.js";
import type { Services } from "../../service/types.js";
import type { WatchOwner } from "../../service/watches.js";
import { keyedAndLimited } from "../access.js";
import { isLoopbackName } from "../origin.js";
import { AuthHeaders, ErrorResponse } from "../schemas.js";
import type { RequestHook, TypedApp } from "../types.js";

export interface WatchRouteDeps {
  watches: Services["watches"];
  /** Whether the server has a keys file: then a watch is an API key's; else only loopback clients watch. */
  keyed: boolean;
  /** How many watches the instance keeps (the allowance of a personal instance's loopback clients). */
  maxWatches: number;
  minIntervalS: number;
  authenticate?: RequestHook;
  rateLimit: RequestHook;
  /** This instance's public address, for the file links in events (undefined when it cannot be told). */
  originOf(request: FastifyRequest): string;
}

const Target = Type.Union([
  Type.Object(
    { type: Type.Literal("webhook"), url: Type.String({ maxLength: 2048 }) },
    { additionalProperties: false, description: "A Standard Webhooks receiver (https)." },
  ),
  Type.Object(
    { type: Type.Literal("discord"), url: Type.String({ maxLength: 2048 }) },
    { additionalProperties: false, description: "A Discord webhook (https://discord.com/api/webhooks/…)." },
  ),
  Type.Object(
    {
      type: Type.Literal("telegram"),
      botToken: Type.String({ maxLength: 128 }),
      chatId: Type.String({ maxLength: 64 }),
    },
    { additionalProperties: false, description: "A Telegram bot and the chat it posts to." },
  ),
]);

const WatchId = Type.Object({ id: Type.String({ pattern: "^w_[\\w-]{10,40}$" }) });
const DeliveryParams = Type.Object({
  id: Type.String({ pattern: "^w_[\\w-]{10,40}$" }),
  deliveryId: Type.String({ pattern: "^msg_[\\w-]{10,40}$" }),
});
const errors = { "4xx": ErrorResponse, "5xx": ErrorResponse };
/** A watch, its deliveries, or what an action did: described in docs/api.md ("Watches"). */
const Result = Type.Object({ result: Type.Any() });
const ok = (status: 200 | 201 | 202) => ({ [status]: Result, ...errors });

/** A new watch, as POST /api/watches takes it; `every` at least the instance's minimum. */
const newWatchSchema = (minIntervalS: number) =>
  Type.Object(
    {
      url: Type.String({
        maxLength: MAX_LINK_LENGTH * 2,
        description: "A profile, collection, playlist or public tab.",
      }),
      target: Target,
      every: Type.Optional(
        Type.Integer({
          minimum: minIntervalS,
          maximum: 7 * 86_400,
          description: "Seconds between checks (default 900).",
        }),
      ),
      type: Type.Optional(Type.Union([Type.Literal("video"), Type.Literal("photo")])),
    },
    { additionalProperties: false },
  );

/**
 * The watches of the caller's key: made, read, tested and deleted. Without a keys file, only clients on
 * this machine may watch (a personal instance); with one, a key the file marks `"watches": <n>`.
 */
export function watchRoutes(app: TypedApp, deps: WatchRouteDeps) {
  const onRequest = keyedAndLimited(deps.authenticate, deps.rateLimit);
  const owner = ownerOf(deps);
  const NewWatch = newWatchSchema(deps.minIntervalS);
  const schema = <Extra extends object>(summary: string, response: object, extra: Extra) => ({
    schema: { summary, tags: ["watches"], headers: AuthHeaders, response, ...extra },
    onRequest,
  });

  app.post(
    "/api/watches",
    schema("Watch a list and be told of its new posts", ok(201), { body: NewWatch }),
    async (request, reply) => {
      const body = request.body as Static<typeof NewWatch>;
      const base = baseOf(deps, request);
      const made = await deps.watches.create(owner(request), { ...body, ...(base ? { base } : {}) });
      return reply.code(201).send({ result: { ...made.watch, secret: made.secret } });
    },
  );
  app.get("/api/watches", schema("The caller's watches", ok(200), {}), async (request) => ({
    result: await deps.watches.list(owner(request)),
  }));
  app.get(
    "/api/watches/:id",
    schema("A watch and its state", ok(200), { params: WatchId }),
    async (request) => ({
      result: await deps.watches.get(owner(request), watchIdOf(request)),
    }),
  );
  app.delete(
    "/api/watches/:id",
    schema(
      "Deletes a watch and its pending deliveries",
      { 204: Type.Null(), ...errors },
      { params: WatchId },
    ),
    async (request, reply) => {
      await deps.watches.remove(owner(request), watchIdOf(request));
      return reply.code(204).send();
    },
  );
  app.post(
    "/api/watches/:id/test",
    schema("Sends a watch.test event now", ok(202), { params: WatchId }),
    async (request, reply) => {
      await deps.watches.test(owner(request), watchIdOf(request));
      return reply.code(202).send({ result: { queued: true } });
    },
  );
  app.post(
    "/api/watches/:id/secret",
    schema("Rotates the signing secret (the old one signs too for 24 hours)", ok(200), { params: WatchId }),
    async (request) => ({
      result: await deps.watches.rotateSecret(owner(request), watchIdOf(request)),
    }),
  );
  app.get(
    "/api/watches/:id/deliveries",
    schema("A watch's last 100 deliveries", ok(200), { params: WatchId }),
    async (request) => ({
      result: await deps.watches.deliveries(owner(request), watchIdOf(request)),
    }),
  );
  app.post(
    "/api/watches/:id/deliveries/:deliveryId/retry",
    schema("Tries a delivery again now", ok(202), { params: DeliveryParams }),
    async (request, reply) => {
      const { id, deliveryId } = request.params as Static<typeof DeliveryParams>;
      return reply.code(202).send({ result: await deps.watches.retry(owner(request), id, deliveryId) });
    },
  );
}

/** The watch a route's path names. */
const watchIdOf = (request: FastifyRequest) => (request.params as Static<typeof WatchId>).id;

/** Who asks: the key and its allowance, or, without a keys file, a client on this machine. */
function ownerOf(deps: WatchRouteDeps) {
  return (request: FastifyRequest): WatchOwner => {
    const key = request.apiKey;
    if (deps.keyed) {
      if (!key)
        throw new ApiError(
          401,
          "AUTH_REQUIRED",
          "Watches belong to API keys: send one (Authorization: Api-Key <key>).",
        );
      return { id: key.id, allowance: key.watches ?? 0 };
    }
    if (!isLoopbackName(request.ip))
      throw new ApiError(
        403,
        "WATCHES_FORBIDDEN",
        "Without API keys, only clients on this server's machine may make watches.",
      );
    return { id: "local", allowance: deps.maxWatches };
  };
}

/** The instance's own address, when it can be told; events then carry links to the post's files. */
function baseOf(deps: WatchRouteDeps, request: FastifyRequest): string | undefined {
  try {
    return deps.originOf(request);
  } catch {
    return undefined;
  }
}
