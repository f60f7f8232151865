import { LRUCache } from "lru-cache";
import type { RedisClient } from "./redis-connect.js";
import type { RedisGuard } from "./redis-guard.js";

export interface RateCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/** Fixed-window counters for rate limits: in Redis when there is one, in memory otherwise. */
export interface RateCounters {
  /**
   * Counts `amount` hits (default one) in the key's current window. Given the key's `limit`, a shared
   * counter may answer from hits it reserved earlier (see `createLeases`), never admitting past it.
   */
  hit(key: string, windowMs: number, amount?: number, limit?: number): Promise<RateCount>;
}

type CountHit = (key: string, amount: number, windowMs: number) => Promise<[number, number] | null>;

const COUNT_HIT_COMMAND = "tiktokDlCountHit";
/** Counts in the key's window (started by the first hit, PX the window) and says what is left of it. */
const COUNT_HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}`;

/**
 * Counters are shared through Redis (`<prefix>rate:<key>`, keys named `<route>:<client>` by the caller).
 * While Redis is down each instance counts in memory: a limit per instance for the outage, never no limit.
 */
export function createRateCounters(options: {
  now: () => number;
  prefix: string;
  redis?: RedisClient;
  guard?: RedisGuard;
  /** Clients remembered in memory at most. */
  maxClients?: number;
}): RateCounters {
  const local = new LRUCache<string, { count: number; endsAt: number }>({
    max: options.maxClients ?? 50_000,
  });

  function hitLocally(key: string, windowMs: number, amount = 1): RateCount {
    const now = options.now();
    const window = local.get(key);
    if (!window || window.endsAt <= now) {
      local.set(key, { count: amount, endsAt: now + windowMs });
      return { count: amount, ttlMs: windowMs };
    }
    window.count += amount;
    return { count: window.count, ttlMs: window.endsAt - now };
  }

  const { redis, guard } = options;
  if (!redis || !guard) return { hit: async (key, windowMs, amount) => hitLocally(key, windowMs, amount) };
  // One command a hit (a transaction of four cost each cache hit four times the work in Redis and in
  // ioredis); ioredis sends the script's SHA, and the script again after Redis lost it (a restart).
  redis.defineCommand(COUNT_HIT_COMMAND, { numberOfKeys: 1, lua: COUNT_HIT_SCRIPT });
  const countHit = (redis as unknown as Record<string, CountHit>)[COUNT_HIT_COMMAND] as CountHit;

  const hitShared = async (key: string, windowMs: number, amount: number): Promise<RateCount> => {
    const redisKey = `${options.prefix}rate:${key}`;
    try {
      const replies = await guard.run(() => countHit.call(redis, redisKey, amount, windowMs));
      const count = Number(replies?.[0]);
      const ttlMs = Number(replies?.[1]);
      if (!Number.isFinite(count) || !Number.isFinite(ttlMs)) return hitLocally(key, windowMs, amount);
      return { count, ttlMs: ttlMs > 0 ? ttlMs : windowMs };
    } catch {
      return hitLocally(key, windowMs, amount);
    }
  };
  const leases = createLeases({ now: options.now, maxClients: options.maxClients ?? 50_000, hitShared });
  return {
    hit: (key, windowMs, amount = 1, limit?: number) =>
      limit === undefined ? hitShared(key, windowMs, amount) : leases.hit(key, windowMs, amount, limit),
  };
}

/** A lease that ran out sooner than this grows (doubles); one that lasted past `LEASE_SHRINK_MS` halves. */
const LEASE_GROW_MS = 100;
const LEASE_SHRINK_MS = 1_000;
/** At most this many hits reserved at once, and never more than a quarter of what the window has left. */
const LEASE_MAX = 4_096;
const LEASE_SHARE = 4;

interface Lease {
  /** Reserved hits not yet used. */
  left: number;
  /** How many hits the next reservation asks for beyond the hit at hand. */
  size: number;
  /** The shared count when this instance last asked Redis (its reservation included). */
  shared: number;
  takenAt: number;
  endsAt: number;
}

/**
 * Shared counters without a round trip per hit for a busy client. When a key's hits come fast, the
 * instance reserves several at once in Redis (one INCRBY) and admits from that reservation in memory;
 * the reservation grows while it runs out quickly, shrinks when it lasts, and never asks for more than
 * a quarter of what the window has left. Every admitted hit still holds a place at or under the limit in
 * Redis, so the instances together never admit more than the limit; what a reservation did not use is
 * counted until the window ends. A client known to be over its limit is refused without asking Redis:
 * the window's count can only grow until it ends. A slow client's hits are counted one by one.
 */
function createLeases(options: {
  now: () => number;
  maxClients: number;
  hitShared: (key: string, windowMs: number, amount: number) => Promise<RateCount>;
}) {
  const leases = new LRUCache<string, Lease>({ max: options.maxClients });

  const nextSize = (lease: Lease | undefined, now: number, limit: number) => {
    if (!lease) return 0;
    const lasted = now - lease.takenAt;
    const wanted =
      lasted < LEASE_GROW_MS
        ? Math.max(1, lease.size * 2)
        : lasted > LEASE_SHRINK_MS
          ? Math.floor(lease.size / 2)
          : lease.size;
    const spent = lease.endsAt > now ? lease.shared : 0;
    return Math.max(0, Math.min(wanted, LEASE_MAX, Math.floor((limit - spent) / LEASE_SHARE)));
  };

  /** Answers from the key's reservation, or from knowing its window is spent; undefined: ask Redis. */
  const fromLease = (key: string, amount: number, limit: number): RateCount | undefined => {
    const lease = leases.get(key);
    const now = options.now();
    if (!lease || lease.endsAt <= now) return undefined;
    if (lease.left >= amount) {
      lease.left -= amount;
      return { count: lease.shared - lease.left, ttlMs: lease.endsAt - now };
    }
    if (lease.shared < limit) return undefined;
    lease.shared += amount;
    return { count: lease.shared, ttlMs: lease.endsAt - now };
  };

  const reserve = async (key: string, windowMs: number, amount: number, limit: number) => {
    const now = options.now();
    const size = nextSize(leases.get(key), now, limit);
    // A reserved place past the limit (another instance spent the window meanwhile) answers a count past it.
    const counted = await options.hitShared(key, windowMs, amount + size);
    const endsAt = options.now() + counted.ttlMs;
    leases.set(key, { left: size, size, shared: counted.count, takenAt: now, endsAt });
    return { count: counted.count - size, ttlMs: counted.ttlMs };
  };

  /** One reservation at a time per key: hits arriving meanwhile wait for it and draw from it. */
  const reserving = new Map<string, Promise<unknown>>();
  return {
    async hit(key: string, windowMs: number, amount: number, limit: number): Promise<RateCount> {
      for (;;) {
        const local = fromLease(key, amount, limit);
        if (local) return local;
        const pending = reserving.get(key);
        if (!pending) break;
        await pending;
      }
      const reservation = reserve(key, windowMs, amount, limit);
      reserving.set(key, reservation);
      try {
        return await reservation;
      } finally {
        reserving.delete(key);
      }
    },
  };
}
