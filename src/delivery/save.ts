import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { TunnelKind } from "./token.js";

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
export interface Offer {
  type: "video" | "photo";
  imageCount: number;
  has(kind: "video" | "hd" | "music" | "zip"): boolean;
}

export interface FileRef {
  kind: TunnelKind;
  index?: number;
}

/** The files to save for a post: one piece of logic for every face (CLI, library). */
export function filesToSave(offer: Offer, choice: SaveChoice): FileRef[] {
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

/** Writes a body under a temporary name, renamed only once it is complete (removed if it fails). */
export async function writeFileAtomically(body: Readable, path: string, through: Transform[] = []) {
  const partial = `${path}.part`;
  try {
    await pipeline([body, ...through, createWriteStream(partial)]);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
