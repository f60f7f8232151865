import type { KeptStories } from "../../../domain/kept-stories.js";
import type { Extraction } from "../../../domain/media.js";
import { TIKTOK } from "../../../domain/platforms.js";
import { DESKTOP_USER_AGENT } from "../../../net/browser.js";
import { extractionOf } from "./item.js";
import type { Visit } from "./web.js";

/** How long a listed story is kept for a download that follows its listing. */
const KEEP_MS = 60 * 60_000;

/**
 * Stories as a listing gave them (docs/upstreams/tiktok.md §8), kept in the service's story store for an
 * hour: a story may have no page a visitor can open, so its files come from the item its list returned,
 * fetched with that listing's session.
 */
export function createListedStories(kept: KeptStories, now: () => number) {
  return {
    async remember(items: readonly Record<string, unknown>[], visit: Visit, viaLogin: boolean) {
      if (items.length === 0) return;
      const cookie = await visit.jar.getCookieString("https://www.tiktok.com/");
      const stories = items.flatMap((item) =>
        typeof item.id === "string"
          ? [
              {
                post: { platform: TIKTOK.name, id: item.id },
                story: { item, cookie, route: visit.route.id, viaLogin },
              },
            ]
          : [],
      );
      await kept.keep(stories, KEEP_MS);
    },

    /** The story as listed, for a client that may see it, while its media addresses still work. */
    async extraction(id: string, readsViaLogin: boolean): Promise<Extraction | undefined> {
      const story = await kept.find({ platform: TIKTOK.name, id });
      if (!story || (story.viaLogin && !readsViaLogin)) return undefined;
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
