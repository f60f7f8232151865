import { Readable } from "node:stream";
import { ApiError } from "../domain/errors.js";
import type { MediaKind, TunnelKind } from "../domain/files.js";
import { filenameOf, zipNameOf } from "./links.js";
import type { Relay, Relayed, RelayRequest } from "./relay.js";
import type { StreamTicket } from "./token.js";

const isZipTicket = (ticket: StreamTicket<TunnelKind>): ticket is StreamTicket<"zip"> =>
  ticket.kind === "zip";

/** What any link names, opened: one file through the relay, or a photo post's ZIP built from its files. */
export function openLinked(relay: Relay, ticket: StreamTicket<TunnelKind>, request: RelayRequest) {
  return isZipTicket(ticket) ? openZip(relay, ticket, request) : relay.open(ticket as StreamTicket, request);
}

/**
 * A photo post as one ZIP (`tiktok_<user>_<id>.zip`): its images in order, then its audio, each named as
 * its own link would name it. Built while it streams (yazl): each file is opened through the relay only
 * when its turn comes, so one upstream request runs at a time and no file is held whole in memory or on
 * disk. The files are already compressed, so they are stored, not deflated.
 */
export async function openZip(
  relay: Relay,
  ticket: StreamTicket<"zip">,
  request: RelayRequest,
): Promise<Relayed> {
  const media = await relay.postMedia(ticket, request);
  if (!media.images?.length)
    throw new ApiError(502, "UPSTREAM_FAILED", "This post has no images to put in a ZIP.");
  const base = {
    status: 200 as const,
    type: "application/zip",
    headers: {},
    filename: zipNameOf(ticket.post.platform, media),
  };
  if (request.method === "HEAD") return { ...base, body: Readable.from([]) };

  // The ZIP writer is loaded with the first ZIP asked for, not at start.
  const { default: yazl } = await import("yazl");
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as Readable;
  // An entry that fails ends the ZIP at once with an error that names the upstream: the client sees a
  // cut transfer, never a complete-looking archive, and no later entry is opened.
  const fail = (error: Error) => {
    if (!output.destroyed) output.destroy(error);
  };
  zip.on("error", fail);
  const add = (kind: MediaKind, index: number) => {
    const name = filenameOf(ticket.post.platform, media, kind, index);
    zip.addReadStreamLazy(name, { compress: false }, (done) => {
      if (output.destroyed) return done(new Error("the ZIP was ended"), Readable.from([]));
      // Each file whole: a Range the client sent was about the ZIP, which has none.
      relay
        .open({ ...ticket, kind, ...(kind === "image" ? { index } : {}) }, { ...request, range: undefined })
        .then(
          (file) => done(null, checkedEntry(file, name, fail)),
          (error: unknown) => {
            fail(new ZipEntryError(name, error instanceof Error ? error.message : String(error)));
            done(error, Readable.from([]));
          },
        );
    });
  };
  for (const index of media.images.keys()) add("image", index);
  if (media.music?.url) add("music", 0);
  zip.end();
  return { ...base, body: output };
}

/** Why a ZIP was cut: which entry, and what its media host did (not the client's doing). */
export class ZipEntryError extends Error {
  constructor(entry: string, why: string) {
    super(`ZIP entry ${entry}: the media host ${why}`);
    this.name = "ZipEntryError";
  }
}

/**
 * An entry's upstream body, watched: an error, or an end before the length the media host declared,
 * fails the ZIP at once (yazl would otherwise wait for the rest of a body that never comes).
 */
function checkedEntry(file: Relayed, name: string, fail: (error: Error) => void): Readable {
  const declared = Number(file.headers["content-length"]);
  let received = 0;
  file.body.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  file.body.once("error", (error: Error) => {
    fail(new ZipEntryError(name, `cut the file after ${received} bytes (${error.message})`));
  });
  file.body.once("end", () => {
    if (Number.isFinite(declared) && received < declared)
      fail(new ZipEntryError(name, `ended the file after ${received} of ${declared} bytes`));
  });
  return file.body;
}
