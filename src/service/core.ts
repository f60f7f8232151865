import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { createNotifier, TARGET_MAX_BYTES, TARGET_TIMEOUT_MS } from "../delivery/notify.js";
import { createRelay } from "../delivery/relay.js";
import { createTunnelSlots } from "../delivery/slots.js";
import { createStreamTokens } from "../delivery/token.js";
import { PLATFORMS, type Platform } from "../domain/platforms.js";
import { SourceHealth } from "../extraction/health.js";
import { createListing } from "../extraction/lists.js";
import { createPipeline } from "../extraction/pipeline.js";
import { browserClients } from "../net/browser-client.js";
import { type CookieFile, createCookieFile } from "../net/cookie-file.js";
import { createEgress } from "../net/egress.js";
import { createHttpClient, type HttpClient } from "../net/http-client.js";
import { createUpstreamMap } from "../net/upstreams.js";
import { createRegistry, SOURCES, upstreamNames } from "../sources/registry.js";
import type { SourceDescriptor } from "../sources/types.js";
import { createMemoryKeptStories, createRedisKeptStories } from "../stores/kept-stories.js";
import { createRedisLasting } from "../stores/lasting-redis.js";
import { createSqliteLasting } from "../stores/lasting-sqlite.js";
import { createMemoryLeases, createRedisLeases } from "../stores/leases.js";
import { createMemoryStore } from "../stores/memory.js";
import { createRateCounters } from "../stores/rate-counters.js";
import { createRedisStore } from "../stores/redis.js";
import { closeRedis, connectRedis, type RedisClient } from "../stores/redis-connect.js";
import { createRedisGuard } from "../stores/redis-guard.js";
import { createRedisHealthShare } from "../stores/redis-health.js";
import { createTieredStore } from "../stores/tiered.js";
import type { Store } from "../stores/types.js";
import { createApiKeys } from "./api-keys.js";
import { type Config, ConfigError } from "./config.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createScheduler } from "./scheduler.js";

/** Stories kept in memory for the downloads after their listing: a listing gives a few at a time. */
const MAX_KEPT_STORIES = 500;

/** Outcomes kept per source for its success rate and latency. */
const HEALTH_WINDOW = 50;

/** Everything a test may replace; the defaults are what production uses. */
export interface ServiceDeps {
  now?: () => number;
  random?: () => number;
  /** The sites whose links are taken (default: TikTok); every source serves one of them. */
  platforms?: readonly Platform[];
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
  /** The cookies to send to TikTok's own hosts instead of TIKTOK_COOKIES (a library user's own login). */
  tiktokCookies?: CookieFile;
  /** How long closing lets running upstream requests end before they are cut (default: a few seconds). */
  closeGraceMs?: number;
}

/**
 * The parts of the core, wired: the network, the sources, the store, the health book, the pipeline and
 * the listing, the tunnel's tokens, slots and relay, and the metrics. Only the use cases (services.ts)
 * see this; the faces never do. No module-level state: each call builds an isolated instance.
 */
export function buildCore(config: Config, deps: ServiceDeps) {
  const descriptors = deps.sources ?? SOURCES;
  const platforms = deps.platforms ?? PLATFORMS;
  const orphan = descriptors.find((source) => !platforms.some(({ name }) => name === source.platform));
  if (orphan)
    throw new Error(`the source "${orphan.name}" serves "${orphan.platform}", which does not run here`);
  // Every built-in source's override is known even when this instance runs fewer of them.
  checkNames(config, [...upstreamNames(platforms, [...SOURCES, ...descriptors]), "telegram"]);
  const enabled = enabledSources(config, descriptors);
  const now = deps.now ?? Date.now;
  const log = createLogger(config, deps);
  const network = buildNetwork(config, deps, { log, now, platforms });
  const tiktokCookies =
    deps.tiktokCookies ??
    (config.tiktokCookiesFile
      ? createCookieFile({
          path: config.tiktokCookiesFile,
          domain: "tiktok.com",
          now,
          log,
        })
      : undefined);
  const shared = buildStores(config, deps, log, now);
  const registry = createRegistry(descriptors, {
    egress: network.egress,
    upstreams: network.upstreams,
    now,
    tiktok: {
      stories: shared.keptStories,
      cookies: tiktokCookies,
      sessions: { size: config.tiktokSessions, maxAgeMs: config.tiktokSessionMaxAgeSeconds * 1000 },
    },
  });
  const apiKeys = config.apiKeysFile
    ? createApiKeys({ path: config.apiKeysFile, knownSources: descriptors.map((d) => d.name), now, log })
    : undefined;
  // A source the operator left out (SOURCES) is never contacted.
  const running = registry.all.filter((source) => enabled.has(source.name));
  const slots = createTunnelSlots(config.streamMaxConcurrent, {
    file: config.streamMaxPerClient,
    picture: config.picturesMaxPerClient,
  });
  const metrics = createMetrics({
    activeTunnels: () => slots.active,
    proxies: () => network.egress.health(),
  });
  const engine = buildEngine(config, deps, { ...network, ...shared, log, now, running, metrics, platforms });
  const scheduler = createScheduler({ leases: shared.leases, log });
  const tunnel = buildTunnel(config, now, engine, { descriptors, platforms }, network.egress);
  const { targets, notify } = buildNotifier(config, deps, network.upstreams, now);
  // The stream secret stays here: the tokens, built with it, are what the use cases get.
  const { pipeline, listing } = engine;
  return {
    config,
    log,
    now,
    registry,
    enabled,
    apiKeys,
    tiktokCookies,
    metrics,
    egress: network.egress,
    ...shared,
    pipeline,
    listing,
    ...tunnel,
    slots,
    scheduler,
    notify,
    async close() {
      await scheduler.stop();
      await targets.close();
      await registry.close();
      await network.egress.close();
      await network.close();
      await shared.close();
    },
  };
}

export type Core = ReturnType<typeof buildCore>;

/** Where watches' events go out: a client of their own (targets are not upstreams), and the notifier. */
function buildNotifier(
  config: Config,
  deps: ServiceDeps,
  upstreams: ReturnType<typeof createUpstreamMap>,
  now: () => number,
) {
  const targets = createHttpClient({
    upstreams,
    timeoutMs: TARGET_TIMEOUT_MS,
    maxBytes: TARGET_MAX_BYTES,
    allowPrivate: config.allowPrivateTargets,
    closeGraceMs: deps.closeGraceMs,
  });
  return { targets, notify: createNotifier({ http: targets, upstreams, now }) };
}

/** The HTTP clients and the ways out (proxies) every upstream request takes. */
function buildNetwork(
  config: Config,
  deps: ServiceDeps,
  context: { log: Logger; now: () => number; platforms: readonly Platform[] },
) {
  const { log, now } = context;
  const upstreams = createUpstreamMap(config.upstreams, context.platforms);
  const clientOptions = {
    upstreams,
    timeoutMs: config.upstreamTimeoutMs,
    maxBytes: config.upstreamMaxBytes,
    allowPrivate: config.allowPrivateUpstreams,
    closeGraceMs: deps.closeGraceMs,
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
      return { http: proxied, browser: browserFor(proxied, proxyUrl) };
    },
    now,
    restMs: config.proxyRestMs,
    log,
  });
  return { upstreams, egress, close: async () => ownHttp?.close() };
}

/** The cache (memory, or memory in front of Redis), the rate counters and the shared health book. */
function buildStores(config: Config, deps: ServiceDeps, log: Logger, now: () => number) {
  const ownRedis = !deps.redis && config.redis ? connectRedis(config.redis) : undefined;
  const redis = deps.redis ?? ownRedis;
  // Every Redis call goes through one guard: bounded waits, and none at all while Redis is down.
  const guard = redis ? createRedisGuard({ redis, now, log }) : undefined;
  // With Redis, memory is the near tier: short-lived copies, kept as they are.
  const memory = createMemoryStore({ maxEntries: config.cacheMaxEntries, now, compact: !redis });
  const far =
    redis && guard
      ? createRedisStore({
          redis,
          prefix: config.redisPrefix,
          maxTtlMs: config.cacheTtlSeconds * 1000,
          now,
        })
      : undefined;
  const store =
    deps.store ??
    (far && guard
      ? createTieredStore({ near: memory, far, guard, nearTtlMs: config.cacheLocalTtlSeconds * 1000, now })
      : memory);
  // Data that must last: one database file on one machine, Redis (which must persist) for several.
  const lasting = redis
    ? createRedisLasting({ redis, prefix: config.redisPrefix })
    : createSqliteLasting(join(config.dataDir, "tiktok-dl.db"));
  const health = new SourceHealth(now, {
    window: HEALTH_WINDOW,
    failureThreshold: config.circuitFailures,
    coolDownMs: config.circuitCooldownMs,
    hedgeFloorMs: config.hedgeFloorMs,
    share: redis
      ? createRedisHealthShare({ redis, prefix: config.redisPrefix, window: HEALTH_WINDOW, guard })
      : undefined,
  });
  return {
    redis,
    store,
    health,
    // Who runs a piece of background work: this process alone, or one instance of those sharing Redis.
    leases:
      redis && guard
        ? createRedisLeases({ redis, guard, prefix: config.redisPrefix })
        : createMemoryLeases(now),
    rateCounters: createRateCounters({ now, prefix: config.redisPrefix, redis, guard }),
    lasting,
    keptStories:
      redis && guard
        ? createRedisKeptStories({ redis, guard, prefix: config.redisPrefix })
        : createMemoryKeptStories({ max: MAX_KEPT_STORIES, now }),
    storeKind: redis ? ("redis" as const) : ("memory" as const),
    async close() {
      await store.close();
      await lasting.close();
      if (ownRedis) await closeRedis(ownRedis);
    },
  };
}

type EngineParts = Pick<ReturnType<typeof buildNetwork>, "egress"> &
  Pick<ReturnType<typeof buildStores>, "store" | "health"> & {
    log: Logger;
    now: () => number;
    running: ReturnType<typeof createRegistry>["all"];
    metrics: Metrics;
    platforms: readonly Platform[];
  };

/** The extraction pipeline and the listing over the running sources. */
function buildEngine(config: Config, deps: ServiceDeps, parts: EngineParts) {
  const { running, store, egress, health, now, log, metrics, platforms } = parts;
  // One source's whole extraction (it may make several requests) or one page of a list.
  const attemptTimeoutMs = config.upstreamTimeoutMs * 3;
  if (!config.streamSecret)
    log.warn(
      "STREAM_SECRET is not set: tunnel links are signed with a random key and work on this instance only",
    );
  const secret = config.streamSecret ?? randomBytes(32).toString("hex");
  const pipeline = createPipeline({
    platforms,
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
  return { pipeline, listing, secret };
}

/** The tunnel: signed links, and the relay that fetches their files. */
function buildTunnel(
  config: Config,
  now: () => number,
  engine: ReturnType<typeof buildEngine>,
  { descriptors, platforms }: { descriptors: readonly SourceDescriptor[]; platforms: readonly Platform[] },
  egress: ReturnType<typeof createEgress>,
) {
  const tokens = createStreamTokens({ secret: engine.secret, ttlMs: config.streamTtlSeconds * 1000, now });
  const upstreamOf = new Map(descriptors.map((descriptor) => [descriptor.name, descriptor.upstream]));
  const relay = createRelay({
    posts: engine.pipeline,
    egress,
    upstreamOf: (source) => upstreamOf.get(source) ?? "default",
    mediaHostAllowed: mediaHostRule(descriptors, platforms),
    maxBytes: config.streamMaxBytes,
  });

  return { tokens, relay };
}

/** A platform's own source (its upstream is the platform's) relays only from the platform's own hosts. */
function mediaHostRule(descriptors: readonly SourceDescriptor[], platforms: readonly Platform[]) {
  const own = new Map<string, Platform>();
  for (const descriptor of descriptors) {
    const platform = platforms.find((candidate) => candidate.name === descriptor.platform);
    if (platform && platform.upstream === descriptor.upstream) own.set(descriptor.name, platform);
  }
  return (source: string, host: string) => own.get(source)?.ownsHost(host) ?? true;
}

function createLogger(config: Config, deps: ServiceDeps): Logger {
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

/** Proxy pools and origin overrides must name a known upstream (`PROXY_<NAME>`, `UPSTREAM_<NAME>`). */
function checkNames(config: Config, known: string[]) {
  const variable = (prefix: string) => (name: string) => `${prefix}${name.toUpperCase()}`;
  const upstreams = Object.keys(config.upstreams).filter((name) => !known.includes(name));
  if (upstreams.length > 0)
    throw new ConfigError(
      `Unknown upstream override(s): ${upstreams.map(variable("UPSTREAM_")).join(", ")}; ` +
        `known: ${known.map(variable("UPSTREAM_")).join(", ")}.`,
    );
  const proxies = Object.keys(config.proxies).filter((name) => name !== "default" && !known.includes(name));
  if (proxies.length > 0)
    throw new ConfigError(
      `Unknown proxy pool(s): ${proxies.map(variable("PROXY_")).join(", ")}; ` +
        `known: PROXY_URL, ${known.map(variable("PROXY_")).join(", ")}.`,
    );
}
