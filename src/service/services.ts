import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { accessSync, constants } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type DestinationStream, type LoggerOptions, pino } from "pino";
import { createRelay } from "../delivery/relay.js";
import { createTunnelSlots } from "../delivery/slots.js";
import { createStreamTokens } from "../delivery/token.js";
import { SourceHealth } from "../extraction/health.js";
import { createListing, type ListRequest } from "../extraction/lists.js";
import { createPipeline, type DownloadRequest } from "../extraction/pipeline.js";
import { browserClients } from "../net/browser-client.js";
import { createCookieFile } from "../net/cookie-file.js";
import { createEgress } from "../net/egress.js";
import { createHttpClient, type HttpClient } from "../net/http-client.js";
import { createUpstreamMap } from "../net/upstreams.js";
import { createPowSolver } from "../sources/native/pow-solver.js";
import { createRegistry, SOURCES, upstreamNames } from "../sources/registry.js";
import type { SourceDescriptor } from "../sources/types.js";
import { createMemoryStore } from "../stores/memory.js";
import { createRateCounters } from "../stores/rate-counters.js";
import { createRedisStore } from "../stores/redis.js";
import { closeRedis, connectRedis, type RedisClient, type RedisTarget } from "../stores/redis-connect.js";
import { createRedisGuard } from "../stores/redis-guard.js";
import { createRedisHealthShare } from "../stores/redis-health.js";
import { createTieredStore } from "../stores/tiered.js";
import type { Store } from "../stores/types.js";
import { createAnswers } from "./answers.js";
import { createApiKeys } from "./api-keys.js";
import { type Config, ConfigError } from "./config.js";
import { createMetrics } from "./metrics.js";
import { packageVersion } from "./version.js";

/** Outcomes kept per source for its success rate and latency. */
const HEALTH_WINDOW = 50;

/** Everything a test may replace; the defaults are what production uses. */
export interface ServiceDeps {
  now?: () => number;
  random?: () => number;
  /** The sources to run (default: every built-in one). */
  sources?: readonly SourceDescriptor[];
  /** An HTTP client the services use instead of their own (not closed by them). */
  http?: HttpClient;
  /** The browser-like client for TikTok's pages and short links (default: impit over `http`'s guards). */
  browser?: HttpClient;
  store?: Store;
  /** A Redis connection used instead of one opened from the configuration (not closed by the services). */
  redis?: RedisClient;
  /** Pino options, or `false` for none; default: JSON logs at the configured level. */
  logger?: boolean | LoggerOptions;
  /** Where the log lines go (default: standard output). */
  logStream?: DestinationStream;
}

/**
 * The core every face (HTTP app, CLI, library) shares: the HTTP client, the sources, the store, the
 * health book, the pipeline, the tunnel's tokens and relay, and the metrics. No module-level state:
 * each call builds an isolated instance. `close()` closes what it opened, nothing it was given.
 */
export function createServices(config: Config, deps: ServiceDeps = {}) {
  const descriptors = deps.sources ?? SOURCES;
  // Every built-in source's override is known even when this instance runs fewer of them.
  checkUpstreamNames(config, upstreamNames([...SOURCES, ...descriptors]));
  checkProxyNames(config, upstreamNames([...SOURCES, ...descriptors]));
  const enabled = enabledSources(config, descriptors);
  const now = deps.now ?? Date.now;
  const log = createLogger(config, deps);
  const upstreams = createUpstreamMap(config.upstreams);
  const clientOptions = {
    upstreams,
    timeoutMs: config.upstreamTimeoutMs,
    maxBytes: config.upstreamMaxBytes,
    allowPrivate: config.allowPrivateUpstreams,
  };
  const ownHttp = deps.http ? undefined : createHttpClient(clientOptions);
  const http = deps.http ?? (ownHttp as HttpClient);
  const browserFor = browserClients({ ...clientOptions, log });
  const browser = deps.browser ?? browserFor(http);
  const egress = createEgress({
    pools: config.proxies,
    clients: (proxyUrl) => {
      if (!proxyUrl) return { http, browser };
      const proxied = createHttpClient({ ...clientOptions, proxyUrl });
      return {
        http: proxied,
        browser: browserFor(proxied, proxyUrl),
      };
    },
    now,
    restMs: config.proxyRestMs,
    log,
  });
  if (config.tiktokCookiesFile) checkReadable("TIKTOK_COOKIES", config.tiktokCookiesFile);
  const tiktokCookies = config.tiktokCookiesFile
    ? createCookieFile({ path: config.tiktokCookiesFile, domain: "tiktok.com", now, log })
    : undefined;
  const powSolver = createPowSolver();
  const registry = createRegistry(descriptors, {
    egress,
    upstreams,
    now,
    tiktokCookies,
    powSolver,
    tiktokSessions: { size: config.tiktokSessions, maxAgeMs: config.tiktokSessionMaxAgeSeconds * 1000 },
  });
  const apiKeys = config.apiKeysFile
    ? createApiKeys({
        path: config.apiKeysFile,
        knownSources: descriptors.map((descriptor) => descriptor.name),
        now,
        log,
      })
    : undefined;

  const ownRedis = !deps.redis && config.redis ? connectRedis(config.redis) : undefined;
  const redis = deps.redis ?? ownRedis;
  // Every Redis call goes through one guard: bounded waits, and none at all while Redis is down.
  const guard = redis ? createRedisGuard({ redis, now, log }) : undefined;
  // With Redis, memory is the near tier: short-lived copies, kept as they are.
  const memory = createMemoryStore({ maxEntries: config.cacheMaxEntries, now, compact: !redis });
  const store =
    deps.store ??
    (redis && guard
      ? createTieredStore({
          near: memory,
          far: createRedisStore({
            redis,
            prefix: config.redisPrefix,
            maxTtlMs: config.cacheTtlSeconds * 1000,
            now,
          }),
          guard,
          nearTtlMs: config.cacheLocalTtlSeconds * 1000,
          now,
        })
      : memory);
  const rateCounters = createRateCounters({ now, prefix: config.redisPrefix, redis, guard });
  const health = new SourceHealth(now, {
    window: HEALTH_WINDOW,
    failureThreshold: config.circuitFailures,
    coolDownMs: config.circuitCooldownMs,
    hedgeFloorMs: config.hedgeFloorMs,
    share: redis
      ? createRedisHealthShare({ redis, prefix: config.redisPrefix, window: HEALTH_WINDOW, guard })
      : undefined,
  });

  if (!config.streamSecret)
    log.warn(
      "STREAM_SECRET is not set: tunnel links are signed with a random key and work on this instance only",
    );
  const secret = config.streamSecret ?? randomBytes(32).toString("hex");
  const tokens = createStreamTokens({
    secret,
    ttlMs: config.streamTtlSeconds * 1000,
    now,
  });
  const slots = createTunnelSlots(config.streamMaxConcurrent, config.streamMaxPerClient);
  const metrics = createMetrics({ activeTunnels: () => slots.active, proxies: () => egress.health() });

  // A source the operator left out (SOURCES) is never contacted.
  const running = registry.all.filter((source) => enabled.has(source.name));
  // One source's whole extraction (it may make several requests) or one page of a list.
  const attemptTimeoutMs = config.upstreamTimeoutMs * 3;
  const pipeline = createPipeline({
    sources: running,
    store,
    egress,
    health,
    now,
    random: deps.random ?? Math.random,
    log,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    negativeCacheTtlMs: config.negativeCacheTtlSeconds * 1000,
    maxAttempts: config.maxAttempts,
    attemptTimeoutMs,
    observe: {
      attempt: (event) =>
        metrics.attempts.inc({ source: event.source, outcome: event.ok ? "ok" : (event.reason ?? "error") }),
      cacheLookup: (hit) => metrics.cache.inc({ result: hit ? "hit" : "miss" }),
    },
  });
  const listing = createListing({
    sources: running,
    health,
    store,
    egress,
    now,
    log,
    cacheTtlMs: config.listCacheTtlSeconds * 1000,
    secret,
    attemptTimeoutMs,
  });
  const upstreamOf = new Map(descriptors.map((descriptor) => [descriptor.name, descriptor.upstream]));
  const relay = createRelay({
    // A session's media go out the way the session was made; other media, through their source's pool.
    clientFor: (extraction, source) =>
      (egress.byId(extraction.session?.route) ?? egress.pick(upstreamOf.get(source) ?? "default")).http,
    cached: (postId, source) => pipeline.cached(postId, source),
    reextract: (postId, source) => pipeline.reextract(postId, source),
    maxBytes: config.streamMaxBytes,
  });
  const answerOf = createAnswers({ tokens, now, streamTtlMs: config.streamTtlSeconds * 1000 });

  return {
    config,
    log,
    now,
    http,
    registry,
    /** Whether the operator runs this source (`SOURCES`). */
    isEnabled: (name: string) => enabled.has(name),
    store,
    storeKind: redis ? ("redis" as const) : ("memory" as const),
    /** Rate-limit counters: shared through Redis when there is one, in memory while it is down. */
    rateCounters,
    health,
    tokens,
    slots,
    relay,
    metrics,
    pipeline,
    startedAt: now(),
    /** The package's version (package.json), shown by /api, /api/health, the OpenAPI document and the CLI. */
    version: packageVersion(),
    /** Resolves once Redis is connected (at most a couple of seconds; without it the service starts anyway). */
    apiKeys,
    async ready() {
      await apiKeys?.ready();
      // The cookies file is read now, so that a file of no use is reported at start.
      await tiktokCookies?.current();
      if (!redis || redis.status === "ready") return;
      await Promise.race([once(redis, "ready"), sleep(2_000)]).catch(() => {});
      // Read again after the wait: the status may have changed meanwhile.
      if ((redis.status as string) !== "ready" && config.redis)
        log.warn(
          { [redisVariable(config.redis)]: redisWhere(config.redis) },
          `${redisVariable(config.redis)}: Redis does not answer; serving without it (memory cache, in-process single flight and rate limits) until it does`,
        );
    },
    /** A post's v1 result, with its tunnel links. */
    download: async (request: DownloadRequest) => answerOf(await pipeline.download(request)),
    /** One page of a profile, collection or playlist. */
    list: (request: ListRequest) => listing.page(request),
    /** Several posts' results in order, `limit` at a time; one extraction per distinct post and options. */
    downloadMany: async (requests: readonly DownloadRequest[], limit: number) =>
      (await pipeline.downloadMany(requests, limit)).map((settled) =>
        settled.ok ? { ok: true as const, value: answerOf(settled.value) } : settled,
      ),
    egress,
    async close() {
      await powSolver.close();
      await egress.close();
      await ownHttp?.close();
      await store.close();
      if (ownRedis) await closeRedis(ownRedis);
    },
  };
}

export type Services = ReturnType<typeof createServices>;

function createLogger(config: Config, deps: ServiceDeps) {
  const options: LoggerOptions =
    deps.logger === false
      ? { level: "silent" }
      : { level: config.logLevel, ...(typeof deps.logger === "object" ? deps.logger : {}) };
  return deps.logStream ? pino(options, deps.logStream) : pino(options);
}

function enabledSources(config: Config, descriptors: readonly SourceDescriptor[]): ReadonlySet<string> {
  const names = descriptors.map((descriptor) => descriptor.name);
  const unknown = (config.sources ?? []).filter((name) => !names.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(`SOURCES: unknown source(s) ${unknown.join(", ")}; known: ${names.join(", ")}.`);
  return new Set(config.sources ?? names);
}

function checkProxyNames(config: Config, known: string[]) {
  const unknown = Object.keys(config.proxies).filter((name) => name !== "default" && !known.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `Unknown proxy pool(s): ${unknown.map((name) => `PROXY_${name.toUpperCase()}`).join(", ")}; ` +
        `known: PROXY_URL, ${known.map((name) => `PROXY_${name.toUpperCase()}`).join(", ")}.`,
    );
}

function checkUpstreamNames(config: Config, known: string[]) {
  const unknown = Object.keys(config.upstreams).filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `Unknown upstream override(s): ${unknown.map((name) => `UPSTREAM_${name.toUpperCase()}`).join(", ")}; ` +
        `known: ${known.map((name) => `UPSTREAM_${name.toUpperCase()}`).join(", ")}.`,
    );
}

/** An operator's file named in the configuration must be there at start, like a keys file. */
function checkReadable(variable: string, path: string) {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** The variable that names the shared store, for messages. */
const redisVariable = (target: RedisTarget) =>
  target.kind === "node"
    ? "REDIS_URL"
    : target.kind === "cluster"
      ? "REDIS_CLUSTER_NODES"
      : "REDIS_SENTINELS";

/** Where the shared store is, without any password. */
function redisWhere(target: RedisTarget): string {
  if (target.kind === "cluster") return target.nodes.map((node) => `${node.host}:${node.port}`).join(",");
  if (target.kind === "sentinel")
    return target.sentinels.map((node) => `${node.host}:${node.port}`).join(",");
  try {
    const url = new URL(target.url);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return "(an unreadable URL)";
  }
}
