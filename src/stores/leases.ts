import { randomBytes } from "node:crypto";
import type { RedisClient } from "./redis-connect.js";
import type { createRedisGuard } from "./redis-guard.js";

/** A lease held: renewed while its work runs, released when it ends (idempotent). */
export interface Lease {
  readonly name: string;
  /** Whether it is still this holder's (it may have run out, and another taken it). */
  renew(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Leases, so that one instance of several does a piece of background work: `acquire` gives the lease to
 * one caller at a time, for `ttlMs`; undefined when another holds it, or when the leases cannot be asked
 * (Redis down: no one runs the work, rather than every instance at once).
 */
export interface Leases {
  acquire(name: string, ttlMs: number): Promise<Lease | undefined>;
}

/** Leases for one process: a map of holders and their deadlines. */
export function createMemoryLeases(now: () => number = Date.now): Leases {
  const held = new Map<string, { token: string; until: number }>();
  const mine = (name: string, token: string) => {
    const holder = held.get(name);
    return holder !== undefined && holder.token === token && holder.until > now();
  };
  return {
    async acquire(name, ttlMs) {
      const holder = held.get(name);
      if (holder && holder.until > now()) return undefined;
      const token = randomBytes(12).toString("base64url");
      held.set(name, { token, until: now() + ttlMs });
      return {
        name,
        async renew(ttl) {
          if (!mine(name, token)) return false;
          held.set(name, { token, until: now() + ttl });
          return true;
        },
        async release() {
          if (mine(name, token)) held.delete(name);
        },
      };
    },
  };
}

/** Renews or releases a key only while it holds the caller's token (a lease that ran out is another's). */
const SCRIPTS = {
  tiktokDlLeaseRenew: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`,
  tiktokDlLeaseRelease: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`,
} as const;
type LeaseScript = (
  this: RedisClient,
  key: string,
  token: string,
  ...rest: (string | number)[]
) => Promise<number>;

/**
 * Leases shared by every instance on one Redis: `SET key token NX PX ttl`, renewed and released only by
 * the token's holder (Redis's single-instance lock pattern). Every call goes through the Redis guard.
 */
export function createRedisLeases(options: {
  redis: RedisClient;
  guard: ReturnType<typeof createRedisGuard>;
  prefix: string;
}): Leases {
  const key = (name: string) => `${options.prefix}lease:{${name}}`;
  // Sent by their SHA, and again after Redis lost them (a restart), as the rate counters' script is.
  const { redis } = options;
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  const script = (name: keyof typeof SCRIPTS) =>
    (redis as unknown as Record<string, LeaseScript>)[name] as LeaseScript;
  const call = async <T>(work: () => Promise<T>, fallback: T) => {
    try {
      return await options.guard.run(work);
    } catch {
      return fallback;
    }
  };
  return {
    async acquire(name, ttlMs) {
      const token = randomBytes(12).toString("base64url");
      const taken = await call(() => options.redis.set(key(name), token, "PX", ttlMs, "NX"), null);
      if (taken !== "OK") return undefined;
      return {
        name,
        renew: async (ttl) =>
          (await call(() => script("tiktokDlLeaseRenew").call(redis, key(name), token, ttl), 0)) === 1,
        async release() {
          await call(() => script("tiktokDlLeaseRelease").call(redis, key(name), token), 0);
        },
      };
    },
  };
}
