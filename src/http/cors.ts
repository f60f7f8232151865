import type { TypedApp } from "./types.js";

/** What a browser script on another origin may read of an answer, besides the simple headers. */
const EXPOSED_HEADERS = [
  "Retry-After",
  "Content-Disposition",
  "Content-Length",
  "Content-Range",
  "Accept-Ranges",
  "X-RateLimit-Limit",
  "X-RateLimit-Remaining",
  "X-RateLimit-Reset",
].join(", ");

/** What a preflight is told: the API's methods and the headers a request may carry, for a day. */
const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, HEAD, POST",
  "access-control-allow-headers": "Content-Type, Authorization",
  "access-control-max-age": "86400",
};

/**
 * CORS for browsers on other origins (the API uses no cookies, so `*` is a safe default). Every answer
 * carries the policy; any OPTIONS request is answered 204 here, before a key is asked for, as browsers
 * send preflights without credentials (and an OPTIONS without Origin is a plain question, not an error).
 * The policy is fixed at start, so a request costs two or three header writes: what @fastify/cors did
 * with a copy of its options and the route's options on every request.
 */
export function registerCors(app: TypedApp, origins: "*" | string[]) {
  const allowed = origins === "*" ? undefined : new Set(origins);
  app.addHook("onRequest", (request, reply, done) => {
    if (allowed === undefined) reply.header("access-control-allow-origin", "*");
    else {
      // The answer depends on the Origin header: caches must keep one copy per origin.
      reply.header("vary", "Origin");
      const origin = request.headers.origin;
      if (origin !== undefined && allowed.has(origin)) reply.header("access-control-allow-origin", origin);
    }
    reply.header("access-control-expose-headers", EXPOSED_HEADERS);
    if (request.method !== "OPTIONS") return done();
    reply.headers(PREFLIGHT_HEADERS).code(204).header("content-length", "0").send();
  });
}
