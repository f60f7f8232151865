import { LRUCache } from "lru-cache";
import type { BaseLogger } from "pino";
import { leadsToList } from "../domain/errors.js";
import { type Platform, type PostLink, parsePostLink, platformNamed, TIKTOK } from "../domain/platforms.js";
import { listUrlOf, type ShortLink } from "../domain/tiktok-url.js";
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
    const codeKey = `${link.platform}:${link.code}`;
    const known = await safely(() => deps.store.getShortLink(codeKey), undefined);
    if (known) return { kind: "post", platform: link.platform, id: known };
    const target = await followed(deps, link);
    await safely(() => deps.store.setShortLink(codeKey, target.id, SHORT_LINK_TTL_MS), undefined);
    return target;
  };
}

/**
 * Where a short link leads: TikTok's through its browser-like client (a list is its 400), another
 * platform's by its redirects.
 */
async function followed(deps: { platforms: readonly Platform[]; egress: Egress }, link: ShortLink) {
  const platform = platformNamed(deps.platforms, link.platform) as Platform;
  if (platform.name !== TIKTOK.name)
    return followShortLink(deps.egress.pick(platform.upstream).http, link, platform);
  const target = await resolveShortLink(deps.egress.pick(TIKTOK.upstream).browser, link);
  if (target.kind === "list") throw leadsToList(listUrlOf(target), target.list);
  return target;
}
