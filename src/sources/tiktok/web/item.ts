/**
 * TikTok's item JSON (a post page's itemStruct, a list's itemList entry, a story) read into our result:
 * its files, the best rendition of each, its author, music, subtitles and counts. The page, the lists
 * and the kept stories all read items here; what kind of page came back is page.ts's question.
 */
import { at, firstOf, list, num, str } from "../../../domain/json-path.js";
import { type ListItem, listItemUrl } from "../../../domain/lists.js";
import type { Extraction, Media } from "../../../domain/media.js";
import { postIdTime } from "../../../domain/tiktok-url.js";

/** Whether a post carries something to download: a video address, or images. */
export function hasMedia(item: Record<string, unknown>): boolean {
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
