import { randomBytes, randomInt } from "node:crypto";
import { ApiError, postErrors, SourceFailure } from "../../domain/errors.js";
import { scriptById } from "../../domain/html.js";
import { at, list, num, record, str } from "../../domain/json-path.js";
import type { ListAnswer, ListItem, ListOwner } from "../../domain/lists.js";
import { isSecUid, type ListLink } from "../../domain/tiktok-url.js";
import { DESKTOP_USER_AGENT } from "../../net/browser.js";
import type { ListInput } from "../types.js";
import { listItemOf, pageScope, readPost } from "./page.js";
import type { TikTokWeb, Visit } from "./web.js";

const WEEK_MS = 604_800_000;
/** TikTok's web lists begin in September 2016: a cursor before that is the end. */
const EARLIEST_CURSOR_MS = 1_472_706_000_000;
/** Upstream requests one page of ours may make, in any list (gaps and stale device ids cost requests). */
export const REQUESTS_PER_PAGE = 12;
/** New device ids drawn for one page before TikTok's repeating first page is taken as a block. */
const DEVICE_RETRIES = 3;
/** What both references ask `creator/item_list` for, and the most it answers. */
const PROFILE_COUNT = 15;
/** What yt-dlp asks the collection endpoint for (and the playlist one, alike). */
const OFFSET_COUNT = 30;
/** Posts of the embed page tried, one after another, for the account's `secUid`. */
const EMBED_POSTS_TRIED = 5;

/** TikTok's web device ids: a random integer in the range both references draw from. */
const DEVICE_ID_MIN = 7_250_000_000_000_000_000n;
const DEVICE_ID_MAX = 7_325_099_899_999_994_577n;

/** A web device id, as yt-dlp and gallery-dl draw them, kept for a whole listing. */
export function newDeviceId(): string {
  const span = DEVICE_ID_MAX - DEVICE_ID_MIN + 1n;
  return String(DEVICE_ID_MIN + (randomBytes(8).readBigUInt64BE() % span));
}

/** TikTok's query for its web app's list endpoints (the parameters yt-dlp and gallery-dl send). */
export function webAppQuery(extra: Record<string, string>): URLSearchParams {
  return new URLSearchParams({
    aid: "1988",
    app_language: "en",
    app_name: "tiktok_web",
    browser_language: "en-US",
    browser_name: "Mozilla",
    browser_online: "true",
    browser_platform: "Win32",
    browser_version: "5.0 (Windows)",
    channel: "tiktok_web",
    cookie_enabled: "true",
    device_platform: "web_pc",
    focus_state: "true",
    from_page: "user",
    history_len: "2",
    is_fullscreen: "false",
    is_page_visible: "true",
    language: "en",
    os: "windows",
    priority_region: "",
    referer: "",
    region: "US",
    screen_height: "1080",
    screen_width: "1920",
    tz_name: "UTC",
    verifyFp: `verify_${randomInt(0, 0xfffffff).toString(16).padStart(7, "0")}`,
    webcast_language: "en",
    ...extra,
  });
}

/**
 * A list endpoint's JSON: a body that is empty or not JSON is asked for again at once (gallery-dl);
 * twice, the session is given up, and the lister tries once more on another.
 */
export async function listJson(web: TikTokWeb, visit: Visit, url: string): Promise<unknown> {
  try {
    return await web.loadJson(visit, url, DESKTOP_USER_AGENT);
  } catch (error) {
    if (!(error instanceof SourceFailure) || error.reason !== "bad_response") throw error;
    try {
      return await web.loadJson(visit, url, DESKTOP_USER_AGENT);
    } catch (again) {
      if (again instanceof SourceFailure && again.reason === "bad_response") visit.blocked = true;
      throw again;
    }
  }
}

interface Account {
  secUid: string;
  owner: ListOwner;
  total?: number;
  /** TikTok marks the account private; it is listed only with the operator's login. */
  private?: boolean;
}

/**
 * The account behind a handle: its profile page, or (a page without secUid) its embed page and a post.
 * `canLogin`: the operator's login may be used for this client, so a private account with posts is tried.
 */
async function accountOf(
  web: TikTokWeb,
  visit: Visit,
  username: string,
  canLogin: boolean,
): Promise<Account> {
  const page = await web.loadPage(visit, `https://www.tiktok.com/@${username}`, DESKTOP_USER_AGENT);
  const detail = page.kind === "data" ? userDetail(page.html) : undefined;
  if (detail) {
    const code = num(detail.statusCode) ?? 0;
    const user = record(at(detail, ["userInfo", "user"]));
    const total = videoCount(detail);
    const secUid = str(user?.secUid);
    if (code === 10222 || user?.privateAccount === true || user?.secret === true) {
      // TikTok marks it private even for a login that may see it: with the operator's login and posts
      // to see, it is tried (yt-dlp and gallery-dl do the same).
      if (!canLogin || !secUid || !total) throw postErrors.private("This account is private.");
      return { secUid, owner: ownerOf(user ?? {}), total, private: true };
    }
    if (code !== 0 && !user) throw postErrors.notFound("TikTok has no account by this name.");
    if (user && secUid) return { secUid, owner: ownerOf(user), total };
    if (!user) throw postErrors.notFound("TikTok has no account by this name.");
  }
  return accountFromEmbed(web, visit, username);
}

const userDetail = (html: string) => record(pageScope(html)?.["webapp.user-detail"]);

function videoCount(detail: Record<string, unknown>): number | undefined {
  const count =
    num(at(detail, ["userInfo", "statsV2", "videoCount"])) ??
    num(at(detail, ["userInfo", "stats", "videoCount"]));
  return count === undefined || count < 0 ? undefined : count;
}

const ownerOf = (user: Record<string, unknown>): ListOwner => ({
  username: str(user.uniqueId),
  nickname: str(user.nickname),
  id: str(user.id),
  avatar: str(user.avatarLarger) ?? str(user.avatarMedium) ?? str(user.avatarThumb),
});

/**
 * A profile page without `secUid` (a stub): the embed page lists post ids; the first of them whose page
 * names its author's `secUid` gives it (a deleted or region-blocked post is passed over, as yt-dlp does).
 */
async function accountFromEmbed(web: TikTokWeb, visit: Visit, username: string): Promise<Account> {
  const embed = await web.loadPage(visit, `https://www.tiktok.com/embed/@${username}`, DESKTOP_USER_AGENT);
  const text = scriptById(embed.html, "__FRONTITY_CONNECT_STATE__");
  if (text === undefined)
    throw new SourceFailure("blocked", "the profile page had no secUid and the embed page no post list");
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new SourceFailure("bad_response", "the embed page's state is not valid JSON");
  }
  const ids = list(at(state, ["source", "data", `/embed/@${username}`, "videoList"]))
    .map((video) => str(at(video, ["id"])))
    .filter((id): id is string => id !== undefined && /^\d{1,25}$/.test(id));
  if (ids.length === 0)
    throw new SourceFailure("blocked", "the embed page lists no post to read the account from");
  let last: unknown;
  for (const id of ids.slice(0, EMBED_POSTS_TRIED)) {
    try {
      const post = await web.loadPage(
        visit,
        `https://www.tiktok.com/@${username}/video/${id}`,
        DESKTOP_USER_AGENT,
      );
      const author = record(readPost(post.html, id).author);
      const secUid = str(author?.secUid);
      if (author && secUid) return { secUid, owner: ownerOf(author) };
    } catch (error) {
      if (!(error instanceof ApiError) && !(error instanceof SourceFailure)) throw error;
      last = error;
    }
  }
  throw last instanceof SourceFailure
    ? last
    : new SourceFailure("bad_response", "no post of the embed page names its author's secUid");
}

/**
 * The account a page of a profile lists: from the cursor, from a `secUid` link, or from TikTok's pages
 * (asked without the operator's login: what they say of the account is what TikTok tells anyone).
 */
export async function accountFor(web: TikTokWeb, visit: Visit, input: ListInput): Promise<Account> {
  const { username } = input.link;
  if (typeof input.position?.u === "string")
    return { secUid: input.position.u, owner: isSecUid(username) ? {} : { username } };
  // A link by `secUid` needs no profile page (yt-dlp's tiktokuser: links).
  if (isSecUid(username)) return { secUid: username, owner: {} };
  return withoutLogin(visit, (login) =>
    accountOf(web, visit, username, input.withLogin === true && login !== undefined),
  );
}

/** Runs `work` on the visit without the operator's login (handed to it), which is put back after. */
export async function withoutLogin<T>(
  visit: Visit,
  work: (login: Visit["operatorCookie"]) => Promise<T>,
): Promise<T> {
  const login = visit.operatorCookie;
  visit.operatorCookie = undefined;
  try {
    return await work(login);
  } finally {
    visit.operatorCookie = login;
  }
}

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
    const canLogin = input.withLogin === true && login !== undefined;
    if (input.position?.l === 1 || (first && account.private)) {
      if (!canLogin) throw postErrors.private("This account is private.");
      visit.operatorCookie = login;
      return { walk: await walkProfile(web, visit, input, account.secUid, start), viaLogin: true };
    }
    const anonymous = await walkProfile(web, visit, input, account.secUid, start);
    // No page said whether an account named by its secUid is private: TikTok withholding its posts from
    // a visitor says it is.
    if (!(first && anonymous.withheld && isSecUid(input.link.username)))
      return { walk: anonymous, viaLogin: false };
    if (!canLogin) throw postErrors.private("This account is private, or shows its posts to no visitor.");
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

/** Nothing to list for this visitor: no `itemList` and no "more" flag at all (docs/upstreams/tiktok.md §6). */
export const withholds = (answer: unknown) =>
  !Array.isArray(at(answer, ["itemList"])) &&
  at(answer, ["hasMore"]) === undefined &&
  at(answer, ["hasMorePrevious"]) === undefined &&
  at(answer, ["HasMoreAfter"]) === undefined;

/** A list answer whose `statusCode` is not 0: TikTok refused `what` (a failure of this source). */
export function checkListStatus(answer: unknown, what: string): void {
  const status = num(at(answer, ["statusCode"])) ?? 0;
  if (status !== 0) throw new SourceFailure("blocked", `TikTok refused ${what} (status ${status})`);
}

/** An answer's `itemList`, the records only. */
export const itemsOf = (answer: unknown) =>
  list(at(answer, ["itemList"]))
    .map(record)
    .filter((item) => item !== undefined);

const OFFSET_ENDPOINTS = {
  collection: { path: "/api/collection/item_list/", key: "collectionId", extra: { sourceType: "113" } },
  playlist: { path: "/api/mix/item_list/", key: "mixId", extra: {} },
} as const;

/**
 * One page of a collection or a playlist ("mix"), by offset: the answer's own cursor when it moves on,
 * otherwise the count asked for (yt-dlp's rule: a short or empty page that says `hasMore` goes on past
 * the positions TikTok left out, where counting the items received would ask for them again and again).
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
    const next = num(at(answer, ["cursor"]));
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
