import { badRequest } from "./errors.js";
import { type Address, type PostLink, withinDomains } from "./links.js";
import type { ShortLink } from "./tiktok-url.js";

/**
 * Douyin's link forms (docs/upstreams/douyin.md §1): its post pages, the `modal_id`/`vid` of any page,
 * the share pages of `iesdouyin.com` and `m.douyin.com`, `jingxuan.douyin.com`'s mobile pages, and the
 * short links of `v.douyin.com` and `jx.douyin.com`.
 */
const INPUT_HOSTS = new Set([
  "douyin.com",
  "www.douyin.com",
  "m.douyin.com",
  "jingxuan.douyin.com",
  "iesdouyin.com",
  "www.iesdouyin.com",
  "v.douyin.com",
  "jx.douyin.com",
  "live.douyin.com",
]);
const SHORT_HOSTS = new Set(["v.douyin.com", "jx.douyin.com"]);

/** Douyin's web, API and CDN domains: `UPSTREAM_DOUYIN` moves them all, and the tunnel fetches only from them. */
const DOUYIN_DOMAINS = [
  "douyin.com",
  "iesdouyin.com",
  "snssdk.com",
  "douyinvod.com",
  "douyinpic.com",
  "douyinstatic.com",
  "zjcdn.com",
];

export const isDouyinInputHost = (host: string) => INPUT_HOSTS.has(host);

export const isDouyinHost = withinDomains(DOUYIN_DOMAINS);

/** Douyin's post ids are 19 digits (ByteDance's, like TikTok's: the top bits are the creation time). */
const POST_ID = /^\d{19}$/;
const isShareHost = (host: string) => host.endsWith("iesdouyin.com") || host === "m.douyin.com";
const isMobileHost = (host: string) => host === "jingxuan.douyin.com";
/** A post page's path, on the hosts that serve it: the web's, the share pages', the mobile site's. */
const POST_PATHS: readonly { path: RegExp; on: (host: string) => boolean }[] = [
  {
    path: /^\/(?:video|note|slides)\/(\d+)\/?$/,
    on: (host) => !isShareHost(host) && !isMobileHost(host),
  },
  { path: /^\/share\/(?:video|note|slides)\/(\d+)\/?$/, on: isShareHost },
  { path: /^\/m\/(?:video|note|slides)\/(\d+)\/?$/, on: isMobileHost },
];
const SHORT_CODE = /^[A-Za-z0-9_-]{4,32}$/;

const notAPost = (id: string) =>
  badRequest("INVALID_URL", `The "url" field holds "${id.slice(0, 40)}", which is not a Douyin post id.`);

const listsNotYet = () =>
  badRequest(
    "UNSUPPORTED_LINK",
    'The "url" field is a Douyin profile, collection or live room: Douyin lists are not supported yet (they need request signing); send a post link.',
  );

/** A checked Douyin address (`readAddress`), as a post or a short link to follow, or a 400 that says why. */
export function parseDouyinPost({ url, host, path }: Address): PostLink | ShortLink {
  if (SHORT_HOSTS.has(host)) {
    const segments = path.split("/").filter(Boolean);
    const code = segments.length === 1 ? segments[0] : undefined;
    if (!code || !SHORT_CODE.test(code))
      throw badRequest("UNSUPPORTED_LINK", 'The "url" field is a Douyin short link without a valid code.');
    return {
      kind: "short",
      platform: "douyin",
      code,
      url: `https://${host}/${code}/`,
      shared: `${host}${path}`,
    };
  }
  const id = postIdOf(url, host, path);
  if (id !== undefined) {
    if (!POST_ID.test(id)) throw notAPost(id);
    return { kind: "post", platform: "douyin", id };
  }
  if (host === "live.douyin.com" || /^\/(?:user|collection|share\/user|share\/mix|follow)(?:\/|$)/.test(path))
    throw listsNotYet();
  throw badRequest("UNSUPPORTED_LINK", 'The "url" field is a Douyin link but not a post.');
}

/** The post id an address names: in its path, or in `modal_id`/`vid` of any douyin.com page. */
function postIdOf(url: URL, host: string, path: string): string | undefined {
  for (const { path: pattern, on } of POST_PATHS) {
    const match = pattern.exec(path)?.[1];
    if (match !== undefined && on(host)) return match;
  }
  if (!host.endsWith("douyin.com") || host === "live.douyin.com") return undefined;
  return url.searchParams.get("modal_id") ?? url.searchParams.get("vid") ?? undefined;
}

/** A post's address on Douyin. */
export const douyinPostUrl = (id: string) => `https://www.douyin.com/video/${id}`;
