import { Readable } from "node:stream";
import yazl from "yazl";
import { ApiError } from "../domain/errors.js";
import { filenameOf, zipNameOf } from "./links.js";
import type { Relay, Relayed, RelayRequest } from "./relay.js";
import type { MediaKind, StreamTicket, TunnelKind } from "./token.js";

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
  const media = await relay.mediaOf(ticket, request);
  if (!media.images?.length)
    throw new ApiError(502, "UPSTREAM_FAILED", "This post has no images to put in a ZIP.");
  const base = { status: 200 as const, type: "application/zip", headers: {}, filename: zipNameOf(media) };
  if (request.method === "HEAD") return { ...base, body: Readable.from([]) };

  const zip = new yazl.ZipFile();
  const output = zip.outputStream as Readable;
  // A file that fails midway ends the ZIP with an error: the client sees a cut transfer, not a bad archive.
  zip.on("error", (error: Error) => output.destroy(error));
  const add = (kind: MediaKind, index: number) =>
    zip.addReadStreamLazy(filenameOf(media, kind, index), { compress: false }, (done) => {
      // Each file whole: a Range the client sent was about the ZIP, which has none.
      relay
        .open({ ...ticket, kind, ...(kind === "image" ? { index } : {}) }, { ...request, range: undefined })
        .then(
          (file) => done(null, file.body),
          (error: unknown) => done(error, Readable.from([])),
        );
    });
  for (const index of media.images.keys()) add("image", index);
  if (media.music?.url) add("music", 0);
  zip.end();
  return { ...base, body: output };
}
