import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Redis } from "ioredis";

/**
 * ioredis settings for a store that must never make a request wait: no offline queue (a command while
 * disconnected fails at once), no retry of a command cut by a disconnect, a short command timeout, and
 * reconnection for ever in the background.
 */
export const RESILIENT_REDIS_OPTIONS = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 250,
  connectTimeout: 2_000,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 1_000),
  enableAutoPipelining: true,
} as const;

/** One Redis node, a Redis Cluster, or the master a set of Sentinels names: the store speaks to any. */
export type RedisClient = Redis | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

/** Where the shared store is: `REDIS_URL`, `REDIS_CLUSTER_NODES`, or `REDIS_SENTINELS` with a master name. */
export type RedisTarget =
  | { kind: "node"; url: string }
  | { kind: "cluster"; nodes: HostPort[]; password?: string }
  | { kind: "sentinel"; sentinels: HostPort[]; name: string; password?: string };

/**
 * Connects to the target with the resilient options every Redis call of the service relies on (no
 * offline queue, short timeouts, reconnection in the background). ioredis is loaded only here: an
 * instance without Redis never pays for it.
 */
export function connectRedis(target: RedisTarget): RedisClient {
  const ioredis = createRequire(import.meta.url)("ioredis") as typeof import("ioredis");
  let client: RedisClient;
  if (target.kind === "node") client = new ioredis.Redis(target.url, RESILIENT_REDIS_OPTIONS);
  else if (target.kind === "sentinel")
    client = new ioredis.Redis({
      ...RESILIENT_REDIS_OPTIONS,
      sentinels: target.sentinels,
      name: target.name,
      ...(target.password ? { password: target.password } : {}),
    });
  else
    client = new ioredis.Cluster(target.nodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: RESILIENT_REDIS_OPTIONS.retryStrategy,
      redisOptions: { ...RESILIENT_REDIS_OPTIONS, ...(target.password ? { password: target.password } : {}) },
    });
  // Errors surface per command (the cache then falls back); an unhandled 'error' event would crash.
  client.on("error", () => {});
  return client;
}

/** QUIT lets pending replies arrive; a Redis that is down or paused is just disconnected. */
export async function closeRedis(redis: RedisClient) {
  if (redis.status !== "ready") return redis.disconnect();
  await Promise.race([redis.quit(), sleep(500)]).catch(() => {});
  redis.disconnect();
}
