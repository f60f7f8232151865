import { postErrors, SourceFailure } from "../../../domain/errors.js";
import { at, list, record, str } from "../../../domain/json-path.js";
import type { ListAnswer, ListItem } from "../../../domain/lists.js";
import { DESKTOP_USER_AGENT } from "../../../net/browser.js";
import type { ListInput } from "../../types.js";
import { listItemOf } from "./item.js";
import type { ListedStories } from "./listed-stories.js";
import { pageScope } from "./page.js";
import { LoginWall, type TikTokWeb, type Visit } from "./web.js";
import {
  checkListStatus,
  DEVICE_RETRIES,
  listJson,
  newDeviceId,
  REQUESTS_PER_PAGE,
  webAppQuery,
} from "./web-app.js";

/** Accounts `story/user_list` is asked for at a time (gallery-dl's count). */
const USERS_COUNT = 15;
/** Authors one `story/batch/item_list` request names, at most (as TikTok's web app asks). */
const BATCH_AUTHORS = 10;

interface FollowingState {
  /** The offset in the followed accounts of the first one whose stories are not all given. */
  offset: number;
  /** Stories of the batch that starts at `offset` already given. */
  skip: number;
  deviceId: string;
  /** The login's own user id ("" unknown): TikTok may list the viewer among the accounts it follows. */
  viewer: string;
  /** The first account of the feed (offset 0): met again further on, it is the first page repeated. */
  first?: string;
}

/**
 * One page of the following feed (docs/upstreams/tiktok.md §8, as gallery-dl reads it): the stories of
 * every account the login follows. `story/user_list` gives the accounts by an offset; their stories come
 * from `story/batch/item_list`, at most ten authors a request. It is always a login's own data: asked only
 * for a client allowed to see what the operator's login shows, and marked so.
 */
export async function followingPage(
  web: TikTokWeb,
  visit: Visit,
  input: ListInput,
  stories: ListedStories,
): Promise<ListAnswer> {
  if (!input.readsViaLogin)
    throw postErrors.loginRequired(
      "The following feed shows the stories of the accounts a login follows: this server answers it only to API keys marked privateTabs.",
    );
  if (!visit.operatorCookie)
    throw postErrors.loginRequired(
      "The following feed needs a TikTok login: give your own cookies (the CLI's --cookies, the library's cookies option).",
    );
  const position = input.position ?? {};
  const viewer = typeof position.m === "string" ? { id: position.m } : await viewerOf(web, visit);
  const state: FollowingState = {
    offset: typeof position.o === "number" ? position.o : 0,
    skip: typeof position.s === "number" ? position.s : 0,
    deviceId: typeof position.d === "string" ? position.d : newDeviceId(),
    viewer: viewer.id,
    ...(typeof position.f === "string" ? { first: position.f } : {}),
  };
  const walked = await walkFollowing(web, visit, input.limit, state, (items) =>
    stories.remember(items, visit, true),
  );
  return {
    kind: "following",
    id: "following",
    title: "Following",
    owner: viewer.id ? { id: viewer.id, ...(viewer.username ? { username: viewer.username } : {}) } : {},
    items: walked.items,
    next: walked.more
      ? {
          o: state.offset,
          s: state.skip,
          d: state.deviceId,
          m: state.viewer,
          ...(state.first ? { f: state.first } : {}),
        }
      : undefined,
    viaLogin: true,
  };
}

/** The accounts from `state.offset` on, ten at a time, their stories until the page is full or the feed ends. */
async function walkFollowing(
  web: TikTokWeb,
  visit: Visit,
  limit: number,
  state: FollowingState,
  keep: (items: Record<string, unknown>[]) => Promise<void>,
): Promise<{ items: ListItem[]; more: boolean }> {
  const items: ListItem[] = [];
  let requests = 0;
  for (;;) {
    if (items.length >= limit || requests >= REQUESTS_PER_PAGE) return { items, more: true };
    const users = await followedAccounts(web, visit, state);
    requests++;
    for (let index = 0; index < users.ids.length; index += BATCH_AUTHORS) {
      if (items.length >= limit || requests >= REQUESTS_PER_PAGE) return { items, more: true };
      // Every entry moves the offset on, one without a usable id too (gallery-dl): it is skipped, not re-read.
      const batch = users.ids.slice(index, index + BATCH_AUTHORS);
      const authors = batch.filter((id): id is string => id !== undefined && id !== state.viewer);
      if (authors.length > 0) {
        const received = await storiesOf(web, visit, authors, state.deviceId);
        requests++;
        await keep(received);
        const rest = received.slice(state.skip);
        const room = limit - items.length;
        items.push(...rest.slice(0, room).map((item) => listItemOf(item)));
        if (rest.length > room) {
          state.skip += room;
          return { items, more: true };
        }
      }
      state.offset += batch.length;
      state.skip = 0;
    }
    if (!users.more || users.ids.length === 0) return { items, more: false };
  }
}

/**
 * The followed accounts from the offset on. For a stale device id TikTok answers the feed's first page
 * whatever the offset (as on profiles and tabs; both references draw a new device id for every request):
 * a page further on that holds the feed's first account is that, and a new device id is drawn.
 */
async function followedAccounts(web: TikTokWeb, visit: Visit, state: FollowingState) {
  for (let retries = 0; ; retries++) {
    const users = await followedAccountsAsked(web, visit, state);
    if (state.offset === 0) state.first ??= users.ids.find((id) => id !== undefined);
    const repeated = state.offset > 0 && state.first !== undefined && users.ids.includes(state.first);
    if (!repeated) return users;
    if (retries >= DEVICE_RETRIES)
      throw new SourceFailure("blocked", "TikTok keeps answering the following feed's first page");
    state.deviceId = newDeviceId();
  }
}

/** One answer of `story/user_list`: the followed accounts' ids from the offset on. */
async function followedAccountsAsked(web: TikTokWeb, visit: Visit, state: FollowingState) {
  const query = webAppQuery({
    count: String(USERS_COUNT),
    cursor: String(state.offset),
    device_id: state.deviceId,
    storyFeedScene: "3",
  });
  const answer = await listJson(web, visit, `https://www.tiktok.com/api/story/user_list/?${query}`);
  checkListStatus(answer, "the following feed");
  const users = at(answer, ["storyUsers"]);
  // gallery-dl: no `storyUsers` at all means the cookies are not a login.
  if (!Array.isArray(users))
    throw postErrors.loginRequired(
      "TikTok answered no followed accounts for this login: its cookies are not logged in, or have expired.",
    );
  // One place per entry, in order: an entry without a numeric id keeps its place (undefined).
  const ids = users.map((user) => {
    const id = str(at(user, ["user", "id"]));
    return id !== undefined && /^\d{1,25}$/.test(id) ? id : undefined;
  });
  return { ids, more: at(answer, ["hasMore"]) === true };
}

/** The stories of up to ten authors, in the order TikTok gives them. */
async function storiesOf(web: TikTokWeb, visit: Visit, authors: string[], deviceId: string) {
  const query = webAppQuery({ authorIds: authors.join(","), storyCallScene: "2", device_id: deviceId });
  const answer = await listJson(web, visit, `https://www.tiktok.com/api/story/batch/item_list/?${query}`);
  checkListStatus(answer, "the following feed");
  return list(at(answer, ["batchStoryItemLists"]))
    .flatMap((stories) => list(at(stories, ["itemList"])))
    .map(record)
    .filter((item) => item !== undefined);
}

/** The login's own account, from the /following page's app context (the page a browser opens first). */
async function viewerOf(web: TikTokWeb, visit: Visit): Promise<{ id: string; username?: string }> {
  let page: Awaited<ReturnType<TikTokWeb["loadPage"]>>;
  try {
    page = await web.loadPage(visit, "https://www.tiktok.com/following", DESKTOP_USER_AGENT);
  } catch (error) {
    // TikTok sends a visitor who is not logged in to its login page: the cookies are no login.
    if (error instanceof LoginWall)
      throw postErrors.loginRequired(
        "TikTok sent this login to its login page: its cookies are not logged in, or have expired.",
      );
    // The page failed otherwise: the feed goes on without knowing the login's own account.
    if (error instanceof SourceFailure) return { id: "" };
    throw error;
  }
  try {
    const scope = page.kind === "data" ? pageScope(page.html) : undefined;
    const user = record(at(scope, ["webapp.app-context", "user"]));
    return { id: str(user?.uid) ?? "", username: str(user?.uniqueId) };
  } catch {
    return { id: "" };
  }
}
