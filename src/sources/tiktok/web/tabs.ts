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
 * LOGIN_REQUIRED that names the tab.
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
    if (withholds(answer) && input.position === undefined && input.readsViaLogin && login) {
      visit.operatorCookie = login;
      state.viaLogin = true;
      answer = await ask();
    }
    if (withholds(answer))
      throw tabWithheld(tab, " (the owner keeps the tab private, or it needs the owner's own login)");
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
  let answer = first;
  let more = true;
  let deviceRetries = 0;
  for (let requests = 1; ; requests++) {
    checkListStatus(answer, `the ${tab}`);
    const received = itemsOf(answer);
    // A page that only repeats what this one holds: TikTok's answer to a stale device id (both
    // references draw a new one for every request). A new one is drawn and the same cursor asked again.
    if (repeats(received, items) && deviceRetries < DEVICE_RETRIES && requests < REQUESTS_PER_PAGE) {
      deviceRetries++;
      state.deviceId = newDeviceId();
      answer = await ask(limit - items.length);
      continue;
    }
    items.push(...received.map((item) => listItemOf(item)));
    await keep(received);
    const next = nextCursor(tab, answer, state.cursor, received.length);
    // An empty answer that says there is more does not end the tab (gallery-dl goes on): the same cursor
    // is asked again, within the page's request budget; a walk ends after a few pages without posts.
    more = next.more;
    state.cursor = next.cursor;
    if (!more || items.length >= limit || requests >= REQUESTS_PER_PAGE) break;
    answer = await ask(limit - items.length);
  }
  return { items, more };
}

/** Whether every post of an answer is already on the page being built. */
function repeats(received: Record<string, unknown>[], items: ListItem[]): boolean {
  if (received.length === 0 || items.length === 0) return false;
  const held = new Set(items.map((item) => item.id));
  return received.every((item) => held.has(String(item.id)));
}

/**
 * liked and saved: the answer's `cursor` (a number that goes down, not a time); reposts: an offset grown
 * by the items received (TikTok answers fewer than `count` at times); stories: the answer's `MaxCursor`,
 * going up, while `HasMoreAfter`.
 */
function nextCursor(tab: ListedTab, answer: unknown, cursor: number, received: number) {
  const kind = TABS[tab].cursor;
  // reposts end on `hasMore`, else on `HasMoreAfter` (gallery-dl reads either).
  if (kind === "offset")
    return {
      cursor: cursor + received,
      more: (at(answer, ["hasMore"]) ?? at(answer, ["HasMoreAfter"])) === true,
    };
  if (kind === "max") {
    const next = num(at(answer, ["MaxCursor"]));
    const moved = next !== undefined && next > cursor;
    return {
      cursor: moved ? next : cursor,
      // A cursor that did not move goes on only from an empty answer (asked again); with posts it would repeat them.
      more: at(answer, ["HasMoreAfter"]) === true && (moved || received === 0),
    };
  }
  const next = num(at(answer, ["cursor"]));
  const moved = next !== undefined && next !== cursor;
  return {
    cursor: moved ? next : cursor,
    more: at(answer, ["hasMore"]) === true && (moved || received === 0),
  };
}
