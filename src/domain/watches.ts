import type { ListItem } from "./lists.js";

/** Where a watch's events go. A bot token and a Discord webhook address are secrets: never shown whole. */
export type WatchTarget =
  | { type: "webhook"; url: string }
  | { type: "discord"; url: string }
  | { type: "telegram"; botToken: string; chatId: string };

/** Why the service paused a watch. */
export type PauseReason = "list_unavailable" | "target_gone" | "target_failing";

/** A watch as it is kept: whose it is, what it watches, where it tells, and what it has seen. */
export interface Watch {
  id: string;
  /** The API key's id that made it ("local" on an instance without keys). */
  owner: string;
  /** The list's canonical address, and its identity (what the list cache and flights key by). */
  url: string;
  list: string;
  kind: string;
  target: WatchTarget;
  /** The signing secrets (`whsec_…`): the current one, and the one it replaced while both are valid. */
  secret: string;
  previousSecret?: { secret: string; until: number };
  /** Seconds between checks. */
  every: number;
  type?: "video" | "photo";
  /** This instance's public address when the watch was made: its events' file links start with it. */
  base?: string;
  createdAt: number;
  nextCheckAt: number;
  lastCheckAt?: number;
  lastCheck?: { outcome: "ok" | "failed"; at: number; error?: string; newPosts?: number };
  /** Since when the list has been unavailable, or every delivery has failed (ms), while it lasts. */
  listFailingSince?: number;
  targetFailingSince?: number;
  /** Consecutive failed checks (for the backoff). */
  failedChecks: number;
  /** Post ids this watch has seen, newest last (bounded). */
  seen: string[];
  paused?: { reason: PauseReason; at: number; detail: string };
  lastDelivery?: { id: string; at: number; status: DeliveryStatus };
}

export type DeliveryStatus = "pending" | "delivered" | "failed";
export type WatchEventType = "post.created" | "watch.paused" | "watch.test";

/** One event for one watch, written before its first attempt and kept until it is done. */
export interface Delivery {
  /** `msg_…`: the `webhook-id` of every attempt, so a receiver dedupes by it. */
  id: string;
  watchId: string;
  event: WatchEventType;
  postId?: string;
  /** The body as sent (Standard Webhooks' `{type, timestamp, data}`). */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number;
  /** When the post was first seen (for the time-to-delivery histogram). */
  seenAt: number;
  nextAttemptAt: number;
  lastStatusCode?: number;
  lastError?: string;
  deliveredAt?: number;
}

/** Seen ids kept per watch: more than any first page holds, so a post that drops back is not new again. */
export const SEEN_IDS_KEPT = 2_000;

/** A post made this long before the watch is never "new" (a pinned old post coming to the top). */
export const OLD_POST_MS = 24 * 3600_000;

/** The ids a watch remembers after a page: what it saw, then the page's new ones, the newest kept. */
export const rememberedIds = (seen: readonly string[], items: readonly ListItem[]) => {
  const known = new Set(seen);
  return [...seen, ...items.filter((item) => !known.has(item.id)).map((item) => item.id)].slice(
    -SEEN_IDS_KEPT,
  );
};

/**
 * The posts of a checked page this watch has not seen, oldest first; the ids to remember. A post made
 * more than a day before the watch is not new. (What was there when the watch was made is its `seen`.)
 */
export function newPosts(watch: Pick<Watch, "seen" | "createdAt" | "type">, items: ListItem[]) {
  const seen = new Set(watch.seen);
  const unseen = items.filter((item) => !seen.has(item.id));
  const remembered = rememberedIds(watch.seen, items);
  const fresh = unseen
    .filter((item) => !watch.type || item.type === watch.type)
    .filter((item) => {
      const made = item.createdAt ? Date.parse(item.createdAt) : Number.NaN;
      return !(made < watch.createdAt - OLD_POST_MS);
    })
    .sort(
      (a, b) => Date.parse(a.createdAt ?? "") - Date.parse(b.createdAt ?? "") || a.id.localeCompare(b.id),
    );
  return { fresh, remembered };
}

/** The next check: `every` seconds on, with a jitter of at most a tenth of it, so watches made together spread out. */
export function nextCheckAt(now: number, everySeconds: number, random: () => number, backoffSteps = 0) {
  const base = everySeconds * 1000 * 2 ** Math.min(backoffSteps, 4);
  return now + base + Math.floor(random() * everySeconds * 100);
}

/** A target as answers show it: the kind and where, never the secret part. */
export function redactedTarget(target: WatchTarget): Record<string, string> {
  if (target.type === "telegram") return { type: "telegram", chatId: target.chatId, botToken: "…" };
  const url = new URL(target.url);
  return {
    type: target.type,
    url: target.type === "discord" ? `${url.origin}/api/webhooks/…` : `${url.origin}/…`,
  };
}
