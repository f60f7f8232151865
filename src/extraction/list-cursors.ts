import { createHmac, timingSafeEqual } from "node:crypto";
import { badRequest } from "../domain/errors.js";
import type { ListPosition } from "../domain/lists.js";

/** What a cursor carries: the source that gave it, the list it belongs to, and where it goes on. */
export interface CursorBody {
  s: string;
  l: string;
  p: ListPosition;
}

/**
 * A listing's cursors, signed (HMAC-SHA256 under a key derived from the stream secret): a cursor this
 * server did not give, or gave for another list, is refused before any upstream request.
 */
export function createListCursors(secret: string) {
  const cursorKey = createHmac("sha256", secret).update("tiktok-dl list cursor").digest();
  const mac = (payload: string) =>
    createHmac("sha256", cursorKey).update(payload).digest().subarray(0, 16).toString("base64url");

  return {
    sign(body: CursorBody): string {
      const payload = Buffer.from(JSON.stringify(body)).toString("base64url");
      return `${payload}.${mac(payload)}`;
    },

    /** The cursor's body, if this server signed it for this list; otherwise a 400. */
    open(cursor: string, listKey: string): CursorBody {
      const refused = badRequest(
        "INVALID_PARAMETER",
        'The "cursor" field is not one this server gave for this list.',
      );
      const [payload, signature] = cursor.split(".");
      if (!payload || !signature || cursor.length > 2048) throw refused;
      const expected = Buffer.from(mac(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw refused;
      let body: CursorBody;
      try {
        body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as CursorBody;
      } catch {
        throw refused;
      }
      if (body.l !== listKey || typeof body.s !== "string" || typeof body.p !== "object" || body.p === null)
        throw refused;
      return body;
    },
  };
}
