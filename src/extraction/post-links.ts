import { LRUCache } from "lru-cache";
import type { BaseLogger } from "pino";
import { leadsToList } from "../domain/errors.js";
import { type Platform, type PostLink, parsePostLink, platformNamed, TIKTOK } from "../domain/platforms.js";
import { listUrlOf } from "../domain/tiktok-url.js";
import type { Egress } from "../net/egress.js";
import type { Store } from "../stores/types.js";
import { followShortLink, resolveShortLink } from "./short-links.js";
import { storeCall } from "./store-call.js";

const SHORT_LINK_TTL_MS = 24 * 3600_000;

/**
 * The post a pasted link names: parsed (the same text once: hot posts are asked for again and again), or
 * a short link followed through TikTok's way out and remembered for a day.
 */
export function createPostLinks(deps: {
  platforms: readonly Platform[];
  store: Store;
  egress: Egress;
  now: () => number;
  log: BaseLogger;
}) {
  const safely = storeCall(deps.log);
  const parsedLinks = new LRUCache<string, PostLink>({ max: 1_000 });

  return async function postOf(url: string): Promise<PostLink> {
    const parsed = parsedLinks.get(url);
    if (parsed) return parsed;
    const link = parsePostLink(url, deps.platforms, deps.now());
    if (link.kind === "post") {
      parsedLinks.set(url, link);
      return link;
    }
    // A code is kept for the post it led to, per platform.
    const platformName = link.platform ?? TIKTOK.name;
    const codeKey = platformName === TIKTOK.name ? link.code : `${platformName}:${link.code}`;
    const known = await safely(() => deps.store.getShortLink(codeKey), undefined);
    if (known) return { kind: "post", platform: platformName, id: known };
    if (platformName !== TIKTOK.name) {
      const platform = platformNamed(deps.platforms, platformName) as Platform;
      const post = await followShortLink(deps.egress.pick(platform.upstream).http, link, platform);
      await safely(() => deps.store.setShortLink(codeKey, post.id, SHORT_LINK_TTL_MS), undefined);
      return post;
    }
    const target = await resolveShortLink(deps.egress.pick(TIKTOK.upstream).browser, link);
    if (target.kind === "list") throw leadsToList(listUrlOf(target), target.list);
    await safely(() => deps.store.setShortLink(link.code, target.id, SHORT_LINK_TTL_MS), undefined);
    return target;
  };
}
