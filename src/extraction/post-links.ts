import { LRUCache } from "lru-cache";
import type { BaseLogger } from "pino";
import { leadsToList } from "../domain/errors.js";
import { listUrlOf, type PostLink, parseTikTokLink } from "../domain/tiktok-url.js";
import type { Egress } from "../net/egress.js";
import type { Store } from "../stores/types.js";
import { resolveShortLink } from "./short-links.js";
import { storeCall } from "./store-call.js";

const SHORT_LINK_TTL_MS = 24 * 3600_000;

/**
 * The post a pasted link names: parsed (the same text once: hot posts are asked for again and again), or
 * a short link followed through TikTok's way out and remembered for a day.
 */
export function createPostLinks(deps: { store: Store; egress: Egress; now: () => number; log: BaseLogger }) {
  const safely = storeCall(deps.log);
  const parsedLinks = new LRUCache<string, PostLink>({ max: 1_000 });

  return async function postOf(url: string): Promise<{ id: string; username?: string }> {
    const parsed = parsedLinks.get(url);
    if (parsed) return parsed;
    const link = parseTikTokLink(url, deps.now());
    if (link.kind === "post") {
      parsedLinks.set(url, link);
      return link;
    }
    const known = await safely(() => deps.store.getShortLink(link.code), undefined);
    if (known) return { id: known, username: undefined };
    const target = await resolveShortLink(deps.egress.pick("tiktok").browser, link);
    if (target.kind === "list") throw leadsToList(listUrlOf(target), target.list);
    await safely(() => deps.store.setShortLink(link.code, target.id, SHORT_LINK_TTL_MS), undefined);
    return target;
  };
}
