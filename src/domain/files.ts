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

/** Control characters (C0, DEL, C1) and the bidirectional controls that can make a name read backwards. */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** Characters Windows refuses in a name (and `/`, which no system takes). */
const RESERVED_CHARACTERS = /[<>:"/\\|?*]/g;
/** Names Windows keeps for devices, with or without an extension. */
const DEVICE_NAMES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
/**
 * The longest name, in UTF-8 bytes: 255 is the limit of Linux, macOS and Windows file systems; a few are
 * kept for the `.part` suffix a download is written under first.
 */
export const MAX_NAME_BYTES = 240;

/**
 * A name that is safe to create on Linux, macOS and Windows, whoever chose it (a server, a source, a
 * caption): no path, no control or bidirectional character, no reserved name or character, no trailing
 * dot or space, no leading dot, and at most MAX_NAME_BYTES, shortened before its extension.
 */
export function safeFileName(name: string, fallback: string): string {
  let safe = name
    .normalize("NFC")
    .replace(UNSAFE_CHARACTERS, "")
    .replace(RESERVED_CHARACTERS, "_")
    .replace(/^[.\s]+/, (dots) => "_".repeat(Math.min(dots.length, 1)))
    .replace(/[.\s]+$/, "");
  if (DEVICE_NAMES.test(safe)) safe = `_${safe}`;
  safe = fitBytes(safe, MAX_NAME_BYTES);
  return safe && safe !== "_" ? safe : fallback;
}

/** A relative path (a template's folders and name) made safe piece by piece: nothing climbs out of its folder. */
export const safeRelativePath = (path: string, fallback: string) =>
  path
    .split("/")
    .map((part, i, all) => safeFileName(part, i === all.length - 1 ? fallback : "_"))
    .join("/");

/** The name cut to `max` UTF-8 bytes, whole characters only, its extension (up to 10 characters) kept. */
export function fitBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  const extension = /\.[\p{L}\p{N}]{1,10}$/u.exec(name)?.[0] ?? "";
  let stem = "";
  let bytes = Buffer.byteLength(extension);
  for (const character of name.slice(0, name.length - extension.length)) {
    bytes += Buffer.byteLength(character);
    if (bytes > max) break;
    stem += character;
  }
  return `${stem.replace(/[.\s]+$/, "")}${extension}`;
}

/** Text from a source or a server, printed with its control characters made visible (`\u001b`). */
export const visible = (text: string) =>
  text.replace(
    UNSAFE_CHARACTERS,
    (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );

/** A TikTok post id: digits only (19 today). Nothing else may reach a file name or an archive line. */
export const isPostId = (id: unknown): id is string => typeof id === "string" && /^\d{1,25}$/.test(id);

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
