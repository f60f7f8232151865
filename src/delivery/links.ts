import type { Media, MediaSession } from "../domain/media.js";
import type { MediaKind, StreamTokens } from "./token.js";

export interface StreamLinks {
  video?: string;
  videoWatermark?: string;
  hd?: string;
  music?: string;
  images?: string[];
  /** The cover, so a page can show it without sending its visitors to TikTok's CDN. */
  thumb?: string;
}

export const STREAM_PATH = "/api/stream/";

/** Everything the tunnel knows per kind of file: where it is in a result, its name, its usual type. */
export const MEDIA_KINDS: Record<
  MediaKind,
  {
    url: (media: Media, index: number) => string | undefined;
    suffix: (index: number) => string;
    type: string;
  }
> = {
  video: { url: (media) => media.video?.noWatermark, suffix: () => ".mp4", type: "video/mp4" },
  videoWatermark: {
    url: (media) => media.video?.watermark,
    suffix: () => "_watermark.mp4",
    type: "video/mp4",
  },
  hd: { url: (media) => media.video?.hd, suffix: () => "_hd.mp4", type: "video/mp4" },
  music: { url: (media) => media.music?.url, suffix: () => "_audio.mp3", type: "audio/mpeg" },
  image: {
    url: (media, index) => media.images?.[index],
    suffix: (index) => `_photo_${index + 1}.jpg`,
    type: "image/jpeg",
  },
  thumb: { url: (media) => media.thumb, suffix: () => "_cover.jpg", type: "image/jpeg" },
};

const SINGLE_KINDS = ["video", "videoWatermark", "hd", "music", "thumb"] as const;

/** `tiktok_<user>_<id>`: what the saved files are called (cobalt's naming). */
export function fileStem(media: Media): string {
  const user = (media.author?.username ?? "").replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "unknown";
  return `tiktok_${user}_${media.id}`;
}

/** A signed tunnel link for every media address of a result. */
export function streamLinksFor(
  tokens: StreamTokens,
  media: Media,
  session: MediaSession | undefined,
  source: string,
): StreamLinks {
  const stem = fileStem(media);
  const link = (kind: MediaKind, index = 0) => {
    const url = MEDIA_KINDS[kind].url(media, index);
    if (url === undefined) return undefined;
    const filename = `${stem}${MEDIA_KINDS[kind].suffix(index)}`;
    const ticket = { url, headers: session?.headers ?? {}, filename, postId: media.id, source, kind };
    return `${STREAM_PATH}${tokens.seal(kind === "image" ? { ...ticket, index } : ticket)}`;
  };
  const links: StreamLinks = {};
  for (const kind of SINGLE_KINDS) {
    const path = link(kind);
    if (path !== undefined) links[kind] = path;
  }
  if (media.images) links.images = media.images.map((_, index) => link("image", index) as string);
  return links;
}

/** The address of one kind of media in a (fresh) result: used when an expired link is re-extracted. */
export const mediaUrlOf = (media: Media, kind: MediaKind, index = 0) => MEDIA_KINDS[kind].url(media, index);
