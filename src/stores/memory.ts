import { LRUCache } from "lru-cache";
import type { CacheEntry, Store } from "./types.js";

export function createMemoryStore(options: { maxEntries: number; now: () => number }): Store {
  // The injected clock is read on every look-up (ttlResolution 0): lru-cache would otherwise keep one
  // reading for a millisecond, and a test that moves the clock would see the old time.
  const clock = { perf: { now: options.now }, ttlResolution: 0 };
  const posts = new LRUCache<string, CacheEntry>({ max: options.maxEntries, ttlAutopurge: false, ...clock });
  const shortLinks = new LRUCache<string, string>({ max: options.maxEntries, ...clock });
  return {
    async getPost(id) {
      return posts.get(id);
    },
    async setPost(id, entry, ttlMs) {
      posts.set(id, entry, { ttl: ttlMs });
    },
    async getShortLink(code) {
      return shortLinks.get(code);
    },
    async setShortLink(code, id, ttlMs) {
      shortLinks.set(code, id, { ttl: ttlMs });
    },
    async storedLinks(limit) {
      const live: { link: string; storedAt: number }[] = [];
      for (const [id, entry] of posts.entries()) {
        if (entry.kind === "result" && !entry.unlisted && posts.getRemainingTTL(id) > 0) live.push(entry);
      }
      return live
        .sort((a, b) => b.storedAt - a.storedAt)
        .slice(0, limit)
        .map((entry) => entry.link);
    },
    async ping() {
      return true;
    },
    async close() {
      posts.clear();
      shortLinks.clear();
    },
  };
}
