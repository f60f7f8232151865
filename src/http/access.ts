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

/**
 * An address as one client: an IPv6 one by its /64 (what one home or server is usually given, so a
 * client cannot rotate through its own block), with its /48 as the `site` that bounds all its /64s
 * together; an IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, Teredo) as that IPv4 address.
 * A forwarded address with a port or in brackets is read without them; anything else is refused, so that
 * a made-up `X-Forwarded-For` is never a new budget.
 */
export function clientAddress(ip: string | undefined): { client: string; site?: string } {
  // No address at all: the connection is already gone.
  const plain = plainAddress(ip ?? "");
  if (plain === undefined)
    throw new ApiError(400, "INVALID_REQUEST", "The forwarded client address is not an IP address.");
  if (!plain.includes(":")) return { client: plain };
  const address = ipaddr.IPv6.parse(plain);
  const carried = carriedIPv4(address);
  if (carried) return { client: carried };
  const prefix = (words: number) =>
    new ipaddr.IPv6([...address.parts.slice(0, words), ...Array(8 - words).fill(0)]).toString();
  return { client: prefix(4), site: `${prefix(3)}/48` };
}

/** An address as a proxy may forward it: `a.b.c.d:port`, `[v6]`, `[v6]:port`, a zone; or undefined. */
function plainAddress(raw: string): string | undefined {
  const text = raw.trim();
  const bracketed = /^\[([^\]]{1,64})\](?::\d{1,5})?$/.exec(text)?.[1];
  const candidate = (bracketed ?? text.replace(/^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/, "$1")).replace(
    /%.*$/,
    "",
  );
  if (ipaddr.IPv4.isValidFourPartDecimal(candidate)) return candidate;
  return ipaddr.IPv6.isValid(candidate) ? candidate : undefined;
}

/** The IPv4 address an IPv6 one carries: IPv4-mapped, 6to4 (2002::/16), Teredo (2001::/32, inverted). */
function carriedIPv4(address: ipaddr.IPv6): string | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  const [first = 0, second = 0, third = 0] = address.parts;
  const [, , , , , , high = 0, low = 0] = address.parts;
  const octets = (a: number, b: number) => [a >> 8, a & 0xff, b >> 8, b & 0xff].join(".");
  if (first === 0x2002) return octets(second, third);
  if (first === 0x2001 && second === 0) return octets(high ^ 0xffff, low ^ 0xffff);
  return undefined;
}

/**
 * A route's request hooks: the API key's check (where there is a keys file), then the route's limiter,
 * in that order (the limiter counts a key's requests against the key's budget).
 */
export const keyedAndLimited = (
  authenticate: RequestHook | undefined,
  rateLimit?: RequestHook,
): RequestHook[] => [...(authenticate ? [authenticate] : []), ...(rateLimit ? [rateLimit] : [])];

/** The downloads a minute a request may make: its key's limit, else the server's (`0`: unlimited). */
const downloadLimitOf = (request: Pick<FastifyRequest, "apiKey">, rateLimit: number) =>
  request.apiKey?.limit ?? (rateLimit > 0 ? rateLimit : "unlimited");

export const rateLimited = (ttlMs: number, max?: number) =>
  new ApiError(
    429,
    "RATE_LIMITED",
    `Too many requests${max === undefined ? "" : `: at most ${max} a minute`}; try again in ${Math.ceil(ttlMs / 1000)} s.`,
  );

/** The client's User-Agent, as an API key's `userAgents` are matched against it ("" without one). */
export const userAgentOf = (request: Pick<FastifyRequest, "headers">) => {
  const userAgent = request.headers["user-agent"];
  return typeof userAgent === "string" ? userAgent : "";
};

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
    request.apiKey = await checkKey(presented, request.ip, userAgentOf(request));
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
  // Who a request counts as: its API key, or its address (read once a request).
  const countHits: CountHits = async (space, request, amount, limit) => {
    const hits = (key: string, max: number) => services.countHits(key, RATE_WINDOW_MS, amount, max);
    if (request.apiKey) return hits(`${space}:key:${request.apiKey.id}`, limit);
    const { client, site } = clientAddress(request.ip);
    const own = await hits(`${space}:${client}`, limit);
    if (!site) return own;
    // Every /64 of one /48 together may spend only so many clients' budgets.
    const siteLimit = limit * config.ipv6SiteBudgets;
    const shared = await hits(`${space}:site:${site}`, siteLimit);
    return shared.count > siteLimit ? { ...shared, count: Math.max(own.count, limit + amount) } : own;
  };
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
