import { postErrors, SourceFailure } from "../../../domain/errors.js";
import { at, num } from "../../../domain/json-path.js";
import type { ListAnswer, ListItem } from "../../../domain/lists.js";
import type { ListInput } from "../../types.js";
import { accountFor } from "./accounts.js";
import { listItemOf } from "./item.js";
import type { ListedStories } from "./listed-stories.js";
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

/**
 * A person's tabs from TikTok's web app (docs/upstreams/tiktok.md §8, as gallery-dl reads them): the
 * profile's query plus each tab's parameters, and each tab's own cursor.
 */
const TABS = {
  liked: { endpoint: "favorite/item_list", count: "15", cursor: "answer" },
  saved: { endpoint: "user/collect/item_list", count: "15", cursor: "answer" },
  reposts: { endpoint: "repost/item_list", count: "15", cursor: "offset" },
  stories: { endpoint: "story/item_list", count: "5", cursor: "max" },
} as const;

type ListedTab = keyof typeof TABS;

const WITHHELD: Record<ListedTab, string> = {
  liked: "this account's liked videos",
  saved: "this account's saved videos",
  reposts: "this account's reposts",
  stories: "this account's stories",
};

/** A tab TikTok withheld: 403 LOGIN_REQUIRED, naming it. */
const tabWithheld = (tab: ListedTab, why: string) =>
  postErrors.loginRequired(`TikTok shows ${WITHHELD[tab]} only to a login${why}.`);

/**
 * One page of a tab. TikTok withholds a tab from a visitor by answering without any `itemList` and any
 * "more" flag: then, for a client allowed to see what the operator's login shows, the page is asked
 * again with that login (and marked so: it is the operator's private data); otherwise it is a 403
 * LOGIN_REQUIRED that names the tab. TikTok leaves empty fields out, so an empty tab answers the same:
 * for a liked tab the profile page says anyone may see (`openFavorite`) it is an empty tab, as is an
 * answer without `itemList` that says there is no more. (A public account's stories may still be for its
 * followers only, so they have no such sign.)
 */
export async function tabPage(
  web: TikTokWeb,
  visit: Visit,
  input: ListInput,
  stories: ListedStories,
): Promise<ListAnswer> {
  const tab = input.link.list as ListedTab;
  const account = await accountFor(web, visit, input);
  const userId = typeof input.position?.i === "string" ? input.position.i : account.owner.id;
  if (tab === "stories" && !userId)
    throw new SourceFailure("bad_response", "the profile page has no user id");
  // The operator's login is sent only when this page needs it (a later page of a tab that did), and
  // only for a client allowed to see what it shows: a cursor such a client got is no way in for another.
  const askedWithLogin = input.position?.l === 1;
  if (askedWithLogin && !input.readsViaLogin) throw tabWithheld(tab, "");
  const state = {
    cursor: typeof input.position?.c === "number" ? input.position.c : 0,
    deviceId: typeof input.position?.d === "string" ? input.position.d : newDeviceId(),
    viaLogin: askedWithLogin,
  };
  // Each request asks for no more than the page still needs (TikTok takes any count up to its own).
  const ask = (wanted = input.limit) => {
    const query = tabQuery(
      tab,
      { ...state, count: Math.min(Number(TABS[tab].count), wanted) },
      account.secUid,
      userId,
    );
    return listJson(web, visit, `https://www.tiktok.com/api/${TABS[tab].endpoint}/?${query}`);
  };
  // A story's own page may fail: its list item is kept, with this listing's session, to download it from.
  const keep = (items: Record<string, unknown>[]) =>
    tab === "stories" ? stories.remember(items, visit, state.viaLogin) : Promise.resolve();
  const walked = await withoutLogin(visit, async (login) => {
    if (askedWithLogin) visit.operatorCookie = login;
    let answer = await ask();
    // Nothing from a tab the profile says anyone may see: an empty tab (TikTok leaves out an empty list).
    if (withholds(answer) && tab === "liked" && account.likedOpen) return { items: [], more: false };
    if (withholds(answer) && input.position === undefined && input.readsViaLogin && login) {
      visit.operatorCookie = login;
      state.viaLogin = true;
      answer = await ask();
    }
    if (withholds(answer))
      throw tabWithheld(
        tab,
        tab === "stories"
          ? " (the account has none now, or shows them to its followers only)"
          : " (the owner keeps the tab private, or it needs the owner's own login)",
      );
    return walkTab(tab, { first: answer, ask, keep }, state, input.limit);
  });
  return {
    kind: tab,
    id: `${account.secUid}:${tab}`,
    title: `@${account.owner.username ?? input.link.username} ${tab}`,
    owner: account.owner,
    items: walked.items,
    next: walked.more
      ? {
          c: state.cursor,
          d: state.deviceId,
          u: account.secUid,
          ...(userId ? { i: userId } : {}),
          ...(state.viaLogin ? { l: 1 } : {}),
        }
      : undefined,
    ...(state.viaLogin ? { viaLogin: true } : {}),
  };
}

function tabQuery(
  tab: ListedTab,
  state: { cursor: number; deviceId: string; count: number },
  secUid: string,
  userId?: string,
) {
  const common = { count: String(state.count), cursor: String(state.cursor), device_id: state.deviceId };
  if (tab === "stories") return webAppQuery({ ...common, authorId: userId ?? "", loadBackward: "false" });
  return webAppQuery({ ...common, secUid, post_item_list_request_type: "0", needPinnedItemIds: "false" });
}

/**
 * gallery-dl's cursor for liked and saved when TikTok's is missing or goes up (its "popular" time cursor:
 * TikTok goes on from where this device's listing was).
 */
const FALLBACK_CURSOR = -50_000;
/** Times a first page without a cursor is asked again before the fallback is taken (gallery-dl retries it). */
const FIRST_CURSOR_RETRIES = 2;

/** The answers from the first on, each tab's cursor moved its own way, until the page is full or the tab ends. */
async function walkTab(
  tab: ListedTab,
  {
    first,
    ask,
    keep,
  }: {
    first: unknown;
    ask: (wanted: number) => Promise<unknown>;
    keep: (items: Record<string, unknown>[]) => Promise<void>;
  },
  state: { cursor: number; deviceId: string },
  limit: number,
) {
  const items: ListItem[] = [];
  const held = new Set<string>();
  let answer = first;
  let more = true;
  let moved = true;
  const retries = { device: 0, cursor: 0 };
  for (let requests = 1; ; requests++) {
    checkListStatus(answer, `the ${tab}`);
    const received = itemsOf(answer);
    const fresh = received.filter((item) => !held.has(String(item.id)));
    const budget = requests < REQUESTS_PER_PAGE;
    // Only old posts for a cursor that moved: TikTok's answer to a stale device id (both references draw
    // a new one for every request). A new one is drawn and the same cursor asked again. After a cursor
    // that stayed, the same posts are expected, and only the new ones are taken.
    if (moved && received.length > 0 && fresh.length === 0 && retries.device < DEVICE_RETRIES && budget) {
      retries.device++;
      state.deviceId = newDeviceId();
      answer = await ask(limit - items.length);
      continue;
    }
    const next = nextCursor(tab, answer, state.cursor, received);
    if (next.askAgain && retries.cursor < FIRST_CURSOR_RETRIES && budget) {
      retries.cursor++;
      answer = await ask(limit - items.length);
      continue;
    }
    for (const item of fresh) held.add(String(item.id));
    items.push(...fresh.map((item) => listItemOf(item)));
    await keep(fresh);
    // An empty answer that says there is more does not end the tab (gallery-dl goes on): the cursor is
    // asked again, within the page's request budget; a walk ends after a few pages without posts.
    moved = next.cursor !== state.cursor;
    more = next.more;
    state.cursor = next.cursor;
    if (!more || items.length >= limit || !budget) break;
    answer = await ask(limit - items.length);
  }
  return { items, more };
}

/**
 * The next cursor, as gallery-dl moves each (its `TiktokPopularTimeCursor`, `TiktokStoryTimeCursor` and
 * `TiktokItemCursor`). liked and saved: the answer's `cursor`, a number that goes down (not a time);
 * stories: the answer's `MaxCursor` (a time in ms), going up; on either, a cursor that is equal goes on
 * as it is, one missing or going the wrong way takes the fallback (liked and saved: -50000; stories: the
 * last story's `createTime` × 1000), and a first answer without one is asked again (`askAgain`). The tab
 * goes on while `hasMore` (stories: `HasMoreAfter`). reposts: an offset grown by the items received
 * (TikTok answers fewer than `count` at times), while `hasMore`, else `HasMoreAfter`.
 */
function nextCursor(tab: ListedTab, answer: unknown, cursor: number, received: Record<string, unknown>[]) {
  const kind = TABS[tab].cursor;
  if (kind === "offset")
    return {
      cursor: cursor + received.length,
      more: (at(answer, ["hasMore"]) ?? at(answer, ["HasMoreAfter"])) === true,
    };
  const stories = kind === "max";
  const more = at(answer, [stories ? "HasMoreAfter" : "hasMore"]) === true;
  const given = num(at(answer, [stories ? "MaxCursor" : "cursor"]));
  const wrongWay = given === undefined || given === 0 || (stories ? given < cursor : given > cursor);
  if (!wrongWay) return { cursor: given, more };
  // Without a story to take the time of, the same cursor is asked again.
  const lastTime = num(received.at(-1)?.createTime);
  const fallback = stories ? (lastTime ? lastTime * 1000 : cursor) : FALLBACK_CURSOR;
  return { cursor: fallback, more, askAgain: cursor === 0 && more };
}
