import type { RedisGuard } from "./redis-guard.js";
import type { CacheEntry, Store } from "./types.js";

export interface TieredStoreOptions {
  /** The in-process tier (lru-cache): what this instance saw lately. */
  near: Store;
  /** The shared tier (Redis): what every instance sees. */
  far: Store;
  /** Every call to the shared tier goes through it: bounded, and skipped while Redis is down. */
  guard: RedisGuard;
  /** How long a near copy is served before the shared tier is asked again (never past the entry's end). */
  nearTtlMs: number;
  now: () => number;
}

/**
 * A hot post is answered from memory on every instance; Redis is read on a near miss and written on
 * every store. A `nocache` refresh on one instance reaches the others when their near copy ages out
 * (`CACHE_LOCAL_TTL`). When Redis fails, every call falls back to the near tier or to "not there": a
 * store failure never fails a request, and never makes it wait longer than the guard's bound.
 */
export function createTieredStore(options: TieredStoreOptions): Store {
  const { near, far, guard } = options;
  /**
   * Claims whose fate is unknown: the call failed, but a paused Redis may still run it when it wakes.
   * They are given back as soon as Redis answers again, so no instance waits on a claim nobody holds.
   */
  const dangling = new Set<string>();
  const releaseDangling = () => {
    for (const key of dangling) {
      dangling.delete(key);
      guard.run(() => far.release?.(key) ?? Promise.resolve()).catch(() => dangling.add(key));
    }
  };
  const shared = <T>(work: () => Promise<T>, fallback: T): Promise<T> =>
    guard.run(work).then(
      (result) => {
        if (dangling.size > 0) releaseDangling();
        return result;
      },
      () => fallback,
    );
  const nearTtl = (entry: CacheEntry) => Math.min(options.nearTtlMs, entry.expiresAt - options.now());
  /** lru-cache reads a TTL of 0 as "for ever": a near copy is kept only for a positive time. */
  const keepNear = async (write: (ttlMs: number) => Promise<void>, ttlMs: number) => {
    if (ttlMs > 0) await write(ttlMs);
  };

  return {
    async getPost(id, read) {
      if (!read?.shared) {
        const local = await near.getPost(id);
        if (local) return local;
      }
      const entry = await shared(() => far.getPost(id), undefined);
      if (entry) await keepNear((ttl) => near.setPost(id, entry, ttl), nearTtl(entry));
      return entry;
    },
    async setPost(id, entry, ttlMs) {
      await keepNear((ttl) => near.setPost(id, entry, ttl), Math.min(ttlMs, options.nearTtlMs));
      await shared(() => far.setPost(id, entry, ttlMs), undefined);
    },
    async getShortLink(code) {
      const local = await near.getShortLink(code);
      if (local) return local;
      const id = await shared(() => far.getShortLink(code), undefined);
      if (id) await keepNear((ttl) => near.setShortLink(code, id, ttl), options.nearTtlMs);
      return id;
    },
    async setShortLink(code, id, ttlMs) {
      await keepNear((ttl) => near.setShortLink(code, id, ttl), Math.min(ttlMs, options.nearTtlMs));
      await shared(() => far.setShortLink(code, id, ttlMs), undefined);
    },
    async storedLinks(limit) {
      return guard.run(() => far.storedLinks(limit)).catch(() => near.storedLinks(limit));
    },
    // Without Redis, this instance extracts on its own (its in-process single flight still holds).
    async claim(key, ttlMs) {
      const claimed = await shared(() => far.claim?.(key, ttlMs) ?? Promise.resolve(true), undefined);
      if (claimed === undefined) dangling.add(key);
      return claimed ?? true;
    },
    renew: (key, ttlMs) => shared(() => far.renew?.(key, ttlMs) ?? Promise.resolve(), undefined),
    isClaimed: (key) => shared(() => far.isClaimed?.(key) ?? Promise.resolve(false), false),
    async release(key) {
      const released = await shared(() => (far.release?.(key) ?? Promise.resolve()).then(() => true), false);
      if (!released) dangling.add(key);
    },
    // While Redis is known down this answers at once, except once per cool-down when it probes.
    ping: () => shared(() => far.ping(), false),
    async close() {
      await near.close();
      await far.close();
    },
  };
}
