import { SourceFailure } from "./errors.js";
import { isPlausiblePostId } from "./tiktok-url.js";

/** What every source returns: plain data about one post, only what is known. */
export interface Media {
  id: string;
  type: "video" | "photo";
  caption?: string;
  createdAt?: string;
  author?: { username?: string; nickname?: string; id?: string; avatar?: string };
  video?: {
    noWatermark?: string;
    watermark?: string;
    hd?: string;
    duration?: number;
    width?: number;
    height?: number;
    /** The codec of `noWatermark` and of `hd`, when the source says: "h264" plays everywhere, "h265" not. */
    codec?: "h264" | "h265";
    hdCodec?: "h264" | "h265";
  };
  music?: { url?: string; title?: string; author?: string; cover?: string; duration?: number };
  images?: string[];
  /** A live photo's clips, one per image that has one (Douyin). */
  livePhotos?: string[];
  thumb?: string;
  subtitles?: Subtitle[];
  stats?: { plays?: number; likes?: number; comments?: number; shares?: number; saves?: number };
}

/** A subtitle track: TikTok's language code ("eng-US"), its format ("webvtt", …), and who made it. */
export interface Subtitle {
  language: string;
  format: string;
  url: string;
  source: "auto" | "translated" | "creator";
}

/** The request context a source needs to fetch media later (tunnel): cookies, referer, user agent. */
export interface MediaSession {
  headers: Record<string, string>;
  /** The session's cookies, and the domains (with their subdomains) they may be sent to. */
  cookie?: { value: string; domains: readonly string[] };
  /** The way out (direct, or a proxy's label) the session was made through: its media go the same way. */
  route?: string;
}

export interface Extraction {
  media: Media;
  /**
   * Whether the upstream's own answer named this post (TikTok's itemStruct.id, a provider's id field, or
   * the id in its files' names). An unproven answer may serve the request that asked for it, never
   * everyone (docs/security.md).
   */
  verified?: boolean;
  session?: MediaSession;
  /** When the first of the media addresses stops working (ms since epoch), if known. */
  expiresAt?: number;
  /** Built from what only the operator's login showed: answered to the client that asked, never cached. */
  viaLogin?: boolean;
}

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 8192) return false;
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * Cleans a source's answer before it counts as a success: drops empty values and non-http(s) links,
 * de-duplicates images, and refuses an answer that carries no media at all.
 */
export function validateMedia(media: Media): Media {
  const url = (value: string | undefined) => (isHttpUrl(value) ? value : undefined);
  const count = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
  const clean: Media = {
    id: media.id,
    type: media.type,
    caption: media.caption || undefined,
    createdAt: media.createdAt,
    author: prune({ ...media.author, avatar: url(media.author?.avatar) }),
    video: prune({
      noWatermark: url(media.video?.noWatermark),
      watermark: url(media.video?.watermark),
      hd: url(media.video?.hd),
      duration: count(media.video?.duration),
      width: count(media.video?.width),
      height: count(media.video?.height),
      codec: media.video?.codec,
      hdCodec: media.video?.hdCodec,
    }),
    music: prune({
      ...media.music,
      url: url(media.music?.url),
      cover: url(media.music?.cover),
      duration: count(media.music?.duration),
    }),
    images: media.images ? [...new Set(media.images.filter(isHttpUrl))] : undefined,
    livePhotos: media.livePhotos?.length ? media.livePhotos.filter(isHttpUrl) : undefined,
    thumb: url(media.thumb),
    subtitles: media.subtitles?.filter(
      (track) => isHttpUrl(track.url) && /^[\w-]{1,32}$/.test(track.language),
    ),
    stats: prune({
      plays: count(media.stats?.plays),
      likes: count(media.stats?.likes),
      comments: count(media.stats?.comments),
      shares: count(media.stats?.shares),
      saves: count(media.stats?.saves),
    }),
  };
  if (clean.images?.length === 0) clean.images = undefined;
  if (clean.subtitles?.length === 0) clean.subtitles = undefined;
  const hasMedia =
    clean.type === "photo"
      ? clean.images !== undefined
      : clean.video?.noWatermark || clean.video?.watermark || clean.video?.hd;
  if (!hasMedia) throw new SourceFailure("invalid_result", `the answer has no usable ${clean.type} address`);
  return prune(clean) as Media;
}

/** Removes undefined, "" and empty objects, so absent data is left out rather than null. */
export function prune<T extends object>(value: T): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined || field === null || field === "") continue;
    if (typeof field === "object" && !Array.isArray(field)) {
      const inner = prune(field as object);
      if (inner !== undefined) out[key] = inner;
      continue;
    }
    out[key] = field;
  }
  return Object.keys(out).length === 0 ? undefined : (out as T);
}

/** The v1 answer: `urls` (watermark-free first), `thumb`, `additional.musicUrl`, then the details. */
export function toApiResult(media: Media, meta: { provider: string; cached: boolean; platform: string }) {
  const candidates =
    media.type === "photo"
      ? [...(media.images ?? [])]
      : [media.video?.noWatermark, media.video?.hd, media.video?.watermark];
  const urls = [...new Set(candidates.filter((value): value is string => typeof value === "string"))];
  return {
    urls,
    thumb: media.thumb,
    additional: prune({ musicUrl: media.music?.url }) ?? {},
    id: media.id,
    type: media.type,
    platform: meta.platform,
    provider: meta.provider,
    cached: meta.cached,
    caption: media.caption,
    createdAt: media.createdAt,
    author: media.author,
    video: media.video,
    music: media.music,
    images: media.images,
    livePhotos: media.livePhotos,
    subtitles: media.subtitles,
    stats: media.stats,
  };
}

/**
 * The post ids a provider's file addresses name: a path segment that is a plausible post id, bare or
 * with a file extension (`/video/media/play/<id>.mp4`, `/ssstik/<id>`). Only video and image files are
 * read: TikTok's music ids look like post ids and sit in audio addresses.
 */
export function postIdsInLinks(media: Pick<Media, "video" | "images">, nowMs: number): string[] {
  const links = [media.video?.noWatermark, media.video?.hd, media.video?.watermark, ...(media.images ?? [])];
  const ids = new Set<string>();
  for (const link of links) {
    if (!link) continue;
    let path: string;
    try {
      path = new URL(link).pathname;
    } catch {
      continue;
    }
    for (const segment of path.split("/")) {
      const id = /^(\d{19})(?:\.[a-z0-9]{2,4})?$/i.exec(segment)?.[1];
      if (id && isPlausiblePostId(id, nowMs)) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * Checks what an answer says against the post asked for: the id the answer names (a field, or its
 * files' names) must be the requested one. Another id anywhere makes the answer that post's (the rotation
 * refuses it); no id at all leaves it unproven.
 */
export function withIdEvidence(
  requestedId: string,
  media: Media,
  said: readonly (string | undefined)[],
): { media: Media; verified: boolean } {
  const evidence = said.filter((id): id is string => typeof id === "string" && id !== "");
  const other = evidence.find((id) => id !== requestedId);
  if (other !== undefined) return { media: { ...media, id: other }, verified: false };
  return { media: { ...media, id: requestedId }, verified: evidence.length > 0 };
}
