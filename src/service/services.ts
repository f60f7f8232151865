import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { itemsOfPages, pageSizes } from "../domain/lists.js";
import type { DownloadRequest, Settled } from "../domain/requests.js";
import type { RedisTarget } from "../stores/redis-connect.js";
import { createAnswers, withPictureLinks } from "./answers.js";
import { checkAllowedSource, checkDownloadRequest } from "./checks.js";
import { type Config, ConfigError } from "./config.js";
import { buildCore, type Core, type ServiceDeps } from "./core.js";
import { createOpenFile } from "./open-file.js";
import type { HealthReport, ProviderInfo, Services } from "./types.js";
import { packageVersion } from "./version.js";
import { checkTarget } from "./watch-targets.js";
import { createWatches } from "./watches.js";

export type { ServiceDeps, Services };

/**
 * The core's use cases, the one door every face (HTTP app, CLI, library) goes through. No module-level
 * state: each call builds an isolated instance. `close()` closes what it opened, nothing it was given.
 */
export function createServices(config: Config, deps: ServiceDeps = {}): Services {
  const core = buildCore(config, deps);
  const { pipeline, listing, store, log } = core;
  const answerOf = createAnswers({
    tokens: core.tokens,
    now: core.now,
    streamTtlMs: config.streamTtlSeconds * 1000,
  });
  const isEnabled = (name: string) => core.enabled.has(name);
  const checked = (request: DownloadRequest) => {
    checkDownloadRequest(request, core.registry.all, isEnabled);
    return request;
  };
  const listPage: Services["listPage"] = async (request) => {
    checkAllowedSource(request);
    return withPictureLinks(await listing.page(request), core.tokens);
  };
  const startedAt = core.now();
  const version = packageVersion();
  const watches = watchesOf(core, config, listPage);

  return {
    download: async (request) => answerOf(await pipeline.download(checked(request))),
    downloadMany: (requests, limit) => downloadMany(core.pipeline, answerOf, checked, requests, limit),
    listPage,
    list: (request, bounds) => {
      const size = pageSizes(bounds.known !== undefined);
      return itemsOfPages((cursor) => listPage({ ...request, cursor, limit: size() }), bounds);
    },
    openFile: createOpenFile(core),
    providers: () => providers(core),
    storedLinks: (limit) => store.storedLinks(limit),
    health: () => healthReport(core, { version, startedAt }),
    checkKey: core.apiKeys?.check,
    feedLinks: core.apiKeys ? { sign: core.apiKeys.signFeed, check: core.apiKeys.checkFeed } : undefined,
    countHits: (key, windowMs, amount, limit) => core.rateCounters.hit(key, windowMs, amount, limit),
    watches,
    config,
    log,
    version,
    metrics: core.metrics,
    ready: () => ready(core),
    close: () => core.close(),
  };
}

/**
 * Watches over the list use case, kept in lasting data; their checks and deliveries run in the
 * background (one instance of several per interval), a few times a second at most.
 */
function watchesOf(
  core: Pick<Core, "lasting" | "notify" | "now" | "log" | "metrics" | "scheduler">,
  config: Config,
  listPage: Services["listPage"],
) {
  const watches = createWatches({
    lasting: core.lasting,
    listPage,
    send: core.notify,
    checkTarget: (target) => checkTarget(target, config.allowPrivateTargets),
    now: core.now,
    random: Math.random,
    log: core.log,
    metrics: core.metrics.watches,
    settings: config.watches,
  });
  core.metrics.watches.readFrom(async () => ({ watches: await watches.count(), ...(await watches.queue()) }));
  const everyMs = Math.min(1_000, config.watches.minIntervalS * 250);
  core.scheduler.add({ name: "watch-check", everyMs, run: watches.check, idle: watches.idle.check });
  core.scheduler.add({ name: "watch-deliver", everyMs, run: watches.deliver, idle: watches.idle.deliver });
  const {
    check: _check,
    deliver: _deliver,
    queue: _queue,
    count: _count,
    idle: _idle,
    ...useCases
  } = watches;
  return useCases;
}

/** Each request checked on its own (a bad one fails its own row), the rest extracted together. */
async function downloadMany(
  pipeline: Core["pipeline"],
  answerOf: ReturnType<typeof createAnswers>,
  checked: (request: DownloadRequest) => DownloadRequest,
  requests: readonly DownloadRequest[],
  limit: number,
) {
  const rows = requests.map((request): Settled<DownloadRequest> => {
    try {
      return { ok: true, value: checked(request) };
    } catch (error) {
      return { ok: false, error };
    }
  });
  const valid = rows.flatMap((row) => (row.ok ? [row.value] : []));
  const settled = await pipeline.downloadMany(valid, limit);
  let next = 0;
  return rows.map((row) => {
    if (!row.ok) return row;
    const outcome = settled[next++] ?? { ok: false as const, error: new Error("a request has no outcome") };
    return outcome.ok ? { ok: true as const, value: answerOf(outcome.value) } : outcome;
  });
}

async function providers(core: Pick<Core, "registry" | "health" | "enabled">): Promise<ProviderInfo[]> {
  const sources = core.registry.all;
  await core.health.refresh(sources.map((source) => source.name));
  return sources.map((source) => ({
    name: source.name,
    url: source.origin,
    enabled: core.enabled.has(source.name),
    ...(source.maintenance ? { maintenance: { reason: source.maintenance.reason } } : {}),
    params: source.params.map((param) => ({ name: param.name, type: param.type, required: param.required })),
    health: core.health.snapshot(source.name, Boolean(source.maintenance)),
  }));
}

/**
 * The instance serves without Redis (near cache, direct extraction): a down store is "degraded", not
 * "unready", or a Redis outage would take every instance out of its load balancer.
 */
async function healthReport(
  core: Pick<Core, "store" | "now" | "storeKind" | "pipeline" | "egress" | "registry" | "enabled" | "health">,
  about: { version: string; startedAt: number },
): Promise<HealthReport> {
  const storeUp = await core.store.ping();
  return {
    ok: true,
    status: storeUp ? "ok" : "degraded",
    version: about.version,
    uptimeSeconds: Math.round((core.now() - about.startedAt) / 1000),
    store: { kind: core.storeKind, up: storeUp },
    inFlight: core.pipeline.inFlight,
    // Proxies are named without their credentials.
    proxies: core.egress.health(),
    sources: core.registry.all.map((source) => ({
      name: source.name,
      // A source the operator left out (SOURCES) is not "ok": it is never asked.
      state: core.enabled.has(source.name)
        ? core.health.snapshot(source.name, Boolean(source.maintenance)).state
        : "disabled",
    })),
  };
}

/**
 * The keys and cookies files are read, Redis is waited for (at most a couple of seconds), then the
 * background work starts (it stops with `close()`).
 */
type StartingParts = Pick<Core, "redis" | "config" | "log" | "apiKeys" | "tiktokCookies">;

async function ready(core: StartingParts & Pick<Core, "scheduler">) {
  await startUp(core);
  core.scheduler.start();
}

async function startUp(core: StartingParts) {
  const { redis, config, log } = core;
  await core.apiKeys?.ready();
  // The cookies file is read now, so that a file that cannot be read, or is of no use, is said at start.
  await core.tiktokCookies?.ready().catch((error: unknown) => {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`TIKTOK_COOKIES: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!redis || redis.status === "ready") return;
  await Promise.race([once(redis, "ready"), sleep(2_000)]).catch(() => {});
  // Read again after the wait: the status may have changed meanwhile.
  if ((redis.status as string) !== "ready" && config.redis)
    log.warn(
      { [redisVariable(config.redis)]: redisWhere(config.redis) },
      `${redisVariable(config.redis)}: Redis does not answer; serving without it (memory cache, in-process single flight and rate limits) until it does`,
    );
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
