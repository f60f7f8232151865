import { randomBytes } from "node:crypto";
import formBody from "@fastify/formbody";
import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { Redis } from "ioredis";
import { streamLinksFor } from "../delivery/links.js";
import { createStreamTokens } from "../delivery/token.js";
import { ApiError } from "../domain/errors.js";
import { SourceHealth } from "../extraction/health.js";
import { createPipeline } from "../extraction/pipeline.js";
import { createHttpClient, type HttpClient } from "../net/http-client.js";
import { createUpstreamMap } from "../net/upstreams.js";
import { type Config, ConfigError } from "../service/config.js";
import { createMetrics, metricsRoutes } from "../service/metrics.js";
import { createRegistry, SOURCE_FACTORIES, upstreamNameOf } from "../sources/registry.js";
import type { SourceFactory } from "../sources/types.js";
import { createMemoryStore } from "../stores/memory.js";
import { createRedisStore } from "../stores/redis.js";
import { createRedisHealthShare } from "../stores/redis-health.js";
import type { Store } from "../stores/types.js";
import { registerDocs } from "./docs.js";
import { frameworkErrors, installErrorHandlers } from "./errors.js";
import { BODY_LIMIT_BYTES, downloadRoutes } from "./routes/download.js";
import { infoRoutes } from "./routes/info.js";
import { tunnelRoutes } from "./routes/stream.js";
import { webRoutes } from "./web.js";

/** Outcomes kept per source for its success rate and latency. */
const HEALTH_WINDOW = 50;

/** Everything a test may replace; the defaults are what production uses. */
export interface AppDeps {
  now?: () => number;
  random?: () => number;
  sources?: readonly SourceFactory[];
  http?: HttpClient;
  store?: Store;
  /** A Redis connection the app uses instead of opening its own from REDIS_URL (not closed by the app). */
  redis?: Redis;
  /** Pino options or `false`; defaults to JSON logs at the configured level. */
  logger?: boolean | object;
}

/** Builds one isolated instance of the service: no module-level state, so tests run many side by side. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const upstreams = createUpstreamMap(config.upstreams);
  const http =
    deps.http ??
    createHttpClient({
      upstreams,
      timeoutMs: config.upstreamTimeoutMs,
      maxBytes: config.upstreamMaxBytes,
      allowPrivate: config.allowPrivateUpstreams,
    });
  const registry = createRegistry(deps.sources ?? SOURCE_FACTORIES, { http, upstreams, now });
  // Every built-in source's override is known even when this app runs fewer (tests, operators' picks);
  // TikTok itself is always an upstream: short links resolve there whatever the sources.
  const builtIn = createRegistry(SOURCE_FACTORIES, { http, upstreams, now }).all;
  checkUpstreamNames(config, ["tiktok", ...new Set([...builtIn, ...registry.all].map(upstreamNameOf))]);

  const ownRedis = !deps.redis && config.redisUrl ? connectRedis(config.redisUrl) : undefined;
  const redis = deps.redis ?? ownRedis;
  const store =
    deps.store ??
    (redis
      ? createRedisStore({ redis, prefix: config.redisPrefix, maxTtlMs: config.cacheTtlSeconds * 1000, now })
      : createMemoryStore({ maxEntries: config.cacheMaxEntries, now }));
  const health = new SourceHealth(now, {
    window: HEALTH_WINDOW,
    failureThreshold: config.circuitFailures,
    coolDownMs: config.circuitCooldownMs,
    hedgeFloorMs: config.hedgeFloorMs,
    share: redis
      ? createRedisHealthShare({ redis, prefix: config.redisPrefix, window: HEALTH_WINDOW })
      : undefined,
  });

  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    // Tunnel tokens are path parameters of a few hundred to a few thousand characters.
    routerOptions: { maxParamLength: 8192 },
    frameworkErrors,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // Our own request ids; clients' x-request-id headers are not trusted.
    genReqId: (() => {
      let next = 0;
      return () => (++next).toString(36);
    })(),
  });

  app.addHook("onResponse", (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        // Tunnel tokens are credentials: never written to logs.
        path: request.url
          .split("?")[0]
          ?.replace(/^\/api\/stream\/.+/, "/api/stream/<token>")
          .slice(0, 200),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ip: request.ip,
      },
      "request",
    );
    done();
  });
  // While closing, answers ask clients to drop keep-alive sockets so the server can stop promptly.
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (draining) reply.header("connection", "close");
    done(null, payload);
  });
  app.addHook("onClose", async () => {
    if (!deps.http) await http.close();
    await store.close();
    if (ownRedis) await ownRedis.quit().catch(() => ownRedis.disconnect());
  });

  installErrorHandlers(app);
  // Bodies are JSON or a form; anything else is a 415, not a string that fails validation.
  app.removeContentTypeParser("text/plain");
  await app.register(formBody, { bodyLimit: BODY_LIMIT_BYTES });
  await registerDocs(app);
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${config.redisPrefix}rate:` } : {}),
    // A broken Redis must not take the API down with it.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        "RATE_LIMITED",
        `Too many requests: at most ${context.max} a minute; try again in ${Math.ceil(context.ttl / 1000)} s.`,
      ),
  });

  if (!config.streamSecret)
    app.log.warn(
      "STREAM_SECRET is not set: tunnel links are signed with a random key and work on this instance only",
    );
  const tokens = createStreamTokens({
    secret: config.streamSecret ?? randomBytes(32).toString("hex"),
    ttlMs: config.streamTtlSeconds * 1000,
    now,
  });

  // The tunnel gauge reads the tunnel's own count, which exists once its routes do.
  let activeTunnels = () => 0;
  const metrics = createMetrics({ activeTunnels: () => activeTunnels() });
  metricsRoutes(app, metrics);

  const pipeline = createPipeline({
    sources: registry.all,
    store,
    http,
    health,
    now,
    random: deps.random ?? Math.random,
    log: app.log,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    negativeCacheTtlMs: config.negativeCacheTtlSeconds * 1000,
    maxAttempts: config.maxAttempts,
    attemptTimeoutMs: config.upstreamTimeoutMs * 3,
    streamLinks: (extraction, provider) =>
      streamLinksFor(tokens, extraction.media, extraction.session, provider),
    // Links in a reused answer keep at least three quarters of their life.
    hitReuseMs: (config.streamTtlSeconds * 1000) / 4,
    observe: {
      attempt: (event) =>
        metrics.attempts.inc({ source: event.source, outcome: event.ok ? "ok" : (event.reason ?? "error") }),
      cacheLookup: (hit) => metrics.cache.inc({ result: hit ? "hit" : "miss" }),
    },
  });

  // One budget per client for the download API (GET and POST together) and another for the tunnel,
  // each in its own key space, in Redis when there is one.
  const limiter = (max: number, space: string) =>
    max > 0
      ? app.rateLimit({
          max,
          timeWindow: 60_000,
          keyGenerator: (request) => `${space}:${normalizeIP(request.ip, 64)}`,
        })
      : undefined;
  const downloadLimit = limiter(config.rateLimit, "download");
  downloadRoutes(app, { pipeline, sources: registry.all, rateLimit: downloadLimit });
  const streamLimit = limiter(config.streamRateLimit, "stream");
  webRoutes(app);
  ({ activeTunnels } = tunnelRoutes(app, {
    tokens,
    http,
    pipeline,
    maxConcurrent: config.streamMaxConcurrent,
    maxBytes: config.streamMaxBytes,
    rateLimit: streamLimit,
  }));
  infoRoutes(app, {
    sources: registry.all,
    health,
    store,
    pipeline,
    storeKind: redis ? "redis" : "memory",
    startedAt: now(),
    now,
  });
  return app;
}

function checkUpstreamNames(config: Config, known: string[]) {
  const unknown = Object.keys(config.upstreams).filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `Unknown upstream override(s): ${unknown.map((name) => `UPSTREAM_${name.toUpperCase()}`).join(", ")}; ` +
        `known: ${known.map((name) => `UPSTREAM_${name.toUpperCase()}`).join(", ")}.`,
    );
}

/** A number means "trust that many proxy hops", as in Express; Fastify takes it as a function. */
function trustProxyOption(value: Config["trustProxy"]) {
  if (typeof value !== "number") return value;
  return (_address: string, hop: number) => hop < value;
}

function connectRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  // Errors surface per command (the cache then falls back); an unhandled 'error' event would crash.
  redis.on("error", () => {});
  return redis;
}
