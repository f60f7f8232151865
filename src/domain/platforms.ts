import { douyinPostUrl, isDouyinHost, isDouyinInputHost, parseDouyinPost } from "./douyin-url.js";
import { type Address, type LinkSites, type PostLink, type PostRef, readAddress } from "./links.js";
import {
  canonicalPostUrl,
  isInputHost,
  isTikTokHost,
  parseTikTokPost,
  type ShortLink,
} from "./tiktok-url.js";

export type { PostLink, PostRef };

/**
 * A site whose posts the service answers for, declared as data and a parser: what its links look like,
 * what its posts' own addresses are, and what saved files start with. The sources that serve it say so
 * (`SourceDescriptor.platform`); docs/adding-a-platform.md lists where a new one is told to the rest.
 */
export interface Platform {
  /** Its name in keys, tokens, archive lines (`<name> <id>`, yt-dlp's) and file names: lower case. */
  readonly name: string;
  /** What people call it, in messages. */
  readonly label: string;
  /** Whether a user may paste a link of this host. */
  accepts(host: string): boolean;
  /**
   * Whether a host is the platform's own (its pages, its API, its CDN): `UPSTREAM_<upstream>` moves all
   * of them, and redirects may stay within them.
   */
  ownsHost(host: string): boolean;
  /** The upstream (`UPSTREAM_<NAME>`, `PROXY_<NAME>`) its own hosts are reached through. */
  readonly upstream: string;
  /** A pasted address of one of its hosts: a post, a short link to follow (TikTok's), or a 400 that says why. */
  parsePost(address: Address, nowMs: number): PostLink | ShortLink;
  /** The post's own address, canonical, whatever link led to it. */
  postUrl(id: string, username?: string): string;
}

export const TIKTOK: Platform = {
  name: "tiktok",
  label: "TikTok",
  accepts: isInputHost,
  ownsHost: isTikTokHost,
  upstream: "tiktok",
  parsePost: parseTikTokPost,
  postUrl: canonicalPostUrl,
};

export const DOUYIN: Platform = {
  name: "douyin",
  label: "Douyin",
  accepts: isDouyinInputHost,
  ownsHost: isDouyinHost,
  upstream: "douyin",
  parsePost: parseDouyinPost,
  postUrl: douyinPostUrl,
};

/** The platforms a service runs with unless told otherwise. */
export const PLATFORMS: readonly Platform[] = [TIKTOK, DOUYIN];

/** The key of a post in anything shared between requests: the cache, flights, verdicts. */
export const postKey = (post: PostRef) => `${post.platform}:${post.id}`;

/** The hosts of every platform, and their names for an error ("TikTok or Douyin"). */
export function sitesOf(platforms: readonly Platform[]): LinkSites {
  const labels = platforms.map((platform) => platform.label);
  return {
    accepts: (host) => platforms.some((platform) => platform.accepts(host)),
    label: labels.length > 1 ? `${labels.slice(0, -1).join(", ")} or ${labels.at(-1)}` : (labels[0] ?? ""),
  };
}

/** The platform a name names; a post or token of an unknown one is a programming error upstream of here. */
export function platformNamed(platforms: readonly Platform[], name: string): Platform | undefined {
  return platforms.find((platform) => platform.name === name);
}

/**
 * Whatever a user pasted, as a post of one of these platforms or a short link to follow, or a 400 that
 * says why. No network.
 */
export function parsePostLink(
  input: string,
  platforms: readonly Platform[],
  nowMs: number = Date.now(),
): PostLink | ShortLink {
  const address = readAddress(input, sitesOf(platforms));
  const platform = platforms.find((candidate) => candidate.accepts(address.host)) as Platform;
  return platform.parsePost(address, nowMs);
}
