import type { FastifyRequest } from "fastify";
import ipaddr from "ipaddr.js";
import { ApiError } from "../domain/errors.js";
import type { KeyGrant } from "../service/api-keys.js";
import type { Config } from "../service/config.js";
import type { Services } from "../service/types.js";
import type { RequestHook } from "./types.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The grant of the API key the request presented, if any. */
    apiKey?: KeyGrant;
  }
}

const RATE_WINDOW_MS = 60_000;
const API_KEY_HEADER = /^Api-Key\s+(\S{1,512})\s*$/i;

/** Who a request counts as: its API key, or its address (an IPv6 one by its /64). */
export const clientKey = (space: string, request: Pick<FastifyRequest, "apiKey" | "ip">) =>
  request.apiKey ? `${space}:key:${request.apiKey.id}` : `${space}:${clientAddress(request.ip)}`;

/**
 * An address as one client: an IPv6 one by its /64 (what one home or server is usually given, so a
 * client cannot rotate through its own block), an IPv4-mapped one as the IPv4 address it is.
 */
function clientAddress(ip: string): string {
  if (!ip.includes(":") || !ipaddr.IPv6.isValid(ip)) return ip;
  const address = ipaddr.IPv6.parse(ip);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return new ipaddr.IPv6([...address.parts.slice(0, 4), 0, 0, 0, 0]).toString();
}

/** The downloads a minute a request may make: its key's limit, else the server's (`0`: unlimited). */
const downloadLimitOf = (request: Pick<FastifyRequest, "apiKey">, rateLimit: number) =>
  request.apiKey?.limit ?? (rateLimit > 0 ? rateLimit : "unlimited");

export const rateLimited = (ttlMs: number, max?: number) =>
  new ApiError(
    429,
    "RATE_LIMITED",
    `Too many requests${max === undefined ? "" : `: at most ${max} a minute`}; try again in ${Math.ceil(ttlMs / 1000)} s.`,
  );

/**
 * Reads `Authorization: Api-Key <key>` (cobalt's convention). Without a keys file the header is ignored;
 * with one, a presented key must be valid (401), used from its addresses (403); without a key the request
 * is anonymous, unless API_AUTH_REQUIRED (401 AUTH_REQUIRED).
 */
export function authenticate(services: Pick<Services, "checkKey" | "config">): RequestHook | undefined {
  const { checkKey, config } = services;
  if (!checkKey) return undefined;
  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || header === "") {
      if (config.apiAuthRequired)
        throw new ApiError(
          401,
          "AUTH_REQUIRED",
          "This server needs an API key: Authorization: Api-Key <key>.",
        );
      return;
    }
    const presented = API_KEY_HEADER.exec(header)?.[1];
    if (!presented)
      throw new ApiError(401, "INVALID_API_KEY", "The Authorization header must be: Api-Key <key>.");
    const userAgent = request.headers["user-agent"];
    request.apiKey = await checkKey(presented, request.ip, typeof userAgent === "string" ? userAgent : "");
  };
}

/** Counts `amount` hits against a client's budget in one key space, for the current minute. */
type CountHits = (
  space: string,
  request: FastifyRequest,
  amount: number,
  limit: number,
) => ReturnType<Services["countHits"]>;

/**
 * The budgets of one client (its API key, or its address): one for the download API (GET, POST and each
 * link of a batch, and the extractions stale tunnel links cause), another for tunnel requests.
 */
export function clientBudgets(services: Pick<Services, "config" | "countHits">) {
  const { config } = services;
  const limitOf = (request: FastifyRequest) => downloadLimitOf(request, config.rateLimit);
  const countHits: CountHits = (space, request, amount, limit) =>
    services.countHits(clientKey(space, request), RATE_WINDOW_MS, amount, limit);
  /** Spends downloads from a request's budget outside the per-request limiter: how many it may make. */
  const spendDownloads = async (request: FastifyRequest, amount: number) => {
    const limit = limitOf(request);
    if (limit === "unlimited") return { granted: amount, retryAfterS: 0 };
    const { count, ttlMs } = await countHits("download", request, amount, limit);
    return {
      granted: Math.max(0, Math.min(amount, limit - (count - amount))),
      retryAfterS: Math.ceil(ttlMs / 1000),
    };
  };
  const streamLimit = config.streamRateLimit;
  return {
    downloadLimiter: limiter("download", limitOf, countHits),
    streamLimiter: streamLimit > 0 ? limiter("stream", () => streamLimit, countHits) : undefined,
    spendDownloads,
  };
}

/**
 * A route's limiter: each request counts one against its client's budget for the minute (in the shared
 * counters) and is told where it stands in `X-RateLimit-Limit`, `-Remaining` and `-Reset`; past the
 * limit it gets a 429 with `Retry-After`.
 */
function limiter(
  space: string,
  limitOf: (request: FastifyRequest) => number | "unlimited",
  countHits: CountHits,
): RequestHook {
  return async (request, reply) => {
    const limit = limitOf(request);
    if (limit === "unlimited") return;
    const { count, ttlMs } = await countHits(space, request, 1, limit);
    const resetS = Math.ceil(ttlMs / 1000);
    reply.header("x-ratelimit-limit", limit);
    reply.header("x-ratelimit-remaining", Math.max(0, limit - count));
    reply.header("x-ratelimit-reset", resetS);
    if (count <= limit) return;
    reply.header("retry-after", resetS);
    throw rateLimited(ttlMs, limit);
  };
}

/** `STORED_LINKS`: everyone (v1), key holders only, or no one (the route answers as if it did not exist). */
export function storedLinksGuard(mode: Config["storedLinks"], auth: RequestHook | undefined): RequestHook[] {
  if (mode === "public") return [];
  const gate: RequestHook = async (request) => {
    if (mode === "off")
      throw new ApiError(404, "ROUTE_NOT_FOUND", "There is no GET /api/stored-links endpoint; see GET /api.");
    if (!request.apiKey)
      throw new ApiError(
        401,
        "AUTH_REQUIRED",
        "Listing the stored links needs an API key: Authorization: Api-Key <key>.",
      );
  };
  return [...(auth ? [auth] : []), gate];
}
