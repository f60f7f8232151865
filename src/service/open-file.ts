import { openLinked } from "../delivery/zip.js";
import { ApiError } from "../domain/errors.js";
import type { Core } from "./core.js";
import type { OpenedFile, OpenFileRequest } from "./types.js";

const noSlot = () => {};

/**
 * The file a stream token names, through the relay (or a photo post's ZIP built from its files): the
 * token is checked first, then a slot is taken for a client that is capped (a running file holds one
 * until `release()`), then the media host is asked.
 */
export function createOpenFile(core: Pick<Core, "tokens" | "slots" | "relay">) {
  return async function openFile(request: OpenFileRequest): Promise<OpenedFile> {
    const picture = core.tokens.isPicture(request.token) ? core.tokens.openPicture(request.token) : undefined;
    const ticket = picture === undefined ? core.tokens.open(request.token) : undefined;
    // A grid's covers are counted apart from the client's downloads.
    const kind = picture === undefined ? "file" : "picture";
    const release = request.client === undefined ? noSlot : core.slots.take(request.client, kind);
    if (release === "client-busy")
      throw new ApiError(
        429,
        "RATE_LIMITED",
        "You have too many downloads running; wait for one to end.",
        false,
        5,
      );
    if (release === "busy")
      throw new ApiError(
        503,
        "STREAM_BUSY",
        "Too many downloads are running; try again in a few seconds.",
        false,
        5,
      );
    try {
      const opened = ticket
        ? await openLinked(core.relay, ticket, request)
        : await core.relay.openPicture(picture as string, request);
      return { ...opened, release };
    } catch (error) {
      release();
      throw error;
    }
  };
}
