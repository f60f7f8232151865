import { postErrors, SourceFailure } from "../../../domain/errors.js";
import { scriptById } from "../../../domain/html.js";
import { at, firstOf, list, num, record, str } from "../../../domain/json-path.js";
import { type ListItem, listItemUrl } from "../../../domain/lists.js";
import type { Extraction, Media } from "../../../domain/media.js";
import { postIdTime } from "../../../domain/tiktok-url.js";

export const DATA_SCRIPT_ID = "__UNIVERSAL_DATA_FOR_REHYDRATION__";
const DETAIL_KEYS = ["webapp.video-detail", "webapp.reflow.video.detail"];

export type PageKind = "data" | "waf" | "captcha" | "stub";

export function classifyPage(html: string): PageKind {
  if (html.includes(`id="${DATA_SCRIPT_ID}"`) || html.includes(`id='${DATA_SCRIPT_ID}'`)) return "data";
  if (/id=["']?cs["']?/.test(html) && /id=["']?wci["']?/.test(html)) return "waf";
  if (/captcha-verify-container|captcha_container|captcha_verify_container/.test(html)) return "captcha";
  return "stub";
}

/**
 * The `__DEFAULT_SCOPE__` of a page's data script (a post's, a profile's, /following's): undefined
 * when the page has no data script, a failure of this source when the script is not JSON.
 */
export function pageScope(html: string): Record<string, unknown> | undefined {
  const text = scriptById(html, DATA_SCRIPT_ID);
  if (text === undefined) return undefined;
  try {
    return record(at(JSON.parse(text), ["__DEFAULT_SCOPE__"])) ?? {};
  } catch {
    throw new SourceFailure("bad_response", "the page's data script is not valid JSON");
  }
}

/** The post object of a page, or TikTok's own verdict on it, or a failure of this source. */
export function readPost(html: string, requestedId: string): Record<string, unknown> {
  const scope = pageScope(html);
  if (scope === undefined) throw new SourceFailure("bad_response", "the page has no data script");
  const detail = DETAIL_KEYS.map((key) => record(at(scope, [key]))).find(Boolean);
  if (!detail) throw new SourceFailure("bad_response", "the page's data has no post details");
  throwOnStatus(num(detail.statusCode) ?? 0, typeof detail.statusMsg === "string" ? detail.statusMsg : "");

  const item = record(at(detail, ["itemInfo", "itemStruct"]));
  if (!item || !record(item.author)) throw new SourceFailure("bad_response", "the page's post has no author");
  // The flag alone is not a gate (yt-dlp): only a classified post that comes without its media is.
  if (item.isContentClassified === true && !hasMedia(item)) throw postErrors.ageRestricted();
  if (str(item.id) !== requestedId)
    throw new SourceFailure("bad_response", `the page describes post ${String(item.id)}, not ${requestedId}`);
  return item;
}

/** TikTok answers 200 for every state; the verdict is in statusCode and statusMsg (docs/upstreams/tiktok.md §3). */
function throwOnStatus(code: number, message: string): void {
  if (code === 0 && message === "") return;
  const tokens = new Set(message.split(/[&,]/).map((token) => token.trim()));
  const has = (...names: string[]) => names.some((name) => tokens.has(name));
  if (has("status_deleted")) throw postErrors.notFound("This post was removed.");
  if (has("status_self_see") || code === 10216) throw postErrors.private("The owner made this post private.");
  if (has("author_secret") || code === 10222)
    throw postErrors.private("This post belongs to a private account.");
  if (has("status_reviewing", "status_audit_not_pass"))
    throw postErrors.notFound(`TikTok hides this post (${message}).`);
  if (has("cross_border_violation_ur", "person_geo_fencing", "copyright_geo_filter") || code === 10231)
    throw new SourceFailure(
      "region_blocked",
      `TikTok withholds this post in the server's region (${message || code})`,
    );
  if (code === 10204 && message === "")
    throw new SourceFailure("blocked", "TikTok refused this post to our address");
  // Without a deleted status, 10204 is not TikTok's last word: it also means "not for this server's
  // address" (yt-dlp reads every 10204 so). Another source may find the post; nothing is cached.
  if (code === 10204)
    throw new SourceFailure("not_found", `TikTok says the post does not exist here (10204 "${message}")`);
  if (code === 10217) throw postErrors.notFound("TikTok took this post down.");
  throw new SourceFailure("bad_response", `TikTok answered status ${code} "${message}"`);
}

/** Whether a post carries something to download: a video address, or images. */
function hasMedia(item: Record<string, unknown>): boolean {
  const video = at(item, ["video"]);
  const images = list(at(item, ["imagePost", "images"]));
  return (
    images.length > 0 || playAddress(video) !== undefined || str(at(video, ["downloadAddr"])) !== undefined
  );
}

const urlsOf = (value: unknown) =>
  list(value)
    .map(str)
    .filter((url): url is string => url !== undefined);
const isRedirector = (url: string) => url.includes("/aweme/v1/play/");

/** Prefers a direct CDN mirror: the /aweme/v1/play/ redirector only when nothing else is left. */
function bestMirror(urls: string[]): string | undefined {
  return urls.find((url) => !isRedirector(url)) ?? urls[0];
}

interface Rendition {
  url: string;
  width: number;
  height: number;
  bitrate: number;
  /** "h264" or "h265" (TikTok's bytevc1): some players cannot play h265. */
  codec: "h264" | "h265";
  /** The file's size in bytes, when the page says it. */
  size?: number;
}

const onWww = (url: string) => /^https?:\/\/www\.tiktok\.com\//i.test(url);

/** The codec TikTok's names say (CodecType "h264" / "h265_hvc1", a UrlKey's "_bytevc1_"), if they say. */
function codecOf(...names: unknown[]): Rendition["codec"] | undefined {
  const text = names
    .map((name) => str(name) ?? "")
    .join(" ")
    .toLowerCase();
  if (/bytevc1|h265|hevc|hvc1/.test(text)) return "h265";
  return /h264|avc/.test(text) ? "h264" : undefined;
}

function renditions(video: unknown): Rendition[] {
  const out: Rendition[] = [];
  for (const entry of list(at(video, ["bitrateInfo"]))) {
    const play = at(entry, ["PlayAddr"]);
    const codec = `${str(at(entry, ["CodecType"])) ?? ""} ${str(at(play, ["UrlKey"])) ?? ""}`;
    if (codec.includes("bytevc2")) continue;
    const url = bestMirror(
      urlsOf(at(play, ["UrlList"])).filter((u) => !/\/media-video-hvc1\/?(\?|$)/.test(u)),
    );
    if (!url) continue;
    // 2024 pages lack Width/Height: the UrlKey's "_<res>p_" gives the short side, enough to rank.
    const fromKey = /_(\d{3,4})p_/.exec(str(at(play, ["UrlKey"])) ?? "");
    const shortSide = fromKey?.[1] ? Number(fromKey[1]) : 0;
    const width = num(at(play, ["Width"])) ?? shortSide;
    const height = num(at(play, ["Height"])) ?? Math.round((shortSide * 16) / 9);
    out.push({
      url,
      width,
      height,
      bitrate: num(at(entry, ["Bitrate"])) ?? 0,
      codec: codecOf(at(entry, ["CodecType"]), at(play, ["UrlKey"])) ?? "h264",
      size: num(at(play, ["DataSize"])),
    });
  }
  return out;
}

/** Biggest first; at equal size h264 before h265 (it plays everywhere), then the higher bitrate. */
const byQuality = (a: Rendition, b: Rendition) =>
  b.width * b.height - a.width * a.height ||
  (a.codec === b.codec ? 0 : a.codec === "h264" ? -1 : 1) ||
  b.bitrate - a.bitrate;

function playAddress(video: unknown): string | undefined {
  const direct = at(video, ["playAddr"]);
  if (typeof direct === "string" && direct !== "") return direct;
  const fromList = bestMirror(
    list(direct)
      .map((entry) => str(at(entry, ["src"])))
      .filter((u): u is string => !!u),
  );
  return fromList ?? bestMirror(urlsOf(at(video, ["PlayAddrStruct", "UrlList"])));
}

/**
 * The watermark-free file on TikTok's CDN. `playAddr` is often the `www.tiktok.com/aweme/v1/play/`
 * redirector, which answers about 31 KB of HTML without the right session: then its CDN copies in
 * `PlayAddrStruct.UrlList`, or the rendition of the same size in `bitrateInfo`, are the file (yt-dlp
 * drops every www address from its formats).
 */
function cleanAddress(video: unknown, all: Rendition[]): { url?: string; codec?: Rendition["codec"] } {
  const play = playAddress(video);
  const struct = at(video, ["PlayAddrStruct"]);
  const codec = codecOf(at(video, ["codecType"]), at(struct, ["UrlKey"]));
  if (play && !onWww(play)) return { url: play, codec };
  const mirror = urlsOf(at(struct, ["UrlList"])).find((url) => !onWww(url));
  if (mirror) return { url: mirror, codec };
  const size = num(at(struct, ["DataSize"])) ?? num(at(video, ["size"]));
  const onCdn = all.filter((rendition) => !onWww(rendition.url) && !isRedirector(rendition.url));
  // The rendition of playAddr's size is its CDN copy; without a size that matches, the best CDN
  // rendition (yt-dlp drops every www address and ranks what is left).
  const chosen =
    onCdn.find((rendition) => size !== undefined && rendition.size === size) ?? [...onCdn].sort(byQuality)[0];
  if (chosen) return { url: chosen.url, codec: chosen.codec };
  return { url: play, codec };
}

function imageUrl(image: unknown): string | undefined {
  const mirrors = urlsOf(at(image, ["imageURL", "urlList"]));
  return mirrors.find((url) => url.includes(".jpeg?")) ?? mirrors[0];
}

/** `video.subtitleInfos`: "ASR" is TikTok's automatic captions, "MT" a machine translation. */
function subtitlesOf(video: unknown): Media["subtitles"] {
  const tracks = list(at(video, ["subtitleInfos"])).flatMap((info) => {
    const url = str(at(info, ["Url"]));
    // A track without a language is English, as yt-dlp reads it.
    const language = str(at(info, ["LanguageCodeName"])) ?? "en";
    if (!url) return [];
    const origin = str(at(info, ["Source"]));
    return [
      {
        language,
        format: (str(at(info, ["Format"])) ?? "webvtt").toLowerCase(),
        url,
        source:
          origin === "ASR"
            ? ("auto" as const)
            : origin === "MT"
              ? ("translated" as const)
              : ("creator" as const),
      },
    ];
  });
  return tracks.length > 0 ? tracks : undefined;
}

function statsOf(item: Record<string, unknown>): Media["stats"] {
  const read = (key: string) =>
    firstOf(num, item, [
      ["statsV2", key],
      ["stats", key],
    ]);
  return {
    plays: read("playCount"),
    likes: read("diggCount"),
    comments: read("commentCount"),
    shares: read("shareCount"),
    saves: read("collectCount"),
  };
}

function createdAtOf(item: Record<string, unknown>, id: string): string {
  const seconds = num(item.createTime) || postIdTime(id);
  return new Date(seconds * 1000).toISOString();
}

/** Maps TikTok's itemStruct to our plain result (docs/upstreams/tiktok.md §2.5–2.8). */
export function mapPost(item: Record<string, unknown>): Media {
  const id = String(item.id);
  const video = at(item, ["video"]);
  const author = at(item, ["author"]);
  const images = list(at(item, ["imagePost", "images"]))
    .map(imageUrl)
    .filter((u): u is string => !!u);
  const isPhoto = images.length > 0;
  const play = playAddress(video);
  const base: Media = {
    id,
    type: isPhoto ? "photo" : "video",
    caption: str(item.desc),
    createdAt: createdAtOf(item, id),
    author: {
      username: str(at(author, ["uniqueId"])),
      nickname: str(at(author, ["nickname"])),
      id: str(at(author, ["id"])),
      avatar: firstOf(str, author, [["avatarLarger"], ["avatarMedium"], ["avatarThumb"]]),
    },
    music: {
      // A photo post's playAddr is its soundtrack (cobalt); music.playUrl may be "".
      url: str(at(item, ["music", "playUrl"])) ?? (isPhoto ? play : undefined),
      title: str(at(item, ["music", "title"])),
      author: str(at(item, ["music", "authorName"])),
      cover: firstOf(str, item, [
        ["music", "coverLarge"],
        ["music", "coverMedium"],
        ["music", "coverThumb"],
      ]),
      duration: num(at(item, ["music", "duration"])) || undefined,
    },
    thumb: firstOf(str, item, [
      ["video", "cover"],
      ["video", "originCover"],
      ["imagePost", "cover", "imageURL", "urlList", 0],
    ]),
    subtitles: subtitlesOf(video),
    stats: statsOf(item),
  };
  if (isPhoto) return { ...base, images };

  const all = renditions(video);
  const best = [...all].sort(byQuality)[0];
  const clean = cleanAddress(video, all);
  const width = num(at(video, ["width"]));
  const height = num(at(video, ["height"]));
  const isBetter = best && best.url !== clean.url && best.width * best.height > (width ?? 0) * (height ?? 0);
  const addresses = cdnOnly({
    noWatermark: clean.url,
    watermark: firstOf(str, video, [["downloadAddr"], ["download", "url"]]),
    hd: isBetter ? best.url : undefined,
  });
  return {
    ...base,
    video: {
      ...addresses,
      duration: num(at(video, ["duration"])) || undefined,
      width,
      height,
      codec: addresses.noWatermark ? clean.codec : undefined,
      hdCodec: addresses.hd && best ? best.codec : undefined,
    },
  };
}

/**
 * Media addresses on www.tiktok.com (the /aweme/v1/play/ redirector) answer a small HTML body unless the
 * request carries the right session: when the post has a CDN address, they are left out (yt-dlp too).
 */
function cdnOnly<T extends Record<string, string | undefined>>(addresses: T): Partial<T> {
  const onWww = (url: string | undefined) => url !== undefined && /^https?:\/\/www\.tiktok\.com\//i.test(url);
  const values = Object.values(addresses);
  if (!values.some((url) => url !== undefined && !onWww(url))) return addresses;
  return Object.fromEntries(Object.entries(addresses).filter(([, url]) => !onWww(url))) as Partial<T>;
}

/** The domain TikTok's page sets its cookies on: media hosts elsewhere (tiktokcdn.com) never get them. */
const SESSION_COOKIE_DOMAINS = ["tiktok.com"] as const;

/**
 * A post's itemStruct (a page's, or a list's), checked to be the post asked for, as the common result:
 * its media bound to the session that read it, whose cookies (`cookie`, the jar's for www.tiktok.com) and
 * way out (`route`) its files are fetched with.
 */
export function extractionOf(
  item: Record<string, unknown>,
  session: { userAgent: string; cookie: string; route: string },
): Extraction {
  const media = mapPost(item);
  return {
    media,
    verified: true,
    session: {
      headers: { referer: "https://www.tiktok.com/", "user-agent": session.userAgent },
      // The cookies follow their domain (.tiktok.com), so media on tiktokcdn.com hosts get none; the
      // operator's login is never among them.
      cookie: { value: session.cookie, domains: SESSION_COOKIE_DOMAINS },
      route: session.route,
    },
    expiresAt: earliestExpiry(media),
  };
}

/** The earliest expiry among media addresses (`expire=` on video/audio, `x-expires=` on images), in ms. */
export function earliestExpiry(media: Media): number | undefined {
  const addresses = [
    media.video?.noWatermark,
    media.video?.watermark,
    media.video?.hd,
    media.music?.url,
    ...(media.images ?? []),
  ];
  let earliest: number | undefined;
  for (const address of addresses) {
    if (!address) continue;
    const match = /[?&](?:x-)?expires?=(\d{9,11})(?:&|$)/.exec(address);
    if (!match?.[1]) continue;
    const ms = Number(match[1]) * 1000;
    earliest = earliest === undefined ? ms : Math.min(earliest, ms);
  }
  return earliest;
}

/** A post of a list answer (the same itemStruct as a page's), as the API lists it. */
export function listItemOf(item: Record<string, unknown>, fallbackUsername?: string): ListItem {
  const id = String(item.id);
  const photo = list(at(item, ["imagePost", "images"])).length > 0;
  const type = photo ? "photo" : "video";
  const username = str(at(item, ["author", "uniqueId"])) ?? fallbackUsername;
  return {
    id,
    url: listItemUrl(username, id, type),
    type,
    caption: str(item.desc),
    createdAt: createdAtOf(item, id),
    thumb: firstOf(str, item, [
      ["video", "cover"],
      ["video", "originCover"],
      ["imagePost", "cover", "imageURL", "urlList", 0],
    ]),
    duration: photo ? undefined : num(at(item, ["video", "duration"])) || undefined,
    stats: statsOf(item),
    author: authorOfItem(str(at(item, ["author", "uniqueId"])), item),
  };
}

function authorOfItem(username: string | undefined, item: Record<string, unknown>): ListItem["author"] {
  const author = {
    username,
    nickname: str(at(item, ["author", "nickname"])),
    id: str(at(item, ["author", "id"])),
  };
  return author.username || author.id ? author : undefined;
}
