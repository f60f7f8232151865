import { deflateRawSync, inflateRawSync } from "node:zlib";
import { LRUCache } from "lru-cache";
import type { CacheEntry, Store } from "./types.js";

/** Decoded entries kept for the posts read or written last: a hot post is never decoded twice. */
const HOT_ENTRIES = 512;

/**
 * A cached post as this store keeps it: what the stored-links index reads, and the entry itself as
 * deflated JSON in a one-byte string (about 2 KB for a video post, against some 14 KiB of heap as an
 * object graph). No parsed page and no object per field: a cold entry is only its bytes.
 */
interface Packed {
  listed: boolean;
  link?: string;
  storedAt: number;
  body: string;
}

/** What the stored-links index reads of an entry. */
const index = (entry: CacheEntry): Omit<Packed, "body"> => ({
  listed: entry.kind === "result" && !entry.unlisted,
  link: entry.kind === "result" ? entry.link : undefined,
  storedAt: entry.storedAt,
});

const pack = (entry: CacheEntry): Packed => ({
  ...index(entry),
  body: deflateRawSync(JSON.stringify(entry)).toString("latin1"),
});

const unpack = (packed: Packed): CacheEntry =>
  JSON.parse(inflateRawSync(Buffer.from(packed.body, "latin1")).toString("utf8")) as CacheEntry;

export function createMemoryStore(options: {
  maxEntries: number;
  now: () => number;
  /**
   * Keep entries deflated (default): a cache of thousands of posts. Off for Redis's near tier, whose
   * entries live seconds: there, packing every refill would be work for no memory saved.
   */
  compact?: boolean;
}): Store {
  // The injected clock is read on every look-up (ttlResolution 0): lru-cache would otherwise keep one
  // reading for a millisecond, and a test that moves the clock would see the old time.
  const clock = { perf: { now: options.now }, ttlResolution: 0 };
  const compact = options.compact ?? true;
  const posts = new LRUCache<string, Packed>({ max: options.maxEntries, ttlAutopurge: false, ...clock });
  // The packed entry is the truth (its TTL, its eviction); the hot copy only saves decoding it.
  // Not compact, every entry is kept decoded (its packed form has no body).
  const hot = new LRUCache<string, CacheEntry>({
    max: compact ? Math.min(HOT_ENTRIES, options.maxEntries) : options.maxEntries,
  });
  const shortLinks = new LRUCache<string, string>({ max: options.maxEntries, ...clock });
  return {
    async getPost(id) {
      const packed = posts.get(id);
      if (!packed) {
        hot.delete(id);
        return undefined;
      }
      let entry = hot.get(id);
      if (!entry) {
        // Not compact, the decoded copy is the entry: without it, this is a miss.
        if (!compact) return undefined;
        entry = unpack(packed);
        hot.set(id, entry);
      }
      return entry;
    },
    async setPost(id, entry, ttlMs) {
      posts.set(id, compact ? pack(entry) : { ...index(entry), body: "" }, { ttl: ttlMs });
      hot.set(id, entry);
    },
    async getShortLink(code) {
      return shortLinks.get(code);
    },
    async setShortLink(code, id, ttlMs) {
      shortLinks.set(code, id, { ttl: ttlMs });
    },
    async storedLinks(limit) {
      const live: { link: string; storedAt: number }[] = [];
      for (const [id, packed] of posts.entries()) {
        if (packed.listed && packed.link && posts.getRemainingTTL(id) > 0)
          live.push({ link: packed.link, storedAt: packed.storedAt });
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
      hot.clear();
      shortLinks.clear();
    },
  };
}
