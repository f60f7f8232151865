import { postErrors, SourceFailure } from "../../../domain/errors.js";
import { at, num } from "../../../domain/json-path.js";
import type { ListAnswer, ListItem } from "../../../domain/lists.js";
import { isSecUid, type ListLink } from "../../../domain/tiktok-url.js";
import type { ListInput } from "../../types.js";
import { accountFor } from "./accounts.js";
import { listItemOf } from "./item.js";
import type { TikTokWeb, Visit } from "./web.js";
import {
  checkListStatus,
  DEVICE_RETRIES,
  itemsOf,
  listJson,
  newDeviceId,
  REQUESTS_PER_PAGE,
  webAppQuery,
  withholds,
  withoutLogin,
} from "./web-app.js";

const WEEK_MS = 604_800_000;
/** TikTok's web lists begin in September 2016: a cursor before that is the end. */
const EARLIEST_CURSOR_MS = 1_472_706_000_000;
/** What both references ask `creator/item_list` for, and the most it answers. */
const PROFILE_COUNT = 15;
/** What yt-dlp asks the collection endpoint for (and the playlist one, alike). */
const OFFSET_COUNT = 30;

/**
 * One page of a profile, newest first. TikTok answers the posts older than the cursor (ms) within about a
 * week: an empty answer that says `hasMorePrevious` is a gap, stepped over a week at a time; the listing
 * ends when `hasMorePrevious` is not true, whatever `hasMore` says (both references). For some device ids
 * TikTok repeats its first page whatever the cursor (yt-dlp #14031): an answer with nothing older than
 * the cursor is that, and a new device id is drawn.
 *
 * The operator's login goes only with the requests of a page it is needed for: an account TikTok says is
 * private (its profile page, or an answer that withholds the posts from a visitor, whatever link named the
 * account), for a client allowed to read what the login shows. Such a page is marked `viaLogin`.
 */
export async function profilePage(
  web: TikTokWeb,
  visit: Visit,
  input: ListInput,
  nowMs: number,
): Promise<ListAnswer> {
  const account = await accountFor(web, visit, input);
  const start = {
    cursor: typeof input.position?.t === "number" ? input.position.t : nowMs,
    deviceId: typeof input.position?.d === "string" ? input.position.d : newDeviceId(),
  };
  const first = input.position === undefined;
  const { walk, viaLogin } = await withoutLogin(visit, async (login) => {
    const known = input.position?.l === 1;
    if (!known) {
      const anonymous = await walkProfile(web, visit, input, account.secUid, start);
      // A private account is asked as a visitor first (both references ask its list); TikTok withholding
      // its posts from a visitor says it is private, also for an account named by its secUid.
      if (!(first && anonymous.withheld && (account.private === true || isSecUid(input.link.username))))
        return { walk: anonymous, viaLogin: false };
    }
    if (!input.readsViaLogin || login === undefined)
      throw postErrors.private(
        known ? "This account is private." : "This account is private, or shows its posts to no visitor.",
      );
    visit.operatorCookie = login;
    return { walk: await walkProfile(web, visit, input, account.secUid, start), viaLogin: true };
  });
  if (first && walk.items.length === 0 && !walk.more && (account.private || viaLogin))
    throw postErrors.private("This account is private.");
  if (first && walk.items.length === 0 && !walk.more && (account.total ?? 0) > 0)
    throw postErrors.private("This account's posts are hidden from visitors.");
  const handle = account.owner.username ?? walk.items[0]?.author?.username;
  return {
    kind: "profile",
    id: account.secUid,
    title: handle ?? input.link.username,
    owner: { ...account.owner, username: handle },
    total: account.total,
    items: walk.items,
    next: walk.more
      ? { t: walk.cursor, d: walk.deviceId, u: account.secUid, ...(viaLogin ? { l: 1 } : {}) }
      : undefined,
    ...(viaLogin ? { viaLogin: true } : {}),
  };
}

/** `creator/item_list` from the cursor on, until the page is full, the profile ends or the budget is spent. */
async function walkProfile(
  web: TikTokWeb,
  visit: Visit,
  input: ListInput,
  secUid: string,
  start: { cursor: number; deviceId: string },
) {
  let { cursor, deviceId } = start;
  const items: ListItem[] = [];
  let more = true;
  let deviceRetries = 0;
  let withheld = false;
  const fallbackHandle = isSecUid(input.link.username) ? undefined : input.link.username;
  for (let requests = 0; items.length < input.limit && more && requests < REQUESTS_PER_PAGE; requests++) {
    const query = webAppQuery({
      count: String(PROFILE_COUNT),
      cursor: String(cursor),
      device_id: deviceId,
      secUid,
      type: "1",
    });
    const answer = await listJson(web, visit, `https://www.tiktok.com/api/creator/item_list/?${query}`);
    checkListStatus(answer, "the profile's posts");
    if (requests === 0 && withholds(answer)) {
      withheld = true;
      more = false;
      break;
    }
    const older = itemsOf(answer).filter((item) => (num(item.createTime) ?? 0) * 1000 < cursor);
    if (itemsOf(answer).length > 0 && older.length === 0) {
      if (++deviceRetries > DEVICE_RETRIES)
        throw new SourceFailure("blocked", "TikTok keeps answering the same page whatever the cursor");
      deviceId = newDeviceId();
      continue;
    }
    more = at(answer, ["hasMorePrevious"]) === true;
    if (older.length === 0) {
      // A week or more without posts.
      cursor -= WEEK_MS;
    } else {
      const taken = older.slice(0, input.limit - items.length);
      items.push(...taken.map((item) => listItemOf(item, fallbackHandle)));
      cursor = (num(taken.at(-1)?.createTime) ?? 0) * 1000;
      if (taken.length < older.length) more = true;
    }
    if (cursor < EARLIEST_CURSOR_MS) more = false;
  }
  return { items, more, cursor, deviceId, withheld };
}

/**
 * A collection's offset grows by the count asked, as yt-dlp's does, whatever the answer carries; a
 * playlist's follows the answer's `cursor` when it moves on (the web app's reading, from public crawlers:
 * neither reference lists playlists), else the count asked.
 */
const OFFSET_ENDPOINTS = {
  collection: {
    path: "/api/collection/item_list/",
    key: "collectionId",
    extra: { sourceType: "113" },
    readsCursor: false,
  },
  playlist: { path: "/api/mix/item_list/", key: "mixId", extra: {}, readsCursor: true },
} as const;

/**
 * One page of a collection or a playlist ("mix"), by offset (yt-dlp's rule: a short or empty page that
 * says `hasMore` goes on past the positions TikTok left out, where counting the items received would ask
 * for them again and again).
 */
export async function offsetPage(web: TikTokWeb, visit: Visit, input: ListInput): Promise<ListAnswer> {
  const link = input.link as ListLink & { list: "collection" | "playlist"; id: string };
  const endpoint = OFFSET_ENDPOINTS[link.list];
  let offset = typeof input.position?.o === "number" ? input.position.o : 0;
  const items: ListItem[] = [];
  let more = true;
  for (let requests = 0; items.length < input.limit && more && requests < REQUESTS_PER_PAGE; requests++) {
    const count = Math.min(OFFSET_COUNT, input.limit - items.length);
    const query = new URLSearchParams({
      aid: "1988",
      [endpoint.key]: link.id,
      count: String(count),
      cursor: String(offset),
      ...endpoint.extra,
    });
    const answer = await listJson(web, visit, `https://www.tiktok.com${endpoint.path}?${query}`);
    const status = num(at(answer, ["statusCode"])) ?? 0;
    // Only the first answer can say the list does not exist; a later refusal is a failure of this page.
    if (status !== 0 && offset === 0)
      throw postErrors.notFound(`TikTok has no public ${link.list} with this id (status ${status}).`);
    if (status !== 0)
      throw new SourceFailure(
        "blocked",
        `TikTok refused a later page of the ${link.list} (status ${status})`,
      );
    items.push(...itemsOf(answer).map((item) => listItemOf(item)));
    more = at(answer, ["hasMore"]) === true;
    const next = endpoint.readsCursor ? num(at(answer, ["cursor"])) : undefined;
    offset = next !== undefined && next > offset ? next : offset + count;
  }
  return {
    kind: link.list,
    id: link.id,
    title: link.title ?? `${link.list} ${link.id}`,
    owner: { username: link.username },
    items,
    next: more ? { o: offset } : undefined,
  };
}
