import { badRequest } from "./errors.js";
import { type Address, type PostLink, readAddress, withinDomains } from "./links.js";

/** Hosts a user may paste. Anything else, look-alikes included, is not TikTok. */
const INPUT_HOSTS = new Set([
  "tiktok.com",
  "www.tiktok.com",
  "m.tiktok.com",
  "vm.tiktok.com",
  "vt.tiktok.com",
  "t.tiktok.com",
  "pro.tiktok.com",
  "lite.tiktok.com",
  "www.tiktokv.com",
]);

/** An account's `secUid`: a fixed prefix and 32 to 64 URL-safe base64 characters (gallery-dl's bound). */
const SEC_UID_PATTERN = "MS4wLjABAAAA[A-Za-z0-9_-]{32,64}";
export const isSecUid = (handle: string) => new RegExp(`^${SEC_UID_PATTERN}$`).test(handle);

/** Short-link hosts: their paths are codes, never posts. */
const SHORT_HOSTS = new Set(["vm.tiktok.com", "vt.tiktok.com"]);

/** Registrable domains of TikTok's web and CDN hosts: redirects may stay within them. */
export const TIKTOK_DOMAINS = [
  "tiktok.com",
  "tiktokv.com",
  "tiktokcdn.com",
  "tiktokcdn-us.com",
  "tiktokcdn-eu.com",
];

/** Whether a user may paste a link of this host (TikTok's own web and share hosts, nothing else). */
export const isInputHost = (host: string) => INPUT_HOSTS.has(host);

/** TikTok's hosts, for an address a user pasted. */
const TIKTOK_SITE = { accepts: isInputHost, label: "TikTok" };

export const isTikTokHost = withinDomains(TIKTOK_DOMAINS);

export type { PostLink };
/**
 * A short link: its platform, its code, where we resolve it (every TikTok code resolves at
 * vt.tiktok.com), and as it was shared.
 */
export type ShortLink = { kind: "short"; platform: string; code: string; url: string; shared: string };
export type TikTokLink = PostLink | ShortLink;

/** What a list link names: a creator's posts, a public collection, or a playlist ("mix"). */
export type ListKind = "profile" | "collection" | "playlist" | TabKind;
/** A person's own tabs (docs/upstreams/tiktok.md §8): liked, saved, reposts, stories, and the stories of whom the login follows. */
export type TabKind = "liked" | "saved" | "reposts" | "stories" | "following";
export const TAB_KINDS: readonly TabKind[] = ["liked", "saved", "reposts", "stories", "following"];
/** Every kind of list, in the order the API documents them. */
export const LIST_KINDS: readonly ListKind[] = ["profile", "collection", "playlist", ...TAB_KINDS];
export const isTab = (kind: ListKind): kind is TabKind => (TAB_KINDS as readonly string[]).includes(kind);
export type ListLink = {
  kind: "list";
  list: ListKind;
  /** The account's handle (`@<username>`). */
  username: string;
  /** The collection or playlist id (absent for a profile). */
  id?: string;
  /** The collection or playlist title, as the link spells it. */
  title?: string;
};

/**
 * What names a list exactly, for anything shared between requests (cache keys, flights, cursors): the
 * platform, the kind, the owner (a handle as TikTok compares handles, whatever its case; a secUid, which
 * is case-sensitive, as it is) and the collection's or playlist's id.
 */
export function listIdentity(link: ListLink): string {
  const owner = isSecUid(link.username) ? link.username : link.username.toLowerCase();
  return ["tiktok", link.list, owner, link.id ?? ""].join(":");
}

/** The kind of list an identity (`listIdentity`) names. */
export const listKindOf = (identity: string) => identity.split(":")[1] as ListKind;

/** A list's own address on TikTok, whatever form of link led to it. */
export function listUrlOf(link: ListLink): string {
  if (link.list === "following") return "https://www.tiktok.com/following";
  const owner = `https://www.tiktok.com/@${link.username}`;
  if (isTab(link.list)) return `${owner}/${link.list}`;
  if (link.list === "profile" || !link.id) return owner;
  const title = link.title ? `${encodeURIComponent(link.title)}-` : "";
  return `${owner}/${link.list}/${title}${link.id}`;
}

const USERNAME = "[A-Za-z0-9_.-]*";
const POST_ID = "(\\d{1,25})";
const POST_PATHS: RegExp[] = [
  new RegExp(`^/@(${USERNAME})/(?:video|photo)/${POST_ID}/?$`),
  new RegExp(`^/v/${POST_ID}(?:\\.html)?/?$`),
  new RegExp(`^/(?:i18n/)?share/video/${POST_ID}/?$`),
  new RegExp(`^/embed/(?:v2/)?${POST_ID}/?$`),
];
const SHORT_CODE = /^[A-Za-z0-9]{1,21}$/;
/** The earliest plausible post time (TikTok's web ids start in 2016). */
const EARLIEST_POST_SECONDS = Date.UTC(2016, 0, 1) / 1000;

/** A post id's top 32 bits are its creation time in unix seconds. */
export function postIdTime(id: string): number {
  return Number(BigInt(id) >> 32n);
}

export function isPlausiblePostId(id: string, nowMs: number): boolean {
  if (!/^\d{19}$/.test(id)) return false;
  const seconds = postIdTime(id);
  return seconds >= EARLIEST_POST_SECONDS && seconds <= nowMs / 1000 + 86_400;
}

export function canonicalPostUrl(id: string, username?: string): string {
  return `https://www.tiktok.com/@${username ?? "i"}/video/${id}`;
}

/**
 * Turns whatever a user pasted into a post id or a short-link code, or a 400 that says why: a link, or
 * a message with exactly one TikTok link in it. No network: short links are resolved later.
 */
export function parseTikTokLink(input: string, nowMs: number = Date.now()): TikTokLink {
  return parseTikTokPost(readAddress(input, TIKTOK_SITE), nowMs);
}

/** A checked TikTok address (`readAddress`), as a post or a short link, or a 400 that says why. */
export function parseTikTokPost({ url, host, path }: Address, nowMs: number): TikTokLink {
  const post = matchPostPath(path, host);
  if (post) {
    if (!isPlausiblePostId(post.id, nowMs))
      throw badRequest("INVALID_URL", `The "url" field holds "${post.id}", which is not a TikTok post id.`);
    return post;
  }
  const short = matchShortPath(path, host);
  if (short) return short;
  const list = matchListPath(url.pathname, host);
  if (list) {
    const error = badRequest(
      "UNSUPPORTED_LINK",
      'The "url" field is a profile, collection or playlist: list its posts with /api/list.',
    );
    // The list's own address, as a short link to it gives: a face lists it without parsing links itself.
    error.list = listUrlOf(list);
    throw error;
  }
  throw badRequest(
    "UNSUPPORTED_LINK",
    'The "url" field is a TikTok link but not a post (tags, sounds and lives are not supported).',
  );
}

/**
 * A profile, collection or playlist link (or a short link, which may lead to one), from whatever a user
 * pasted; a post link is a 400 that points to /api/download.
 */
export function parseTikTokListLink(input: string): ListLink | ShortLink {
  const { url, host, path } = readAddress(input, TIKTOK_SITE);
  const list = matchListPath(url.pathname, host);
  if (list) return list;
  const short = matchShortPath(path, host);
  if (short) return short;
  if (matchPostPath(path, host))
    throw badRequest(
      "UNSUPPORTED_LINK",
      'The "url" field is a post: download it with /api/download; /api/list takes a profile, collection or playlist.',
    );
  throw badRequest(
    "UNSUPPORTED_LINK",
    'The "url" field is a TikTok link but not a profile, collection or playlist.',
  );
}

/** Hosts that show profiles, collections and playlists. */
const LIST_HOSTS = new Set(["www.tiktok.com", "tiktok.com", "m.tiktok.com", "www.tiktokv.com"]);
/**
 * A handle (letters, digits, `_`, `.`, `-`; a numeric user id works too), or the account's `secUid`
 * itself (`MS4wLjABAAAA` and URL-safe base64, the form yt-dlp's own channel links have).
 */
const HANDLE = `(${SEC_UID_PATTERN}|[A-Za-z0-9_.-]{1,64})`;

function matchListPath(rawPath: string, host: string): ListLink | undefined {
  if (!LIST_HOSTS.has(host)) return undefined;
  const path = rawPath.replace(/\/{2,}/g, "/");
  const profile = new RegExp(`^/@${HANDLE}/?$`).exec(path);
  if (profile?.[1]) return { kind: "list", list: "profile", username: profile[1] };
  const tab = new RegExp(`^/@${HANDLE}/(liked|likes|saved|reposts|stories)/?$`).exec(path);
  if (tab?.[1] && tab[2])
    return { kind: "list", list: tab[2] === "likes" ? "liked" : (tab[2] as TabKind), username: tab[1] };
  if (/^\/following\/?$/.test(path)) return { kind: "list", list: "following", username: "" };
  // The title is percent-encoded and may hold "-": the id is the last run of digits.
  const named = new RegExp(`^/@${HANDLE}/(collection|playlist)/([^/]*?)-?(\\d{1,25})/?$`).exec(path);
  if (!named?.[1] || !named[4]) return undefined;
  return {
    kind: "list",
    list: named[2] === "collection" ? "collection" : "playlist",
    username: named[1],
    id: named[4],
    title: decodeTitle(pathTitle(path)),
  };
}

/** The title segment of a collection or playlist path, percent-decoded when it can be. */
function pathTitle(path: string): string {
  const segment = path.split("/").filter(Boolean)[2] ?? "";
  return segment.replace(/-?\d+$/, "");
}

function decodeTitle(title: string): string | undefined {
  if (title === "") return undefined;
  try {
    return decodeURIComponent(title).slice(0, 200);
  } catch {
    return title.slice(0, 200);
  }
}

function matchPostPath(path: string, host: string): PostLink | undefined {
  if (SHORT_HOSTS.has(host)) return undefined;
  for (const pattern of POST_PATHS) {
    const match = pattern.exec(path);
    if (!match) continue;
    const [, first, second] = match;
    const id = second ?? first;
    if (id === undefined) continue;
    if (host === "www.tiktokv.com" && !path.includes("share/video")) return undefined;
    const username = second !== undefined && first ? first : undefined;
    return username
      ? { kind: "post", platform: "tiktok", id, username }
      : { kind: "post", platform: "tiktok", id };
  }
  return undefined;
}

function matchShortPath(path: string, host: string): ShortLink | undefined {
  const segments = path.split("/").filter(Boolean);
  let code: string | undefined;
  if ((SHORT_HOSTS.has(host) || host === "t.tiktok.com") && segments.length === 1) code = segments[0];
  else if (
    (host === "www.tiktok.com" || host === "tiktok.com" || host === "lite.tiktok.com") &&
    segments.length === 2 &&
    segments[0] === "t"
  )
    code = segments[1];
  if (code === undefined || !SHORT_CODE.test(code)) return undefined;
  // Every code resolves at vt.tiktok.com, whatever host it was shared on (as cobalt does).
  return {
    kind: "short",
    platform: "tiktok",
    code,
    url: `https://vt.tiktok.com/${code}/`,
    shared: `${host}${path}`,
  };
}

/** The profile, collection or playlist a TikTok address names (a short link's target), if it names one. */
export function listFromTikTokUrl(target: URL): ListLink | undefined {
  if (!isTikTokHost(target.hostname)) return undefined;
  return matchListPath(target.pathname, "www.tiktok.com");
}

/** The post id in a TikTok address a short link redirected to, if it names one. */
export function postIdFromTikTokUrl(target: URL): PostLink | undefined {
  if (!isTikTokHost(target.hostname)) return undefined;
  const post = matchPostPath(target.pathname, "www.tiktok.com");
  return post?.kind === "post" ? post : undefined;
}
