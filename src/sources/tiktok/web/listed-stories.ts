import { LRUCache } from "lru-cache";
import type { Extraction } from "../../../domain/media.js";
import { DESKTOP_USER_AGENT } from "../../../net/browser.js";
import { extractionOf } from "./item.js";
import type { Visit } from "./web.js";

/** Stories kept per service: a listing gives a few at a time, and a story lives a day. */
const MAX_STORIES = 500;
/** How long a listed story is kept for a download that follows its listing. */
const KEEP_MS = 60 * 60_000;

interface ListedStory {
  item: Record<string, unknown>;
  /** The listing's session: its cookies and its way out, which TikTok bound the story's media to. */
  cookie: string;
  route: string;
  /** Listed with the operator's login: given only to a client allowed to see what it shows. */
  viaLogin: boolean;
}

/**
 * Stories as a listing gave them (docs/upstreams/tiktok.md §8): a story may have no page a visitor can
 * open, so its files come from the item its list returned, fetched with that listing's session. Kept
 * in memory per service, for an hour, at most MAX_STORIES.
 */
export function createListedStories(now: () => number) {
  const kept = new LRUCache<string, ListedStory>({ max: MAX_STORIES, ttl: KEEP_MS, perf: { now } });
  return {
    async remember(items: readonly Record<string, unknown>[], visit: Visit, viaLogin: boolean) {
      if (items.length === 0) return;
      const cookie = await visit.jar.getCookieString("https://www.tiktok.com/");
      for (const item of items)
        if (typeof item.id === "string") kept.set(item.id, { item, cookie, route: visit.route.id, viaLogin });
    },

    /** The story as listed, for a client that may see it, while its media addresses still work. */
    extraction(id: string, withLogin: boolean): Extraction | undefined {
      const story = kept.get(id);
      if (!story || (story.viaLogin && !withLogin)) return undefined;
      const extraction = extractionOf(story.item, {
        userAgent: DESKTOP_USER_AGENT,
        cookie: story.cookie,
        route: story.route,
      });
      if (extraction.expiresAt !== undefined && extraction.expiresAt <= now()) return undefined;
      return story.viaLogin ? { ...extraction, viaLogin: true } : extraction;
    },
  };
}

export type ListedStories = ReturnType<typeof createListedStories>;
