/** One of a post's files, as a link names it. */
export type MediaKind = "video" | "videoWatermark" | "hd" | "music" | "image" | "thumb" | "subtitle";
/** What a link may name: one of a post's files, or a ZIP of a photo post's images and audio. */
export type TunnelKind = MediaKind | "zip";

/** What to save of a post (the CLI's flags, the library's `save` options). */
export interface SaveChoice {
  /** The audio only. */
  audio?: boolean;
  /** Photo posts: the audio too, beside the images. */
  images?: boolean;
  /** Videos: the HD file when there is one. */
  hd?: boolean;
  /** Photo posts: one ZIP of the images and the audio instead of separate files. */
  zip?: boolean;
}

/** What a post offers, whatever form it comes in (an API result's links, or the media itself). */
interface Offer {
  type: "video" | "photo";
  imageCount: number;
  has(kind: "video" | "hd" | "music" | "zip"): boolean;
}

interface FileRef {
  kind: TunnelKind;
  index?: number;
}

/** The files to save for a post. */
function filesToSave(offer: Offer, choice: SaveChoice): FileRef[] {
  const audio: FileRef[] = offer.has("music") ? [{ kind: "music" }] : [];
  if (choice.audio) return audio;
  if (offer.type === "photo") {
    if (choice.zip && offer.has("zip")) return [{ kind: "zip" }];
    const images = Array.from(
      { length: offer.imageCount },
      (_, index): FileRef => ({ kind: "image", index }),
    );
    return [...images, ...(choice.images ? audio : [])];
  }
  if (choice.hd && offer.has("hd")) return [{ kind: "hd" }];
  return offer.has("video") ? [{ kind: "video" }] : [];
}

/** Never trust a server with paths: a bare file name only. */
export const safeFileName = (name: string, fallback: string) =>
  name.replace(/[/\\]/g, "_").replace(/^\.+/, "_") || fallback;

/** A result's file links (the API's `stream`, or the tunnel links a face holds). */
export interface FileLinks {
  video?: string;
  hd?: string;
  music?: string;
  images?: string[];
  zip?: string;
}

/** The links of the files to save of a post, in order: `filesToSave` over a result's links. */
export function linksToSave(type: Offer["type"], links: FileLinks, choice: SaveChoice): string[] {
  const offer: Offer = {
    type,
    imageCount: links.images?.length ?? 0,
    has: (kind) => Boolean(links[kind]),
  };
  return filesToSave(offer, choice).flatMap((file) => {
    const link =
      file.kind === "image" ? links.images?.[file.index ?? 0] : links[file.kind as keyof FileLinks];
    return typeof link === "string" ? [link] : [];
  });
}
