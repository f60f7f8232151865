import type { ListBounds } from "./requests.js";
import type { ListKind } from "./tiktok-url.js";

/** One post of a listing: enough to show it and to download it later through /api/download. */
export interface ListItem {
  id: string;
  /** The post's canonical address (`/video/` or `/photo/`). */
  url: string;
  type: "video" | "photo";
  caption?: string;
  createdAt?: string;
  thumb?: string;
  /** Seconds (videos). */
  duration?: number;
  stats?: { plays?: number; likes?: number; comments?: number; shares?: number };
}

export interface ListOwner {
  username?: string;
  nickname?: string;
  id?: string;
  avatar?: string;
}

/**
 * Where a listing goes on from: whatever the source needs (TikTok's time cursor and device id, an
 * offset, a provider's cursor). It travels to the client only inside a signed cursor.
 */
export type ListPosition = Record<string, string | number>;

/** One page of a profile, collection or playlist, as a source reads it. */
export interface ListAnswer {
  kind: ListKind;
  /** The list's own id: a profile's secUid, a collection's or playlist's id. */
  id: string;
  title: string;
  owner: ListOwner;
  /** The account's post count, when the source says it. */
  total?: number;
  items: ListItem[];
  /** Where the next page starts, when there is one. */
  next?: ListPosition;
}

/** The API's page: the answer with its opaque cursor, and who answered. */
export interface ListPage extends Omit<ListAnswer, "next"> {
  cursor?: string;
  hasMore: boolean;
  provider: string;
  cached: boolean;
}

/** A post's canonical address in a listing: photo posts keep `/photo/`. */
export const listItemUrl = (username: string | undefined, id: string, type: ListItem["type"]) =>
  `https://www.tiktok.com/@${username || "i"}/${type === "photo" ? "photo" : "video"}/${id}`;

/**
 * The posts of a whole listing the bounds select, newest first, page after page (`nextPage` is given the
 * previous page's cursor): stops at `limit`, or at the first post older than `since`.
 */
export async function* itemsOfPages(
  nextPage: (cursor: string | undefined) => Promise<Pick<ListPage, "items" | "cursor" | "total">>,
  bounds: ListBounds,
  onPage?: (page: Pick<ListPage, "total">) => void,
): AsyncGenerator<ListItem> {
  let cursor: string | undefined;
  let given = 0;
  do {
    const page = await nextPage(cursor);
    onPage?.(page);
    for (const item of page.items) {
      const time = item.createdAt ? Date.parse(item.createdAt) : Number.NaN;
      if (bounds.since !== undefined && time < bounds.since) return;
      if (bounds.until !== undefined && time > bounds.until) continue;
      if (bounds.type && item.type !== bounds.type) continue;
      yield item;
      if (bounds.limit !== undefined && ++given >= bounds.limit) return;
    }
    cursor = page.cursor;
  } while (cursor);
}
