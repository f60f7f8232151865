import type { Media, MediaSession } from "../core/media.js";
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
  provider: string,
): StreamLinks {
  const stem = fileStem(media);
  const link = (url: string | undefined, kind: MediaKind, filename: string, index?: number) =>
    url === undefined
      ? undefined
      : `${STREAM_PATH}${tokens.seal({ url, headers: session?.headers ?? {}, filename, postId: media.id, provider, kind, index })}`;
  const links: StreamLinks = {
    video: link(media.video?.noWatermark, "video", `${stem}.mp4`),
    videoWatermark: link(media.video?.watermark, "videoWatermark", `${stem}_watermark.mp4`),
    hd: link(media.video?.hd, "hd", `${stem}_hd.mp4`),
    music: link(media.music?.url, "music", `${stem}_audio.mp3`),
    images: media.images?.map((url, i) => link(url, "image", `${stem}_photo_${i + 1}.jpg`, i) as string),
    thumb: link(media.thumb, "thumb", `${stem}_cover.jpg`),
  };
  return Object.fromEntries(Object.entries(links).filter(([, value]) => value !== undefined)) as StreamLinks;
}

/** The address of one kind of media in a (fresh) result: used when an expired link is re-extracted. */
export function mediaUrlOf(media: Media, kind: MediaKind, index = 0): string | undefined {
  switch (kind) {
    case "video":
      return media.video?.noWatermark;
    case "videoWatermark":
      return media.video?.watermark;
    case "hd":
      return media.video?.hd;
    case "music":
      return media.music?.url;
    case "image":
      return media.images?.[index];
    case "thumb":
      return media.thumb;
  }
}
