import { createHmac, timingSafeEqual } from "node:crypto";
import { badRequest } from "../domain/errors.js";
import type { ListPosition } from "../domain/lists.js";

/** What a cursor carries: the source that gave it, the list it belongs to, and where it goes on. */
export interface CursorBody {
  s: string;
  l: string;
  p: ListPosition;
  /** Tags of the posts the page before gave (list-proof.ts): a page that repeats them brings nothing new. */
  h?: string[];
  /** The page was served because of the operator's login: the next is answered only to a client allowed to read it. */
  v?: 1;
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

    /**
     * The cursor's body, if this server signed it (exactly as it gave it) and, when `listKey` is known,
     * for this list; otherwise a 400. Checked before the link is looked at, so a forged cursor costs no
     * upstream request, not even a short link's.
     */
    open(cursor: string, listKey?: string): CursorBody {
      const [payload, signature, ...extra] = cursor.split(".");
      if (!payload || !signature || extra.length > 0 || cursor.length > 2048 || !BASE64URL.test(payload))
        throw refused();
      const expected = Buffer.from(mac(payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw refused();
      let body: CursorBody;
      try {
        body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as CursorBody;
      } catch {
        throw refused();
      }
      if (
        typeof body.l !== "string" ||
        typeof body.s !== "string" ||
        typeof body.p !== "object" ||
        body.p === null
      )
        throw refused();
      if (body.v !== undefined && body.v !== 1) throw refused();
      if (body.h !== undefined && !(Array.isArray(body.h) && body.h.every((tag) => typeof tag === "string")))
        throw refused();
      if (listKey !== undefined) checkList(body, listKey);
      return body;
    },
  };
}

export type ListCursors = ReturnType<typeof createListCursors>;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const refused = () =>
  badRequest("INVALID_PARAMETER", 'The "cursor" field is not one this server gave for this list.');

/** A cursor given for another list is refused like a forged one. */
export function checkList(body: CursorBody, listKey: string): void {
  if (body.l !== listKey) throw refused();
}
