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
  stats?: { plays?: number; likes?: number; comments?: number; shares?: number; saves?: number };
  /** Whose post it is, as the source names them. */
  author?: { username?: string; nickname?: string; id?: string };
  /** The cover through this server (`/api/stream/…`), so a page need not send its visitors to TikTok. */
  stream?: { thumb?: string };
}

export interface ListOwner {
  username?: string;
  nickname?: string;
  id?: string;
  avatar?: string;
  /** The avatar through this server. */
  stream?: { avatar?: string };
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
  /**
   * TikTok served this page only because of the operator's login (it withholds it from visitors): the
   * operator's private data, answered only to clients allowed to see it and never cached for others.
   */
  viaLogin?: boolean;
}

/** The API's page: the answer with its opaque cursor, and who answered. */
export interface ListPage extends Omit<ListAnswer, "next"> {
  cursor?: string;
  hasMore: boolean;
  provider: string;
  cached: boolean;
  /** When the source answered this page (ms since the epoch): a cached page keeps it. */
  fetchedAt?: number;
  /** When the cached page is asked of the source again (ms since the epoch). */
  freshUntil?: number;
}

/** A post's canonical address in a listing: photo posts keep `/photo/`. */
export const listItemUrl = (username: string | undefined, id: string, type: ListItem["type"]) =>
  `https://www.tiktok.com/@${username || "i"}/${type === "photo" ? "photo" : "video"}/${id}`;

/** The most posts a listing page may hold. */
const MAX_LIST_PAGE = 100;
/** What one of TikTok's own list pages holds (`creator/item_list`). */
const UPSTREAM_PAGE = 15;

/**
 * The page sizes of a walk, one call a page: the most a page may hold, or, for a walk that stops at the
 * first saved post, one upstream page first (a creator whose newest post is saved costs one request) and
 * then twice the page before, up to the most.
 */
export function pageSizes(stopsAtSaved: boolean): () => number {
  let next = stopsAtSaved ? UPSTREAM_PAGE : MAX_LIST_PAGE;
  return () => {
    const size = next;
    next = Math.min(MAX_LIST_PAGE, next * 2);
    return size;
  };
}

/** Pages in a row that may bring no post at all (a gap a source steps over) before a walk gives up. */
export const MAX_PAGES_WITHOUT_POSTS = 3;

/**
 * The posts of a whole listing the bounds select, newest first, page after page (`nextPage` is given the
 * previous page's cursor): stops at `limit`, at the first post older than `since` or already saved
 * (`known`), and when the pages stop
 * bringing posts it has not given yet (a page of repeats at once, empty pages after a few), so a source
 * that answers a cursor for ever cannot keep a walk going.
 */
export async function* itemsOfPages<Page extends Pick<ListPage, "items" | "cursor">>(
  nextPage: (cursor: string | undefined) => Promise<Page>,
  bounds: ListBounds,
  onPage?: (page: Page) => void,
): AsyncGenerator<ListItem> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  let given = 0;
  let empty = 0;
  do {
    const page = await nextPage(cursor);
    onPage?.(page);
    const fresh = page.items.filter((item) => !seen.has(item.id));
    if (page.items.length > 0 && fresh.length === 0) return;
    empty = fresh.length === 0 ? empty + 1 : 0;
    if (empty >= MAX_PAGES_WITHOUT_POSTS) return;
    for (const item of fresh) {
      seen.add(item.id);
      if (bounds.known?.(item.id)) return;
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
