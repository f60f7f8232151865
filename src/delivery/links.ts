import type { MediaKind } from "../domain/files.js";
import type { Media } from "../domain/media.js";
import type { StreamTokens } from "./token.js";

export interface StreamLinks {
  video?: string;
  videoWatermark?: string;
  hd?: string;
  music?: string;
  images?: string[];
  /** The cover, so a page can show it without sending its visitors to TikTok's CDN. */
  thumb?: string;
  /** A photo post's images and audio in one ZIP. */
  zip?: string;
}

export const STREAM_PATH = "/api/stream/";

const MEDIA = /^(video|audio|image)\/|^application\/octet-stream/i;
/** Subtitles come as WebVTT, or TikTok's JSON captions; some hosts send them as plain bytes. */
const TEXT = /^text\/(vtt|plain)|^application\/(json|octet-stream|x-subrip)/i;

/** Everything the tunnel knows per kind of file: where it is in a result, its name, and the types a media host may answer for it. */
/**
 * An audio file's type: what its address says (`mime_type=audio_mp4` is an m4a, `audio_mpeg` an mp3),
 * else what the media host said it is (`Content-Type`), else mp3.
 */
function audioExtension(url: string | undefined, contentType?: string): string {
  const named = /[?&]mime_type=([a-z0-9_]+)/i
    .exec(url ?? "")?.[1]
    ?.toLowerCase()
    .replace("_", "/");
  const type = named ?? contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return AUDIO_EXTENSIONS[type] ?? "mp3";
}

const AUDIO_EXTENSIONS: Record<string, string> = {
  "audio/mp4": "m4a",
  "audio/m4a": "m4a",
  "audio/x-m4a": "m4a",
  // TikTok's CDN serves some soundtracks (the video's own audio) as an MP4 container.
  "video/mp4": "m4a",
  "audio/aac": "aac",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/ogg": "ogg",
  "audio/opus": "opus",
  "audio/webm": "weba",
  "audio/wav": "wav",
};

/** A subtitle track's file type by its `Format`: WebVTT, SubRip, or TikTok's JSON captions. */
function subtitleExtension(format: string | undefined): string {
  if (!format || format === "webvtt" || format === "vtt") return "vtt";
  if (format === "srt" || format === "subrip") return "srt";
  return "json";
}

export const MEDIA_KINDS: Record<
  MediaKind,
  {
    url: (media: Media, index: number) => string | undefined;
    /** `contentType`: what the media host said the file is, when it has answered. */
    suffix: (media: Media, index: number, contentType?: string) => string;
    accepts: RegExp;
  }
> = {
  video: {
    url: (media) => media.video?.noWatermark,
    suffix: () => ".mp4",
    accepts: MEDIA,
  },
  videoWatermark: {
    url: (media) => media.video?.watermark,
    suffix: () => "_watermark.mp4",
    accepts: MEDIA,
  },
  hd: { url: (media) => media.video?.hd, suffix: () => "_hd.mp4", accepts: MEDIA },
  music: {
    url: (media) => media.music?.url,
    suffix: (media, _, contentType) => `_audio.${audioExtension(media.music?.url, contentType)}`,
    accepts: MEDIA,
  },
  image: {
    url: (media, index) => media.images?.[index],
    suffix: (_, index) => `_photo_${index + 1}.jpg`,
    accepts: MEDIA,
  },
  thumb: { url: (media) => media.thumb, suffix: () => "_cover.jpg", accepts: MEDIA },
  subtitle: {
    url: (media, index) => media.subtitles?.[index]?.url,
    suffix: (media, index) => {
      const track = media.subtitles?.[index];
      return `_${track?.language ?? index}.${subtitleExtension(track?.format)}`;
    },
    accepts: TEXT,
  },
};

const SINGLE_KINDS = ["video", "videoWatermark", "hd", "music", "thumb"] as const;

/** `<platform>_<user>_<id>` (`tiktok_river.cooks_755…`): what the saved files are called (cobalt's naming). */
export function fileStem(platform: string, media: Media): string {
  const user = (media.author?.username ?? "").replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "unknown";
  return `${platform}_${user}_${media.id}`;
}

/**
 * A signed tunnel link for every media address of a result, and one for each subtitle track (in the
 * same order as `media.subtitles`).
 */
export function streamLinksFor(
  tokens: StreamTokens,
  platform: string,
  media: Media,
  source: string,
  viaLogin = false,
): { links: StreamLinks; subtitles: string[] } {
  const token = tokens.forPost({ platform, id: media.id }, source, viaLogin);
  const links: StreamLinks = {};
  for (const kind of SINGLE_KINDS) {
    if (MEDIA_KINDS[kind].url(media, 0) !== undefined) links[kind] = `${STREAM_PATH}${token(kind)}`;
  }
  if (media.images) links.images = media.images.map((_, index) => `${STREAM_PATH}${token("image", index)}`);
  if (media.images?.length) links.zip = `${STREAM_PATH}${token("zip")}`;
  const subtitles = (media.subtitles ?? []).map((_, index) => `${STREAM_PATH}${token("subtitle", index)}`);
  return { links, subtitles };
}

/** The ZIP of a photo post: `tiktok_<user>_<id>.zip`. */
export const zipNameOf = (platform: string, media: Media) => `${fileStem(platform, media)}.zip`;

/** The file name of one kind of media of a post (`tiktok_<user>_<id>_photo_2.jpg`). */
export const filenameOf = (
  platform: string,
  media: Media,
  kind: MediaKind,
  index = 0,
  contentType?: string,
) => `${fileStem(platform, media)}${MEDIA_KINDS[kind].suffix(media, index, contentType)}`;

/** The address of one kind of media in a (fresh) result: used when an expired link is re-extracted. */
export const mediaUrlOf = (media: Media, kind: MediaKind, index = 0) => MEDIA_KINDS[kind].url(media, index);
