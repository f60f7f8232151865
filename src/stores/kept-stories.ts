import { LRUCache } from "lru-cache";
import type { KeptStories, KeptStory } from "../domain/kept-stories.js";
import { postKey } from "../domain/platforms.js";
import type { RedisClient } from "./redis-connect.js";
import type { RedisGuard } from "./redis-guard.js";

/** Stories kept in one process: a listing gives a few at a time, and a story lives a day. */
export function createMemoryKeptStories(options: { max: number; now: () => number }): KeptStories {
  const kept = new LRUCache<string, KeptStory>({ max: options.max, perf: options });
  return {
    async keep(stories, ttlMs) {
      for (const { post, story } of stories) kept.set(postKey(post), story, { ttl: ttlMs });
    },
    async find(post) {
      return kept.get(postKey(post));
    },
  };
}

/** Stories every instance sharing one Redis sees, each under its own key with its lifetime. */
export function createRedisKeptStories(options: {
  redis: RedisClient;
  guard: RedisGuard;
  prefix: string;
}): KeptStories {
  const key = (post: Parameters<KeptStories["find"]>[0]) => `${options.prefix}story:${postKey(post)}`;
  return {
    async keep(stories, ttlMs) {
      const ttl = Math.max(1, Math.round(ttlMs));
      await options.guard
        .run(() =>
          Promise.all(
            stories.map(({ post, story }) => options.redis.set(key(post), JSON.stringify(story), "PX", ttl)),
          ),
        )
        .catch(() => undefined);
    },
    async find(post) {
      const raw = await options.guard.run(() => options.redis.get(key(post))).catch(() => null);
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as KeptStory;
      } catch {
        return undefined;
      }
    },
  };
}
