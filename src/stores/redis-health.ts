import type { RedisClient } from "./redis-connect.js";
import type { RedisGuard } from "./redis-guard.js";
import type { HealthShare, Outcome } from "./types.js";

/**
 * Source health pooled in Redis so every instance learns from every other: per source a capped list of
 * recent outcomes (newest first) and two counters. Entries expire when a source goes quiet for a day.
 */
export function createRedisHealthShare(options: {
  redis: RedisClient;
  prefix: string;
  window: number;
  /** Bounds every call, and skips Redis while it is down (the health book then stays local). */
  guard?: RedisGuard;
}): HealthShare {
  const { redis, prefix, window } = options;
  const run = <T>(work: () => Promise<T>) => (options.guard ? options.guard.run(work) : work());
  // One hash tag per source: its two keys share a Cluster slot, so one MULTI writes both.
  const listKey = (name: string) => `${prefix}{health:${name}}:recent`;
  const countKey = (name: string) => `${prefix}{health:${name}}:count`;
  const DAY_MS = 86_400_000;
  return {
    async push(name, outcome) {
      await run(() =>
        redis
          .multi()
          .lpush(listKey(name), JSON.stringify(outcome))
          .ltrim(listKey(name), 0, window - 1)
          .pexpire(listKey(name), DAY_MS)
          .hincrby(countKey(name), outcome.ok ? "successes" : "failures", 1)
          .pexpire(countKey(name), DAY_MS)
          .exec(),
      );
    },
    async count(name, ok) {
      await run(() =>
        redis
          .multi()
          .hincrby(countKey(name), ok ? "successes" : "failures", 1)
          .pexpire(countKey(name), DAY_MS)
          .exec(),
      );
    },
    async pull(names) {
      // Each source's keys share a slot; different sources may not: one pipeline per source.
      const replies = await run(() =>
        Promise.all(
          names.map((name) =>
            redis
              .pipeline()
              .lrange(listKey(name), 0, window - 1)
              .hgetall(countKey(name))
              .exec(),
          ),
        ),
      );
      const pooled = new Map<string, { outcomes: Outcome[]; successes: number; failures: number }>();
      names.forEach((name, i) => {
        const raw = (replies[i]?.[0]?.[1] as string[] | undefined) ?? [];
        const counts = (replies[i]?.[1]?.[1] as Record<string, string> | undefined) ?? {};
        const outcomes = raw.flatMap((line) => {
          try {
            const parsed = JSON.parse(line) as Outcome;
            return typeof parsed.ok === "boolean" && typeof parsed.at === "number" ? [parsed] : [];
          } catch {
            return [];
          }
        });
        if (outcomes.length > 0)
          pooled.set(name, {
            outcomes,
            successes: Number(counts.successes ?? 0),
            failures: Number(counts.failures ?? 0),
          });
      });
      return pooled;
    },
  };
}
