import cors from "@fastify/cors";
import { normalizeIP } from "@fastify/rate-limit";
import type { FastifyRequest } from "fastify";
import { ApiError } from "../domain/errors.js";
import type { KeyGrant } from "../service/api-keys.js";
import type { Services } from "../service/services.js";
import type { RequestHook, TypedApp } from "./types.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The grant of the API key the request presented, if any. */
    apiKey?: KeyGrant;
  }
}

export const RATE_WINDOW_MS = 60_000;
const API_KEY_HEADER = /^Api-Key\s+(\S{1,512})\s*$/i;

/** Who a request counts as: its API key, or its address. */
export const clientKey = (space: string, request: Pick<FastifyRequest, "apiKey" | "ip">) =>
  request.apiKey ? `${space}:key:${request.apiKey.id}` : `${space}:${normalizeIP(request.ip, 64)}`;

/** The downloads a minute a request may make: its key's limit, else the server's (`0`: unlimited). */
export function downloadLimitOf(request: Pick<FastifyRequest, "apiKey">, rateLimit: number) {
  const limit = request.apiKey?.limit ?? (rateLimit > 0 ? rateLimit : "unlimited");
  return limit;
}

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
export function authenticate(services: Pick<Services, "apiKeys" | "config">): RequestHook | undefined {
  const { apiKeys, config } = services;
  if (!apiKeys) return undefined;
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
    request.apiKey = await apiKeys.check(
      presented,
      request.ip,
      typeof userAgent === "string" ? userAgent : "",
    );
  };
}

/** A key limited to some sources may not name another (403); with "random" it rotates among its own. */
export function allowedSourcesFor(request: Pick<FastifyRequest, "apiKey">, source: string) {
  const allowed = request.apiKey?.sources;
  if (!allowed) return undefined;
  if (allowed.length === 0)
    throw new ApiError(
      403,
      "API_KEY_SOURCE_FORBIDDEN",
      "This API key may not use this service (allowedServices).",
    );
  if (source !== "random" && !allowed.includes(source))
    throw new ApiError(
      403,
      "API_KEY_SOURCE_FORBIDDEN",
      `This API key may use only these sources: ${allowed.join(", ")}.`,
    );
  return allowed;
}

/** CORS for browsers on other origins: the API uses no cookies, so `*` is a safe default. */
export async function registerCors(app: TypedApp, origins: "*" | string[]) {
  await app.register(cors, {
    origin: origins,
    methods: ["GET", "HEAD", "POST"],
    allowedHeaders: ["Content-Type", "Authorization"],
    exposedHeaders: [
      "Retry-After",
      "Content-Disposition",
      "Content-Length",
      "Content-Range",
      "Accept-Ranges",
      "X-RateLimit-Limit",
      "X-RateLimit-Remaining",
      "X-RateLimit-Reset",
    ],
    maxAge: 86_400,
  });
}
